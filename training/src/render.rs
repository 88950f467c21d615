//! A plain renderer: one line per epoch with the mean of every numeric metric on the training
//! and validation splits. Used when stdout is not a terminal, or with `--no-tui`, so that logs
//! and CI stay readable (burn-train's own non-terminal renderer prints no metric values).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining, ProgressType, TrainingProgress,
};
use burn::train::LearnerSummary;

/// Running sums of one split's metrics over the current epoch.
#[derive(Default)]
struct EpochMeans {
    sums: BTreeMap<String, (f64, usize)>,
}

impl EpochMeans {
    fn add(&mut self, name: &str, entry: &NumericEntry, scale: f64) {
        let (value, count) = match entry {
            NumericEntry::Value(v) => (*v, 1),
            NumericEntry::Aggregated { aggregated_value, count } => (*aggregated_value, *count),
        };
        let slot = self.sums.entry(name.to_string()).or_default();
        slot.0 += value * scale * count as f64;
        slot.1 += count;
    }

    fn line(&mut self) -> String {
        let text = self
            .sums
            .iter()
            .map(|(name, (sum, n))| format!("{name} {:.4}", sum / (*n).max(1) as f64))
            .collect::<Vec<_>>()
            .join(", ");
        self.sums.clear();
        text
    }
}

/// Prints `epoch E/N  train: … | valid: … (seconds)` when an epoch's validation ends: the
/// epoch's means, percentages (burn-train's accuracy) as fractions and the epoch's own seconds,
/// the units of `log.csv` and `metrics.json`.
pub struct PlainRenderer {
    names: HashMap<MetricId, (String, f64)>,
    train: EpochMeans,
    valid: EpochMeans,
    epoch: usize,
    epochs: usize,
    printed: usize,
    epoch_started: Instant,
}

impl Default for PlainRenderer {
    fn default() -> Self {
        Self {
            names: HashMap::new(),
            train: EpochMeans::default(),
            valid: EpochMeans::default(),
            epoch: 0,
            epochs: 0,
            printed: 0,
            epoch_started: Instant::now(),
        }
    }
}

impl PlainRenderer {
    fn name(&self, id: &MetricId) -> (String, f64) {
        self.names.get(id).cloned().unwrap_or_else(|| (format!("{id:?}"), 1.0))
    }
}

impl MetricsRendererTraining for PlainRenderer {
    fn update_train(&mut self, state: MetricState) {
        if let MetricState::Numeric(entry, value) = state {
            let (name, scale) = self.name(&entry.metric_id);
            self.train.add(&name, &value, scale);
        }
    }

    fn update_valid(&mut self, state: MetricState) {
        if let MetricState::Numeric(entry, value) = state {
            let (name, scale) = self.name(&entry.metric_id);
            self.valid.add(&name, &value, scale);
        }
    }

    fn render_train(&mut self, item: TrainingProgress, _: Vec<ProgressType>) {
        self.epoch = item.global_progress.items_processed;
        self.epochs = item.global_progress.items_total;
    }

    fn render_valid(&mut self, item: TrainingProgress, _: Vec<ProgressType>) {
        let done = item.progress.as_ref().is_some_and(|p| p.items_processed >= p.items_total);
        if done && self.printed < self.epoch {
            self.printed = self.epoch;
            let started = std::mem::replace(&mut self.epoch_started, Instant::now());
            println!(
                "epoch {}/{}  train: {} | valid: {}  ({:.1} s)",
                self.epoch,
                self.epochs,
                self.train.line(),
                self.valid.line(),
                started.elapsed().as_secs_f64()
            );
        }
    }

    fn on_train_end(&mut self, _: Option<LearnerSummary>) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl MetricsRendererEvaluation for PlainRenderer {
    fn update_test(&mut self, _: EvaluationName, _: MetricState) {}

    fn render_test(&mut self, _: EvaluationProgress, _: Vec<ProgressType>) {}

    fn on_test_end(&mut self, _: Option<LearnerSummary>) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl MetricsRenderer for PlainRenderer {
    fn manual_close(&mut self) {}

    fn register_metric(&mut self, definition: MetricDefinition) {
        let percent = matches!(&definition.attributes, burn::train::metric::MetricAttributes::Numeric(a) if a.unit.as_deref() == Some("%"));
        self.names.insert(definition.metric_id, (definition.name, if percent { 0.01 } else { 1.0 }));
    }
}

//! Checkpoints, resuming, best-model selection, early stopping and the per-epoch log.
//!
//! burn-train saves a checkpoint (model, optimiser, schedule) after every epoch through
//! [`AtomicRecorder`] (write to `*.partial.mpk`, then rename: a kill mid-write never leaves a
//! torn file). [`KeepBestAndLast`] keeps only the last epoch's checkpoint (to resume from) and
//! the best one by the selection metric (to end with). [`EpochWatch`] runs after every epoch:
//! it appends to `log.csv`, stops on a NaN/inf loss or when patience runs out, lowers the
//! plateau schedule's rate, and saves the shared [`Progress`] as `progress.json`, from which
//! `--resume` continues.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder, RecorderError};
use burn::tensor::backend::Backend;
use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use burn::train::EarlyStoppingStrategy;

use crate::artifacts::RunError;

/// Named MessagePack at full precision, written atomically (temporary file, then rename).
#[derive(Debug, Default, Clone)]
pub struct AtomicRecorder(NamedMpkFileRecorder<FullPrecisionSettings>);

impl<B: Backend> Recorder<B> for AtomicRecorder {
    type Settings = FullPrecisionSettings;
    type RecordArgs = PathBuf;
    type RecordOutput = ();
    type LoadArgs = PathBuf;

    fn save_item<I: serde::Serialize>(&self, item: I, file: PathBuf) -> Result<(), RecorderError> {
        let target = file.with_extension("mpk");
        // The inner recorder sets the extension itself: `x.partial` → `x.partial.mpk`.
        let partial = PathBuf::from(format!("{}.partial.x", file.with_extension("").display()));
        <NamedMpkFileRecorder<FullPrecisionSettings> as Recorder<B>>::save_item(&self.0, item, partial.clone())?;
        std::fs::rename(partial.with_extension("mpk"), &target).map_err(|e| RecorderError::Unknown(format!("{}: {e}", target.display())))
    }

    fn load_item<I: serde::de::DeserializeOwned>(&self, file: &mut PathBuf) -> Result<I, RecorderError> {
        <NamedMpkFileRecorder<FullPrecisionSettings> as Recorder<B>>::load_item(&self.0, file)
    }
}

impl<B: Backend> burn::record::FileRecorder<B> for AtomicRecorder {
    fn file_extension() -> &'static str {
        "mpk"
    }
}

/// Which validation metric picks the best epoch (and drives patience and plateau).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// burn-train's metric name: `Loss`, `Accuracy` or `Entity F1`.
    pub metric: String,
    /// Whether higher is better.
    pub higher_is_better: bool,
}

impl Selection {
    /// Parses `loss`, `accuracy` or `f1` (entity F1, taggers).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "f1" => Some(Self { metric: crate::entity_metric::EntityF1Metric::NAME.into(), higher_is_better: true }),
            "loss" => Some(Self { metric: "Loss".into(), higher_is_better: false }),
            "accuracy" => Some(Self { metric: "Accuracy".into(), higher_is_better: true }),
            _ => None,
        }
    }

    fn better(&self, a: f64, b: f64) -> bool {
        if self.higher_is_better { a > b } else { a < b }
    }
}

/// Where a run stands after its last completed epoch; `progress.json` in the artifacts.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// The last completed epoch (0: none).
    pub last_epoch: usize,
    /// The best epoch by the selection metric (0: none yet).
    pub best_epoch: usize,
    /// The selection metric at the best epoch.
    pub best_value: Option<f64>,
    /// Epochs whose checkpoints are on disk.
    pub kept: Vec<usize>,
    /// Why training stopped before its last epoch, if it did.
    pub stopped: Option<String>,
    /// Wall time of the completed epochs, in seconds.
    pub seconds: f64,
}

impl Progress {
    /// `progress.json` of an artifacts folder.
    pub fn path(artifacts: &Path) -> PathBuf {
        artifacts.join("progress.json")
    }

    /// Reads `progress.json`; `None` when there is none.
    pub fn load(artifacts: &Path) -> Result<Option<Self>, RunError> {
        let path = Self::path(artifacts);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::Other(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text).map(Some).map_err(|e| RunError::Other(format!("{}: not a progress file: {e}", path.display())))
    }

    fn save(&self, artifacts: &Path) -> Result<(), RunError> {
        crate::artifacts::write(&Self::path(artifacts), serde_json::to_string_pretty(self).unwrap())
    }
}

/// The shared progress of a run.
pub type SharedProgress = Arc<Mutex<Progress>>;

/// The epoch under which burn-train 0.21's metric store files `epoch`'s values.
///
/// Its store numbers epochs from 1 in every process, so the first epoch of a resumed run
/// (`resumed_from + 1`) is logged as epoch 1 (its later epochs are numbered right again);
/// [`crate::artifacts::fit`] moves those files back afterwards.
pub fn store_epoch(epoch: usize, resumed_from: usize) -> usize {
    if resumed_from > 0 && epoch == resumed_from + 1 { 1 } else { epoch }
}

/// Saves every epoch; keeps the last epoch's checkpoint and the best one.
pub struct KeepBestAndLast {
    /// The selection metric.
    pub selection: Selection,
    /// The last epoch completed before this process (0: a fresh run).
    pub resumed_from: usize,
    /// Shared with [`EpochWatch`].
    pub progress: SharedProgress,
}

impl CheckpointingStrategy for KeepBestAndLast {
    fn checkpointing(&mut self, epoch: usize, store: &EventStoreClient) -> Vec<CheckpointingAction> {
        let mut p = self.progress.lock().unwrap();
        let at = store_epoch(epoch, self.resumed_from);
        let value = store.find_metric(&self.selection.metric, at, Aggregate::Mean, &Split::Valid);
        // An epoch whose validation loss is not finite is never the best, whatever its other
        // metrics say (a diverged model that predicts one class can tie with a real one).
        let diverged = store.find_metric("Loss", at, Aggregate::Mean, &Split::Valid).is_some_and(|l| !l.is_finite());
        if let Some(v) = value.filter(|v| v.is_finite() && !diverged) {
            if p.best_value.is_none_or(|best| self.selection.better(v, best)) {
                p.best_value = Some(v);
                p.best_epoch = epoch;
            }
        }
        let mut actions = vec![CheckpointingAction::Save];
        let best = p.best_epoch;
        p.kept.retain(|&k| {
            let keep = k == best;
            if !keep {
                actions.push(CheckpointingAction::Delete(k));
            }
            keep
        });
        p.kept.push(epoch);
        actions
    }
}

/// Runs after every epoch (as burn-train's early-stopping hook): log, NaN check, patience,
/// plateau, `progress.json`.
#[derive(Clone)]
pub struct EpochWatch {
    /// The artifacts folder.
    pub artifacts: PathBuf,
    /// The selection metric.
    pub selection: Selection,
    /// Stop after this many epochs without improvement (`None`: never).
    pub patience: Option<usize>,
    /// Plateau schedule: `(epochs without improvement, factor)`; `None` for other schedules.
    pub plateau: Option<(usize, f64)>,
    /// The schedule's plateau factor.
    pub plateau_factor: Arc<AtomicU64>,
    /// The schedule's current rate.
    pub learning_rate: Arc<AtomicU64>,
    /// Training examples per epoch (for examples/s).
    pub train_examples: usize,
    /// Shared with [`KeepBestAndLast`].
    pub progress: SharedProgress,
    /// The last epoch completed before this process (0: a fresh run).
    pub resumed_from: usize,
    /// When the current epoch began.
    pub epoch_started: Arc<Mutex<Instant>>,
}

/// Columns of `log.csv`.
pub const LOG_HEADER: &str =
    "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,valid_entity_f1,learning_rate,seconds,examples_per_second";

impl EpochWatch {
    fn metric(&self, store: &EventStoreClient, name: &str, epoch: usize, split: Split) -> f64 {
        store.find_metric(name, store_epoch(epoch, self.resumed_from), Aggregate::Mean, &split).unwrap_or(f64::NAN)
    }

    fn append_log(&self, line: &str) {
        use std::io::Write;
        let path = self.artifacts.join("log.csv");
        let fresh = !path.exists();
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path);
        match file {
            Ok(mut f) => {
                let header = if fresh { format!("{LOG_HEADER}\n") } else { String::new() };
                let _ = write!(f, "{header}{line}\n");
            }
            Err(e) => eprintln!("{}: cannot append: {e}", path.display()),
        }
    }
}

impl EarlyStoppingStrategy for EpochWatch {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        let seconds = {
            let mut started = self.epoch_started.lock().unwrap();
            let s = started.elapsed().as_secs_f64();
            *started = Instant::now();
            s
        };
        let train_loss = self.metric(store, "Loss", epoch, Split::Train);
        let valid_loss = self.metric(store, "Loss", epoch, Split::Valid);
        let rate = f64::from_bits(self.learning_rate.load(Ordering::Relaxed));
        self.append_log(&format!(
            "{epoch},{train_loss:.6},{:.6},{valid_loss:.6},{:.6},{},{rate:.3e},{seconds:.1},{:.1}",
            self.metric(store, "Accuracy", epoch, Split::Train) / 100.0,
            self.metric(store, "Accuracy", epoch, Split::Valid) / 100.0,
            match store.find_metric(crate::entity_metric::EntityF1Metric::NAME, store_epoch(epoch, self.resumed_from), Aggregate::Mean, &Split::Valid) {
                Some(f1) => format!("{:.6}", f1 / 100.0),
                None => String::new(),
            },
            self.train_examples as f64 / seconds.max(1e-9)
        ));

        let mut p = self.progress.lock().unwrap();
        p.last_epoch = epoch;
        p.seconds += seconds;
        let since_best = epoch - p.best_epoch.min(epoch);
        let mut stop = false;
        if !train_loss.is_finite() || !valid_loss.is_finite() {
            p.stopped = Some(format!(
                "epoch {epoch}: the loss is not finite (train {train_loss}, valid {valid_loss}); stopped, the best checkpoint (epoch {}) is kept",
                p.best_epoch
            ));
            stop = true;
        } else if let Some(patience) = self.patience.filter(|&n| p.best_epoch > 0 && since_best >= n) {
            p.stopped = Some(format!(
                "early stop after epoch {epoch}: no improvement of valid {} for {patience} epochs (best epoch {})",
                self.selection.metric, p.best_epoch
            ));
            stop = true;
        }
        if let Some((patience, factor)) = self.plateau {
            if since_best > 0 && since_best % patience.max(1) == 0 {
                let old = f64::from_bits(self.plateau_factor.load(Ordering::Relaxed));
                self.plateau_factor.store((old * factor).to_bits(), Ordering::Relaxed);
            }
        }
        if let Some(why) = &p.stopped {
            eprintln!("{why}");
        }
        if let Err(e) = p.save(&self.artifacts) {
            eprintln!("{e}");
        }
        stop
    }
}

/// A metric logger that keeps every numeric entry in memory by `(metric, split, epoch)`, as the
/// store numbers epochs, and answers reads synchronously.
///
/// Registered before burn-train's file logger, it is what [`KeepBestAndLast`] and [`EpochWatch`]
/// read: burn-train 0.21's `FileMetricLogger` writes through a background thread and its read
/// does not flush it (it looks its writers up under another key), so an epoch's last values
/// could still be unwritten when the checkpointer read them — seen as a wrong "best" epoch on a
/// loaded CI machine. It answers "not mine" for anything it has not seen, so reads fall through
/// to the file logger.
#[derive(Default)]
pub struct EpochLogger {
    names: std::collections::HashMap<burn::train::metric::MetricId, String>,
    values: std::collections::HashMap<(String, String, usize), Vec<burn::train::metric::NumericEntry>>,
}

impl burn::train::logger::MetricLogger for EpochLogger {
    fn log(&mut self, update: burn::train::metric::store::MetricsUpdate, epoch: usize, split: &Split) {
        for numeric in update.entries_numeric {
            if let Some(name) = self.names.get(&numeric.entry.metric_id) {
                let key = (name.clone(), format!("{split:?}"), epoch);
                self.values.entry(key).or_default().push(numeric.numeric_entry);
            }
        }
    }

    fn read_numeric(&mut self, name: &str, epoch: usize, split: &Split) -> Result<Vec<burn::train::metric::NumericEntry>, String> {
        self.values.get(&(name.to_string(), format!("{split:?}"), epoch)).cloned().ok_or_else(|| format!("{name}: not logged in this process"))
    }

    fn log_metric_definition(&mut self, definition: burn::train::metric::MetricDefinition) {
        self.names.insert(definition.metric_id, definition.name);
    }

    fn log_epoch_summary(&mut self, _summary: burn::train::metric::store::EpochSummary) {}
}

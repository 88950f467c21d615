//! The means of each epoch's metrics as burn-train logs them ([`EpochMetrics`], filled by
//! [`EpochLogger`]): the one place that works around burn-train 0.21's metric timing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use burn::train::metric::store::Split;
use burn::train::metric::{MetricId, NumericEntry};

use crate::cluster::ClusterConfig;

/// The mean of every numeric metric over each epoch and split, as burn-train's store thread
/// logs them, shared with the hooks that read them ([`super::Judge`], [`super::AfterEpoch`]).
///
/// burn-train 0.21 computes metrics on a processor thread, and its learner calls the
/// checkpointing and early-stopping hooks without waiting for that thread: the store's
/// aggregate, read then, could miss the epoch's last batches (and cached what it read), so
/// `log.csv` and the kept epoch disagreed with the dashboard and from run to run. Here an
/// epoch's means are published only when its end-of-epoch event arrives, after every batch of
/// it, and [`EpochMetrics::wait`] blocks until then. Percentages (burn-train's accuracy) are
/// stored as fractions, the units of `metrics.json`.
///
/// On a rank of a job, each rank sees only its share of the batches: at each split's end the
/// ranks sum every metric's weighted sum and weight in one all-reduce, so every rank publishes
/// the means of the whole split (what one process would), and all judge the epoch alike.
/// burn-train's one store thread logs a split's end after all its batches, the training split's
/// before the validation split's, and the training thread's next all-reduce waits for the
/// validation means: every rank makes these all-reduces in the same order.
#[derive(Clone, Default)]
pub struct EpochMetrics(Arc<(Mutex<MetricsState>, Condvar)>);

#[derive(Default)]
struct MetricsState {
    /// Name and whether the unit is percent, by metric id.
    names: HashMap<MetricId, (String, bool)>,
    /// Sum and count of the current epoch, by split and name.
    running: HashMap<(Split, String), (f64, usize)>,
    /// Finished epochs: `(epoch, split)` → name → mean.
    done: HashMap<(usize, Split), BTreeMap<String, f64>>,
}

impl EpochMetrics {
    /// The means of epoch `epoch` on `split`, waiting for the epoch's end to be logged. After
    /// [`EpochMetrics::PATIENCE`] without it (burn-train's metric thread stalled or gone) the
    /// epoch's figures are missing: a note says so (once: later waits for them return at once)
    /// and the means are empty, so the epoch's line shows no value rather than a wrong one and
    /// no epoch is judged best on them.
    pub fn wait(&self, epoch: usize, split: &Split) -> BTreeMap<String, f64> {
        let (state, changed) = &*self.0;
        let key = (epoch, split.clone());
        let deadline = Instant::now() + Self::PATIENCE;
        let mut state = state.lock().unwrap();
        loop {
            if let Some(means) = state.done.get(&key) {
                return means.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                crate::note!(
                    "epoch {epoch}: burn-train logged no {split} metrics within {} minutes; the epoch's {split} figures are missing",
                    Self::PATIENCE.as_secs() / 60
                );
                state.done.insert(key, BTreeMap::new());
                return BTreeMap::new();
            }
            state = changed.wait_timeout(state, left).unwrap().0;
        }
    }

    /// How long [`EpochMetrics::wait`] waits for an epoch's end to be logged.
    pub const PATIENCE: Duration = Duration::from_secs(600);

    /// Publishes the means of epoch `epoch` on `split`, waking [`EpochMetrics::wait`] (the
    /// logger does this when burn-train logs the epoch's end).
    pub fn publish(&self, epoch: usize, split: Split, means: BTreeMap<String, f64>) {
        let (state, changed) = &*self.0;
        state.lock().unwrap().done.insert((epoch, split), means);
        changed.notify_all();
    }

    /// The metric logger that fills this (register it with burn-train), combining each split's
    /// sums over the ranks of `cluster` when this process is one.
    pub fn logger(&self, cluster: Option<ClusterConfig>) -> EpochLogger {
        EpochLogger { metrics: self.clone(), entries: Default::default(), cluster }
    }
}

/// The metric logger of [`EpochMetrics`]; it also answers the store's reads of this process's
/// values (by the store's epoch numbering), so nothing needs burn-train's file logger.
pub struct EpochLogger {
    metrics: EpochMetrics,
    entries: HashMap<(String, Split, usize), Vec<NumericEntry>>,
    cluster: Option<ClusterConfig>,
}

impl burn::train::logger::MetricLogger for EpochLogger {
    fn log(&mut self, update: burn::train::metric::store::MetricsUpdate, epoch: usize, split: &Split) {
        let (state, _) = &*self.metrics.0;
        let mut state = state.lock().unwrap();
        for numeric in update.entries_numeric {
            let Some((name, percent)) = state.names.get(&numeric.entry.metric_id).cloned() else { continue };
            let (value, count) = match &numeric.numeric_entry {
                NumericEntry::Value(v) => (*v, 1),
                NumericEntry::Aggregated { aggregated_value, count } => (*aggregated_value, *count),
            };
            let scale = if percent { 0.01 } else { 1.0 };
            let slot = state.running.entry((split.clone(), name.clone())).or_default();
            slot.0 += value * scale * count as f64;
            slot.1 += count;
            self.entries.entry((name, split.clone(), epoch)).or_default().push(numeric.numeric_entry);
        }
    }

    fn read_numeric(&mut self, name: &str, epoch: usize, split: &Split) -> Result<Vec<NumericEntry>, String> {
        self.entries
            .get(&(name.to_string(), split.clone(), epoch))
            .cloned()
            .ok_or_else(|| format!("{name}: not logged in this process"))
    }

    fn log_metric_definition(&mut self, definition: burn::train::metric::MetricDefinition) {
        let percent = matches!(&definition.attributes, burn::train::metric::MetricAttributes::Numeric(a) if a.unit.as_deref() == Some("%"));
        let (state, _) = &*self.metrics.0;
        state.lock().unwrap().names.insert(definition.metric_id, (definition.name, percent));
    }

    fn log_epoch_summary(&mut self, summary: burn::train::metric::store::EpochSummary) {
        let (split, epoch) = (summary.split, summary.epoch_number);
        // Every metric name, in the same order on every rank, with the split's sum and weight.
        let (names, mut sums): (Vec<String>, Vec<(f64, f64)>) = {
            let mut state = self.metrics.0 .0.lock().unwrap();
            let mut names: Vec<String> = state.names.values().map(|(name, _)| name.clone()).collect();
            names.sort();
            names.dedup();
            let sums = names
                .iter()
                .map(|name| state.running.remove(&(split.clone(), name.clone())).unwrap_or_default())
                .map(|(sum, count)| (sum, count as f64))
                .collect();
            (names, sums)
        };
        if let Some(cluster) = &self.cluster {
            let what = format!("{}: combining epoch {epoch}'s {split} metrics", cluster.name());
            let flat = sums.iter().flat_map(|&(sum, count)| [sum, count]).collect();
            let all = crate::cluster::sum_wide(cluster, flat, &what).unwrap_or_else(|e| crate::cluster::end_rank(&e));
            sums = all.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect();
        }
        let means = names
            .into_iter()
            .zip(sums)
            .filter(|(_, (_, count))| *count > 0.0)
            .map(|(name, (sum, count))| (name, sum / count))
            .collect();
        self.metrics.publish(epoch, split, means);
    }
}

//! What happens after every epoch: the verdict on its validation score, which checkpoints to keep
//! (resuming, best-model selection), early stopping, the per-epoch log and `progress.json`.
//!
//! burn-train saves a checkpoint (model, optimiser, schedule) after every epoch through
//! [`crate::durable::AtomicRecorder`] (write to `*.partial.mpk`, flush, rename, flush the
//! folder: a kill, a power cut or a full disk never leaves a torn file under the final name).
//! Two hooks run after every epoch, in whichever order burn-train calls them; both start from
//! the same [`Judge::judge`] verdict on the epoch's validation score:
//!
//! - [`KeepBestAndLast`] (checkpointing): keeps the best epoch's checkpoint (to end with) and
//!   the last two (to resume from, and to fall back on);
//! - [`EpochWatch`] (early stopping): once the epoch's checkpoint files are complete, appends to
//!   `log.csv`, stops on a NaN/inf loss or when patience runs out, lowers the plateau schedule's
//!   rate, and saves the shared [`Progress`] as `progress.json` — last, so that it never names a
//!   checkpoint that is not on disk (the order is stated on [`EpochWatch`]).
//!
//! [`EpochMetrics`] gives both the epoch's means once every batch of it has been counted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::{EventStoreClient, Split};
use burn::train::EarlyStoppingStrategy;

use crate::artifacts::Artifacts;
use crate::durable::SaveLog;
use crate::error::RunError;

/// The three files of epoch `epoch`'s checkpoint (model, optimiser, schedule).
pub fn checkpoint_files(artifacts: &Path, epoch: usize) -> Vec<PathBuf> {
    let folder = Artifacts::at(artifacts);
    ["model", "optim", "scheduler"].iter().map(|kind| folder.checkpoint(kind, epoch)).collect()
}

/// Checks that epoch `epoch`'s checkpoint files exist and decode as MessagePack (a truncated
/// or damaged file does not); the error names the first bad file.
pub fn check_checkpoint(artifacts: &Path, epoch: usize) -> Result<(), String> {
    for path in checkpoint_files(artifacts, epoch) {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        rmp_serde::from_slice::<serde::de::IgnoredAny>(&bytes)
            .map_err(|e| format!("{}: damaged or truncated ({e})", path.display()))?;
    }
    Ok(())
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
        if self.higher_is_better {
            a > b
        } else {
            a < b
        }
    }
}

/// Where a run stands after its last completed epoch; `progress.json` in the artifacts.
///
/// It is written after the epoch's checkpoint files are complete on disk, so it never names a
/// checkpoint that is not there; `previous` is the state one epoch earlier, whose checkpoint
/// is kept too, for `--resume` to fall back on when the latest one is damaged.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// The last completed epoch (0: none).
    pub last_epoch: usize,
    /// The best epoch by the selection metric (0: none yet).
    pub best_epoch: usize,
    /// The selection metric at the best epoch (accuracy and F1 as fractions, not percent).
    pub best_value: Option<f64>,
    /// Epochs whose checkpoints are on disk.
    pub kept: Vec<usize>,
    /// Why training stopped before its last epoch, if it did.
    pub stopped: Option<String>,
    /// Wall time of the completed epochs, in seconds.
    pub seconds: f64,
    /// The progress after the epoch before (its checkpoint is kept until the next epoch is saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Box<Progress>>,
}

impl Progress {
    /// `progress.json` of an artifacts folder.
    pub fn path(artifacts: &Path) -> PathBuf {
        artifacts.join(Artifacts::PROGRESS)
    }

    /// Reads `progress.json`; `None` when there is none.
    pub fn load(artifacts: &Path) -> Result<Option<Self>, RunError> {
        let path = Self::path(artifacts);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::Other(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| RunError::Other(format!("{}: not a progress file: {e}", path.display())))
    }

    pub(crate) fn save(&self, artifacts: &Path) -> Result<(), RunError> {
        crate::durable::write(&Self::path(artifacts), serde_json::to_string_pretty(self).unwrap())
    }

    /// The progress to resume from: this one if its checkpoint is intact, else the previous
    /// epoch's (with a message on stderr), else an error naming the damaged file.
    pub fn resumable(self, artifacts: &Path) -> Result<Self, RunError> {
        let mut candidate = self;
        loop {
            if candidate.last_epoch == 0 {
                return Ok(candidate);
            }
            match check_checkpoint(artifacts, candidate.last_epoch) {
                Ok(()) => return Ok(candidate),
                Err(why) => match candidate.previous.take() {
                    Some(previous) => {
                        eprintln!("--resume: the checkpoint of epoch {} is unusable ({why}); resuming after epoch {} instead", candidate.last_epoch, previous.last_epoch);
                        candidate = *previous;
                    }
                    None => return Err(RunError::Other(format!("--resume: the checkpoint of epoch {} is unusable: {why}; no earlier checkpoint to fall back on (train again without --resume, with --overwrite)", candidate.last_epoch))),
                },
            }
        }
    }
}

/// The shared progress of a run.
pub type SharedProgress = Arc<Mutex<Progress>>;

/// The verdict on one epoch's validation score (see [`Judge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The best epoch before this one was judged (0: none).
    pub best_before: usize,
    /// The last completed epoch before this one (0: none).
    pub last_before: usize,
    /// The best epoch after it (this one when it improved the selection metric).
    pub best: usize,
}

/// Judges each epoch's validation score once, for both hooks: [`KeepBestAndLast`] (which
/// checkpoints to keep) and [`EpochWatch`] (patience, plateau) each call [`Judge::judge`] first,
/// and whichever burn-train calls first reaches the verdict that both then use, so neither hook
/// depends on the order in which burn-train calls them.
#[derive(Clone)]
pub struct Judge {
    selection: Selection,
    progress: SharedProgress,
    metrics: EpochMetrics,
    verdicts: Arc<Mutex<std::collections::BTreeMap<usize, Verdict>>>,
}

impl Judge {
    /// A judge that records the best epoch by `selection` in `progress`, from the validation
    /// means in `metrics`.
    pub fn new(selection: Selection, progress: SharedProgress, metrics: EpochMetrics) -> Self {
        Self { selection, progress, metrics, verdicts: Default::default() }
    }

    /// The selection metric.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// The shared progress.
    pub fn progress(&self) -> &SharedProgress {
        &self.progress
    }

    /// The verdict on epoch `epoch`, reached the first time it is asked for: a finite value of
    /// the selection metric better than the best so far makes `epoch` the best epoch (an epoch
    /// whose validation loss is not finite never is, whatever its other metrics say: a diverged
    /// model that predicts one class can tie with a real one). Waits for the epoch's means.
    pub fn judge(&self, epoch: usize) -> Verdict {
        let mut verdicts = self.verdicts.lock().unwrap();
        if let Some(verdict) = verdicts.get(&epoch) {
            return *verdict;
        }
        let valid = self.metrics.wait(epoch, "Valid");
        let mut p = self.progress.lock().unwrap();
        let (best_before, last_before) = (p.best_epoch, p.last_epoch);
        let diverged = valid.get("Loss").is_some_and(|l| !l.is_finite());
        if let Some(v) = valid.get(&self.selection.metric).copied().filter(|v| v.is_finite() && !diverged) {
            if p.best_value.is_none_or(|best| self.selection.better(v, best)) {
                p.best_value = Some(v);
                p.best_epoch = epoch;
            }
        }
        let verdict = Verdict { best_before, last_before, best: p.best_epoch };
        verdicts.insert(epoch, verdict);
        verdict
    }
}

/// Saves every epoch; keeps the checkpoints of the best epoch, of the last two epochs and of the
/// previous best (so that the progress of the epoch before stays resumable until this epoch's
/// files are complete). [`crate::learner::fit`] prunes to the best and the last at the end.
pub struct KeepBestAndLast {
    /// Shared with [`EpochWatch`].
    pub judge: Judge,
}

impl KeepBestAndLast {
    /// The checkpoints to save and delete after epoch `epoch`.
    pub fn actions(&self, epoch: usize) -> Vec<CheckpointingAction> {
        let verdict = self.judge.judge(epoch);
        let mut p = self.judge.progress.lock().unwrap();
        let mut actions = vec![CheckpointingAction::Save];
        p.kept.retain(|&k| {
            let keep = k == verdict.best || k == verdict.best_before || k == verdict.last_before;
            if !keep {
                actions.push(CheckpointingAction::Delete(k));
            }
            keep
        });
        p.kept.push(epoch);
        actions
    }
}

impl CheckpointingStrategy for KeepBestAndLast {
    fn checkpointing(&mut self, epoch: usize, _store: &EventStoreClient) -> Vec<CheckpointingAction> {
        self.actions(epoch)
    }
}

/// Why training stops after epoch `epoch`, if it does: a loss that is not finite, or `patience`
/// epochs without improvement since `progress.best_epoch` (the judged best, this epoch included).
pub fn stop_reason(
    progress: &Progress,
    epoch: usize,
    patience: Option<usize>,
    losses: (f64, f64),
    metric: &str,
) -> Option<String> {
    let (train_loss, valid_loss) = losses;
    let since_best = epoch - progress.best_epoch.min(epoch);
    if !train_loss.is_finite() || !valid_loss.is_finite() {
        Some(format!(
            "epoch {epoch}: the loss is not finite (train {train_loss}, valid {valid_loss}); stopped, the best checkpoint (epoch {}) is kept",
            progress.best_epoch
        ))
    } else if let Some(patience) = patience.filter(|&n| progress.best_epoch > 0 && since_best >= n) {
        Some(format!(
            "early stop after epoch {epoch}: no improvement of valid {metric} for {patience} epochs (best epoch {})",
            progress.best_epoch
        ))
    } else {
        None
    }
}

/// Runs after every epoch, as burn-train's early-stopping hook; its effects, in this order
/// ([`EpochWatch::after_epoch`]):
///
/// 1. the epoch's verdict ([`Judge::judge`], shared with [`KeepBestAndLast`]);
/// 2. wait until the epoch's checkpoint files are complete on disk (a failed save stops the run);
/// 3. append the epoch's line to `log.csv`;
/// 4. decide whether to stop ([`stop_reason`]: a loss that is not finite, or patience);
/// 5. lower the plateau schedule's rate after `plateau` epochs without improvement;
/// 6. save `progress.json` — after the checkpoint, so that it never names one that is not on disk;
/// 7. redraw `curves.svg` from `log.csv`.
#[derive(Clone)]
pub struct EpochWatch {
    /// The artifacts folder.
    pub artifacts: PathBuf,
    /// Shared with [`KeepBestAndLast`]; holds the selection metric and the shared progress.
    pub judge: Judge,
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
    /// The progress as last saved (the `previous` of the next save).
    pub saved: Arc<Mutex<Progress>>,
    /// The means of each epoch's metrics.
    pub metrics: EpochMetrics,
    /// The checkpoint recorder's saves.
    pub saves: SaveLog,
    /// When the current epoch began.
    pub epoch_started: Arc<Mutex<Instant>>,
}

/// Columns of `log.csv` (accuracy and entity F1 as fractions).
pub const LOG_HEADER: &str =
    "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,valid_entity_f1,learning_rate,seconds,examples_per_second";

impl EpochWatch {
    /// Everything that happens after epoch `epoch`, in the order stated on [`EpochWatch`];
    /// returns whether training stops.
    pub fn after_epoch(&mut self, epoch: usize) -> bool {
        // 1. The verdict.
        self.judge.judge(epoch);
        let seconds = self.lap();
        let train = self.metrics.wait(epoch, "Train");
        let valid = self.metrics.wait(epoch, "Valid");
        // 2. The epoch counts only once its checkpoint is complete on disk.
        if let Err(why) = self.saves.wait_for(&checkpoint_files(&self.artifacts, epoch)) {
            eprintln!("epoch {epoch}: the checkpoint could not be saved: {why}");
            return true;
        }
        // 3. log.csv.
        let get = |m: &std::collections::BTreeMap<String, f64>, name: &str| m.get(name).copied().unwrap_or(f64::NAN);
        let (train_loss, valid_loss) = (get(&train, "Loss"), get(&valid, "Loss"));
        let rate = f64::from_bits(self.learning_rate.load(Ordering::Relaxed));
        self.append_log(&format!(
            "{epoch},{train_loss:.6},{:.6},{valid_loss:.6},{:.6},{},{rate:.3e},{seconds:.1},{:.1}",
            get(&train, "Accuracy"),
            get(&valid, "Accuracy"),
            valid.get(crate::entity_metric::EntityF1Metric::NAME).map_or(String::new(), |f1| format!("{f1:.6}")),
            self.train_examples as f64 / seconds.max(1e-9)
        ));

        let mut p = self.judge.progress.lock().unwrap();
        p.last_epoch = epoch;
        p.seconds += seconds;
        // 4. Stop?
        if let Some(why) = stop_reason(&p, epoch, self.patience, (train_loss, valid_loss), &self.judge.selection.metric)
        {
            eprintln!("{why}");
            p.stopped = Some(why);
        }
        let mut stop = p.stopped.is_some();
        // 5. The plateau schedule.
        let since_best = epoch - p.best_epoch.min(epoch);
        if let Some((patience, factor)) = self.plateau {
            if since_best > 0 && since_best % patience.max(1) == 0 {
                let old = f64::from_bits(self.plateau_factor.load(Ordering::Relaxed));
                self.plateau_factor.store((old * factor).to_bits(), Ordering::Relaxed);
            }
        }
        // 6. progress.json, last of the run's state.
        let mut saved = self.saved.lock().unwrap();
        let mut previous = saved.clone();
        previous.previous = None;
        p.previous = (previous.last_epoch > 0).then(|| Box::new(previous));
        match p.save(&self.artifacts) {
            Ok(()) => *saved = p.clone(),
            Err(e) => {
                eprintln!("{e}");
                stop = true;
            }
        }
        // 7. curves.svg.
        if let Err(e) = crate::curves::write_curves(&self.artifacts, p.best_epoch, &self.judge.selection.metric) {
            eprintln!("{e} (training goes on)");
        }
        stop
    }

    /// Seconds since the last call (or since the watch was made), restarting the clock.
    fn lap(&self) -> f64 {
        let mut started = self.epoch_started.lock().unwrap();
        let seconds = started.elapsed().as_secs_f64();
        *started = Instant::now();
        seconds
    }

    fn append_log(&self, line: &str) {
        use std::io::Write;
        let path = self.artifacts.join(Artifacts::LOG);
        let fresh = !path.exists();
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path);
        let written = file.and_then(|mut f| {
            let header = if fresh { format!("{LOG_HEADER}\n") } else { String::new() };
            write!(f, "{header}{line}\n")?;
            f.sync_data()
        });
        if let Err(e) = written {
            eprintln!("{}", crate::durable::describe_write_error(&path, &e.to_string()));
        }
    }
}

impl EarlyStoppingStrategy for EpochWatch {
    fn should_stop(&mut self, epoch: usize, _store: &EventStoreClient) -> bool {
        self.after_epoch(epoch)
    }
}

/// The mean of every numeric metric over each epoch and split, as burn-train's store thread
/// logs them, shared with the hooks that read them ([`KeepBestAndLast`], [`EpochWatch`]).
///
/// burn-train 0.21 computes metrics on a processor thread, and its learner calls the
/// checkpointing and early-stopping hooks without waiting for that thread: the store's
/// aggregate, read then, could miss the epoch's last batches (and cached what it read), so
/// `log.csv` and the kept epoch disagreed with the dashboard and from run to run. Here an
/// epoch's means are published only when its end-of-epoch event arrives, after every batch of
/// it, and [`EpochMetrics::wait`] blocks until then. Percentages (burn-train's accuracy) are
/// stored as fractions, the units of `metrics.json`.
#[derive(Clone, Default)]
pub struct EpochMetrics(Arc<(Mutex<MetricsState>, Condvar)>);

#[derive(Default)]
struct MetricsState {
    /// Name and whether the unit is percent, by metric id.
    names: std::collections::HashMap<burn::train::metric::MetricId, (String, bool)>,
    /// Sum and count of the current epoch, by split and name.
    running: std::collections::HashMap<(String, String), (f64, usize)>,
    /// Finished epochs: `(epoch, split)` → name → mean.
    done: std::collections::HashMap<(usize, String), std::collections::BTreeMap<String, f64>>,
}

impl EpochMetrics {
    /// The means of epoch `epoch` on `split` (`"Train"` or `"Valid"`), waiting (up to ten
    /// minutes) for the epoch's end to be logged; empty if it never is.
    pub fn wait(&self, epoch: usize, split: &str) -> std::collections::BTreeMap<String, f64> {
        let (state, changed) = &*self.0;
        let key = (epoch, split.to_string());
        let deadline = Instant::now() + std::time::Duration::from_secs(600);
        let mut state = state.lock().unwrap();
        loop {
            if let Some(means) = state.done.get(&key) {
                return means.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Default::default();
            }
            state = changed.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Publishes the means of epoch `epoch` on `split`, waking [`EpochMetrics::wait`] (the
    /// logger does this when burn-train logs the epoch's end).
    pub fn publish(&self, epoch: usize, split: &str, means: std::collections::BTreeMap<String, f64>) {
        let (state, changed) = &*self.0;
        state.lock().unwrap().done.insert((epoch, split.to_string()), means);
        changed.notify_all();
    }

    /// The metric logger that fills this (register it with burn-train).
    pub fn logger(&self) -> EpochLogger {
        EpochLogger { metrics: self.clone(), entries: Default::default() }
    }
}

/// The metric logger of [`EpochMetrics`]; it also answers the store's reads of this process's
/// values (by the store's epoch numbering), so nothing needs burn-train's file logger.
pub struct EpochLogger {
    metrics: EpochMetrics,
    entries: std::collections::HashMap<(String, String, usize), Vec<burn::train::metric::NumericEntry>>,
}

impl burn::train::logger::MetricLogger for EpochLogger {
    fn log(&mut self, update: burn::train::metric::store::MetricsUpdate, epoch: usize, split: &Split) {
        let (state, _) = &*self.metrics.0;
        let mut state = state.lock().unwrap();
        for numeric in update.entries_numeric {
            let Some((name, percent)) = state.names.get(&numeric.entry.metric_id).cloned() else { continue };
            let (value, count) = match &numeric.numeric_entry {
                burn::train::metric::NumericEntry::Value(v) => (*v, 1),
                burn::train::metric::NumericEntry::Aggregated { aggregated_value, count } => {
                    (*aggregated_value, *count)
                }
            };
            let scale = if percent { 0.01 } else { 1.0 };
            let slot = state.running.entry((format!("{split:?}"), name.clone())).or_default();
            slot.0 += value * scale * count as f64;
            slot.1 += count;
            self.entries.entry((name, format!("{split:?}"), epoch)).or_default().push(numeric.numeric_entry);
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<burn::train::metric::NumericEntry>, String> {
        self.entries
            .get(&(name.to_string(), format!("{split:?}"), epoch))
            .cloned()
            .ok_or_else(|| format!("{name}: not logged in this process"))
    }

    fn log_metric_definition(&mut self, definition: burn::train::metric::MetricDefinition) {
        let percent = matches!(&definition.attributes, burn::train::metric::MetricAttributes::Numeric(a) if a.unit.as_deref() == Some("%"));
        let (state, _) = &*self.metrics.0;
        state.lock().unwrap().names.insert(definition.metric_id, (definition.name, percent));
    }

    fn log_epoch_summary(&mut self, summary: burn::train::metric::store::EpochSummary) {
        let split = format!("{:?}", summary.split);
        let means = {
            let mut state = self.metrics.0 .0.lock().unwrap();
            let finished: Vec<(String, String)> = state.running.keys().filter(|(s, _)| *s == split).cloned().collect();
            let mut means = std::collections::BTreeMap::new();
            for key in finished {
                let (sum, count) = state.running.remove(&key).unwrap_or_default();
                means.insert(key.1, sum / count.max(1) as f64);
            }
            means
        };
        self.metrics.publish(summary.epoch_number, &split, means);
    }
}

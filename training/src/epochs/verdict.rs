//! The verdict on each epoch's validation score ([`Judge`]), reached once and shared by every
//! hook that needs it, so that none depends on the order in which burn-train calls them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use burn::train::metric::store::Split;

use super::metric_means::EpochMetrics;
use super::progress::SharedProgress;
use super::selection::Selection;

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

/// Judges each epoch's validation score once: [`super::KeepBestAndLast`] (which checkpoints to
/// keep) and [`super::AfterEpoch`] (patience, plateau) each call [`Judge::judge`] first, and
/// whichever burn-train calls first reaches the verdict that both then use.
#[derive(Clone)]
pub struct Judge {
    selection: Selection,
    progress: SharedProgress,
    metrics: EpochMetrics,
    verdicts: Arc<Mutex<BTreeMap<usize, Verdict>>>,
}

impl Judge {
    /// A judge that records the best epoch by `selection` in `progress`, from the validation
    /// means in `metrics`.
    pub fn new(selection: Selection, progress: SharedProgress, metrics: EpochMetrics) -> Self {
        Self { selection, progress, metrics, verdicts: Arc::default() }
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
        let valid = self.metrics.wait(epoch, &Split::Valid);
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

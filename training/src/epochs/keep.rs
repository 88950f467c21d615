//! Which checkpoints to keep after each epoch ([`KeepBestAndLast`], burn-train's
//! checkpointing hook): it only decides; burn-train saves and deletes.

use burn::train::checkpoint::{CheckpointingAction, CheckpointingStrategy};
use burn::train::metric::store::EventStoreClient;

use super::verdict::Judge;

/// Saves every epoch; keeps the checkpoints of the best epoch, of the last two epochs and of the
/// previous best (so that the progress of the epoch before stays resumable until this epoch's
/// files are complete). [`super::Progress::prune`] keeps only the needed ones at the end.
pub struct KeepBestAndLast {
    /// Shared with [`super::AfterEpoch`].
    pub judge: Judge,
}

impl KeepBestAndLast {
    /// The checkpoints to save and delete after epoch `epoch` (and the kept list updated).
    pub fn actions(&self, epoch: usize) -> Vec<CheckpointingAction> {
        let verdict = self.judge.judge(epoch);
        let mut p = self.judge.progress().lock().unwrap();
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

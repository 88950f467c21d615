//! Where a run stands after its last completed epoch ([`Progress`], saved as `progress.json`):
//! starting a run (fresh, or resumed from the last intact checkpoint) and, at its end, keeping
//! only the checkpoints still needed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::checkpoints::{check_checkpoint, delete_checkpoints};
use crate::artifacts::Artifacts;
use crate::error::RunError;

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

/// The progress of a running run, shared by the after-epoch hooks.
pub type SharedProgress = Arc<Mutex<Progress>>;

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
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::io(&path, &e))?;
        serde_json::from_str(&text).map(Some).map_err(|e| RunError::damaged(&path, format!("not a progress file: {e}")))
    }

    /// Writes `progress.json` durably.
    pub(crate) fn save(&self, artifacts: &Path) -> Result<(), RunError> {
        let text = serde_json::to_string_pretty(self).expect("a Progress serialises");
        crate::durable::write(&Self::path(artifacts), text)
    }

    /// The progress a run starts from: with `resume`, the saved one after its last intact
    /// checkpoint ([`Progress::resumable`], its stop reason cleared); otherwise none, after
    /// removing what an earlier run in the folder left (log, progress, checkpoints).
    pub fn start(artifacts: &Path, resume: bool) -> Result<Self, RunError> {
        if !resume {
            for stale in [Artifacts::LOG, Artifacts::PROGRESS] {
                let _ = std::fs::remove_file(artifacts.join(stale));
            }
            for stale in [Artifacts::CHECKPOINTS, Artifacts::BURN_TRAIN[0], Artifacts::BURN_TRAIN[1]] {
                let _ = std::fs::remove_dir_all(artifacts.join(stale));
            }
            return Ok(Self::default());
        }
        let saved = Self::load(artifacts)?.ok_or_else(|| RunError::Missing {
            path: Self::path(artifacts),
            message: "no completed epoch to resume from: the run never finished one; run again without --resume to start it over".into(),
        })?;
        let mut progress = saved.resumable(artifacts)?;
        progress.stopped = None;
        crate::say!("resuming after epoch {} (best so far: epoch {})", progress.last_epoch, progress.best_epoch);
        Ok(progress)
    }

    /// The progress to resume from: this one if its checkpoint is intact, else the previous
    /// epoch's (with a message on stderr), else an error naming the damaged file.
    pub fn resumable(self, artifacts: &Path) -> Result<Self, RunError> {
        let mut candidate = self;
        loop {
            if candidate.last_epoch == 0 {
                return Ok(candidate);
            }
            let Err(why) = check_checkpoint(artifacts, candidate.last_epoch) else { return Ok(candidate) };
            let Some(previous) = candidate.previous.take() else {
                return Err(RunError::damaged(
                    &artifacts.join(Artifacts::CHECKPOINTS),
                    format!(
                        "the checkpoint of epoch {} is unusable ({why}) and there is no earlier one to resume from \
                         (train again with --overwrite instead of --resume)",
                        candidate.last_epoch
                    ),
                ));
            };
            crate::note!(
                "--resume: the checkpoint of epoch {} is unusable ({why}); resuming after epoch {} instead",
                candidate.last_epoch,
                previous.last_epoch
            );
            candidate = *previous;
        }
    }

    /// The epoch whose weights a finished run keeps: the best one, or the last when no
    /// validation value was finite.
    pub fn kept_epoch(&self) -> usize {
        if self.best_epoch > 0 {
            self.best_epoch
        } else {
            self.last_epoch
        }
    }

    /// At the end of a run: deletes the checkpoints no longer needed (all but the best, the
    /// last, and the one before the last, which `--resume` falls back on if the last is
    /// damaged later) and saves the pruned `progress.json` (keeping its stop reason).
    pub fn prune(&self, artifacts: &Path) -> Result<(), RunError> {
        let previous = self.previous.as_ref().map_or(0, |p| p.last_epoch);
        let needed = |k: usize| k == self.best_epoch || k == self.last_epoch || k == previous;
        if self.kept.iter().all(|&k| needed(k)) {
            return Ok(());
        }
        delete_checkpoints(artifacts, self.kept.iter().copied().filter(|&k| !needed(k)));
        let mut pruned = self.clone();
        pruned.kept.retain(|&k| needed(k));
        pruned.stopped = Self::load(artifacts)?.and_then(|p| p.stopped);
        pruned.save(artifacts)
    }
}

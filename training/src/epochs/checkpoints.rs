//! The files of each epoch's checkpoint (model, optimiser, schedule): their names, the check
//! that they decode, and pruning the ones a finished run no longer needs.

use std::path::{Path, PathBuf};

use crate::artifacts::Artifacts;

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

/// Deletes the checkpoint files of `epochs` (missing files are no error: pruning is a tidy-up).
pub fn delete_checkpoints(artifacts: &Path, epochs: impl IntoIterator<Item = usize>) {
    for epoch in epochs {
        for file in checkpoint_files(artifacts, epoch) {
            let _ = std::fs::remove_file(file);
        }
    }
}

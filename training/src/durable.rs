//! Writing the files of an artifacts folder durably: a temporary file, flushed to the disk,
//! renamed over the target, and the folder flushed, so that a kill, a power cut or a full disk
//! leaves either the old file or the new one, never a torn one.

use std::path::{Path, PathBuf};

use crate::error::RunError;

/// Writes a file of the artifacts durably: a temporary file, flushed to the disk, renamed over
/// `path`, and the folder flushed (see [`commit`]). A kill, a power cut or a full disk leaves
/// either the old file or the new one, never a torn one; the error names the file.
pub fn write(path: &Path, text: String) -> Result<(), RunError> {
    write_bytes(path, text.into_bytes())
}

/// [`write`] for bytes.
pub fn write_bytes(path: &Path, bytes: Vec<u8>) -> Result<(), RunError> {
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    std::fs::write(&partial, bytes)
        .map_err(|e| describe_write_error(path, &e.to_string()))
        .and_then(|()| commit(&partial, path).map_err(|e| e.to_string()))
        .map_err(|message| {
            let _ = std::fs::remove_file(&partial);
            RunError::Other(message)
        })
}

/// Flushes the finished temporary file `partial` to the disk, renames it to `target` and
/// flushes the folder, so that the rename itself survives a power cut.
pub fn commit(partial: &Path, target: &Path) -> Result<(), RunError> {
    let fail = |e: std::io::Error| RunError::Other(describe_write_error(target, &e.to_string()));
    std::fs::File::open(partial).and_then(|f| f.sync_all()).map_err(fail)?;
    std::fs::rename(partial, target).map_err(fail)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Folders cannot be opened for syncing on every platform; where they can, a failure is real.
        if let Ok(folder) = std::fs::File::open(dir) {
            folder.sync_all().map_err(fail)?;
        }
    }
    Ok(())
}

/// `"{path}: cannot write: {message}"`, saying plainly when the disk is full.
pub fn describe_write_error(path: &Path, message: &str) -> String {
    let full = message.contains("No space left") || message.contains("os error 28") || message.contains("Disk quota");
    format!("{}: cannot write: {message}{}", path.display(), if full { " (no space left on the disk; the last complete checkpoint is kept)" } else { "" })
}

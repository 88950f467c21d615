//! Reading files that must be regular files — a model's, a vocabulary, a corpus cache's arrays.
//! A named pipe, a device or a socket in their place is an error at once: opening a pipe for
//! reading waits for a writer that may never come, and `/dev/zero` never ends. (Corpus files
//! may be pipes; their readers do not come here.)

use std::fs::File;
use std::io;
use std::path::Path;

/// `Ok` when `path` (links followed) is a regular file; an `InvalidInput` error saying what it
/// is otherwise, and the system's error when it cannot be looked at.
pub fn check(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(path)?.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{what}, where a regular file belongs")))
}

/// [`File::open`] of a regular file ([`check`] first).
pub fn open(path: &Path) -> io::Result<File> {
    check(path)?;
    File::open(path)
}

/// [`std::fs::read`] of a regular file.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    check(path)?;
    std::fs::read(path)
}

/// [`std::fs::read_to_string`] of a regular file.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    check(path)?;
    std::fs::read_to_string(path)
}

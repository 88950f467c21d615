//! One error type for every loader: it always names the file and, where there is one, the line.

use std::fmt;
use std::path::{Path, PathBuf};

/// A data error, printed as `file:line: message` (or `file: message`).
#[derive(Debug)]
pub struct DataError {
    /// The file (or folder) being read.
    pub path: PathBuf,
    /// 1-based line number, when the problem is on one line.
    pub line: Option<usize>,
    /// What is wrong, with the offending text where it helps.
    pub message: String,
    /// The operating system's error kind, when reading failed (not found, permission denied…).
    pub kind: Option<std::io::ErrorKind>,
}

impl DataError {
    /// An error about a whole file.
    pub fn file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self { path: path.as_ref().to_owned(), line: None, message: message.into(), kind: None }
    }

    /// An error on line `line` (1-based) of a file.
    pub fn line(path: impl AsRef<Path>, line: usize, message: impl Into<String>) -> Self {
        Self { path: path.as_ref().to_owned(), line: Some(line), message: message.into(), kind: None }
    }

    /// An I/O error while reading `path`, its kind kept.
    pub fn io(path: impl AsRef<Path>, err: std::io::Error) -> Self {
        Self { kind: Some(err.kind()), ..Self::file(path, format!("cannot read: {err}")) }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for DataError {}

/// Shortens a line for an error message.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        format!("{:?}…", text.chars().take(MAX).collect::<String>())
    }
}

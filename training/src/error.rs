//! Why a run failed: [`RunError`], the one error type of the training crate.
//!
//! Its variants are the failures a caller may branch on (a missing file, a damaged one, files
//! or options that disagree, an operating-system error with its kind); each message names the
//! file, line or option it is about.

use std::path::{Path, PathBuf};

use seqlab_datasets::DataError;

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// Bad or missing data (a data file, with its line where there is one).
    Data(DataError),
    /// An option outside its valid range, by its command-line name (`hidden` for `--hidden`).
    Invalid {
        /// The long option, without dashes.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// A file or folder that should be there is not.
    Missing {
        /// The path looked for.
        path: PathBuf,
        /// What it should have held, or what needed it.
        message: String,
    },
    /// A file that is there but cannot be used: damaged, truncated, or not of its kind.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Files or options that disagree: from different runs, edited, or changed since.
    Mismatch {
        /// The file (or folder) that disagrees.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// An operating-system error on a file, its kind kept (permission denied, disk full, …).
    Io {
        /// The file.
        path: PathBuf,
        /// The error, with what was being done.
        message: String,
        /// The operating system's error kind.
        kind: std::io::ErrorKind,
    },
    /// The artifacts folder is taken: another process is training in it, or it holds a run
    /// that neither `--resume` nor `--overwrite` was given for.
    Taken {
        /// The folder.
        path: PathBuf,
        /// Who holds it, or what it holds, and what to do (after the folder's name: `is in use
        /// by …`).
        message: String,
    },
    /// An input a loaded model cannot answer (a text without tokens), named by its place.
    Input(String),
    /// Training ended before its first epoch was complete: there is no model to keep.
    NoEpoch {
        /// Why it ended (a signal, the dashboard, `training ended`).
        stopped: String,
    },
    /// A training job across processes cannot go on (see [`crate::cluster`]).
    Cluster {
        /// What went wrong.
        failure: ClusterFailure,
        /// The rank and the wait or check it is about, in words.
        message: String,
    },
    /// The run cannot go on for another reason, with a message.
    Other(String),
}

/// Why a training job across processes cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterFailure {
    /// MPI could not start, or sees another job than the launcher started.
    Launch,
    /// A wait for every rank passed `--cluster-timeout`.
    TimedOut,
    /// A rank ended or the network failed during an exchange.
    RankLost,
    /// The ranks do not run the same options on the same data.
    Disagree,
}

impl RunError {
    /// A training job across processes that cannot go on.
    pub fn cluster(failure: ClusterFailure, message: impl Into<String>) -> Self {
        Self::Cluster { failure, message: message.into() }
    }

    /// An operating-system error on `path`: a missing file becomes [`RunError::Missing`],
    /// anything else [`RunError::Io`] with its kind.
    pub fn io(path: &Path, error: &std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::NotFound => Self::Missing { path: path.into(), message: "no such file".into() },
            kind => Self::Io { path: path.into(), message: error.to_string(), kind },
        }
    }

    /// An operating-system error on `path` while `doing` something (`"cannot open the lock
    /// file"`), its kind kept.
    pub fn io_while(path: &Path, doing: &str, error: &std::io::Error) -> Self {
        Self::Io { path: path.into(), message: format!("{doing}: {error}"), kind: error.kind() }
    }

    /// A write of `path` that failed, its kind kept; a full disk (or quota) is said in words,
    /// with `kept`, what the failure leaves in place.
    pub fn write_failed(path: &Path, error: &std::io::Error, kept: &str) -> Self {
        let kind = error.kind();
        let full = matches!(kind, std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded);
        let why = if full { format!(" (no space left on the disk; {kept})") } else { String::new() };
        Self::Io { path: path.into(), message: format!("cannot write: {error}{why}"), kind }
    }

    /// A damaged or foreign file.
    pub fn damaged(path: &Path, message: impl Into<String>) -> Self {
        Self::Damaged { path: path.into(), message: message.into() }
    }

    /// Files or options that disagree.
    pub fn mismatch(path: &Path, message: impl Into<String>) -> Self {
        Self::Mismatch { path: path.into(), message: message.into() }
    }

    /// An option out of its range.
    pub fn invalid(option: &str, message: impl Into<String>) -> Self {
        Self::Invalid { option: option.into(), message: message.into() }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Data(e) => e.fmt(f),
            Self::Invalid { option, message } => write!(f, "--{option}: {message}"),
            Self::Missing { path, message }
            | Self::Damaged { path, message }
            | Self::Mismatch { path, message }
            | Self::Io { path, message, .. } => write!(f, "{}: {message}", path.display()),
            Self::Taken { path, message } => write!(f, "{} {message}", path.display()),
            Self::NoEpoch { stopped } => write!(f, "{stopped}: no epoch was completed, so there is nothing to keep"),
            Self::Input(message) | Self::Cluster { message, .. } | Self::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for RunError {}

impl From<DataError> for RunError {
    fn from(e: DataError) -> Self {
        Self::Data(e)
    }
}

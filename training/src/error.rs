//! Why a run failed: [`RunError`], the one error type of the training crate.

use seqlab_datasets::DataError;

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// Bad or missing data.
    Data(DataError),
    /// An option outside its valid range, by its command-line name (`hidden` for `--hidden`).
    Invalid {
        /// The long option, without dashes.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// Anything else, with a message.
    Other(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Data(e) => e.fmt(f),
            Self::Invalid { option, message } => write!(f, "--{option}: {message}"),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

impl From<DataError> for RunError {
    fn from(e: DataError) -> Self {
        Self::Data(e)
    }
}

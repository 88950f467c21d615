//! Encoded corpora: a corpus as flat arrays of ids in a folder of little-endian files, read
//! through memory maps, so that training holds none of its text.
//!
//! | file | holds |
//! | --- | --- |
//! | `header.json` | [`Header`]: format version, task, counts, the source's size and CRC-32, the vocabulary's and label map's CRC-32, each array's CRC-32; written last |
//! | `offsets.u64` | `examples + 1` token offsets: example `i` is tokens `offsets[i]..offsets[i + 1]` |
//! | `ids.u32` | a word id per token |
//! | `labels.u32` | classification: a label id per example |
//! | `tags.u32` | tagging: a tag id per token |
//! | `text.offsets.u64`, `text.utf8` | tagging: each token's text (`tokens + 1` byte offsets), from which the casing feature and the character ids are rebuilt |
//!
//! [`EncodedWriter`] writes the folder as `DIR.partial` and renames it when complete, so a
//! half-written corpus is never taken for one. [`EncodedCorpus::open`] checks every size,
//! offset and id and each array's CRC-32 against the header before anything is read, so a
//! truncated, damaged or foreign folder is an error naming the file, never a wrong read. [`ClassificationDataset`] and
//! [`TaggingDataset`] are Burn datasets over it.

mod dataset;
mod read;
mod write;

pub use dataset::{ClassificationDataset, TaggingDataset};
pub use read::EncodedCorpus;
pub use write::EncodedWriter;

pub use crate::Task;

use crate::chunks::Fingerprint;

/// The version of the layout this code writes and reads.
pub const VERSION: u32 = 1;

/// `header.json`: what the arrays hold and what they were made from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// Always `"seqlab-encoded-corpus"`.
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The task.
    pub task: Task,
    /// Examples (texts or sentences).
    pub examples: u64,
    /// Tokens.
    pub tokens: u64,
    /// Bytes of token text (tagging; 0 otherwise).
    pub text_bytes: u64,
    /// The source file as given, and its size and CRC-32 when it was encoded.
    pub source: String,
    /// Size and CRC-32 of the source.
    pub fingerprint: Fingerprint,
    /// Entries of the vocabulary (every id is below this) and the CRC-32 of its entries.
    pub vocab_len: u64,
    /// CRC-32 of the vocabulary's entries.
    pub vocab_crc32: u32,
    /// Labels or tags (every label or tag id is below this).
    pub labels_len: u64,
    /// CRC-32 of the label or tag names.
    pub labels_crc32: u32,
    /// The CRC-32 of each array file, by name, checked whenever the corpus is opened (a corpus
    /// written before they were recorded has none, and is not opened: it is encoded again).
    #[serde(default)]
    pub arrays: std::collections::BTreeMap<String, u32>,
}

/// The name of [`Header::format`].
pub const FORMAT: &str = "seqlab-encoded-corpus";

/// The CRC-32 of a list of names (a vocabulary's entries, a label map's names), each followed
/// by a newline.
pub fn names_crc32<'a>(names: impl IntoIterator<Item = &'a str>) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for name in names {
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize()
}

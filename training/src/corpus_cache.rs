//! A run's training split as an encoded corpus ([`seqlab_datasets::encoded`]) in
//! `ARTIFACTS/corpus/train`: written on the first run, used again (by `--resume`, or a rerun
//! on the same folder) while the source file's size and CRC-32, the vocabulary and the labels
//! are those it was encoded with, and written again otherwise. Training reads it through
//! memory maps, so it holds none of the split's text.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use seqlab_datasets::chunks::Fingerprint;
use seqlab_datasets::encoded::{names_crc32, EncodedCorpus, EncodedWriter, Header, Task, FORMAT, VERSION};
use seqlab_datasets::text::Vocab;
use seqlab_datasets::LabelMap;

use crate::artifacts::Artifacts;
use crate::error::RunError;

/// What the cached corpus must have been made from.
pub(crate) struct Wanted<'a> {
    /// The task.
    pub task: Task,
    /// The source file as given.
    pub source: &'a str,
    /// Its size and CRC-32 as read by the counting pass.
    pub fingerprint: Fingerprint,
    /// The vocabulary.
    pub vocab: &'a Vocab,
    /// The labels or tags.
    pub labels: &'a LabelMap,
}

impl Wanted<'_> {
    /// The header a corpus made from this has (counts aside).
    fn header(&self) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            task: self.task,
            examples: 0,
            tokens: 0,
            text_bytes: 0,
            source: self.source.to_string(),
            fingerprint: self.fingerprint,
            vocab_len: self.vocab.len() as u64,
            vocab_crc32: names_crc32(self.vocab.tokens.iter().map(String::as_str)),
            labels_len: self.labels.len() as u64,
            labels_crc32: names_crc32(self.labels.names.iter().map(String::as_str)),
            arrays: Default::default(),
        }
    }
}

/// The folder of the encoded training split of `artifacts`.
pub(crate) fn train_corpus_dir(artifacts: &Path) -> PathBuf {
    artifacts.join(Artifacts::CORPUS).join("train")
}

/// Why the corpus in `dir` cannot be used for `wanted`, or `None` if it can.
fn stale(dir: &Path, wanted: &Header) -> Option<String> {
    let path = dir.join("header.json");
    let Ok(text) = seqlab_datasets::regular::read_to_string(&path) else {
        return Some("it has no readable header.json".into());
    };
    let Ok(found) = serde_json::from_str::<Header>(&text) else {
        return Some("its header is unreadable".into());
    };
    let same = |h: &Header| {
        (h.task, h.source.clone(), h.fingerprint, h.vocab_len, h.vocab_crc32, h.labels_len, h.labels_crc32)
    };
    if found.fingerprint != wanted.fingerprint {
        Some(format!(
            "the source changed ({} bytes, CRC-32 {:08x} then; {} bytes, {:08x} now)",
            found.fingerprint.bytes, found.fingerprint.crc32, wanted.fingerprint.bytes, wanted.fingerprint.crc32
        ))
    } else if same(&found) != same(wanted) {
        Some("it was encoded with another source, vocabulary or label set".into())
    } else {
        None
    }
}

/// The encoded training split in `artifacts`: the cached one if it was made from `wanted`, else
/// one written by `encode` (which adds every example to the writer it is given, in order).
pub(crate) fn train_corpus(
    artifacts: &Path,
    wanted: &Wanted,
    encode: impl FnOnce(&mut EncodedWriter) -> Result<Fingerprint, RunError>,
) -> Result<Arc<EncodedCorpus>, RunError> {
    let dir = train_corpus_dir(artifacts);
    let header = wanted.header();
    if dir.exists() {
        match stale(&dir, &header) {
            None => match EncodedCorpus::open(&dir) {
                Ok(corpus) => {
                    crate::say!("data: {} encoded as {} (unchanged; used again)", wanted.source, dir.display());
                    return Ok(Arc::new(corpus));
                }
                Err(e) => crate::say!("data: encoding {} again: {e}", wanted.source),
            },
            Some(why) => crate::say!("data: encoding {} again: {why}", wanted.source),
        }
    }
    let start = Instant::now();
    let mut writer = EncodedWriter::create(&dir, header)?;
    let read = match encode(&mut writer) {
        Ok(read) => read,
        Err(e) => {
            writer.abandon();
            return Err(e);
        }
    };
    if read != wanted.fingerprint {
        writer.abandon();
        return Err(RunError::Mismatch {
            path: wanted.source.into(),
            message: "the file changed while it was being read; run again once it is complete".into(),
        });
    }
    let written = writer.finish()?;
    let seconds = start.elapsed().as_secs_f64();
    crate::say!(
        "data: encoded {} ({:.1} MB, {} examples, {} tokens) into {} in {seconds:.1} s ({:.1} MB/s)",
        wanted.source,
        written.fingerprint.bytes as f64 / 1e6,
        written.examples,
        written.tokens,
        dir.display(),
        written.fingerprint.bytes as f64 / 1e6 / seconds.max(1e-9)
    );
    Ok(Arc::new(EncodedCorpus::open(&dir)?))
}

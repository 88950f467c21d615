//! Writing an encoded corpus: arrays appended example by example into `DIR.partial`, the
//! header last, then one rename.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Header, Task, FORMAT, VERSION};
use crate::error::DataError;

/// One array file being written, and the CRC-32 of what was written.
struct Array {
    path: PathBuf,
    out: BufWriter<File>,
    crc: crc32fast::Hasher,
}

impl Array {
    fn create(dir: &Path, name: &str) -> Result<Self, DataError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| DataError::file(&path, format!("cannot create: {e}")))?;
        Ok(Self { out: BufWriter::with_capacity(1 << 20, file), path, crc: crc32fast::Hasher::new() })
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), DataError> {
        self.crc.update(bytes);
        self.out.write_all(bytes).map_err(|e| DataError::file(&self.path, format!("cannot write: {e}")))
    }

    fn u32s(&mut self, values: impl IntoIterator<Item = usize>) -> Result<(), DataError> {
        for v in values {
            let v =
                u32::try_from(v).map_err(|_| DataError::file(&self.path, format!("id {v} does not fit 32 bits")))?;
            self.put(&v.to_le_bytes())?;
        }
        Ok(())
    }

    fn u64(&mut self, value: u64) -> Result<(), DataError> {
        self.put(&value.to_le_bytes())
    }

    /// Flushes and syncs the file; returns its name and CRC-32.
    fn close(self) -> Result<(String, u32), DataError> {
        let path = self.path;
        let file = self.out.into_inner().map_err(|e| DataError::file(&path, format!("cannot write: {}", e.error())))?;
        file.sync_all().map_err(|e| DataError::file(&path, format!("cannot write: {e}")))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok((name, self.crc.finalize()))
    }
}

/// Writes an encoded corpus into a folder (see [`super`]): nothing is at the folder's path
/// until [`EncodedWriter::finish`] succeeds.
pub struct EncodedWriter {
    dir: PathBuf,
    partial: PathBuf,
    header: Header,
    offsets: Array,
    ids: Array,
    labels: Option<Array>,
    tags: Option<Array>,
    text: Option<(Array, Array)>,
}

impl EncodedWriter {
    /// Starts writing a corpus for `task` at `dir`; `header` gives the source and the
    /// vocabularies (its counts are filled in as examples are added).
    pub fn create(dir: &Path, header: Header) -> Result<Self, DataError> {
        let partial = PathBuf::from(format!("{}.partial", dir.display()));
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(|e| DataError::file(&partial, format!("cannot remove: {e}")))?;
        }
        std::fs::create_dir_all(&partial).map_err(|e| DataError::file(&partial, format!("cannot create: {e}")))?;
        let mut offsets = Array::create(&partial, "offsets.u64")?;
        offsets.u64(0)?;
        let tagging = header.task == Task::Tagging;
        let text = if tagging {
            let mut offsets = Array::create(&partial, "text.offsets.u64")?;
            offsets.u64(0)?;
            Some((offsets, Array::create(&partial, "text.utf8")?))
        } else {
            None
        };
        Ok(Self {
            ids: Array::create(&partial, "ids.u32")?,
            labels: if tagging { None } else { Some(Array::create(&partial, "labels.u32")?) },
            tags: if tagging { Some(Array::create(&partial, "tags.u32")?) } else { None },
            text,
            offsets,
            header: Header { format: FORMAT.into(), version: VERSION, examples: 0, tokens: 0, text_bytes: 0, ..header },
            dir: dir.to_owned(),
            partial,
        })
    }

    fn push_ids(&mut self, ids: &[usize]) -> Result<(), DataError> {
        self.ids.u32s(ids.iter().copied())?;
        self.header.examples += 1;
        self.header.tokens += ids.len() as u64;
        self.offsets.u64(self.header.tokens)
    }

    /// Adds a text's token ids and label id (a classification corpus).
    pub fn push_labelled(&mut self, ids: &[usize], label: usize) -> Result<(), DataError> {
        let labels = self.labels.as_mut().expect("a classification corpus");
        labels.u32s([label])?;
        self.push_ids(ids)
    }

    /// Adds a sentence's token ids, tag ids and tokens (a tagging corpus).
    pub fn push_tagged<S: AsRef<str>>(&mut self, ids: &[usize], tags: &[usize], tokens: &[S]) -> Result<(), DataError> {
        assert!(ids.len() == tags.len() && ids.len() == tokens.len(), "one id, tag and token per position");
        self.tags.as_mut().expect("a tagging corpus").u32s(tags.iter().copied())?;
        let (offsets, text) = self.text.as_mut().expect("a tagging corpus");
        for token in tokens {
            text.put(token.as_ref().as_bytes())?;
            self.header.text_bytes += token.as_ref().len() as u64;
            offsets.u64(self.header.text_bytes)?;
        }
        self.push_ids(ids)
    }

    /// Completes the corpus: syncs the arrays, writes the header and renames the folder into
    /// place (replacing an older corpus there). Returns the header.
    pub fn finish(self) -> Result<Header, DataError> {
        let Self { dir, partial, mut header, offsets, ids, labels, tags, text } = self;
        let (text_offsets, text) = text.unzip();
        for array in [Some(offsets), Some(ids), labels, tags, text_offsets, text].into_iter().flatten() {
            let (name, crc) = array.close()?;
            header.arrays.insert(name, crc);
        }
        let path = partial.join("header.json");
        let json = serde_json::to_string_pretty(&header).expect("a header serialises");
        std::fs::write(&path, json).map_err(|e| DataError::file(&path, format!("cannot write: {e}")))?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| DataError::file(&dir, format!("cannot replace: {e}")))?;
        }
        std::fs::rename(&partial, &dir).map_err(|e| DataError::file(&dir, format!("cannot create: {e}")))?;
        Ok(header)
    }

    /// Gives up: removes the partial folder.
    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.partial);
    }
}

//! Reading an encoded corpus through memory maps, after checking it whole.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use memmap2::Mmap;

use super::{Header, Task, FORMAT, VERSION};
use crate::error::DataError;

/// One mapped array file.
struct Mapped {
    path: PathBuf,
    map: Option<Mmap>,
}

impl Mapped {
    /// Maps `dir/name`, which must hold `count` values of `width` bytes whose CRC-32 is
    /// `crc` (the header's; `None`: none recorded).
    fn open(dir: &Path, name: &str, count: u64, width: u64, crc: Option<u32>) -> Result<Self, DataError> {
        let path = dir.join(name);
        let file = crate::regular::open(&path).map_err(|e| DataError::io(&path, e))?;
        let size = file.metadata().map_err(|e| DataError::io(&path, e))?.len();
        if size != count * width {
            return Err(DataError::file(
                &path,
                format!(
                    "{size} bytes where header.json implies {} ({count} values of {width} bytes): truncated or from another corpus; delete the folder to encode again",
                    count * width
                ),
            ));
        }
        // An empty file cannot be mapped; it holds no values anyway.
        let map = if size == 0 {
            None
        } else {
            // SAFETY: the file is opened read-only and the corpus folder is written once and
            // renamed into place; a file changed under the map by another program is outside
            // what any reader of a file can guard against (as with `std::fs::read`).
            let map = unsafe { Mmap::map(&file) }.map_err(|e| DataError::file(&path, format!("cannot map: {e}")))?;
            // Training reads examples in random order: no read-ahead around each one.
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Random);
            Some(map)
        };
        let mapped = Self { path, map };
        let found = crc32fast::hash(mapped.bytes());
        match crc {
            Some(recorded) if recorded == found => Ok(mapped),
            Some(recorded) => Err(DataError::file(
                &mapped.path,
                format!(
                    "changed since it was encoded (CRC-32 {found:08x}, header.json recorded {recorded:08x}); delete the \
                     folder to encode again"
                ),
            )),
            None => Err(DataError::file(
                &mapped.path,
                "header.json records no CRC-32 for it (a corpus written by an earlier seqlab); delete the folder to \
                 encode again",
            )),
        }
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// Drops the mapped pages from this process' resident memory (they stay in the page cache
    /// and come back on the next read).
    fn release(&self) {
        if let Some(map) = &self.map {
            // SAFETY: a read-only shared file mapping: DONTNEED only unmaps its pages, which are
            // read again from the file (unchanged) on the next access.
            #[cfg(unix)]
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
            #[cfg(not(unix))]
            let _ = map;
        }
    }

    fn u32s(&self) -> &[u32] {
        bytemuck::cast_slice(self.bytes())
    }

    fn u64s(&self) -> &[u64] {
        bytemuck::cast_slice(self.bytes())
    }
}

/// Examples read between two releases of the mapped pages (see [`EncodedCorpus::ids`]).
const RELEASE_EVERY: usize = 64;

/// An encoded corpus, mapped and checked (see [`super`]).
pub struct EncodedCorpus {
    /// The header.
    pub header: Header,
    /// Examples read through [`EncodedCorpus::ids`].
    reads: AtomicUsize,
    offsets: Mapped,
    ids: Mapped,
    labels: Option<Mapped>,
    tags: Option<Mapped>,
    text: Option<(Mapped, Mapped)>,
}

impl std::fmt::Debug for EncodedCorpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncodedCorpus {{ {} examples, {} tokens }}", self.header.examples, self.header.tokens)
    }
}

/// Values checked between two releases of a map's pages: the checks read every value, and a
/// corpus may be larger than memory.
const CHECK_WINDOW: usize = 1 << 22;

/// Offsets that start at 0, never decrease and end at `end`; else an error naming the file.
fn check_offsets(map: &Mapped, end: u64) -> Result<(), DataError> {
    let offsets = map.u64s();
    let bad =
        |why: String| Err(DataError::file(&map.path, format!("{why}: damaged; delete the folder to encode again")));
    if offsets.first() != Some(&0) || offsets.last() != Some(&end) {
        return bad(format!("offsets must run from 0 to {end}"));
    }
    for start in (0..offsets.len()).step_by(CHECK_WINDOW) {
        let window = &offsets[start..(start + CHECK_WINDOW + 1).min(offsets.len())];
        if let Some(i) = window.windows(2).position(|w| w[0] > w[1]) {
            return bad(format!("offset {} is past offset {}", start + i, start + i + 1));
        }
        map.release();
    }
    Ok(())
}

/// Ids all below `len`; else an error naming the file.
fn check_ids(map: &Mapped, len: u64, what: &str) -> Result<(), DataError> {
    for (k, window) in map.u32s().chunks(CHECK_WINDOW).enumerate() {
        if let Some(i) = window.iter().position(|&id| u64::from(id) >= len) {
            return Err(DataError::file(
                &map.path,
                format!(
                    "{what} {} at position {} is outside the {len} of the header: damaged or foreign",
                    window[i],
                    k * CHECK_WINDOW + i
                ),
            ));
        }
        map.release();
    }
    Ok(())
}

/// Every token's text is UTF-8 on its own (so every offset is on a character boundary).
fn check_text(offsets: &Mapped, text: &Mapped) -> Result<(), DataError> {
    let (o, bytes) = (offsets.u64s(), text.bytes());
    for token in 0..o.len().saturating_sub(1) {
        let (a, b) = (o[token] as usize, o[token + 1] as usize);
        if std::str::from_utf8(&bytes[a..b]).is_err() {
            return Err(DataError::file(
                &text.path,
                format!("token {token} (bytes {a}..{b}) is not UTF-8 on whole characters: damaged"),
            ));
        }
        if token % CHECK_WINDOW == CHECK_WINDOW - 1 {
            offsets.release();
            text.release();
        }
    }
    Ok(())
}

impl EncodedCorpus {
    /// Opens and checks the corpus in `dir`: the header's format and version, every file's size,
    /// the offsets, every id against the vocabulary and label sizes, the text's UTF-8.
    pub fn open(dir: &Path) -> Result<Self, DataError> {
        if cfg!(target_endian = "big") {
            return Err(DataError::file(dir, "encoded corpora are little-endian; this machine is big-endian"));
        }
        let path = dir.join("header.json");
        let text = crate::regular::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
        let header: Header = serde_json::from_str(&text)
            .map_err(|e| DataError::line(&path, e.line(), format!("not an encoded corpus header: {e}")))?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(DataError::file(
                &path,
                format!(
                    "format {:?} version {}, where this seqlab reads {FORMAT:?} version {VERSION}; delete the folder to encode again",
                    header.format, header.version
                ),
            ));
        }
        let h = &header;
        let offsets = Mapped::open(dir, "offsets.u64", h.examples + 1, 8, h.arrays.get("offsets.u64").copied())?;
        check_offsets(&offsets, h.tokens)?;
        let ids = Mapped::open(dir, "ids.u32", h.tokens, 4, h.arrays.get("ids.u32").copied())?;
        check_ids(&ids, h.vocab_len, "word id")?;
        let (mut labels, mut tags, mut text) = (None, None, None);
        match h.task {
            Task::Classification => {
                let l = Mapped::open(dir, "labels.u32", h.examples, 4, h.arrays.get("labels.u32").copied())?;
                check_ids(&l, h.labels_len, "label id")?;
                labels = Some(l);
            }
            Task::Tagging => {
                let t = Mapped::open(dir, "tags.u32", h.tokens, 4, h.arrays.get("tags.u32").copied())?;
                check_ids(&t, h.labels_len, "tag id")?;
                tags = Some(t);
                let o =
                    Mapped::open(dir, "text.offsets.u64", h.tokens + 1, 8, h.arrays.get("text.offsets.u64").copied())?;
                check_offsets(&o, h.text_bytes)?;
                let s = Mapped::open(dir, "text.utf8", h.text_bytes, 1, h.arrays.get("text.utf8").copied())?;
                check_text(&o, &s)?;
                text = Some((o, s));
            }
        }
        let corpus = Self { header, reads: AtomicUsize::new(0), offsets, ids, labels, tags, text };
        corpus.release();
        Ok(corpus)
    }

    /// Drops the pages read so far (by the checks of [`EncodedCorpus::open`], or a pass over
    /// every length) from this process' resident memory; reads after it fault them in again.
    pub fn release(&self) {
        let text = self.text.iter().flat_map(|(o, t)| [o, t]);
        [&self.offsets, &self.ids]
            .into_iter()
            .chain(&self.labels)
            .chain(&self.tags)
            .chain(text)
            .for_each(Mapped::release);
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.header.examples as usize
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.header.examples == 0
    }

    fn range(&self, index: usize) -> Range<usize> {
        let o = self.offsets.u64s();
        o[index] as usize..o[index + 1] as usize
    }

    /// The number of tokens of each example.
    pub fn lengths(&self) -> Vec<usize> {
        (0..self.len()).map(|i| self.length(i)).collect()
    }

    /// The number of tokens of example `index`.
    pub fn length(&self, index: usize) -> usize {
        self.range(index).len()
    }

    /// The word ids of example `index`. Every [`RELEASE_EVERY`] examples read, the pages read
    /// so far are released: a page of a file read front to back may be mapped as a whole large
    /// folio (up to MBs) on its first touch, so that random reads would otherwise map the whole
    /// corpus into this process over an epoch. With the release, a run holds a few hundred MB
    /// of it at most (tens of MB), however long it trains.
    pub fn ids(&self, index: usize) -> &[u32] {
        if self.reads.fetch_add(1, Ordering::Relaxed) % RELEASE_EVERY == RELEASE_EVERY - 1 {
            self.release();
        }
        &self.ids.u32s()[self.range(index)]
    }

    /// The label id of example `index` (classification).
    pub fn label(&self, index: usize) -> usize {
        self.labels.as_ref().expect("a classification corpus").u32s()[index] as usize
    }

    /// The tag ids of sentence `index` (tagging).
    pub fn tags(&self, index: usize) -> &[u32] {
        &self.tags.as_ref().expect("a tagging corpus").u32s()[self.range(index)]
    }

    /// The tokens of sentence `index` (tagging).
    pub fn tokens(&self, index: usize) -> impl Iterator<Item = &str> + '_ {
        let (offsets, text) = self.text.as_ref().expect("a tagging corpus");
        let (offsets, text) = (offsets.u64s(), text.bytes());
        self.range(index).map(move |t| {
            let bytes = &text[offsets[t] as usize..offsets[t + 1] as usize];
            // Checked to be UTF-8 on whole characters when the corpus was opened.
            std::str::from_utf8(bytes).expect("checked UTF-8")
        })
    }
}

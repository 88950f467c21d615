//! A text file read as consecutive chunks of whole records (about a MiB each), so that a corpus
//! larger than memory can be parsed part by part, and the parts in parallel.
//!
//! A chunk ends where a record ends: after a line ([`Boundary::Line`]), after a line outside
//! a quoted field ([`Boundary::QuotedLine`], CSV), or after a blank line
//! ([`Boundary::BlankLine`], CoNLL sentences). Each chunk knows the line it starts on, so the
//! errors and origins of its records name the file's lines. The reader also sums the bytes
//! and their CRC-32, which name the version of the file that was read.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::DataError;
use crate::text::{decode, Encoding};

/// Bytes a chunk is cut after (at the first record end past it).
pub const CHUNK_BYTES: usize = 1 << 20;

/// Where a record ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// At every line end.
    Line,
    /// At a line end outside a `"`-quoted field.
    QuotedLine,
    /// After a blank (empty or whitespace-only) line.
    BlankLine,
}

/// One chunk: its text and the 1-based line of the file it starts on.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Index of the chunk in the file (0 for the first).
    pub index: usize,
    /// The text, decoded.
    pub text: String,
    /// The file's line that the text's first line is.
    pub first_line: usize,
}

/// The size and CRC-32 of the bytes of a file, read front to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// Bytes.
    pub bytes: u64,
    /// CRC-32 (IEEE) of the bytes.
    pub crc32: u32,
}

impl Fingerprint {
    /// The size and CRC-32 of the file at `path`, read front to back.
    pub fn of_file(path: &Path) -> Result<Self, DataError> {
        let mut file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let (mut hasher, mut bytes, mut buffer) = (crc32fast::Hasher::new(), 0u64, vec![0u8; 1 << 20]);
        loop {
            let n = file.read(&mut buffer).map_err(|e| DataError::io(path, e))?;
            if n == 0 {
                return Ok(Self { bytes, crc32: hasher.finalize() });
            }
            hasher.update(&buffer[..n]);
            bytes += n as u64;
        }
    }
}

/// Reads a file in chunks of whole records (an iterator of [`Chunk`]s).
pub struct ChunkReader {
    source: Box<dyn Read + Send>,
    path: PathBuf,
    encoding: Encoding,
    boundary: Boundary,
    chunk_bytes: usize,
    /// Bytes read and not yet given out.
    pending: Vec<u8>,
    /// The file's line that `pending` starts on.
    next_line: usize,
    /// The index of the next chunk.
    index: usize,
    hasher: crc32fast::Hasher,
    bytes: u64,
    finished: bool,
}

impl ChunkReader {
    /// A reader of the file at `path`.
    pub fn open(path: &Path, encoding: Encoding, boundary: Boundary) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        Ok(Self::new(Box::new(file), path, encoding, boundary))
    }

    /// A reader of `source`, named `path` in errors.
    pub fn new(source: Box<dyn Read + Send>, path: &Path, encoding: Encoding, boundary: Boundary) -> Self {
        Self {
            source,
            path: path.to_owned(),
            encoding,
            boundary,
            chunk_bytes: CHUNK_BYTES,
            pending: Vec::new(),
            next_line: 1,
            index: 0,
            hasher: crc32fast::Hasher::new(),
            bytes: 0,
            finished: false,
        }
    }

    /// The same reader cutting chunks after `bytes` (tests use small chunks).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// The size and CRC-32 of what was read so far (of the whole file, once the reader is
    /// exhausted).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint { bytes: self.bytes, crc32: self.hasher.clone().finalize() }
    }

    /// Reads until `pending` holds more than a chunk or the file ends.
    fn fill(&mut self, want: usize) -> Result<(), DataError> {
        let mut buffer = vec![0u8; 1 << 16];
        while !self.finished && self.pending.len() < want {
            let n = self.source.read(&mut buffer).map_err(|e| DataError::io(&self.path, e))?;
            if n == 0 {
                self.finished = true;
            } else {
                self.hasher.update(&buffer[..n]);
                self.bytes += n as u64;
                self.pending.extend_from_slice(&buffer[..n]);
            }
        }
        Ok(())
    }

    /// The end of the last whole record in `pending[..]` at or after `from`, if any.
    fn cut(&self, from: usize) -> Option<usize> {
        let bytes = &self.pending;
        match self.boundary {
            Boundary::Line => bytes[from..].iter().position(|&b| b == b'\n').map(|i| from + i + 1),
            Boundary::QuotedLine => {
                // Quote parity from the start of the chunk (`""` inside a field toggles twice).
                let mut quoted = false;
                for (i, &b) in bytes.iter().enumerate() {
                    match b {
                        b'"' => quoted = !quoted,
                        b'\n' if !quoted && i >= from => return Some(i + 1),
                        _ => {}
                    }
                }
                None
            }
            Boundary::BlankLine => {
                let mut start = from;
                while let Some(i) = bytes[start..].iter().position(|&b| b == b'\n') {
                    let line_start = start + i + 1;
                    let line_end = bytes[line_start..].iter().position(|&b| b == b'\n').map(|j| line_start + j)?;
                    if bytes[line_start..line_end].iter().all(|b| b.is_ascii_whitespace()) {
                        return Some(line_end + 1);
                    }
                    start = line_start;
                }
                None
            }
        }
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>, DataError> {
        let mut want = self.chunk_bytes;
        let end = loop {
            self.fill(want)?;
            if self.pending.is_empty() {
                return Ok(None);
            }
            let from = self.chunk_bytes.min(self.pending.len()) - 1;
            match self.cut(from) {
                Some(end) => break end,
                None if self.finished => break self.pending.len(),
                // One record longer than a chunk: read on.
                None => want = self.pending.len() * 2,
            }
        };
        let rest = self.pending.split_off(end);
        let bytes = std::mem::replace(&mut self.pending, rest);
        let first_line = self.next_line;
        self.next_line += bytes.iter().filter(|&&b| b == b'\n').count();
        let text = decode(&bytes, self.encoding).map_err(|offset| {
            let line = first_line + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
            DataError::line(
                &self.path,
                line,
                format!(
                    "invalid UTF-8 (byte 0x{:02x}); if the file is in a legacy encoding, read it with --encoding latin1 or windows-1252",
                    bytes[offset]
                ),
            )
        })?;
        let chunk = Chunk { index: self.index, text, first_line };
        self.index += 1;
        Ok(Some(chunk))
    }
}

impl Iterator for ChunkReader {
    type Item = Result<Chunk, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

/// Applies `parse` to the chunks of `reader` in parallel (as many at a time as rayon has
/// threads) and hands the results to `consume` in file order; stops at the first error.
/// Returns the file's fingerprint.
pub fn for_each_parsed<R: Send>(
    mut reader: ChunkReader,
    parse: impl Fn(Chunk) -> Result<R, DataError> + Sync,
    mut consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Fingerprint, DataError> {
    let at_once = rayon::current_num_threads().max(1);
    loop {
        let chunks: Vec<Chunk> = reader.by_ref().take(at_once).collect::<Result<_, _>>()?;
        if chunks.is_empty() {
            return Ok(reader.fingerprint());
        }
        let parsed: Vec<Result<R, DataError>> = chunks.into_par_iter().map(&parse).collect();
        for result in parsed {
            consume(result?)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str, boundary: Boundary, size: usize) -> Vec<(usize, String)> {
        let reader = ChunkReader::new(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            Path::new("t"),
            Encoding::Utf8,
            boundary,
        )
        .with_chunk_bytes(size);
        reader.map(|c| c.map(|c| (c.first_line, c.text)).unwrap()).collect()
    }

    #[test]
    fn chunks_end_at_record_ends_and_know_their_lines() {
        assert_eq!(chunks("a\nbb\nc\n", Boundary::Line, 3), [(1, "a\nbb\n".into()), (3, "c\n".into())]);
        // A newline inside quotes is not a record end.
        assert_eq!(
            chunks("\"x\ny\",1\nz,0\n", Boundary::QuotedLine, 2),
            [(1, "\"x\ny\",1\n".into()), (3, "z,0\n".into())]
        );
        assert_eq!(
            chunks("a O\nb O\n\nc O\n \nd O", Boundary::BlankLine, 3),
            [(1, "a O\nb O\n\n".into()), (4, "c O\n \n".into()), (6, "d O".into())]
        );
        let whole = "one\ntwo\nthree";
        assert_eq!(chunks(whole, Boundary::Line, 1 << 20), [(1, whole.to_string())]);
    }

    #[test]
    fn invalid_utf8_names_the_line_of_the_file() {
        let mut bytes = b"ok\nok\n".to_vec();
        bytes.extend_from_slice(b"bad \xff\n");
        let reader =
            ChunkReader::new(Box::new(std::io::Cursor::new(bytes)), Path::new("f.tsv"), Encoding::Utf8, Boundary::Line)
                .with_chunk_bytes(3);
        let err = reader.collect::<Result<Vec<_>, _>>().unwrap_err().to_string();
        assert!(err.starts_with("f.tsv:3: invalid UTF-8 (byte 0xff)"), "{err}");
    }

    #[test]
    fn the_fingerprint_is_the_crc_of_the_whole_file() {
        let text = "a\nb\nc\n".repeat(100);
        let reader = ChunkReader::new(
            Box::new(std::io::Cursor::new(text.clone().into_bytes())),
            Path::new("t"),
            Encoding::Utf8,
            Boundary::Line,
        )
        .with_chunk_bytes(7);
        let mut seen = String::new();
        let print = for_each_parsed(
            reader,
            |c| Ok(c.text),
            |t| {
                seen.push_str(&t);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, text);
        assert_eq!(print, Fingerprint { bytes: text.len() as u64, crc32: crc32fast::hash(text.as_bytes()) });
    }
}

//! Pretrained word vectors in GloVe / word2vec text format (`word v1 v2 … vD` per line, the
//! word everything before the last D fields; a word2vec `COUNT DIM` header gives D).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{read_text, Encoding, TokenCounts, Vocab};
use crate::error::{excerpt, DataError};

/// An embedding matrix for a vocabulary, and how much of the vocabulary it covers.
#[derive(Debug, Clone)]
pub struct PretrainedEmbeddings {
    /// Row-major `[vocab.len(), dim]`; rows of words without a vector (and `<pad>`) are zero.
    pub matrix: Vec<f32>,
    /// Vector width.
    pub dim: usize,
    /// Which rows were found in the file.
    pub found: Vec<bool>,
    /// Rows found by exact match.
    pub exact: usize,
    /// Rows found only after lower-casing the vocabulary word.
    pub lowercased: usize,
}

impl PretrainedEmbeddings {
    /// Fraction of the vocabulary (without `<pad>`/`<unk>`) that has a vector.
    pub fn coverage(&self) -> f64 {
        let words = self.found.len().saturating_sub(2);
        if words == 0 {
            0.0
        } else {
            (self.exact + self.lowercased) as f64 / words as f64
        }
    }
}

/// The vectors of a GloVe/word2vec text file (plain, or gzip-compressed when the name ends in
/// `.gz`) for a set of wanted words.
#[derive(Debug, Clone)]
pub struct WordVectors {
    /// Vector width.
    pub dim: usize,
    /// The wanted words that the file has, as the file writes them.
    pub vectors: HashMap<String, Vec<f32>>,
}

impl WordVectors {
    /// Reads the rows of `wanted` words, each as written or lower-cased (so pass both forms
    /// when lookup should fall back to lower case).
    ///
    /// A row is a word and the numbers at its end, so a word may hold spaces; the width is the
    /// word2vec header's, or the first row's. Errors name the file and line: a missing file, a
    /// row of another width, a value that is not a number, not finite or beyond ±1e6, a file
    /// without vectors.
    pub fn read(path: impl AsRef<Path>, wanted: &HashSet<String>, encoding: Encoding) -> Result<Self, DataError> {
        let path = path.as_ref();
        let text = if path.extension().is_some_and(|e| e == "gz") {
            let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(file), &mut bytes)
                .map_err(|e| DataError::file(path, format!("not a readable gzip file: {e}")))?;
            super::decode(&bytes, encoding).map_err(|offset| {
                let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
                DataError::line(path, line, format!("invalid UTF-8 at byte offset {offset} of the decompressed text"))
            })?
        } else {
            if binary_word2vec(path) {
                return Err(DataError::file(
                    path,
                    "a binary word2vec file (a COUNT DIM header, then raw floats); seqlab reads the text format: \
                     convert it, e.g. with gensim's KeyedVectors.load_word2vec_format(path, binary=True)\
                     .save_word2vec_format(out, binary=False)",
                ));
            }
            read_text(path, encoding)?
        };
        let mut vectors: HashMap<String, Vec<f32>> = HashMap::new();
        let (mut dim, mut header) = (0, false);
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            if index == 0 && fields.len() == 2 && fields.iter().all(|f| f.parse::<usize>().is_ok()) {
                // word2vec header: COUNT DIM.
                dim = fields[1].parse().unwrap_or(0);
                header = true;
                continue;
            }
            if dim == 0 {
                // The first row: its values are the numbers at its end (a word may hold spaces).
                dim = fields.iter().rev().take_while(|f| f.parse::<f32>().is_ok()).count().min(fields.len() - 1);
                if dim == 0 {
                    return Err(DataError::line(path, number, format!("a word without a vector: {}", excerpt(line))));
                }
            }
            let (word, values) = row(line, &fields, dim).ok_or_else(|| {
                let width = if header { "the word2vec header (line 1) says" } else { "the first vector has" };
                DataError::line(
                    path,
                    number,
                    format!("{} values where {width} {dim}: {}", fields.len() - 1, excerpt(line)),
                )
            })?;
            if !wanted.contains(word) || vectors.contains_key(word) {
                continue;
            }
            let vector = values.iter().map(|v| value(v, path, number)).collect::<Result<Vec<f32>, _>>()?;
            vectors.insert(word.to_string(), vector);
        }
        if dim == 0 {
            return Err(DataError::file(path, "no vectors in the file"));
        }
        Ok(Self { dim, vectors })
    }

    /// The vector of `word`: exact match first, then lower-cased.
    pub fn get(&self, word: &str) -> Option<&Vec<f32>> {
        self.vectors.get(word).or_else(|| self.vectors.get(&word.to_lowercase()))
    }

    /// The matrix for `vocab`.
    pub fn for_vocab(&self, vocab: &Vocab) -> PretrainedEmbeddings {
        let dim = self.dim;
        let mut matrix = vec![0.0; vocab.len() * dim];
        let mut found = vec![false; vocab.len()];
        let (mut exact, mut lowercased) = (0, 0);
        for (id, token) in vocab.tokens.iter().enumerate().skip(2) {
            let vector = if let Some(v) = self.vectors.get(token.as_str()) {
                exact += 1;
                v
            } else if let Some(v) = self.vectors.get(token.to_lowercase().as_str()) {
                lowercased += 1;
                v
            } else {
                continue;
            };
            matrix[id * dim..(id + 1) * dim].copy_from_slice(vector);
            found[id] = true;
        }
        PretrainedEmbeddings { matrix, dim, found, exact, lowercased }
    }
}

/// The largest magnitude a vector value may have: real embeddings stay within tens, and larger
/// values overflow the statistics the initialisation takes over them.
const MAX_VALUE: f32 = 1e6;

/// A row's word and values when the row has `dim` values at its end: the word is everything
/// before them (GloVe 840B has `. . .`; fastText words may hold U+00A0). `None` when the row
/// has too few fields, or the field before the values is a number too (a row one value wider).
fn row<'a, 'f>(line: &'a str, fields: &'f [&'a str], dim: usize) -> Option<(&'a str, &'f [&'a str])> {
    let split = fields.len().checked_sub(dim).filter(|&s| s >= 1)?;
    if split > 1 && fields[split - 1].parse::<f32>().is_ok() {
        return None;
    }
    let offset = |f: &str| f.as_ptr() as usize - line.as_ptr() as usize;
    let word = line[offset(fields[0])..offset(fields[split])].trim_end();
    Some((word, &fields[split..]))
}

/// A vector value, finite and within [`MAX_VALUE`]; else an error at `path:line`.
fn value(text: &str, path: &Path, line: usize) -> Result<f32, DataError> {
    let v: f32 = text.parse().map_err(|_| DataError::line(path, line, format!("not a number: {text:?}")))?;
    if !v.is_finite() || v.abs() > MAX_VALUE {
        return Err(DataError::line(
            path,
            line,
            format!("value {text} is not a usable vector value (finite, at most {MAX_VALUE:e} in magnitude)"),
        ));
    }
    Ok(v)
}

/// The share of a split's words that have a pretrained vector through the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    /// Distinct tokens (as the vocabulary keys them) with a vector / distinct tokens.
    pub types: f64,
    /// Running tokens with a vector / running tokens.
    pub tokens: f64,
}

impl PretrainedEmbeddings {
    /// How much of a split the vectors cover, looked up through `vocab`.
    pub fn split_coverage(&self, vocab: &Vocab, counts: &TokenCounts) -> Coverage {
        let (mut covered, mut total) = (0usize, 0usize);
        let mut types: HashMap<usize, bool> = HashMap::new();
        let mut unknown_types: HashSet<String> = HashSet::new();
        for (token, n) in counts.iter() {
            total += n;
            match vocab.get(token) {
                Some(id) => {
                    covered += n * usize::from(self.found[id]);
                    types.insert(id, self.found[id]);
                }
                None => {
                    unknown_types.insert(if vocab.lowercase { token.to_lowercase() } else { token.to_string() });
                }
            }
        }
        let distinct = types.len() + unknown_types.len();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        Coverage { types: ratio(types.values().filter(|&&f| f).count(), distinct), tokens: ratio(covered, total) }
    }
}

/// Whether `path` starts like a binary word2vec file: a `COUNT DIM` line, then bytes that are not
/// text (a NUL or invalid UTF-8 in the first 4 KiB).
fn binary_word2vec(path: &Path) -> bool {
    let mut head = vec![0u8; 4096];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)) else {
        return false;
    };
    head.truncate(n);
    let Some(end) = head.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let header = String::from_utf8_lossy(&head[..end]);
    let fields: Vec<&str> = header.split_whitespace().collect();
    let counts = fields.len() == 2 && fields.iter().all(|f| f.parse::<usize>().is_ok());
    let rest = &head[end + 1..];
    // A cut in the middle of a character at the end of the sample is not evidence.
    let text = match std::str::from_utf8(rest) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    counts && (rest.contains(&0) || !text)
}

/// Loads the vectors of the words of `vocab` from a GloVe/word2vec text file (see
/// [`WordVectors::read`]).
pub fn load_embeddings(
    path: impl AsRef<Path>,
    vocab: &Vocab,
    encoding: Encoding,
) -> Result<PretrainedEmbeddings, DataError> {
    let wanted: HashSet<String> = vocab.tokens.iter().flat_map(|t| [t.clone(), t.to_lowercase()]).collect();
    Ok(WordVectors::read(path, &wanted, encoding)?.for_vocab(vocab))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::VocabConfig;

    #[test]
    fn loads_vectors_reports_coverage_and_bad_rows() {
        let dir = std::env::temp_dir().join(format!("seqlab-emb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("vectors.txt");
        std::fs::write(&file, "3 2\nthe 0.1 0.2\nparis 1 2\nzebra 5 5\n").unwrap();
        let vocab = Vocab::build(["the", "Paris", "unseen"], &VocabConfig::default());
        let e = load_embeddings(&file, &vocab, Encoding::Utf8).unwrap();
        assert_eq!((e.dim, e.exact, e.lowercased), (2, 1, 1));
        assert!((e.coverage() - 2.0 / 3.0).abs() < 1e-9);
        let paris = vocab.id("Paris");
        assert_eq!(&e.matrix[paris * 2..paris * 2 + 2], &[1.0, 2.0]);
        // The same vectors gzipped read the same; a missing file names its path.
        let gz = dir.join("vectors.txt.gz");
        let mut encoder =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, b"3 2\nthe 0.1 0.2\nparis 1 2\nzebra 5 5\n").unwrap();
        encoder.finish().unwrap();
        let z = load_embeddings(&gz, &vocab, Encoding::Utf8).unwrap();
        // A binary word2vec file is named as such, not as text in a legacy encoding.
        let bin = dir.join("vectors.bin");
        let mut bytes = b"2 2\nthe ".to_vec();
        bytes.extend([0.5f32, -1.0].iter().flat_map(|v| v.to_le_bytes()));
        bytes.extend(b"\nparis ");
        bytes.extend([0.25f32, 3.0].iter().flat_map(|v| v.to_le_bytes()));
        std::fs::write(&bin, bytes).unwrap();
        let err = load_embeddings(&bin, &vocab, Encoding::Utf8).unwrap_err().to_string();
        assert!(err.contains("a binary word2vec file") && err.contains("binary=False"), "{err}");
        assert_eq!((z.matrix, z.found), (e.matrix.clone(), e.found.clone()));
        let missing = load_embeddings(dir.join("nope.txt"), &vocab, Encoding::Utf8).unwrap_err().to_string();
        assert!(missing.contains("nope.txt"), "{missing}");
        // Coverage of a split through the vocabulary: "the" and "Paris" have vectors.
        let c = e.split_coverage(&vocab, &TokenCounts::of(["the", "the", "Paris", "unseen", "never"]));
        assert!((c.tokens - 3.0 / 5.0).abs() < 1e-12 && (c.types - 2.0 / 4.0).abs() < 1e-12, "{c:?}");
        std::fs::write(&file, "the 0.1 0.2\nparis 1\n").unwrap();
        let err = load_embeddings(&file, &vocab, Encoding::Utf8).unwrap_err().to_string();
        assert!(err.contains("vectors.txt:2:") && err.contains("1 values where the first vector has 2"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

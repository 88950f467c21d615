//! Pretrained word vectors in GloVe / word2vec text format (`word v1 v2 … vD` per line; a
//! word2vec `COUNT DIM` header line is recognised and skipped).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{read_text, Encoding, Vocab};
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
        if words == 0 { 0.0 } else { (self.exact + self.lowercased) as f64 / words as f64 }
    }
}

/// Loads the vectors of the words of `vocab` from a GloVe/word2vec text file.
///
/// Errors name the file and line: a row with a different width from the first row, or a value
/// that is not a number.
pub fn load_embeddings(path: impl AsRef<Path>, vocab: &Vocab, encoding: Encoding) -> Result<PretrainedEmbeddings, DataError> {
    let path = path.as_ref();
    let text = read_text(path, encoding)?;
    // Keep only the rows of vocabulary words, as written or lower-cased.
    let wanted: HashSet<String> = vocab.tokens.iter().flat_map(|t| [t.clone(), t.to_lowercase()]).collect();
    let mut vectors: HashMap<&str, Vec<f32>> = HashMap::new();
    let mut dim = 0;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let mut fields = line.split_whitespace();
        let Some(word) = fields.next() else { continue };
        let values: Vec<&str> = fields.collect();
        if index == 0 && values.len() == 1 && word.parse::<usize>().is_ok() && values[0].parse::<usize>().is_ok() {
            continue; // word2vec header: COUNT DIM
        }
        if dim == 0 {
            dim = values.len();
            if dim == 0 {
                return Err(DataError::line(path, number, format!("a word without a vector: {}", excerpt(line))));
            }
        } else if values.len() != dim {
            return Err(DataError::line(path, number, format!("{} values where the first vector has {dim}: {}", values.len(), excerpt(line))));
        }
        if !wanted.contains(word) || vectors.contains_key(word) {
            continue;
        }
        let vector = values
            .iter()
            .map(|v| v.parse::<f32>().map_err(|_| DataError::line(path, number, format!("not a number: {v:?}"))))
            .collect::<Result<Vec<f32>, _>>()?;
        vectors.insert(word, vector);
    }
    if dim == 0 {
        return Err(DataError::file(path, "no vectors in the file"));
    }
    let mut matrix = vec![0.0; vocab.len() * dim];
    let mut found = vec![false; vocab.len()];
    let (mut exact, mut lowercased) = (0, 0);
    for (id, token) in vocab.tokens.iter().enumerate().skip(2) {
        let vector = if let Some(v) = vectors.get(token.as_str()) {
            exact += 1;
            v
        } else if let Some(v) = vectors.get(token.to_lowercase().as_str()) {
            lowercased += 1;
            v
        } else {
            continue;
        };
        matrix[id * dim..(id + 1) * dim].copy_from_slice(vector);
        found[id] = true;
    }
    Ok(PretrainedEmbeddings { matrix, dim, found, exact, lowercased })
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
        std::fs::write(&file, "the 0.1 0.2\nparis 1\n").unwrap();
        let err = load_embeddings(&file, &vocab, Encoding::Utf8).unwrap_err().to_string();
        assert!(err.contains("vectors.txt:2:") && err.contains("1 values where the first vector has 2"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

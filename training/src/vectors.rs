//! Pretrained word vectors (GloVe, word2vec text) in a training run, for both tasks: the
//! vocabulary grows by the words of the given splits that the vectors file has, the embedding
//! matrix starts from the vectors, and the coverage is reported and saved
//! (`embeddings.json`). The weights then live in `model.mpk` like any other, so `evaluate` and
//! `predict` never need the vectors file.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use burn::module::Param;
use burn::nn::Embedding;
use burn::tensor::{backend::Backend, Tensor, TensorCreationOptions, TensorData};
use seqlab_datasets::text::{Coverage, Encoding, PretrainedEmbeddings, TokenCounts, Vocab, WordVectors};

use crate::durable::write;
use crate::error::RunError;

/// What `embeddings.json` records about the vectors a model started from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VectorsReport {
    /// The vectors file.
    pub file: String,
    /// Vector width (the model's word embedding width).
    pub dim: usize,
    /// Vocabulary size, `<pad>` and `<unk>` included.
    pub vocabulary: usize,
    /// Vocabulary entries that got a vector, by exact match.
    pub exact: usize,
    /// … and only after lower-casing.
    pub lowercased: usize,
    /// Words added to the training vocabulary because a split has them and the file has a
    /// vector for them.
    pub added: usize,
    /// Whether the embeddings were kept fixed in training.
    pub frozen: bool,
    /// Coverage of each split's types and tokens, by split name.
    pub coverage: BTreeMap<String, Coverage>,
}

/// The vocabulary extended by the words of `splits` that `path` has vectors for, the matrix
/// for it, and the report. `splits`: each split's name and token counts. Prints the coverage,
/// and a warning when under 10 % of the vocabulary has a vector.
pub fn load_vectors(
    path: &Path,
    vocab: &Vocab,
    splits: &[(&str, &TokenCounts)],
    frozen: bool,
) -> Result<(Vocab, PretrainedEmbeddings, VectorsReport), RunError> {
    if !path.exists() {
        return Err(RunError::Missing { path: path.into(), message: "no such file (--embeddings)".into() });
    }
    let key = |w: &str| if vocab.lowercase { w.to_lowercase() } else { w.to_string() };
    let mut wanted: HashSet<String> = HashSet::new();
    for word in vocab.tokens.iter().map(String::as_str).chain(splits.iter().flat_map(|(_, counts)| counts.tokens())) {
        wanted.insert(key(word));
        wanted.insert(word.to_lowercase());
    }
    let vectors = WordVectors::read(path, &wanted, Encoding::Utf8)?;
    // Split words in order of first appearance, train first, so the vocabulary is the same for
    // the same data.
    let candidates: Vec<&str> = splits
        .iter()
        .flat_map(|(_, counts)| counts.tokens())
        .filter(|w| vocab.get(w).is_none() && vectors.get(&key(w)).is_some())
        .collect();
    let extended = vocab.extended(candidates);
    let matrix = vectors.for_vocab(&extended);
    let coverage: BTreeMap<String, Coverage> =
        splits.iter().map(|(name, counts)| (name.to_string(), matrix.split_coverage(&extended, counts))).collect();
    let report = VectorsReport {
        file: path.display().to_string(),
        dim: vectors.dim,
        vocabulary: extended.len(),
        exact: matrix.exact,
        lowercased: matrix.lowercased,
        added: extended.len() - vocab.len(),
        frozen,
        coverage,
    };
    crate::say!(
        "vectors: {} ({}d): {} of {} vocabulary entries ({:.1} %; {} exact, {} lower-cased), {} words added from the splits",
        report.file,
        report.dim,
        report.exact + report.lowercased,
        report.vocabulary - 2,
        100.0 * matrix.coverage(),
        report.exact,
        report.lowercased,
        report.added
    );
    for (name, c) in &report.coverage {
        crate::say!("vectors: {name}: {:.1} % of word types, {:.1} % of tokens", 100.0 * c.types, 100.0 * c.tokens);
    }
    if matrix.coverage() < 0.1 {
        crate::note!(
            "warning: {} covers only {:.1} % of the vocabulary (wrong file, or a language or casing mismatch?)",
            report.file,
            100.0 * matrix.coverage()
        );
    }
    Ok((extended, matrix, report))
}

/// A run's vocabulary, pretrained matrix and word-embedding width. Without `embeddings`:
/// `vocab`, no matrix and `embedding_dim`. With it: the vocabulary grown by the vectors (see
/// [`load_vectors`]), the matrix, and the file's width, which `embedding_dim` must equal
/// unless it is 0 (not given); `embeddings.json` is written into `artifacts`.
pub fn vocabulary_with_vectors(
    embeddings: Option<&Path>,
    vocab: Vocab,
    splits: &[(&str, &TokenCounts)],
    embedding_dim: usize,
    frozen: bool,
    artifacts: &Path,
) -> Result<(Vocab, Option<PretrainedEmbeddings>, usize), RunError> {
    let Some(path) = embeddings else {
        if embedding_dim == 0 {
            return Err(RunError::invalid("embedding-dim", "must be at least 1"));
        }
        return Ok((vocab, None, embedding_dim));
    };
    let (vocab, matrix, report) = load_vectors(path, &vocab, splits, frozen)?;
    if embedding_dim != 0 && embedding_dim != report.dim {
        return Err(RunError::mismatch(
            path,
            format!(
                "--embedding-dim {embedding_dim} conflicts with the file's {}-dimensional vectors; leave \
                 --embedding-dim out with --embeddings",
                report.dim
            ),
        ));
    }
    std::fs::create_dir_all(artifacts).map_err(|e| RunError::io(artifacts, &e))?;
    write(&artifacts.join(crate::artifacts::Artifacts::EMBEDDINGS), serde_json::to_string_pretty(&report).unwrap())?;
    Ok((vocab, Some(matrix), report.dim))
}

/// `embedding` with the pretrained rows put in (as it is without `pretrained`). Rows without a
/// vector keep their random initialisation, rescaled to the standard deviation of the
/// pretrained values (Burn draws them from `N(0, 1)`, several times larger than GloVe's);
/// `<pad>` is zero. With `frozen` the matrix takes no gradient.
pub fn with_pretrained<B: Backend>(
    embedding: Embedding<B>,
    pretrained: Option<&PretrainedEmbeddings>,
    frozen: bool,
) -> Embedding<B> {
    let Some(pretrained) = pretrained else {
        return embedding;
    };
    let weight = embedding.weight.val();
    let [rows, dim] = weight.dims();
    assert_eq!(
        (rows, dim),
        (pretrained.found.len(), pretrained.dim),
        "the embedding matches the vocabulary and the vectors"
    );
    let (device, dtype) = (weight.device(), weight.dtype());
    let mut values: Vec<f32> = weight.into_data().convert::<f32>().to_vec().expect("float weights");
    let found: Vec<f32> = (0..rows)
        .filter(|&r| pretrained.found[r])
        .flat_map(|r| pretrained.matrix[r * dim..(r + 1) * dim].iter().copied())
        .collect();
    let std = if found.is_empty() {
        1.0
    } else {
        let mean = found.iter().sum::<f32>() / found.len() as f32;
        (found.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / found.len() as f32).sqrt()
    };
    for r in 0..rows {
        let row = &mut values[r * dim..(r + 1) * dim];
        if pretrained.found[r] {
            row.copy_from_slice(&pretrained.matrix[r * dim..(r + 1) * dim]);
        } else if r == seqlab_datasets::text::PAD {
            row.fill(0.0);
        } else {
            row.iter_mut().for_each(|v| *v *= std);
        }
    }
    let weight = Tensor::<B, 2>::from_data(
        TensorData::new(values, [rows, dim]),
        TensorCreationOptions::new(device).with_dtype(dtype),
    );
    Embedding { weight: Param::from_tensor(weight).set_require_grad(!frozen) }
}

//! What a classifier run is told and what it reports: [`ClassifierRunConfig`] (`run.json`),
//! how it reads files and text, its range checks, and [`ClassifierReport`] (`metrics.json`).

use std::path::PathBuf;

use seqlab_datasets::text::{Encoding, Normalisation, Tokenizer};
use seqlab_datasets::{Format, ReadOptions, Validation};
use seqlab_models::heads::EncoderConfig;
use seqlab_models::Pooling;

use crate::classification_scores::ClassificationScores;
use crate::error::RunError;
use crate::learner::{TrainingConfig, TrainingSummary};

/// Everything a classifier training run needs; serialised to `run.json` in the artifacts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassifierRunConfig {
    /// Training data: a file, a folder (imdb) or `embedded:sentiment/train`.
    pub train: String,
    /// Validation data: a file of its own, or a share of the training file held out.
    pub valid: Validation,
    /// Test data, evaluated once at the end.
    pub test: Option<String>,
    /// Format of the files (`None`: inferred).
    pub format: Option<Format>,
    /// How the files' bytes are decoded (older runs: UTF-8).
    #[serde(default)]
    pub encoding: Encoding,
    /// CSV/TSV: the text column (name or 0-based index); JSON Lines: the text field.
    #[serde(default)]
    pub text_column: Option<String>,
    /// CSV/TSV: the label column; JSON Lines: the label field.
    #[serde(default)]
    pub label_column: Option<String>,
    /// Encoder (kind, hidden, layers, directions, dropout between layers).
    pub encoder: EncoderConfig,
    /// Embedding width.
    pub embedding_dim: usize,
    /// How outputs become one vector per sequence.
    pub pooling: Pooling,
    /// Hidden layer sizes of the output FFN (empty: linear).
    pub ffn_hidden: Vec<usize>,
    /// Dropout on embeddings and the pooled vector.
    pub dropout: f64,
    /// Tokens seen fewer times in training become `<unk>`.
    pub min_freq: usize,
    /// The learner: epochs, batch size, optimiser and schedule, selection, patience, seed.
    pub training: TrainingConfig,
    /// Where the model, vocabulary, labels and metrics go.
    pub artifacts: PathBuf,
    /// How texts are tokenised, in training and for raw input (`None` before training:
    /// detected from the training data; older runs: the training format's tokenizer).
    #[serde(default)]
    pub tokenizer: Option<Tokenizer>,
    /// Whether tokens are lower-cased, in training and for raw input (`None` before training:
    /// detected; older runs: no).
    #[serde(default)]
    pub lowercase: Option<bool>,
    /// Pretrained word vectors (GloVe/word2vec text, plain or `.gz`).
    #[serde(default)]
    pub embeddings: Option<PathBuf>,
    /// Keep the pretrained vectors fixed.
    #[serde(default)]
    pub freeze_embeddings: bool,
}

crate::pipeline::task_run!(ClassifierRunConfig, seqlab_datasets::Task::Classification);

impl ClassifierRunConfig {
    /// How the data files are read.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            encoding: self.encoding,
            text_column: self.text_column.clone(),
            label_column: self.label_column.clone(),
            ..Default::default()
        }
    }

    /// How a trained model reads text (see [`ClassifierRunConfig::tokenizer`]).
    pub fn normalisation(&self) -> Normalisation {
        Normalisation {
            tokenizer: self.tokenizer.unwrap_or(Tokenizer::Basic),
            lowercase: self.lowercase.unwrap_or(false),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassifierReport {
    /// Scores on the validation split, with the final model.
    pub valid: ClassificationScores,
    /// Scores on the test split, if one was given.
    pub test: Option<ClassificationScores>,
    /// Epochs, best epoch, early stop, wall time.
    #[serde(flatten)]
    pub training: TrainingSummary,
}

/// Every option of a classifier run in its range (see [`crate::validate`]).
pub(super) fn check_options(c: &ClassifierRunConfig) -> Result<(), RunError> {
    use crate::validate::{at_least, embedding_dim, encoder, fraction, training};
    training(&c.training)?;
    encoder(&c.encoder)?;
    embedding_dim(c.embedding_dim, c.embeddings.is_some())?;
    fraction("dropout", c.dropout, 0.0, 1.0, false)?;
    at_least("min-freq", c.min_freq, 1)?;
    for &width in &c.ffn_hidden {
        at_least("ffn-hidden", width, 1)?;
    }
    Ok(())
}

//! What a tagger run is told and what it reports: [`TaggerRunConfig`] (`run.json`), its
//! choices ([`TaggerOutput`], [`CharEncoder`]) and range checks, and [`TaggerScores`] /
//! [`TaggerReport`] (`metrics.json`).

use std::path::PathBuf;

use seqlab_datasets::ner::TagScheme;
use seqlab_datasets::text::{Encoding, Tokenizer};
use seqlab_datasets::{ReadOptions, Validation};
use seqlab_models::heads::EncoderConfig;

use crate::error::RunError;
use crate::learner::{TrainingConfig, TrainingSummary};

/// Everything a tagger training run needs; serialised to `run.json` in the artifacts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaggerRunConfig {
    /// Training data: a CoNLL file or `embedded:ner/train`.
    pub train: String,
    /// Validation data: a file of its own, or a share of the training file held out.
    pub valid: Validation,
    /// Test data, evaluated once at the end.
    pub test: Option<String>,
    /// 0-based tag column (`None`: the last).
    pub tag_column: Option<usize>,
    /// How the files' bytes are decoded (older runs: UTF-8).
    #[serde(default)]
    pub encoding: Encoding,
    /// Tagged records (JSON Lines, Parquet) whose tags are ids: the tag names in id order.
    #[serde(default)]
    pub tag_names: Option<Vec<String>>,
    /// Tagged records: the field holding the tokens (`None`: `tokens`).
    #[serde(default)]
    pub tokens_column: Option<String>,
    /// Tagged records: the field holding the tags (`None`: `ner_tags`).
    #[serde(default)]
    pub tags_column: Option<String>,
    /// The files' tag scheme (`None`: detected from the training file).
    pub file_scheme: Option<TagScheme>,
    /// The scheme the model learns (tags are converted through their spans).
    pub train_scheme: TagScheme,
    /// Encoder.
    pub encoder: EncoderConfig,
    /// Word embedding width.
    pub embedding_dim: usize,
    /// Width of the casing-feature embedding; 0 turns the feature off.
    pub casing_dim: usize,
    /// Character CNN filters (the width of each word's character vector); 0: no character
    /// features.
    #[serde(default)]
    pub char_filters: usize,
    /// Which encoder reads each word's characters (older runs: the CNN when `char_filters > 0`).
    #[serde(default = "CharEncoder::of_older_runs")]
    pub char_encoder: CharEncoder,
    /// The character BiLSTM's hidden size per direction.
    #[serde(default = "default_char_hidden")]
    pub char_hidden: usize,
    /// The output layer (older runs: softmax).
    #[serde(default = "TaggerOutput::of_older_runs")]
    pub output: TaggerOutput,
    /// Pretrained word vectors (GloVe/word2vec text, plain or `.gz`).
    #[serde(default)]
    pub embeddings: Option<PathBuf>,
    /// Keep the pretrained vectors fixed.
    #[serde(default)]
    pub freeze_embeddings: bool,
    /// How `predict` splits raw sentences into tokens (`None`: on whitespace, as older runs).
    #[serde(default)]
    pub tokenizer: Option<Tokenizer>,
    /// Lower-case words for the vocabulary (the casing feature keeps the shape).
    pub lowercase: bool,
    /// Words seen fewer times in training become `<unk>`.
    pub min_freq: usize,
    /// Dropout on embeddings and encoder outputs.
    pub dropout: f64,
    /// Word dropout on words seen once in training (see [`Tagger::word_dropout`](super::model::Tagger::word_dropout)).
    #[serde(default)]
    pub word_dropout: f64,
    /// Word dropout also drops rare words that have a pretrained vector (older runs did).
    #[serde(default = "dropped")]
    pub drop_vector_words: bool,
    /// What the training loss is a mean over (older runs: tokens).
    #[serde(default = "LossMean::of_older_runs")]
    pub loss_mean: LossMean,
    /// The learner: epochs, batch size, optimiser and schedule, selection, patience, seed.
    pub training: TrainingConfig,
    /// Artifacts folder.
    pub artifacts: PathBuf,
}

crate::pipeline::task_run!(TaggerRunConfig, seqlab_datasets::Task::Tagging);

impl TaggerRunConfig {
    /// How the data files are read (CoNLL, or tagged records by their extension).
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            encoding: self.encoding,
            tag_column: self.tag_column,
            tag_names: self.tag_names.clone(),
            text_column: self.tokens_column.clone(),
            label_column: self.tags_column.clone(),
            ..Default::default()
        }
    }
}

/// The tagger's output layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum TaggerOutput {
    /// An independent softmax per token.
    Softmax,
    /// A linear-chain CRF whose transitions are restricted to the training scheme's.
    Crf,
}

/// What a tagger's training loss (the summed cross-entropy, or the CRF's negative
/// log-likelihood) is divided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum LossMean {
    /// The batch's real tokens: each batch weighs the same whatever its sentences' lengths.
    Token,
    /// The batch's sentences (PyTorch-CRF's `reduction="mean"`): each token weighs the same
    /// whichever batch it is in.
    Sentence,
}

/// The encoder of each word's characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum CharEncoder {
    /// No character features.
    None,
    /// A character CNN (Ma & Hovy, 2016), `char_filters` wide.
    Cnn,
    /// A character BiLSTM (Lample et al., 2016), `2·char_hidden` wide.
    #[strum(to_string = "lstm", serialize = "bilstm")]
    Lstm,
}

impl TaggerOutput {
    /// What a `run.json` written before the choice existed means: softmax (the command line's
    /// default is `crf`).
    pub fn of_older_runs() -> Self {
        Self::Softmax
    }
}

impl LossMean {
    /// What a `run.json` written before the choice existed means: tokens (the command line's
    /// default is `sentence`).
    pub fn of_older_runs() -> Self {
        Self::Token
    }
}

impl CharEncoder {
    /// What a `run.json` written before the choice existed means: the CNN (used when its
    /// `char_filters > 0`).
    pub fn of_older_runs() -> Self {
        Self::Cnn
    }
}

fn dropped() -> bool {
    true
}

fn default_char_hidden() -> usize {
    25
}

/// Entity scores (default mode and strict) and token accuracy of one split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaggerScores {
    /// Micro precision (default, conlleval mode).
    pub precision: f64,
    /// Micro recall.
    pub recall: f64,
    /// Micro F1.
    pub f1: f64,
    /// Per entity type.
    pub per_type: std::collections::BTreeMap<String, crate::entity_scores::Prf>,
    /// Micro F1 in strict mode under the file's scheme.
    pub strict_f1: f64,
    /// Fraction of tokens whose tag in the training scheme is right (the epoch line's and
    /// `log.csv`'s validation accuracy).
    pub token_accuracy: f64,
}

/// What a tagger run produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaggerReport {
    /// The files' scheme (reports are in it).
    pub file_scheme: TagScheme,
    /// Validation scores with the final model.
    pub valid: TaggerScores,
    /// Test scores, if a test file was given.
    pub test: Option<TaggerScores>,
    /// Epochs, best epoch, early stop, wall time.
    #[serde(flatten)]
    pub training: TrainingSummary,
}

/// Every option of a tagger run in its range (see [`crate::validate`]).
pub(super) fn check_options(t: &TaggerRunConfig) -> Result<(), RunError> {
    use crate::validate::{at_least, embedding_dim, encoder, fraction, training};
    training(&t.training)?;
    encoder(&t.encoder)?;
    embedding_dim(t.embedding_dim, t.embeddings.is_some())?;
    fraction("dropout", t.dropout, 0.0, 1.0, false)?;
    fraction("word-dropout", t.word_dropout, 0.0, 1.0, true)?;
    at_least("min-freq", t.min_freq, 1)?;
    if t.char_encoder == CharEncoder::Lstm {
        at_least("char-hidden", t.char_hidden, 1)?;
    }
    Ok(())
}

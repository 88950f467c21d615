//! The command line of `train-classifier`.

use super::training::{encoder, rank_folder, validation, CommandDefaults, TrainingArgs, VectorsArgs};
use crate::cli::{by_name, TrainerArgs};
use clap::{ArgAction, Parser};
use seqlab_datasets::embedded::Split;
use seqlab_datasets::text::{Encoding, Tokenizer};
use seqlab_datasets::Format;
use seqlab_datasets::{Embedded, Source, Task};
use seqlab_models::heads::EncoderKind;
use seqlab_models::Pooling;
use seqlab_training::classifier::ClassifierRunConfig;
use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::ScheduleKind;
use std::path::{Path, PathBuf};

/// Train a sequence classifier. With no data options it trains on the embedded synthetic
/// sentiment corpus (embedded:sentiment/{train,valid,test}).
#[derive(Parser, Debug)]
#[command(name = "train-classifier", version)]
pub struct Args {
    /// Training data: a file, an IMDB-style folder, or embedded:sentiment/train.
    #[arg(long, default_value = "embedded:sentiment/train")]
    pub train: String,
    /// Validation data, which selects the kept epoch [default: embedded:sentiment/valid when
    /// --train is the embedded corpus; else give this or --valid-fraction].
    #[arg(long, value_name = "FILE")]
    pub valid: Option<String>,
    /// Validate on a seeded share of the training file instead of a file of its own: each of
    /// its texts is held out with this probability (by its content and --seed, so the same
    /// ones on every run and on --resume) and is not trained on.
    #[arg(long, value_name = "F", conflicts_with = "valid")]
    pub valid_fraction: Option<f64>,
    /// Test data, scored once after training [default: embedded:sentiment/test when --train is
    /// the embedded corpus, else none].
    #[arg(long)]
    pub test: Option<String>,
    /// File format [default: inferred from each file].
    #[arg(long, value_parser = by_name::<Format>("format"))]
    pub format: Option<Format>,
    /// How the files' bytes are decoded.
    #[arg(long, default_value = "utf8", value_parser = by_name::<Encoding>("encoding"))]
    pub encoding: Encoding,
    /// CSV/TSV: the text column, by header name or 0-based index; JSON Lines, Parquet: the text field
    /// [default: a column named sentence, text, review or content, else the first].
    #[arg(long)]
    pub text_column: Option<String>,
    /// CSV/TSV: the label column, by header name or 0-based index; JSON Lines, Parquet: the label field
    /// [default: a column named label, sentiment, class or polarity, else the last].
    #[arg(long)]
    pub label_column: Option<String>,
    /// Encoder: ffn is a bag of embeddings, the others a recurrent stack of that cell.
    #[arg(long, alias = "model", default_value = "gru", value_parser = by_name::<EncoderKind>("encoder"))]
    pub encoder: EncoderKind,
    /// Recurrent layers.
    #[arg(long, default_value_t = 1)]
    pub layers: usize,
    /// Bidirectional recurrent layers, final forward and backward states concatenated
    /// (`--bidirectional`, or `--bidirectional true|false`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub bidirectional: bool,
    /// Hidden size per direction.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// Embedding width [default: 64, or the width of the --embeddings vectors].
    #[arg(long)]
    pub embedding_dim: Option<usize>,
    #[command(flatten)]
    pub vectors: VectorsArgs,
    /// How texts become tokens, in training and in predict: whitespace, basic or ptb (Penn
    /// Treebank: punctuation and clitics split off) [default: detected from the training data;
    /// ptb for SST-2].
    #[arg(long, value_parser = by_name::<Tokenizer>("tokenizer"))]
    pub tokenizer: Option<Tokenizer>,
    /// Lower-case all tokens (true or false) [default: detected from the training data; true for
    /// SST-2].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub lowercase: Option<bool>,
    /// Dropout on embeddings, between layers and before the output layer.
    #[arg(long, default_value_t = 0.2)]
    pub dropout: f64,
    /// Hidden layer sizes of the output FFN, comma-separated (none: a linear output layer).
    #[arg(long, value_delimiter = ',')]
    pub ffn_hidden: Vec<usize>,
    /// Sequence representation: last (the final state), or the mean or max over real tokens.
    #[arg(long, default_value = "last", value_parser = by_name::<Pooling>("pooling"))]
    pub pooling: Pooling,
    /// Words seen fewer times in training become <unk>.
    #[arg(long, default_value_t = 1)]
    pub min_freq: usize,
    /// Artifacts folder: run.json, model.json, vocab.json, labels.json, model.mpk, metrics.json.
    #[arg(long, default_value = "artifacts/classifier")]
    pub artifacts: PathBuf,
    #[command(flatten)]
    pub training: TrainingArgs,
}

/// The classifier's recipe for the training options the two commands default differently: 8
/// epochs of cosine decay, Burn's Adam ε, no clipping (docs/results.md).
pub const RECIPE: CommandDefaults =
    CommandDefaults { epochs: 8, schedule: ScheduleKind::Cosine, adam_epsilon: 1e-5, clip_norm: None };

impl TrainerArgs for Args {
    type Config = ClassifierRunConfig;

    fn data_files(&mut self) -> (&mut String, Option<&mut String>, Option<&mut String>) {
        (&mut self.train, self.valid.as_mut(), self.test.as_mut())
    }

    fn learner(config: &ClassifierRunConfig) -> (&TrainingConfig, &Path) {
        (&config.training, &config.artifacts)
    }

    fn run_config(self) -> Result<ClassifierRunConfig, String> {
        let valid = validation(
            &self.train,
            self.valid,
            self.valid_fraction,
            self.training.seed,
            &Embedded { task: Task::Classification, split: Split::Valid }.name(),
        )?;
        let embedded = Source::is_embedded(&self.train);
        let training = self.training.to_config(&RECIPE)?;
        let artifacts = rank_folder(self.artifacts, training.cluster.as_ref());
        Ok(ClassifierRunConfig {
            test: self
                .test
                .or_else(|| embedded.then(|| Embedded { task: Task::Classification, split: Split::Test }.name())),
            train: self.train,
            valid,
            format: self.format,
            encoding: self.encoding,
            text_column: self.text_column,
            label_column: self.label_column,
            encoder: encoder(self.encoder, self.hidden, self.layers, self.bidirectional, self.dropout),
            embedding_dim: self.embedding_dim.unwrap_or(if self.vectors.embeddings.is_some() { 0 } else { 64 }),
            pooling: self.pooling,
            ffn_hidden: self.ffn_hidden,
            dropout: self.dropout,
            min_freq: self.min_freq,
            training,
            artifacts,
            tokenizer: self.tokenizer,
            lowercase: self.lowercase,
            embeddings: self.vectors.embeddings,
            freeze_embeddings: self.vectors.freeze_embeddings,
        })
    }
}

//! The command line of `train-tagger`.

use super::training::{encoder, rank_folder, tag_names, validation, CommandDefaults, TrainingArgs, VectorsArgs};
use crate::cli::{by_name, TrainerArgs};
use clap::{ArgAction, Parser};
use seqlab_datasets::embedded::Split;
use seqlab_datasets::ner::TagScheme;
use seqlab_datasets::text::{Encoding, Tokenizer};
use seqlab_datasets::{Embedded, Source, Task};
use seqlab_models::heads::EncoderKind;
use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::ScheduleKind;
use seqlab_training::tagger::{CharEncoder, LossMean, TaggerOutput, TaggerRunConfig};
use std::path::{Path, PathBuf};

/// Train a token classifier for NER. With no data options it trains on the embedded synthetic
/// corpus (embedded:ner/{train,valid,test}).
#[derive(Parser, Debug)]
#[command(name = "train-tagger", version)]
pub struct Args {
    /// Training data: a CoNLL file, tagged records (.jsonl or .parquet with a list of tokens
    /// and a list of tags, e.g. from the Hugging Face hub), or embedded:ner/train.
    #[arg(long, default_value = "embedded:ner/train")]
    pub train: String,
    /// Validation data, which selects the kept epoch [default: embedded:ner/valid when
    /// --train is the embedded corpus; else give this or --valid-fraction].
    #[arg(long, value_name = "FILE")]
    pub valid: Option<String>,
    /// Validate on a seeded share of the training file instead of a file of its own: each of
    /// its sentences is held out with this probability (by its content and --seed, so the same
    /// ones on every run and on --resume) and is not trained on.
    #[arg(long, value_name = "F", conflicts_with = "valid")]
    pub valid_fraction: Option<f64>,
    /// Test data, scored once after training [default: embedded:ner/test when --train is the
    /// embedded corpus, else none].
    #[arg(long)]
    pub test: Option<String>,
    /// Not an option of train-tagger (it reads CoNLL, .jsonl and .parquet by their extension);
    /// kept so that it is refused with that reason rather than as an unknown argument.
    #[arg(long, hide = true)]
    pub format: Option<String>,
    /// 0-based column of the tag [default: the last].
    #[arg(long)]
    pub tag_column: Option<usize>,
    /// How the files' bytes are decoded.
    #[arg(long, default_value = "utf8", value_parser = by_name::<Encoding>("encoding"))]
    pub encoding: Encoding,
    /// Tagged records (.jsonl, .parquet) whose tags are ids: the tag names in id order,
    /// comma-separated (O,B-PER,I-PER,…), the dataset card's JSON list (["O","B-PER",…]), or
    /// a file of either (or of one name per line).
    #[arg(long, value_name = "NAMES|FILE")]
    pub tag_names: Option<String>,
    /// Tagged records (.jsonl, .parquet): the field (column) holding each sentence's tokens
    /// [default: tokens].
    #[arg(long, value_name = "NAME")]
    pub tokens_column: Option<String>,
    /// Tagged records: the field (column) holding each sentence's tags [default: ner_tags].
    #[arg(long, value_name = "NAME")]
    pub tags_column: Option<String>,
    /// The files' tag scheme [default: detected from the training file].
    #[arg(long, value_parser = by_name::<TagScheme>("scheme"))]
    pub file_scheme: Option<TagScheme>,
    /// The scheme the model learns; predictions are converted back to the file's scheme.
    #[arg(long, default_value = "iobes", value_parser = by_name::<TagScheme>("scheme"))]
    pub train_scheme: TagScheme,
    /// Encoder: a recurrent stack of that cell (ffn: no context, one token at a time).
    #[arg(long, alias = "model", default_value = "lstm", value_parser = by_name::<EncoderKind>("encoder"))]
    pub encoder: EncoderKind,
    /// Recurrent layers.
    #[arg(long, default_value_t = 1)]
    pub layers: usize,
    /// Bidirectional layers (`--bidirectional false` for one direction).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", default_value_t = true, action = ArgAction::Set)]
    pub bidirectional: bool,
    /// Hidden size per direction.
    #[arg(long, default_value_t = 200)]
    pub hidden: usize,
    /// Word embedding width [default: 100, or the width of the --embeddings vectors].
    #[arg(long)]
    pub embedding_dim: Option<usize>,
    #[command(flatten)]
    pub vectors: VectorsArgs,
    /// Output layer: crf (a linear-chain CRF, decoded with Viterbi; transitions restricted to
    /// the training scheme's) or softmax (each token on its own).
    #[arg(long, default_value = "crf", value_parser = by_name::<TaggerOutput>("output"))]
    pub output: TaggerOutput,
    /// Character features: cnn (Ma & Hovy), lstm (a BiLSTM, Lample et al.) or none.
    #[arg(long, default_value = "cnn", value_parser = by_name::<CharEncoder>("character encoder"))]
    pub char_encoder: CharEncoder,
    /// Character CNN filters: each word's characters become a vector of this width (0: no
    /// character features).
    #[arg(long, default_value_t = 50)]
    pub char_filters: usize,
    /// Character BiLSTM hidden size per direction (word vectors are twice as wide).
    #[arg(long, default_value_t = 25)]
    pub char_hidden: usize,
    /// How the trained model reads raw text (predict, serve): words (punctuation and clitics
    /// split off as CoNLL-2003's files are, `U.S.` kept whole), ptb, basic or whitespace (for
    /// text already split into tokens). Training files are read token by token either way.
    #[arg(long, default_value = "words", value_parser = by_name::<Tokenizer>("tokenizer"))]
    pub tokenizer: Tokenizer,
    /// Casing-feature embedding width (0: no casing feature).
    #[arg(long, default_value_t = 8)]
    pub casing_dim: usize,
    /// Lower-case words for the vocabulary (true or false); the casing feature keeps the shape.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", default_value_t = true, action = ArgAction::Set)]
    pub lowercase: bool,
    /// Words seen fewer times in training become <unk>.
    #[arg(long, default_value_t = 1)]
    pub min_freq: usize,
    /// Dropout on embeddings, between layers and on encoder outputs.
    #[arg(long, default_value_t = 0.5)]
    pub dropout: f64,
    /// Word dropout: in training, words seen once become <unk> with this probability, so the
    /// model learns to tag unknown words from context and casing (see --drop-vector-words).
    #[arg(long, default_value_t = 0.5)]
    pub word_dropout: f64,
    /// Word dropout also drops rare words that have a pretrained vector (--embeddings); by
    /// default they are kept, as Lample et al. keep them.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub drop_vector_words: bool,
    /// What the training loss is a mean over: token (every batch weighs the same) or sentence
    /// (every token weighs the same; PyTorch-CRF's reduction="mean").
    #[arg(long, default_value = "sentence", value_parser = by_name::<LossMean>("loss mean"))]
    pub loss_mean: LossMean,
    /// Artifacts folder: run.json, model.json, vocab.json, tags.json, model.mpk, metrics.json.
    #[arg(long, default_value = "artifacts/tagger")]
    pub artifacts: PathBuf,
    #[command(flatten)]
    pub training: TrainingArgs,
}

/// The tagger's recipe for the training options the two commands default differently: 15
/// epochs of cosine decay, PyTorch's Adam ε and a global gradient-norm clip of 5
/// (docs/results.md shows each one's effect).
pub const RECIPE: CommandDefaults =
    CommandDefaults { epochs: 15, schedule: ScheduleKind::Cosine, adam_epsilon: 1e-8, clip_norm: Some(5.0) };

impl TrainerArgs for Args {
    type Config = TaggerRunConfig;

    fn data_files(&mut self) -> (&mut String, Option<&mut String>, Option<&mut String>) {
        (&mut self.train, self.valid.as_mut(), self.test.as_mut())
    }

    fn learner(config: &TaggerRunConfig) -> (&TrainingConfig, &Path) {
        (&config.training, &config.artifacts)
    }

    fn run_config(self) -> Result<TaggerRunConfig, String> {
        if let Some(format) = &self.format {
            return Err(format!(
                "--format {format}: train-tagger reads CoNLL files, and tagged records by their extension \
                 (.jsonl, .parquet); --format is train-classifier's and predict's"
            ));
        }
        let valid = validation(
            &self.train,
            self.valid,
            self.valid_fraction,
            self.training.seed,
            &Embedded { task: Task::Tagging, split: Split::Valid }.name(),
        )?;
        let tag_names = tag_names(self.tag_names.as_deref()).map_err(|e| format!("--tag-names: {e}"))?;
        let embedded = Source::is_embedded(&self.train);
        let training = self.training.to_config(&RECIPE)?;
        let artifacts = rank_folder(self.artifacts, training.cluster.as_ref());
        Ok(TaggerRunConfig {
            test: self.test.or_else(|| embedded.then(|| Embedded { task: Task::Tagging, split: Split::Test }.name())),
            train: self.train,
            valid,
            tag_column: self.tag_column,
            tag_names,
            tokens_column: self.tokens_column,
            tags_column: self.tags_column,
            encoding: self.encoding,
            file_scheme: self.file_scheme,
            train_scheme: self.train_scheme,
            encoder: encoder(self.encoder, self.hidden, self.layers, self.bidirectional, self.dropout),
            embedding_dim: self.embedding_dim.unwrap_or(if self.vectors.embeddings.is_some() { 0 } else { 100 }),
            casing_dim: self.casing_dim,
            char_filters: self.char_filters,
            char_encoder: self.char_encoder,
            char_hidden: self.char_hidden,
            output: self.output,
            embeddings: self.vectors.embeddings,
            freeze_embeddings: self.vectors.freeze_embeddings,
            tokenizer: Some(self.tokenizer),
            lowercase: self.lowercase,
            min_freq: self.min_freq,
            dropout: self.dropout,
            word_dropout: self.word_dropout,
            loss_mean: self.loss_mean,
            drop_vector_words: self.drop_vector_words,
            training,
            artifacts,
        })
    }
}

//! `train-classifier`: trains a sequence classifier (bag of embeddings, RNN, LSTM or GRU) on a
//! sentiment corpus — by default the embedded synthetic one — and writes its artifacts.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use seqlab_bins::cli::{parse_encoding, parse_tokenizer, parse_with_config, print_summary, Parsed, TrainingArgs, VectorsArgs};
use seqlab_datasets::text::{Encoding, Tokenizer};
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_models::Pooling;
use seqlab_training::backend::{self, Autodiff};
use seqlab_training::optim::ScheduleKind;
use seqlab_training::classifier::{train_classifier, ClassifierRunConfig};

/// Train a sequence classifier. With no data options it trains on the embedded synthetic
/// sentiment corpus (embedded:sentiment/{train,valid,test}).
#[derive(Parser, Debug)]
#[command(name = "train-classifier", version)]
struct Args {
    /// Training data: a file, an IMDB-style folder, or embedded:sentiment/train.
    #[arg(long, default_value = "embedded:sentiment/train")]
    train: String,
    /// Validation data.
    #[arg(long, default_value = "embedded:sentiment/valid")]
    valid: String,
    /// Test data, scored once after training [default: embedded:sentiment/test when --train is
    /// the embedded corpus, else none].
    #[arg(long)]
    test: Option<String>,
    /// File format: glue, tsv, csv, jsonl or imdb [default: inferred from each file].
    #[arg(long)]
    format: Option<String>,
    /// How the files' bytes are decoded: utf8, latin1 or windows-1252.
    #[arg(long, default_value = "utf8", value_parser = parse_encoding)]
    encoding: Encoding,
    /// CSV/TSV: the text column, by header name or 0-based index; JSON Lines: the text field
    /// [default: a column named sentence, text, review or content, else the first].
    #[arg(long)]
    text_column: Option<String>,
    /// CSV/TSV: the label column, by header name or 0-based index; JSON Lines: the label field
    /// [default: a column named label, sentiment, class or polarity, else the last].
    #[arg(long)]
    label_column: Option<String>,
    /// Encoder: ffn (bag of embeddings), rnn, rnn-relu, lstm or gru.
    #[arg(long, default_value = "gru", value_parser = parse_model)]
    model: EncoderKind,
    /// Recurrent layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Bidirectional recurrent layers (final forward and backward states concatenated).
    #[arg(long)]
    bidirectional: bool,
    /// Hidden size per direction.
    #[arg(long, default_value_t = 128)]
    hidden: usize,
    /// Embedding width [default: 64, or the width of the --embeddings vectors].
    #[arg(long)]
    embedding_dim: Option<usize>,
    #[command(flatten)]
    vectors: VectorsArgs,
    /// How texts become tokens, in training and in predict: whitespace, basic or ptb (Penn
    /// Treebank: punctuation and clitics split off) [default: detected from the training data;
    /// ptb for SST-2].
    #[arg(long, value_parser = parse_tokenizer)]
    tokenizer: Option<Tokenizer>,
    /// Lower-case all tokens (true or false) [default: detected from the training data; true for
    /// SST-2].
    #[arg(long, action = ArgAction::Set)]
    lowercase: Option<bool>,
    /// Dropout on embeddings, between layers and before the output layer.
    #[arg(long, default_value_t = 0.2)]
    dropout: f64,
    /// Hidden layer sizes of the output FFN, comma-separated (none: a linear output layer).
    #[arg(long, value_delimiter = ',')]
    ffn_hidden: Vec<usize>,
    /// Sequence representation: last (final state), mean or max over real tokens.
    #[arg(long, default_value = "last", value_parser = parse_pooling)]
    pooling: Pooling,
    /// Words seen fewer times in training become <unk>.
    #[arg(long, default_value_t = 1)]
    min_freq: usize,
    /// Artifacts folder: run.json, model.json, vocab.json, labels.json, model.mpk, metrics.json.
    #[arg(long, default_value = "artifacts/classifier")]
    artifacts: PathBuf,
    #[command(flatten)]
    training: TrainingArgs,
}

fn parse_model(s: &str) -> Result<EncoderKind, String> {
    EncoderKind::from_name(s).ok_or_else(|| format!("unknown model {s:?}; expected ffn, rnn, rnn-relu, lstm or gru"))
}

fn parse_pooling(s: &str) -> Result<Pooling, String> {
    match s {
        "last" => Ok(Pooling::Last),
        "mean" => Ok(Pooling::Mean),
        "max" => Ok(Pooling::Max),
        _ => Err(format!("unknown pooling {s:?}; expected last, mean or max")),
    }
}

fn main() -> ExitCode {
    seqlab_bins::malloc::tune_for_tensors();
    let Parsed { args, origin } = parse_with_config::<Args>();
    let embedded = args.train.starts_with("embedded:");
    let config = ClassifierRunConfig {
        test: args.test.clone().or_else(|| embedded.then(|| "embedded:sentiment/test".to_string())),
        train: args.train,
        valid: args.valid,
        format: args.format,
        encoding: args.encoding,
        text_column: args.text_column,
        label_column: args.label_column,
        encoder: EncoderConfig::new()
            .with_kind(args.model)
            .with_hidden(args.hidden)
            .with_layers(args.layers)
            .with_bidirectional(args.bidirectional)
            .with_dropout(args.dropout),
        embedding_dim: args.embedding_dim.unwrap_or(if args.vectors.embeddings.is_some() { 0 } else { 64 }),
        pooling: args.pooling,
        ffn_hidden: args.ffn_hidden,
        dropout: args.dropout,
        min_freq: args.min_freq,
        training: args.training.to_config(5, ScheduleKind::Constant),
        artifacts: args.artifacts,
        tokenizer: args.tokenizer,
        lowercase: args.lowercase,
        embeddings: args.vectors.embeddings,
        freeze_embeddings: args.vectors.freeze_embeddings,
    };
    let device = backend::Device::default();
    println!("backend: {} ({device:?})", backend::name());
    match train_classifier::<Autodiff>(&config, &device) {
        Ok(report) => {
            let show = |name: &str, s: &seqlab_training::metrics::ClassificationScores| {
                println!("{name:<5} accuracy {:.4}  macro-F1 {:.4}  ({} examples)", s.accuracy, s.macro_f1, s.examples)
            };
            show("valid", &report.valid);
            if let Some(test) = &report.test {
                show("test", test);
            }
            print_summary(&report.training, &config.training, &config.artifacts);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", origin.explain(&e));
            ExitCode::FAILURE
        }
    }
}

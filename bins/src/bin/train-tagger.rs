//! `train-tagger`: trains a named-entity tagger (RNN, LSTM or GRU; by default a BiLSTM-CNN-CRF
//! with a casing feature) on CoNLL data — by default the embedded synthetic corpus — and writes its
//! artifacts, reporting entity-level precision, recall and F1.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use seqlab_bins::cli::{parse_encoding, parse_tokenizer, parse_with_config, print_summary, Parsed, TrainingArgs, VectorsArgs};
use seqlab_datasets::text::{Encoding, Tokenizer};
use seqlab_datasets::ner::TagScheme;
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_training::optim::ScheduleKind;
use seqlab_training::backend::{self, Autodiff};
use seqlab_training::tagger::{train_tagger, CharEncoder, TaggerOutput, TaggerRunConfig, TaggerScores};

/// Train a token classifier for NER. With no data options it trains on the embedded synthetic
/// corpus (embedded:ner/{train,valid,test}).
#[derive(Parser, Debug)]
#[command(name = "train-tagger", version)]
struct Args {
    /// Training data: a CoNLL file or embedded:ner/train.
    #[arg(long, default_value = "embedded:ner/train")]
    train: String,
    /// Validation data.
    #[arg(long, default_value = "embedded:ner/valid")]
    valid: String,
    /// Test data, scored once after training [default: embedded:ner/test when --train is the
    /// embedded corpus, else none].
    #[arg(long)]
    test: Option<String>,
    /// 0-based column of the tag [default: the last].
    #[arg(long)]
    tag_column: Option<usize>,
    /// How the files' bytes are decoded: utf8, latin1 or windows-1252.
    #[arg(long, default_value = "utf8", value_parser = parse_encoding)]
    encoding: Encoding,
    /// The files' tag scheme: iob1, iob2 or iobes [default: detected from the training file].
    #[arg(long, value_parser = parse_scheme)]
    file_scheme: Option<TagScheme>,
    /// The scheme the model learns; predictions are converted back to the file's scheme.
    #[arg(long, default_value = "iobes", value_parser = parse_scheme)]
    train_scheme: TagScheme,
    /// Encoder: rnn, rnn-relu, lstm or gru (ffn: no context, one token at a time).
    #[arg(long, default_value = "lstm", value_parser = parse_model)]
    model: EncoderKind,
    /// Recurrent layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Bidirectional layers (true or false).
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    bidirectional: bool,
    /// Hidden size per direction.
    #[arg(long, default_value_t = 200)]
    hidden: usize,
    /// Word embedding width [default: 100, or the width of the --embeddings vectors].
    #[arg(long)]
    embedding_dim: Option<usize>,
    #[command(flatten)]
    vectors: VectorsArgs,
    /// Output layer: crf (a linear-chain CRF, decoded with Viterbi; transitions restricted to
    /// the training scheme's) or softmax (each token on its own).
    #[arg(long, default_value = "crf", value_parser = parse_output)]
    output: TaggerOutput,
    /// Character features: cnn (Ma & Hovy), lstm (a BiLSTM, Lample et al.) or none.
    #[arg(long, default_value = "cnn", value_parser = parse_char_encoder)]
    char_encoder: CharEncoder,
    /// Character CNN filters: each word's characters become a vector of this width (0: no
    /// character features).
    #[arg(long, default_value_t = 50)]
    char_filters: usize,
    /// Character BiLSTM hidden size per direction (word vectors are twice as wide).
    #[arg(long, default_value_t = 25)]
    char_hidden: usize,
    /// How predict splits raw sentences into tokens: whitespace, basic or ptb.
    #[arg(long, default_value = "whitespace", value_parser = parse_tokenizer)]
    tokenizer: Tokenizer,
    /// Casing-feature embedding width (0: no casing feature).
    #[arg(long, default_value_t = 8)]
    casing_dim: usize,
    /// Lower-case words for the vocabulary (true or false); the casing feature keeps the shape.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    lowercase: bool,
    /// Words seen fewer times in training become <unk>.
    #[arg(long, default_value_t = 1)]
    min_freq: usize,
    /// Dropout on embeddings, between layers and on encoder outputs.
    #[arg(long, default_value_t = 0.5)]
    dropout: f64,
    /// Word dropout: in training, words seen once become <unk> with this probability, so the
    /// model learns to tag unknown words from context and casing.
    #[arg(long, default_value_t = 0.5)]
    word_dropout: f64,
    /// Artifacts folder: run.json, model.json, vocab.json, tags.json, model.mpk, metrics.json.
    #[arg(long, default_value = "artifacts/tagger")]
    artifacts: PathBuf,
    #[command(flatten)]
    training: TrainingArgs,
}

fn parse_scheme(s: &str) -> Result<TagScheme, String> {
    TagScheme::from_name(s).ok_or_else(|| format!("unknown scheme {s:?}; expected iob1, iob2 or iobes"))
}

fn parse_output(s: &str) -> Result<TaggerOutput, String> {
    TaggerOutput::from_name(s).ok_or_else(|| format!("unknown output {s:?}; expected crf or softmax"))
}

fn parse_char_encoder(s: &str) -> Result<CharEncoder, String> {
    CharEncoder::from_name(s).ok_or_else(|| format!("unknown character encoder {s:?}; expected cnn, lstm or none"))
}

fn parse_model(s: &str) -> Result<EncoderKind, String> {
    EncoderKind::from_name(s).ok_or_else(|| format!("unknown model {s:?}; expected rnn, rnn-relu, lstm, gru or ffn"))
}

fn show(name: &str, s: &TaggerScores) {
    println!(
        "{name:<5} entity P {:.4}  R {:.4}  F1 {:.4}  (strict F1 {:.4}, token accuracy {:.4})",
        s.precision, s.recall, s.f1, s.strict_f1, s.token_accuracy
    );
    for (kind, prf) in &s.per_type {
        println!("        {kind:<6} P {:.4}  R {:.4}  F1 {:.4}  support {}", prf.precision, prf.recall, prf.f1, prf.support);
    }
}

fn main() -> ExitCode {
    seqlab_bins::malloc::tune_for_tensors();
    let Parsed { args, origin } = parse_with_config::<Args>();
    let embedded = args.train.starts_with("embedded:");
    let config = TaggerRunConfig {
        test: args.test.clone().or_else(|| embedded.then(|| "embedded:ner/test".to_string())),
        train: args.train,
        valid: args.valid,
        tag_column: args.tag_column,
        encoding: args.encoding,
        file_scheme: args.file_scheme,
        train_scheme: args.train_scheme,
        encoder: EncoderConfig::new()
            .with_kind(args.model)
            .with_hidden(args.hidden)
            .with_layers(args.layers)
            .with_bidirectional(args.bidirectional)
            .with_dropout(args.dropout),
        embedding_dim: args.embedding_dim.unwrap_or(if args.vectors.embeddings.is_some() { 0 } else { 100 }),
        casing_dim: args.casing_dim,
        char_filters: args.char_filters,
        char_encoder: args.char_encoder,
        char_hidden: args.char_hidden,
        output: args.output,
        embeddings: args.vectors.embeddings,
        freeze_embeddings: args.vectors.freeze_embeddings,
        tokenizer: Some(args.tokenizer),
        lowercase: args.lowercase,
        min_freq: args.min_freq,
        dropout: args.dropout,
        word_dropout: args.word_dropout,
        training: args.training.to_config(15, ScheduleKind::Cosine),
        artifacts: args.artifacts,
    };
    let device = backend::Device::default();
    println!("backend: {} ({device:?})", backend::name());
    match train_tagger::<Autodiff>(&config, &device) {
        Ok(report) => {
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

//! `train-classifier`: trains a sequence classifier (bag of embeddings, RNN, LSTM or GRU) on a
//! sentiment corpus — by default the embedded synthetic one — and writes its artifacts.
#![recursion_limit = "256"]

use std::process::ExitCode;

use seqlab_bins::args::train_classifier::Args;
use seqlab_bins::cli::{parse_with_config, print_summary, Parsed};
use seqlab_models::heads::EncoderConfig;
use seqlab_training::backend;
use seqlab_training::optim::ScheduleKind;
use seqlab_training::classifier::ClassifierRunConfig;

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
    let device = backend::device(config.training.devices.first().copied());
    println!("backend: {} ({device:?})", backend::name());
    match backend::train_classifier(&config, &device) {
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

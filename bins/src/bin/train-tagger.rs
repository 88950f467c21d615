//! `train-tagger`: trains a named-entity tagger (RNN, LSTM or GRU; by default a BiLSTM-CNN-CRF
//! with a casing feature) on CoNLL data — by default the embedded synthetic corpus — and writes its
//! artifacts, reporting entity-level precision, recall and F1.
#![recursion_limit = "256"]

use std::process::ExitCode;

use seqlab_bins::args::train_tagger::{Args, RECIPE};
use seqlab_bins::cli::{encoder, run_training, tag_names, validation};
use seqlab_bins::config_file::{parse_with_config, Parsed};
use seqlab_training::backend;
use seqlab_training::tagger::{TaggerReport, TaggerRunConfig, TaggerScores};

fn show(name: &str, s: &TaggerScores) {
    println!(
        "{name:<5} entity P {:.4}  R {:.4}  F1 {:.4}  (strict F1 {:.4}, token accuracy {:.4})",
        s.precision, s.recall, s.f1, s.strict_f1, s.token_accuracy
    );
    for (kind, prf) in &s.per_type {
        println!(
            "        {kind:<6} P {:.4}  R {:.4}  F1 {:.4}  support {}",
            prf.precision, prf.recall, prf.f1, prf.support
        );
    }
}

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    seqlab_bins::cli::warn_former_names("train-tagger");
    let Parsed { mut args, origin } = parse_with_config::<Args>(|command| RECIPE.shown_in(command));
    if let Some(format) = &args.format {
        eprintln!(
            "error: --format {format}: train-tagger reads CoNLL files, and tagged records by their extension \
             (.jsonl, .parquet); --format is train-classifier's and predict's"
        );
        return ExitCode::from(2);
    }
    let mut spool = seqlab_bins::spool::Spool::default();
    if let Err(e) = spool.training_inputs(&mut args.train, args.valid.as_mut(), args.test.as_mut()) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let valid = match validation(&args.train, args.valid, args.valid_fraction, args.training.seed, "embedded:ner/valid")
    {
        Ok(valid) => valid,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let embedded = args.train.starts_with("embedded:");
    let tag_names = match tag_names(args.tag_names.as_deref()) {
        Ok(names) => names,
        Err(e) => {
            eprintln!("error: --tag-names: {e}");
            return ExitCode::from(2);
        }
    };
    let config = TaggerRunConfig {
        test: args.test.clone().or_else(|| embedded.then(|| "embedded:ner/test".to_string())),
        train: args.train,
        valid,
        tag_column: args.tag_column,
        tag_names,
        tokens_column: args.tokens_column,
        tags_column: args.tags_column,
        encoding: args.encoding,
        file_scheme: args.file_scheme,
        train_scheme: args.train_scheme,
        encoder: encoder(args.encoder, args.hidden, args.layers, args.bidirectional, args.dropout),
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
        loss_mean: args.loss_mean,
        drop_vector_words: args.drop_vector_words,
        training: args.training.to_config(&RECIPE),
        artifacts: args.artifacts,
    };
    let train = |device: &backend::Device| backend::train_tagger(&config, device);
    run_training(&config.training, &config.artifacts, &origin, train, |report: &TaggerReport| {
        show("valid", &report.valid);
        report.test.iter().for_each(|test| show("test", test));
        &report.training
    })
}

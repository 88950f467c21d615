//! `train-classifier`: trains a sequence classifier (bag of embeddings, RNN, LSTM or GRU) on a
//! sentiment corpus — by default the embedded synthetic one — and writes its artifacts.
#![recursion_limit = "256"]

use std::process::ExitCode;

use seqlab_bins::args::train_classifier::{Args, RECIPE};
use seqlab_bins::cli::train_command;
use seqlab_training::backend;
use seqlab_training::say;
use seqlab_training::ClassificationScores;

fn show(name: &str, s: &ClassificationScores) {
    say!("{name:<5} accuracy {:.4}  macro-F1 {:.4}  ({} examples)", s.accuracy, s.macro_f1, s.examples);
}

fn main() -> ExitCode {
    train_command::<Args, _>(
        "train-classifier",
        |command| RECIPE.shown_in(command),
        backend::train_classifier,
        |report| {
            show("valid", &report.valid);
            report.test.iter().for_each(|test| show("test", test));
            &report.training
        },
    )
}

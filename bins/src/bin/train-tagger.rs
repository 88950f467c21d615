//! `train-tagger`: trains a named-entity tagger (RNN, LSTM or GRU; by default a BiLSTM-CNN-CRF
//! with a casing feature) on CoNLL data — by default the embedded synthetic corpus — and writes its
//! artifacts, reporting entity-level precision, recall and F1.
#![recursion_limit = "256"]

use std::process::ExitCode;

use seqlab_bins::args::train_tagger::{Args, RECIPE};
use seqlab_bins::cli::train_command;
use seqlab_training::backend;
use seqlab_training::say;
use seqlab_training::tagger::TaggerScores;

fn show(name: &str, s: &TaggerScores) {
    say!(
        "{name:<5} entity P {:.4}  R {:.4}  F1 {:.4}  (strict F1 {:.4}, token accuracy {:.4})",
        s.precision,
        s.recall,
        s.f1,
        s.strict_f1,
        s.token_accuracy
    );
    for (kind, prf) in &s.per_type {
        say!(
            "        {kind:<6} P {:.4}  R {:.4}  F1 {:.4}  support {}",
            prf.precision,
            prf.recall,
            prf.f1,
            prf.support
        );
    }
}

fn main() -> ExitCode {
    train_command::<Args, _>(
        "train-tagger",
        |command| RECIPE.shown_in(command),
        backend::train_tagger,
        |report| {
            show("valid", &report.valid);
            report.test.iter().for_each(|test| show("test", test));
            &report.training
        },
    )
}

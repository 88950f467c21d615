//! `train-tagger`: trains a named-entity tagger (RNN, LSTM or GRU; by default a BiLSTM-CNN-CRF
//! with a casing feature) on CoNLL data — by default the embedded synthetic corpus — and writes its
//! artifacts, reporting entity-level precision, recall and F1.
#![recursion_limit = "256"]

use std::process::ExitCode;

use seqlab_bins::args::train_tagger::{Args, RECIPE};
use seqlab_bins::cli::run_training;
use seqlab_bins::config_file::{parse_with_config, Parsed};
use seqlab_training::backend;
use seqlab_training::tagger::{TaggerReport, TaggerScores};
use seqlab_training::{note, say};

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
    seqlab_bins::startup::prepare_process();
    seqlab_bins::cli::warn_former_names("train-tagger");
    let Parsed { mut args, origin } = parse_with_config::<Args>(|command| RECIPE.shown_in(command));
    let mut spool = seqlab_bins::spool::Spool::default();
    if let Err(e) = spool.training_inputs(&mut args.train, args.valid.as_mut(), args.test.as_mut()) {
        note!("error: {e}");
        return ExitCode::FAILURE;
    }
    let config = match args.run_config() {
        Ok(config) => config,
        Err(e) => {
            note!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let train = |device: &backend::Device| backend::train_tagger(&config, device);
    run_training(&config.training, &config.artifacts, &origin, train, |report: &TaggerReport| {
        show("valid", &report.valid);
        report.test.iter().for_each(|test| show("test", test));
        &report.training
    })
}

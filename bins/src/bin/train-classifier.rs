//! `train-classifier`: trains a sequence classifier (bag of embeddings, RNN, LSTM or GRU) on a
//! sentiment corpus — by default the embedded synthetic one — and writes its artifacts.
#![recursion_limit = "256"]

use std::process::ExitCode;

use seqlab_bins::args::train_classifier::{Args, RECIPE};
use seqlab_bins::cli::run_training;
use seqlab_bins::config_file::{parse_with_config, Parsed};
use seqlab_training::backend;
use seqlab_training::classification_scores::ClassificationScores;
use seqlab_training::classifier::ClassifierReport;
use seqlab_training::{note, say};

fn show(name: &str, s: &ClassificationScores) {
    say!("{name:<5} accuracy {:.4}  macro-F1 {:.4}  ({} examples)", s.accuracy, s.macro_f1, s.examples);
}

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    seqlab_bins::cli::warn_former_names("train-classifier");
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
    let train = |device: &backend::Device| backend::train_classifier(&config, device);
    run_training(&config.training, &config.artifacts, &origin, train, |report: &ClassifierReport| {
        show("valid", &report.valid);
        report.test.iter().for_each(|test| show("test", test));
        &report.training
    })
}

//! Models leaving the lab: `predict` streaming through any amount of text, and the `serve`
//! HTTP API, checked against the in-process answers of the same models.

mod http;
mod predict;
mod quantized;
mod raw_text;
mod serve;

use std::path::PathBuf;
use std::sync::OnceLock;

use seqlab_training::backend;
use seqlab_training::learner::TrainingConfig;
use seqlab_training::tagger::{TaggerOutput, TaggerRunConfig};

use crate::common::*;

/// The artifacts-v0 classifier (a fixture: no training).
pub(crate) fn classifier_dir() -> PathBuf {
    PathBuf::from(fixture_path("artifacts-v0/classifier"))
}

/// A tiny CRF tagger trained once (four epochs on the embedded corpus), shared by the tests.
pub(crate) fn crf_tagger_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("serving-crf-tagger").join("run");
        let base = crate::training::tagger::tiny_tagger(&dir);
        let training = TrainingConfig { epochs: 4, ..base.training.clone() };
        let config = TaggerRunConfig { output: TaggerOutput::Crf, training, ..base };
        backend::train_tagger(&config, &Default::default()).expect("the tiny CRF tagger trains");
        dir
    })
    .clone()
}

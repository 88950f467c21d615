//! Tests of `seqlab-training`.

mod adam;
mod classifier;
mod entity;
mod gradflow;
mod learner;
mod metrics;
mod robustness;
mod suggestions;
mod tagger;

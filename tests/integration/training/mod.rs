//! Tests of `seqlab-training`.

mod adam;
mod classifier;
mod entity;
mod gradflow;
mod learner;
mod metrics;
mod report;
mod robustness;
mod suggestions;
mod tagger;

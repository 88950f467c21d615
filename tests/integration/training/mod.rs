//! Tests of `seqlab-training`.

mod classifier;
mod entity;
mod gradflow;
mod learner;
mod metrics;
mod tagger;

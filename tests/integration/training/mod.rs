//! Tests of `seqlab-training`.

mod classifier;
mod entity;
mod metrics;
mod tagger;

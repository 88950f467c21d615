//! Tests of `seqlab-training`.

mod classifier;
mod metrics;

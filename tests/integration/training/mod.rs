//! Tests of `seqlab-training`.

mod adam;
mod classifier;
mod clip;
#[cfg(feature = "mpi")]
mod cluster;
mod console;
mod corpora;
#[cfg(feature = "ndarray")]
mod devices;
mod entity;
mod holdout;
mod hooks;
mod learner;
mod metrics;
mod options;
mod report;
mod robustness;
mod suggestions;
pub(crate) mod tagger;

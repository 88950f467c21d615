//! Tests of `seqlab-training`.

mod adam;
mod classification_scores;
mod classifier;
mod clip;
#[cfg(feature = "mpi")]
mod cluster;
mod console;
mod corpora;
#[cfg(feature = "ndarray")]
mod devices;
mod entity_scores;
mod holdout;
mod learner;
mod options;
mod report;
mod robustness;
mod suggestions;
pub(crate) mod tagger;

//! # seqlab-training
//!
//! Where a batch meets a model. The backend the cargo features select, and the commands' entry
//! points compiled once for it ([`backend`]); the two tasks end to end ([`classifier`],
//! [`tagger`]: read the splits, build vocabularies and label maps, build the model, train,
//! score, write the artifacts, [`artifacts`]); the learner on burn-train they share ([`learner::fit`]:
//! optimisers and schedules in [`optim`] and [`adam`], per-epoch checkpoints, `log.csv` and
//! early stopping in [`epochs`], several devices in [`devices`]); loading a trained model to
//! score or tag ([`inference`]), reports ([`report`], [`curves`]), metrics ([`metrics`],
//! [`entity`]), export to PyTorch ([`export`]) and the vanishing-gradient lab ([`gradflow`]).

pub mod adam;
pub mod artifacts;
pub mod backend;
pub mod classifier;
pub mod curves;
pub mod devices;
pub mod durable;
pub mod entity;
pub mod entity_metric;
pub mod epochs;
pub mod error;
pub mod export;
pub mod gradflow;
pub mod inference;
pub mod learner;
pub mod lock;
pub mod metrics;
pub mod optim;
pub mod plot;
pub mod render;
pub mod report;
mod steps;
pub mod tagger;
pub mod validate;
pub mod vectors;

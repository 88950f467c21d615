//! # seqlab-training
//!
//! Where a batch meets a model, grouped by concern:
//!
//! - the backend the cargo features select, and the commands' entry points compiled once for
//!   it: [`backend`];
//! - the two tasks end to end, each its config, model, data and pipeline: [`classifier`],
//!   [`tagger`]; the artifacts folder they write: [`artifacts`] (with [`durable`] writes and the
//!   run's lock, `lock.rs`), pretrained vectors (`vectors.rs`), option ranges: [`validate`];
//! - the learner on burn-train they share: [`learner`] (`fit`), what happens around every epoch:
//!   [`epochs`], optimisers and schedules: [`optim`], [`adam`], [`clip`], several devices
//!   (`devices.rs`), the training and inference steps (`steps.rs`), the plain dashboard
//!   (`render.rs`), the encoded training split kept between runs (`corpus_cache.rs`);
//! - using a trained model: [`inference`] (one type that holds a loaded model and answers
//!   batches), [`report`], [`export`] to PyTorch, int8 models ([`Quantized`], `quantize.rs`);
//! - scores and plots: [`classification_scores`] and [`entity_scores`] (what `metrics.json`
//!   reports), [`entity_metric`] (burn-train's metric of entity F1 during training), [`plot`],
//!   `curves.svg` (`curves.rs`).
//!
//! Modules that only serve the others are private; what a caller needs of them is re-exported
//! here.
//!
//! The vanishing-gradient lab is a crate of its own, `seqlab-gradlab`, on this one.

pub mod adam;
pub mod artifacts;
pub mod backend;
pub mod classification_scores;
pub mod classifier;
pub mod clip;
pub mod cluster;
pub mod console;
mod corpus_cache;
mod curves;
mod devices;
pub mod durable;
pub mod entity_metric;
pub mod entity_scores;
pub mod epochs;
pub mod error;
pub mod export;
pub mod inference;
pub mod interrupt;
pub mod learner;
mod lock;
pub mod memory;
pub mod optim;
pub mod plot;
mod quantize;
mod render;
pub mod report;
mod steps;
pub mod tagger;
pub mod validate;
mod vectors;

pub use quantize::Quantized;

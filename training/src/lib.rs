//! # seqlab-training
//!
//! Where a batch meets a model, grouped by concern:
//!
//! - the backend the cargo features select, and the commands' entry points compiled once for
//!   it: [`backend`];
//! - the two tasks end to end, each its config, model, data and pipeline (whose end both share:
//!   `pipeline.rs`): [`classifier`], [`tagger`]; the artifacts folder they write: [`Artifacts`] (`artifacts.rs`, with the durable
//!   writes of `durable.rs` and the run's lock, `lock.rs`), pretrained vectors (`vectors.rs`),
//!   option ranges: [`validate`];
//! - the learner on burn-train they share: [`learner`] (`fit`), what happens around every epoch:
//!   [`epochs`], optimisers and schedules: [`optim`], [`FusedAdam`], [`GlobalNormClip`],
//!   several devices (`devices.rs`), the training and inference steps (`steps.rs`), the plain
//!   dashboard (`render.rs`), the encoded training split kept between runs (`corpus_cache.rs`);
//! - using a trained model: [`inference`] (one type that holds a loaded model and answers
//!   batches), [`report`], [`export`] to PyTorch, int8 models ([`Quantized`], `quantize.rs`);
//! - scores and plots: [`classification_scores()`] and [`entity_scores()`] (what `metrics.json`
//!   reports), [`EntityF1Metric`] (burn-train's metric of entity F1 during training), line
//!   charts ([`line_chart`], `plot.rs`) and `curves.svg` (`curves.rs`);
//! - a run's memory against the machine's ([`Footprint`], `memory.rs`).
//!
//! Modules that only serve the others are private; what a caller needs of them is re-exported
//! here.
//!
//! The vanishing-gradient lab is a crate of its own, `seqlab-gradlab`, on this one.

mod adam;
mod artifacts;
pub mod backend;
mod classification_scores;
pub mod classifier;
mod clip;
pub mod cluster;
pub mod console;
mod corpus_cache;
mod curves;
mod devices;
mod durable;
mod entity_metric;
mod entity_scores;
pub mod epochs;
pub mod error;
pub mod export;
pub mod inference;
pub mod interrupt;
pub mod learner;
mod lock;
mod memory;
pub mod optim;
mod pipeline;
mod plot;
mod quantize;
mod render;
pub mod report;
mod steps;
pub mod tagger;
pub mod validate;
mod vectors;

pub use adam::{FusedAdam, FusedAdamConfig};
pub use artifacts::Artifacts;
pub use classification_scores::{classification_scores, ClassificationScores};
pub use clip::{clip_global_norm, GlobalNormClip};
pub use durable::{remove_partial_on_signal, OutputFile, Protected};
pub use entity_metric::EntityF1Metric;
pub use entity_scores::{entity_scores, EntityMode, EntityScores, Prf};
pub use memory::{machine_memory, Footprint, Longest, Part};
pub use plot::{line_chart, Series};
pub use quantize::Quantized;

//! # seqlab-training
//!
//! Where a batch meets a model: the backend choice ([`backend`]), the training steps and the
//! learner built on burn-train ([`classifier`]), metrics ([`metrics`]), a plain per-epoch
//! renderer for logs and CI ([`render`]) and the artifacts folder.

pub mod adam;
pub mod artifacts;
pub mod backend;
pub mod checkpoint;
pub mod classifier;
pub mod curves;
pub mod devices;
pub mod entity;
pub mod entity_metric;
pub mod export;
pub mod gradflow;
pub mod inference;
pub mod lock;
pub mod manifest;
pub mod metrics;
pub mod optim;
pub mod render;
pub mod report;
mod steps;
pub mod validate;
pub mod tagger;
pub mod vectors;

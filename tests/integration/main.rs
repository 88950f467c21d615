//! seqlab's workspace-level integration tests, in one test binary.
//!
//! The backend comes from cargo features through `seqlab_training::backend` (ndarray by
//! default; `cargo test --features wgpu` runs the same bodies on wgpu).

mod common;
mod datasets;
mod gradlab;
mod models;
mod serving;
mod training;

//! # seqlab-gradlab
//!
//! The vanishing-gradient lab: how far back the training signal reaches through BPTT (the
//! `grad-flow` command). It uses the workspace's layers and long-dependency tasks and
//! `seqlab-training`'s backend, plots and memory estimates; nothing in training depends on it.
//!
//! A [`ProbeModel`] (one recurrent layer over one-hot tokens, a linear read-out of the last
//! hidden state) is run with a zero *probe* added to every hidden state `h_t`
//! ([`seqlab_models::Recurrent::forward_probed`]); the gradient of the loss with respect to
//! probe `t` is `∂L/∂h_t`, the product of Jacobians `∂h_T/∂h_{T−1} ⋯ ∂h_{t+1}/∂h_t` applied
//! to `∂L/∂h_T`.
//!
//! - [`probe`]: the probe model on the first-token task, [`gradient_norms`], [`train_on_task`];
//! - [`adding`]: the adding problem's model, training and norms;
//! - [`experiments`]: the lab's three experiments (`grad-flow norms`, `sweep`, `adding`) over
//!   cells, lengths and seeds, returning typed results;
//! - [`files`]: their CSV, markdown tables and plots;
//! - [`on_backend`]: the three experiments compiled once for the backend the cargo features
//!   select, as the `grad-flow` binary calls them.

pub mod adding;
pub mod experiments;
pub mod files;
pub mod on_backend;
pub mod probe;

pub use adding::*;
pub use experiments::{AddingNorms, AddingPoint, LabCells, NormsCurve, SweepRun};
pub use probe::*;

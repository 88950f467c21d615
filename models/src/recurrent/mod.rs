//! Recurrent layers: Elman RNN, LSTM and GRU, stacked, bidirectional and padding-aware.
//!
//! - [`layer`]: the public [`Recurrent`] stack (config, parameters, outputs, the loop over layers).
//! - [`cell`]: each cell's equations, written once, and [`CellKind`], which names them.
//! - [`scan`]: what every way of running a layer shares (inputs, time order, the padding rule).
//! - [`engine`]: the ways of running one layer (the CPU kernel, the wgpu node, recorded tensor
//!   operations) and the one function that picks among them.
//! - [`kernel`]: the CPU kernel's time loop and BPTT on flat buffers.

pub mod cell;
pub mod engine;
pub mod kernel;
pub mod layer;
pub mod scan;

pub use cell::{Cell, CellKind, CellState, GruCell, LstmCell, RnnCell};
pub use layer::{Recurrent, RecurrentConfig, RecurrentOutput, RecurrentState, RecurrentWeights};

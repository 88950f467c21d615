//! The recurrent cells. Each cell's equations are written once ([`rnn`], [`lstm`], [`gru`]),
//! over the arithmetic of [`math`], and run on tensors ([`tensors`]) or on the CPU kernel's rows
//! ([`rows`]); [`CellKind`] names the cell a layer is configured with and runs it.

pub mod gru;
pub mod kind;
pub mod lstm;
pub mod math;
pub mod real;
pub mod rnn;
pub mod rows;
pub mod tensors;

pub use gru::GruCell;
pub use kind::CellKind;
pub use lstm::LstmCell;
pub use math::{Arith, Cell, State, StepGrads};
pub use real::Real;
pub use rnn::{Nonlinearity, RnnCell};
pub use rows::{BackwardRow, ForwardRow};
pub use tensors::{CellState, StepCache, TensorGrads};

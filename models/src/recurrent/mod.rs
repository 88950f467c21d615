//! Recurrent layers: one machinery ([`layer`]) shared by three cells ([`rnn`], [`lstm`], [`gru`]).

pub mod bptt;
pub mod cell;
#[cfg(feature = "ndarray")]
mod cpu;
pub mod gru;
pub mod kernel;
pub mod layer;
pub mod lstm;
pub mod rnn;

pub use cell::{Cell, CellKind, CellState, StepCache, StepGrads};
pub use gru::GruCell;
pub use layer::{Recurrent, RecurrentConfig, RecurrentOutput, RecurrentState, RecurrentWeights};
pub use lstm::LstmCell;
pub use rnn::RnnCell;

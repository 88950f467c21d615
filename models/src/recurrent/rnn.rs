//! The Elman RNN cell: `h_t = f(U x_t + W h_{t-1})`.

use burn::tensor::{backend::Backend, Tensor};

use super::{Cell, CellState};
use crate::Activation;

/// Elman cell `h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`; `f` is tanh or ReLU in PyTorch.
#[derive(Debug, Clone, Copy)]
pub struct RnnCell {
    /// The non-linearity `f`.
    pub nonlinearity: Activation,
}

impl RnnCell {
    /// A cell with non-linearity `f`.
    pub fn new(nonlinearity: Activation) -> Self {
        Self { nonlinearity }
    }
}

impl Cell for RnnCell {
    fn gates(&self) -> usize {
        1
    }

    fn step<B: Backend>(&self, input_proj: Tensor<B, 2>, hidden_proj: Tensor<B, 2>, _: &CellState<B>) -> CellState<B> {
        CellState { hidden: self.nonlinearity.forward(input_proj + hidden_proj), cell: None }
    }
}

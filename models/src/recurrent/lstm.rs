//! The LSTM cell (Hochreiter & Schmidhuber, 1997), with PyTorch's gate order `i, f, g, o`.

use burn::tensor::{backend::Backend, Tensor};

use super::{Cell, CellState};
use crate::activation::{sigmoid, tanh};

/// LSTM cell. With `a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh` split into four blocks:
///
/// ```text
/// i_t = σ(a_i)   f_t = σ(a_f)   g_t = tanh(a_g)   o_t = σ(a_o)
/// c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
/// h_t = o_t ⊙ tanh(c_t)
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LstmCell;

impl Cell for LstmCell {
    fn gates(&self) -> usize {
        4
    }

    fn has_memory(&self) -> bool {
        true
    }

    fn step<B: Backend>(&self, input_proj: Tensor<B, 2>, hidden_proj: Tensor<B, 2>, state: &CellState<B>) -> CellState<B> {
        let [i, f, g, o]: [Tensor<B, 2>; 4] = (input_proj + hidden_proj)
            .chunk(4, 1)
            .try_into()
            .expect("LSTM pre-activations have 4 gate blocks");
        let c_prev = state.cell.clone().expect("an LSTM state has a memory cell");
        let cell = sigmoid(f) * c_prev + sigmoid(i) * tanh(g);
        let hidden = sigmoid(o) * tanh(cell.clone());
        CellState { hidden, cell: Some(cell) }
    }
}

//! The GRU cell (Cho et al., 2014), in PyTorch's form: gates `r, z, n`, reset applied after the
//! hidden matmul.

use burn::tensor::{backend::Backend, Tensor};

use super::{Cell, CellState};
use crate::activation::{sigmoid, tanh};

/// GRU cell. With input blocks `x_r, x_z, x_n` (`W_ih x_t + b_ih`) and hidden blocks
/// `h_r, h_z, h_n` (`W_hh h_{t-1} + b_hh`):
///
/// ```text
/// r_t = σ(x_r + h_r)   z_t = σ(x_z + h_z)
/// n_t = tanh(x_n + r_t ⊙ h_n)
/// h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
/// ```
#[derive(Debug, Clone, Copy)]
pub struct GruCell;

impl Cell for GruCell {
    fn gates(&self) -> usize {
        3
    }

    fn step<B: Backend>(&self, input_proj: Tensor<B, 2>, hidden_proj: Tensor<B, 2>, state: &CellState<B>) -> CellState<B> {
        let [x_r, x_z, x_n]: [Tensor<B, 2>; 3] =
            input_proj.chunk(3, 1).try_into().expect("GRU input projection has 3 gate blocks");
        let [h_r, h_z, h_n]: [Tensor<B, 2>; 3] =
            hidden_proj.chunk(3, 1).try_into().expect("GRU hidden projection has 3 gate blocks");
        let r = sigmoid(x_r + h_r);
        let z = sigmoid(x_z + h_z);
        let n = tanh(x_n + r * h_n);
        // (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
        let hidden = n.clone() + z * (state.hidden.clone() - n);
        CellState { hidden, cell: None }
    }
}

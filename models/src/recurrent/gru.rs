//! The GRU cell (Cho et al., 2014), in PyTorch's form: gates `r, z, n`, reset applied after the
//! hidden matmul.

use burn::tensor::{backend::Backend, Tensor};

use super::cell::{sigmoid_slope, tanh_slope};
use super::{Cell, CellState, StepCache, StepGrads};
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

    /// Cache: `[r, z, n, h_n]`.
    fn step_cached<B: Backend>(
        &self,
        input_proj: Tensor<B, 2>,
        hidden_proj: Tensor<B, 2>,
        state: &CellState<B>,
    ) -> (CellState<B>, StepCache<B>) {
        let [x_r, x_z, x_n]: [Tensor<B, 2>; 3] =
            input_proj.chunk(3, 1).try_into().expect("GRU input projection has 3 gate blocks");
        let [h_r, h_z, h_n]: [Tensor<B, 2>; 3] =
            hidden_proj.chunk(3, 1).try_into().expect("GRU hidden projection has 3 gate blocks");
        let r = sigmoid(x_r + h_r);
        let z = sigmoid(x_z + h_z);
        let n = tanh(x_n + r.clone() * h_n.clone());
        // (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
        let hidden = n.clone() + z.clone() * (state.hidden.clone() - n.clone());
        (CellState { hidden, cell: None }, StepCache(vec![r, z, n, h_n]))
    }

    /// ```text
    /// ∂z = ∂h_t ⊙ (h_{t-1} − n)      ∂n = ∂h_t ⊙ (1 − z)        ∂h_{t-1} ⊇ ∂h_t ⊙ z
    /// ∂a_n = ∂n ⊙ (1 − n²)           (input block; the hidden block h_n gets ∂a_n ⊙ r)
    /// ∂a_r = ∂a_n ⊙ h_n ⊙ r(1 − r)   ∂a_z = ∂z ⊙ z(1 − z)
    /// ```
    fn step_backward<B: Backend>(&self, cache: &StepCache<B>, state: &CellState<B>, grad: CellState<B>) -> StepGrads<B> {
        let [r, z, n, h_n] = cache.0.as_slice() else { panic!("GRU step cache has 4 tensors") };
        let d_hidden = grad.hidden;
        let d_z = d_hidden.clone() * (state.hidden.clone() - n.clone()) * sigmoid_slope(z.clone());
        let d_n = (d_hidden.clone() - d_hidden.clone() * z.clone()) * tanh_slope(n.clone());
        let d_r = d_n.clone() * h_n.clone() * sigmoid_slope(r.clone());
        StepGrads {
            input_proj: Tensor::cat(vec![d_r.clone(), d_z.clone(), d_n.clone()], 1),
            hidden_proj: Some(Tensor::cat(vec![d_r, d_z, d_n * r.clone()], 1)),
            hidden: Some(d_hidden * z.clone()),
            cell: None,
        }
    }
}

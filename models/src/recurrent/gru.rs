//! The GRU cell (Cho et al., 2014), in PyTorch's form: gates `r, z, n`, reset applied after the
//! hidden matmul.

use burn::tensor::{backend::Backend, Tensor};

use super::cell::{sigmoid_slope, tanh_slope};
use super::kernel::{real, split_blocks, BackwardRow, ForwardRow, Real, RowCell};
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

impl RowCell for GruCell {
    /// Cache: `[r, z, n, h_n]`, as [`Cell::step_cached`].
    fn cache_blocks(&self) -> usize {
        4
    }

    fn splits_hidden_grad(&self) -> bool {
        true
    }

    #[inline(always)]
    fn forward_row<F: Real>(&self, k: usize, row: ForwardRow<'_, F>) {
        let (x, hp, h_prev, h) = (&row.input_proj[..3 * k], &row.hidden_proj[..3 * k], &row.h_prev[..k], &mut row.h[..k]);
        let [r, z, n, h_n] = split_blocks(&mut row.cache[..4 * k], k);
        for j in 0..k {
            r[j] = real::sigmoid(x[j] + hp[j]);
            z[j] = real::sigmoid(x[k + j] + hp[k + j]);
            h_n[j] = hp[2 * k + j];
            n[j] = real::tanh(x[2 * k + j] + r[j] * h_n[j]);
            h[j] = n[j] + z[j] * (h_prev[j] - n[j]);
        }
    }

    /// As [`Cell::step_backward`].
    #[inline(always)]
    fn backward_row<F: Real>(&self, k: usize, row: BackwardRow<'_, F>) {
        let cache = &row.cache[..4 * k];
        let (r, z, n, h_n) = (&cache[..k], &cache[k..2 * k], &cache[2 * k..3 * k], &cache[3 * k..]);
        let (h_prev, dh) = (&row.h_prev[..k], &row.dh[..k]);
        let [di_r, di_z, di_n] = split_blocks(&mut row.d_input_proj[..3 * k], k);
        let [dh_r, dh_z, dh_n] = split_blocks(&mut row.d_hidden_proj[..3 * k], k);
        let dh_prev = &mut row.dh_prev[..k];
        for j in 0..k {
            let d_z = dh[j] * (h_prev[j] - n[j]) * real::sigmoid_slope(z[j]);
            let d_n = (dh[j] - dh[j] * z[j]) * real::tanh_slope(n[j]);
            let d_r = d_n * h_n[j] * real::sigmoid_slope(r[j]);
            (di_r[j], di_z[j], di_n[j]) = (d_r, d_z, d_n);
            (dh_r[j], dh_z[j], dh_n[j]) = (d_r, d_z, d_n * r[j]);
            dh_prev[j] = dh[j] * z[j];
        }
    }
}

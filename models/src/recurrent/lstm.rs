//! The LSTM cell (Hochreiter & Schmidhuber, 1997), with PyTorch's gate order `i, f, g, o`.

use burn::tensor::{backend::Backend, Tensor};

use super::cell::{sigmoid_slope, tanh_slope};
use super::kernel::{real, split_blocks, BackwardRow, ForwardRow, Real, RowCell};
use super::{Cell, CellState, StepCache, StepGrads};
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

    /// Cache: `[i, f, g, o, tanh(c_t)]`.
    fn step_cached<B: Backend>(
        &self,
        input_proj: Tensor<B, 2>,
        hidden_proj: Tensor<B, 2>,
        state: &CellState<B>,
    ) -> (CellState<B>, StepCache<B>) {
        let [i, f, g, o] = blocks(&(input_proj + hidden_proj));
        let (i, f, g, o) = (sigmoid(i), sigmoid(f), tanh(g), sigmoid(o));
        let c_prev = state.cell.clone().expect("an LSTM state has a memory cell");
        let cell = f.clone() * c_prev + i.clone() * g.clone();
        let tanh_c = tanh(cell.clone());
        let hidden = o.clone() * tanh_c.clone();
        (CellState { hidden, cell: Some(cell) }, StepCache(vec![i, f, g, o, tanh_c]))
    }

    /// ```text
    /// ∂c_t = ∂L/∂c_t + ∂L/∂h_t ⊙ o ⊙ (1 − tanh² c_t)        (all paths into c_t)
    /// ∂a_i = ∂c_t ⊙ g ⊙ i(1 − i)     ∂a_f = ∂c_t ⊙ c_{t-1} ⊙ f(1 − f)
    /// ∂a_g = ∂c_t ⊙ i ⊙ (1 − g²)     ∂a_o = ∂L/∂h_t ⊙ tanh c_t ⊙ o(1 − o)
    /// ∂c_{t-1} = ∂c_t ⊙ f
    /// ```
    fn step_backward<B: Backend>(&self, cache: &StepCache<B>, state: &CellState<B>, grad: CellState<B>) -> StepGrads<B> {
        let [i, f, g, o, tanh_c] = cache.0.as_slice() else { panic!("LSTM step cache has 5 tensors") };
        let (slope_i, slope_f, slope_o) = (sigmoid_slope(i.clone()), sigmoid_slope(f.clone()), sigmoid_slope(o.clone()));
        let (i, f, o) = (i.clone(), f.clone(), o.clone());
        let c_prev = state.cell.clone().expect("an LSTM state has a memory cell");
        let d_hidden = grad.hidden;
        let d_cell = grad.cell.expect("an LSTM gradient has a memory cell") + d_hidden.clone() * o * tanh_slope(tanh_c.clone());
        let d_i = d_cell.clone() * g.clone() * slope_i;
        let d_f = d_cell.clone() * c_prev * slope_f;
        let d_g = d_cell.clone() * i * tanh_slope(g.clone());
        let d_o = d_hidden * tanh_c.clone() * slope_o;
        StepGrads {
            input_proj: Tensor::cat(vec![d_i, d_f, d_g, d_o], 1),
            hidden_proj: None,
            hidden: None,
            cell: Some(d_cell * f),
        }
    }
}

/// The four `hidden`-wide gate blocks `i, f, g, o` of `[batch, 4·hidden]`.
fn blocks<B: Backend>(gates: &Tensor<B, 2>) -> [Tensor<B, 2>; 4] {
    gates.clone().chunk(4, 1).try_into().expect("LSTM gates have 4 blocks")
}

impl RowCell for LstmCell {
    /// Cache: `[i, f, g, o, tanh(c_t)]`, as [`Cell::step_cached`].
    fn cache_blocks(&self) -> usize {
        5
    }

    #[inline(always)]
    fn forward_row<F: Real>(&self, n: usize, row: ForwardRow<'_, F>) {
        let (x, hp, c_prev) = (&row.input_proj[..4 * n], &row.hidden_proj[..4 * n], &row.c_prev[..n]);
        let (h, c) = (&mut row.h[..n], &mut row.c[..n]);
        let [i, f, g, o, tanh_c] = split_blocks(&mut row.cache[..5 * n], n);
        for j in 0..n {
            i[j] = real::sigmoid(x[j] + hp[j]);
            f[j] = real::sigmoid(x[n + j] + hp[n + j]);
            g[j] = real::tanh(x[2 * n + j] + hp[2 * n + j]);
            o[j] = real::sigmoid(x[3 * n + j] + hp[3 * n + j]);
            c[j] = f[j] * c_prev[j] + i[j] * g[j];
            tanh_c[j] = real::tanh(c[j]);
            h[j] = o[j] * tanh_c[j];
        }
    }

    /// As [`Cell::step_backward`].
    #[inline(always)]
    fn backward_row<F: Real>(&self, n: usize, row: BackwardRow<'_, F>) {
        let cache = &row.cache[..5 * n];
        let (i, f, g, o, tanh_c) = (&cache[..n], &cache[n..2 * n], &cache[2 * n..3 * n], &cache[3 * n..4 * n], &cache[4 * n..]);
        let (c_prev, dh, dc) = (&row.c_prev[..n], &row.dh[..n], &row.dc[..n]);
        let [d_i, d_f, d_g, d_o] = split_blocks(&mut row.d_input_proj[..4 * n], n);
        let (dh_prev, dc_prev) = (&mut row.dh_prev[..n], &mut row.dc_prev[..n]);
        for j in 0..n {
            let d_cell = dc[j] + dh[j] * o[j] * real::tanh_slope(tanh_c[j]);
            d_i[j] = d_cell * g[j] * real::sigmoid_slope(i[j]);
            d_f[j] = d_cell * c_prev[j] * real::sigmoid_slope(f[j]);
            d_g[j] = d_cell * i[j] * real::tanh_slope(g[j]);
            d_o[j] = dh[j] * tanh_c[j] * real::sigmoid_slope(o[j]);
            dc_prev[j] = d_cell * f[j];
            dh_prev[j] = F::ZERO;
        }
    }
}

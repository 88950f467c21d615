//! The Elman RNN cell: `h_t = f(U x_t + W h_{t-1})`.

use burn::tensor::{backend::Backend, Tensor};

use super::cell::{sigmoid_slope, tanh_slope};
use super::kernel::{real, BackwardRow, ForwardRow, Real, RowCell};
use super::{Cell, CellState, StepCache, StepGrads};
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

    /// Cache: `[h_t]`, and the pre-activation for GELU, whose slope needs it.
    fn step_cached<B: Backend>(
        &self,
        input_proj: Tensor<B, 2>,
        hidden_proj: Tensor<B, 2>,
        _: &CellState<B>,
    ) -> (CellState<B>, StepCache<B>) {
        let pre = input_proj + hidden_proj;
        let hidden = self.nonlinearity.forward(pre.clone());
        let mut cache = vec![hidden.clone()];
        if self.nonlinearity == Activation::Gelu {
            cache.push(pre);
        }
        (CellState { hidden, cell: None }, StepCache(cache))
    }

    /// `∂a = ∂h_t ⊙ f'(a)`, with `f'` from the output: `1 − h²` (tanh), `[h > 0]` (ReLU),
    /// `h(1 − h)` (sigmoid); GELU uses the cached pre-activation, softmax its Jacobian.
    fn step_backward<B: Backend>(&self, cache: &StepCache<B>, _: &CellState<B>, grad: CellState<B>) -> StepGrads<B> {
        let h = cache.0[0].clone();
        let d = grad.hidden;
        let input_proj = match self.nonlinearity {
            Activation::Identity => d,
            Activation::Tanh => d * tanh_slope(h),
            Activation::Sigmoid => d * sigmoid_slope(h),
            Activation::Relu => d.mask_fill(h.lower_equal_elem(0.0), 0.0),
            Activation::Gelu => {
                // GELU'(a) = Φ(a) + a φ(a)
                let a = cache.0[1].clone();
                let cdf = a.clone().div_scalar(std::f64::consts::SQRT_2).erf().add_scalar(1.0).mul_scalar(0.5);
                let pdf = (a.clone() * a.clone()).mul_scalar(-0.5).exp().mul_scalar(1.0 / (2.0 * std::f64::consts::PI).sqrt());
                d * (cdf + a * pdf)
            }
            Activation::Softmax => {
                let dot = (d.clone() * h.clone()).sum_dim(1);
                h * (d - dot)
            }
        };
        StepGrads { input_proj, hidden_proj: None, hidden: None, cell: None }
    }
}

impl RowCell for RnnCell {
    /// Cache: `[h_t]`.
    fn cache_blocks(&self) -> usize {
        1
    }

    /// # Panics
    /// For GELU and softmax, which [`super::CellKind`] does not offer.
    #[inline(always)]
    fn forward_row<F: Real>(&self, n: usize, row: ForwardRow<'_, F>) {
        let (x, hp, h, cache) = (&row.input_proj[..n], &row.hidden_proj[..n], &mut row.h[..n], &mut row.cache[..n]);
        #[inline(always)]
        fn apply<F: Real>(x: &[F], hp: &[F], h: &mut [F], cache: &mut [F], f: impl Fn(F) -> F) {
            for j in 0..h.len() {
                h[j] = f(x[j] + hp[j]);
                cache[j] = h[j];
            }
        }
        match self.nonlinearity {
            Activation::Identity => apply(x, hp, h, cache, |a| a),
            Activation::Tanh => apply(x, hp, h, cache, real::tanh),
            Activation::Sigmoid => apply(x, hp, h, cache, real::sigmoid),
            Activation::Relu => apply(x, hp, h, cache, |a| if a > F::ZERO { a } else { F::ZERO }),
            Activation::Gelu | Activation::Softmax => {
                unreachable!("the kernel's RNN cells are tanh and ReLU")
            }
        }
    }

    /// As [`Cell::step_backward`].
    #[inline(always)]
    fn backward_row<F: Real>(&self, n: usize, row: BackwardRow<'_, F>) {
        let (h, dh, d, dh_prev) = (&row.cache[..n], &row.dh[..n], &mut row.d_input_proj[..n], &mut row.dh_prev[..n]);
        #[inline(always)]
        fn apply<F: Real>(h: &[F], dh: &[F], d: &mut [F], dh_prev: &mut [F], slope: impl Fn(F) -> F) {
            for j in 0..d.len() {
                d[j] = dh[j] * slope(h[j]);
                dh_prev[j] = F::ZERO;
            }
        }
        match self.nonlinearity {
            Activation::Identity => apply(h, dh, d, dh_prev, |_| F::ONE),
            Activation::Tanh => apply(h, dh, d, dh_prev, real::tanh_slope),
            Activation::Sigmoid => apply(h, dh, d, dh_prev, real::sigmoid_slope),
            Activation::Relu => apply(h, dh, d, dh_prev, |h| if h > F::ZERO { F::ONE } else { F::ZERO }),
            Activation::Gelu | Activation::Softmax => {
                unreachable!("the kernel's RNN cells are tanh and ReLU")
            }
        }
    }
}

//! The Elman RNN cell: `h_t = f(U x_t + W h_{t-1})`.

use burn::tensor::{backend::Backend, Tensor};

use super::cell::{sigmoid_slope, tanh_slope};
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

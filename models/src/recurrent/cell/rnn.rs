//! The Elman RNN cell: `h_t = f(U x_t + W h_{t-1})`.

use super::math::{tanh_slope, Arith, CacheBlocks, Cell, State, StepGrads};

/// The non-linearity of an Elman cell, as PyTorch's `nn.RNN(nonlinearity=…)` offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `tanh`.
    Tanh,
    /// `max(0, ·)`.
    Relu,
}

/// Elman cell `h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`; `f` is tanh or ReLU.
#[derive(Debug, Clone, Copy)]
pub struct RnnCell {
    /// The non-linearity `f`.
    pub nonlinearity: Nonlinearity,
}

impl RnnCell {
    /// A cell with non-linearity `f`.
    pub fn new(nonlinearity: Nonlinearity) -> Self {
        Self { nonlinearity }
    }
}

/// What the Elman cell's backward step needs: its output `h_t`, from which `f'` follows.
#[derive(Debug, Clone)]
pub struct RnnCache<T> {
    pub h: T,
}

impl<T> CacheBlocks<T, 1> for RnnCache<T> {
    fn into_blocks(self) -> [T; 1] {
        [self.h]
    }
    fn from_blocks([h]: [T; 1]) -> Self {
        Self { h }
    }
}

impl Cell<1, 1> for RnnCell {
    type Cache<T> = RnnCache<T>;

    #[inline(always)]
    fn forward<T: Arith>(&self, [x]: [T; 1], [h]: [T; 1], _: State<T>) -> (State<T>, RnnCache<T>) {
        let pre = x + h;
        let hidden = match self.nonlinearity {
            Nonlinearity::Tanh => pre.tanh(),
            Nonlinearity::Relu => pre.relu(),
        };
        (State { hidden: hidden.clone(), cell: None }, RnnCache { h: hidden })
    }

    /// `∂a = ∂h_t ⊙ f'(a)`, with `f'` from the output: `1 − h²` (tanh), `[h > 0]` (ReLU).
    #[inline(always)]
    fn backward<T: Arith>(&self, cache: RnnCache<T>, _: State<T>, grad: State<T>) -> StepGrads<T, 1> {
        let slope = match self.nonlinearity {
            Nonlinearity::Tanh => tanh_slope(cache.h),
            Nonlinearity::Relu => cache.h.positive(),
        };
        StepGrads { input_proj: [grad.hidden * slope], hidden_proj: None, hidden: None, cell: None }
    }
}

//! The language the cells are written in: [`Arith`], the few operations their equations use,
//! and [`Cell`], what a cell states about one time step.
//!
//! Each cell's equations are written once, generic over `T: Arith`, and run in two forms:
//! `T = Tensor<B, 2>` (`[batch, hidden]` blocks: the recorded path and the wgpu node, glued in
//! [`super::tensors`]) and `T = f32 | f64` (one element: the CPU kernel's row loops, glued in
//! [`super::rows`], which the compiler vectorises).

use std::ops::{Add, Mul, Sub};

use burn::tensor::{backend::Backend, Tensor};

/// The operations a cell's equations use, element-wise.
pub trait Arith: Clone + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {
    /// `σ(x) = 1 / (1 + e^{−x})`, the input clamped to `[−80, 80]` (see [`crate::activation::sigmoid`]).
    fn sigmoid(self) -> Self;
    /// `tanh(x) = 2σ(2x) − 1`.
    fn tanh(self) -> Self;
    /// `max(0, x)`.
    fn relu(self) -> Self;
    /// `1` where `x > 0`, else `0`: ReLU's slope, read from its input or its output.
    fn positive(self) -> Self;
    /// `1 − x`.
    fn one_minus(self) -> Self;
}

/// `σ'(x)` from `s = σ(x)`: `s (1 − s)`.
#[inline(always)]
pub fn sigmoid_slope<T: Arith>(s: T) -> T {
    s.clone() * s.one_minus()
}

/// `tanh'(x)` from `t = tanh(x)`: `1 − t²`.
#[inline(always)]
pub fn tanh_slope<T: Arith>(t: T) -> T {
    (t.clone() * t).one_minus()
}

impl<B: Backend> Arith for Tensor<B, 2> {
    fn sigmoid(self) -> Self {
        crate::activation::sigmoid(self)
    }
    fn tanh(self) -> Self {
        crate::activation::tanh(self)
    }
    fn relu(self) -> Self {
        burn::tensor::activation::relu(self)
    }
    fn positive(self) -> Self {
        // In the input's float type (`Bool::float` would give the device's default).
        let above = self.clone().greater_elem(0.0);
        self.zeros_like().mask_fill(above, 1.0)
    }
    fn one_minus(self) -> Self {
        self.neg().add_scalar(1.0)
    }
}

/// The state a cell carries from one step to the next: `h_t` and, for the LSTM, the memory
/// `c_t`. Also the form of their gradients, `(∂L/∂h_t, ∂L/∂c_t)`.
#[derive(Debug, Clone, Copy)]
pub struct State<T> {
    /// The hidden state `h_t`.
    pub hidden: T,
    /// The LSTM memory cell `c_t`; `None` for RNN and GRU.
    pub cell: Option<T>,
}

/// A cell's cache, the activations its backward step needs, as `K` blocks of the same shape:
/// the form the paths store it in between the forward and the backward pass.
pub trait CacheBlocks<T, const K: usize>: Sized {
    /// The blocks, in the order of the cache's fields.
    fn into_blocks(self) -> [T; K];
    /// The cache from [`CacheBlocks::into_blocks`]'s blocks.
    fn from_blocks(blocks: [T; K]) -> Self;
}

/// What one step of BPTT sends back (see [`Cell::backward`]), per gate block.
#[derive(Debug, Clone)]
pub struct StepGrads<T, const G: usize> {
    /// `∂L/∂input_proj_t`, per gate block.
    pub input_proj: [T; G],
    /// `∂L/∂hidden_proj_t` where it differs from `input_proj` (the GRU's `n` block, scaled by
    /// the reset gate); `None` when the two are equal (RNN, LSTM).
    pub hidden_proj: Option<[T; G]>,
    /// `∂L/∂h_{t-1}` through paths other than `hidden_proj` (the GRU's `z ⊙ h_{t-1}`); `None`
    /// when `h_{t-1}` only enters through `hidden_proj`.
    pub hidden: Option<T>,
    /// `∂L/∂c_{t-1}` (LSTM: `f_t ⊙ ∂L/∂c_t`); `None` for cells without memory.
    pub cell: Option<T>,
}

/// One recurrent cell: the rule that turns a step's pre-activations and the previous state into
/// the next state, and its local derivatives. `G` is the number of `hidden`-wide gate blocks in
/// the projections (RNN 1, LSTM 4, GRU 3, in PyTorch's order), `K` the number of cache blocks.
///
/// The layer computes, for each step, `input_proj = x_t W_ih + b_ih` and
/// `hidden_proj = h_{t-1} W_hh + b_hh`, and hands the cell their gate blocks; for training it
/// runs BPTT itself (the masks, directions and matmuls) and asks the cell only for the local
/// derivatives of one step. Everything else lives in [`crate::recurrent::scan`] and
/// [`crate::recurrent::engine`], shared by all cells.
pub trait Cell<const G: usize, const K: usize>: Copy + Send + Sync + 'static {
    /// What [`Cell::forward`] keeps for [`Cell::backward`].
    type Cache<T>: CacheBlocks<T, K>;
    /// Whether the state has an LSTM memory cell `c`.
    const MEMORY: bool = false;
    /// Whether `∂L/∂hidden_proj` differs from `∂L/∂input_proj` (the GRU's reset gate).
    const SPLITS_HIDDEN_GRAD: bool = false;

    /// The next state from the gate blocks of the two projections and the previous state, and
    /// what [`Cell::backward`] needs to differentiate it.
    fn forward<T: Arith>(&self, input_proj: [T; G], hidden_proj: [T; G], prev: State<T>) -> (State<T>, Self::Cache<T>);

    /// One step of BPTT: from `grad = (∂L/∂h_t, ∂L/∂c_t)` (the gradient with respect to the state
    /// this step produced), the step's cache and its previous state, the gradients with respect
    /// to the step's pre-activations and, through direct paths, its previous state.
    fn backward<T: Arith>(&self, cache: Self::Cache<T>, prev: State<T>, grad: State<T>) -> StepGrads<T, G>;
}

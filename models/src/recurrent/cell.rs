//! What a recurrent cell is: a rule that turns pre-activations and the previous state into the
//! next state. Everything else (projections, the time loop, masking, directions, layers) lives
//! in [`super::layer`] and is shared by all cells.

use burn::config::Config;
use burn::tensor::{backend::Backend, Tensor};

use super::kernel::{BackwardRow, ForwardRow, Real, RowCell};
use super::{GruCell, LstmCell, RnnCell};
use crate::Activation;

/// The state a cell carries from one time step to the next.
#[derive(Debug, Clone)]
pub struct CellState<B: Backend> {
    /// The hidden state `h_t`: `[batch, hidden]`.
    pub hidden: Tensor<B, 2>,
    /// The LSTM memory cell `c_t`: `[batch, hidden]`; `None` for RNN and GRU.
    pub cell: Option<Tensor<B, 2>>,
}

impl<B: Backend> CellState<B> {
    /// Per-row choice between `self` (mask 0) and `next` (mask 1):
    /// `self + mask ⊙ (next − self)`, with `mask: [batch, 1]`.
    ///
    /// This is how a padded position leaves a sequence's state untouched.
    pub fn advance_where(self, next: Self, mask: &Tensor<B, 2>) -> Self {
        let blend = |old: Tensor<B, 2>, new: Tensor<B, 2>| old.clone() + (new - old) * mask.clone();
        CellState {
            hidden: blend(self.hidden, next.hidden),
            cell: match (self.cell, next.cell) {
                (Some(old), Some(new)) => Some(blend(old, new)),
                _ => None,
            },
        }
    }
}

/// What a cell's forward step keeps for its backward step: the activations its BPTT formulas
/// need, `[batch, hidden]` each, in an order each cell documents.
#[derive(Debug, Clone)]
pub struct StepCache<B: Backend>(pub Vec<Tensor<B, 2>>);

/// The gradients one step of BPTT sends back (see [`Cell::step_backward`]).
#[derive(Debug, Clone)]
pub struct StepGrads<B: Backend> {
    /// `∂L/∂input_proj_t`: `[batch, gates·hidden]`.
    pub input_proj: Tensor<B, 2>,
    /// `∂L/∂hidden_proj_t` where it differs from `input_proj` (the GRU's `n` block, scaled by
    /// the reset gate); `None` when the two are equal (RNN, LSTM).
    pub hidden_proj: Option<Tensor<B, 2>>,
    /// `∂L/∂h_{t-1}` through paths other than `hidden_proj` (the GRU's `z ⊙ h_{t-1}`); `None`
    /// when `h_{t-1}` only enters through `hidden_proj`.
    pub hidden: Option<Tensor<B, 2>>,
    /// `∂L/∂c_{t-1}` (LSTM: `f_t ⊙ ∂L/∂c_t`); `None` for cells without memory.
    pub cell: Option<Tensor<B, 2>>,
}

/// One recurrent cell.
///
/// The layer computes, for gate blocks of width `hidden` in PyTorch's order,
/// - `input_proj = x_t W_ih + b_ih`: `[batch, gates·hidden]` (for all steps at once), and
/// - `hidden_proj = h_{t-1} W_hh + b_hh`: `[batch, gates·hidden]` (one fused matmul per step),
///
/// and the cell turns them into the next state ([`Cell::step`]). For training, the layer runs
/// backpropagation through time itself ([`super::bptt`]): it asks the cell for the local
/// derivatives of one step ([`Cell::step_backward`]) and does the matmuls.
pub trait Cell {
    /// Number of `hidden`-wide gate blocks in the projections (RNN 1, LSTM 4, GRU 3).
    fn gates(&self) -> usize;
    /// Whether the state has an LSTM memory cell `c`.
    fn has_memory(&self) -> bool {
        false
    }
    /// The next state from the pre-activations and the previous state, and what
    /// [`Cell::step_backward`] needs to differentiate it.
    fn step_cached<B: Backend>(
        &self,
        input_proj: Tensor<B, 2>,
        hidden_proj: Tensor<B, 2>,
        state: &CellState<B>,
    ) -> (CellState<B>, StepCache<B>);
    /// The next state from the pre-activations and the previous state.
    fn step<B: Backend>(&self, input_proj: Tensor<B, 2>, hidden_proj: Tensor<B, 2>, state: &CellState<B>) -> CellState<B> {
        self.step_cached(input_proj, hidden_proj, state).0
    }
    /// One step of BPTT: from `grad = (∂L/∂h_t, ∂L/∂c_t)` (the gradient with respect to the state
    /// this step produced), the step's cache and its previous state, the gradients with respect
    /// to the step's pre-activations and, through direct paths, its previous state.
    fn step_backward<B: Backend>(&self, cache: &StepCache<B>, state: &CellState<B>, grad: CellState<B>) -> StepGrads<B>;
}

/// `σ'(x)` from `s = σ(x)`: `s (1 − s)`.
pub(crate) fn sigmoid_slope<B: Backend>(s: Tensor<B, 2>) -> Tensor<B, 2> {
    s.clone() * s.neg().add_scalar(1.0)
}

/// `tanh'(x)` from `t = tanh(x)`: `1 − t²`.
pub(crate) fn tanh_slope<B: Backend>(t: Tensor<B, 2>) -> Tensor<B, 2> {
    (t.clone() * t).neg().add_scalar(1.0)
}

/// The cell of a [`Recurrent`](super::Recurrent) layer, as named in configs.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Elman RNN `h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)` (PyTorch `nn.RNN`).
    RnnTanh,
    /// Elman RNN with ReLU (PyTorch `nn.RNN(nonlinearity="relu")`).
    RnnRelu,
    /// LSTM, gates `i, f, g, o` (PyTorch `nn.LSTM`).
    Lstm,
    /// GRU, gates `r, z, n`, reset applied after the hidden matmul (PyTorch `nn.GRU`).
    Gru,
}

impl CellKind {
    /// The name used on command lines and in reports: `rnn-tanh`, `rnn-relu`, `lstm`, `gru`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RnnTanh => "rnn-tanh",
            Self::RnnRelu => "rnn-relu",
            Self::Lstm => "lstm",
            Self::Gru => "gru",
        }
    }

    /// Parses [`CellKind::name`] (and `rnn` for `rnn-tanh`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "rnn" | "rnn-tanh" => Some(Self::RnnTanh),
            "rnn-relu" => Some(Self::RnnRelu),
            "lstm" => Some(Self::Lstm),
            "gru" => Some(Self::Gru),
            _ => None,
        }
    }
}

impl Cell for CellKind {
    fn gates(&self) -> usize {
        match self {
            Self::RnnTanh | Self::RnnRelu => 1,
            Self::Lstm => LstmCell.gates(),
            Self::Gru => GruCell.gates(),
        }
    }

    fn has_memory(&self) -> bool {
        matches!(self, Self::Lstm)
    }

    fn step_cached<B: Backend>(
        &self,
        input_proj: Tensor<B, 2>,
        hidden_proj: Tensor<B, 2>,
        state: &CellState<B>,
    ) -> (CellState<B>, StepCache<B>) {
        match self {
            Self::RnnTanh => RnnCell::new(Activation::Tanh).step_cached(input_proj, hidden_proj, state),
            Self::RnnRelu => RnnCell::new(Activation::Relu).step_cached(input_proj, hidden_proj, state),
            Self::Lstm => LstmCell.step_cached(input_proj, hidden_proj, state),
            Self::Gru => GruCell.step_cached(input_proj, hidden_proj, state),
        }
    }

    fn step_backward<B: Backend>(&self, cache: &StepCache<B>, state: &CellState<B>, grad: CellState<B>) -> StepGrads<B> {
        match self {
            Self::RnnTanh => RnnCell::new(Activation::Tanh).step_backward(cache, state, grad),
            Self::RnnRelu => RnnCell::new(Activation::Relu).step_backward(cache, state, grad),
            Self::Lstm => LstmCell.step_backward(cache, state, grad),
            Self::Gru => GruCell.step_backward(cache, state, grad),
        }
    }
}

impl RowCell for CellKind {
    fn cache_blocks(&self) -> usize {
        match self {
            Self::RnnTanh | Self::RnnRelu => RnnCell::new(Activation::Tanh).cache_blocks(),
            Self::Lstm => LstmCell.cache_blocks(),
            Self::Gru => GruCell.cache_blocks(),
        }
    }

    fn splits_hidden_grad(&self) -> bool {
        matches!(self, Self::Gru)
    }

    #[inline(always)]
    fn forward_row<F: Real>(&self, hidden: usize, row: ForwardRow<'_, F>) {
        match self {
            Self::RnnTanh => RnnCell::new(Activation::Tanh).forward_row(hidden, row),
            Self::RnnRelu => RnnCell::new(Activation::Relu).forward_row(hidden, row),
            Self::Lstm => LstmCell.forward_row(hidden, row),
            Self::Gru => GruCell.forward_row(hidden, row),
        }
    }

    #[inline(always)]
    fn backward_row<F: Real>(&self, hidden: usize, row: BackwardRow<'_, F>) {
        match self {
            Self::RnnTanh => RnnCell::new(Activation::Tanh).backward_row(hidden, row),
            Self::RnnRelu => RnnCell::new(Activation::Relu).backward_row(hidden, row),
            Self::Lstm => LstmCell.backward_row(hidden, row),
            Self::Gru => GruCell.backward_row(hidden, row),
        }
    }
}

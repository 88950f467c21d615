//! [`CellKind`], the cell a layer is configured with, and the one place that maps it to a cell
//! type: every path asks it to run a step of the cell it names.

use burn::tensor::{backend::Backend, Tensor};

use super::gru::GruCell;
use super::lstm::LstmCell;
use super::math::Cell;
use super::real::Real;
use super::rnn::{Nonlinearity, RnnCell};
use super::rows::{self, BackwardRow, ForwardRow};
use super::tensors::{self, CellState, StepCache, TensorGrads};

/// The cell of a [`Recurrent`](crate::recurrent::Recurrent) layer, as named in configs; its
/// command-line names (`rnn-tanh` or `rnn`, `rnn-relu`, `lstm`, `gru`) parse with `str::parse`.
///
/// In configs (`model.json`) by variant name (`"Lstm"`), as Burn's `Config` derive wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "kebab-case", ascii_case_insensitive)]
pub enum CellKind {
    /// Elman RNN `h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)` (PyTorch `nn.RNN`).
    #[strum(to_string = "rnn-tanh", serialize = "rnn", serialize = "rnn_tanh")]
    RnnTanh,
    /// Elman RNN with ReLU (PyTorch `nn.RNN(nonlinearity="relu")`).
    #[strum(to_string = "rnn-relu", serialize = "rnn_relu")]
    RnnRelu,
    /// LSTM, gates `i, f, g, o` (PyTorch `nn.LSTM`).
    Lstm,
    /// GRU, gates `r, z, n`, reset applied after the hidden matmul (PyTorch `nn.GRU`).
    Gru,
}

/// Evaluates `$body` with `$cell` bound to the cell `$kind` names (one monomorphised arm per
/// cell type).
macro_rules! with_cell {
    ($kind:expr, $cell:ident => $body:expr) => {
        match $kind {
            CellKind::RnnTanh => {
                let $cell = RnnCell::new(Nonlinearity::Tanh);
                $body
            }
            CellKind::RnnRelu => {
                let $cell = RnnCell::new(Nonlinearity::Relu);
                $body
            }
            CellKind::Lstm => {
                let $cell = LstmCell;
                $body
            }
            CellKind::Gru => {
                let $cell = GruCell;
                $body
            }
        }
    };
}

/// `(G, K, memory, splits)` of a cell type.
fn shape<C: Cell<G, K>, const G: usize, const K: usize>(_: C) -> (usize, usize, bool, bool) {
    (G, K, C::MEMORY, C::SPLITS_HIDDEN_GRAD)
}

impl CellKind {
    /// The name used on command lines and in reports: `rnn-tanh`, `rnn-relu`, `lstm`, `gru`.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// Number of `hidden`-wide gate blocks in the projections (RNN 1, LSTM 4, GRU 3).
    pub fn gates(&self) -> usize {
        with_cell!(self, cell => shape(cell).0)
    }

    /// Width of a step's cache, in multiples of `hidden`.
    pub fn cache_blocks(&self) -> usize {
        with_cell!(self, cell => shape(cell).1)
    }

    /// Whether the state has an LSTM memory cell `c`.
    pub fn has_memory(&self) -> bool {
        with_cell!(self, cell => shape(cell).2)
    }

    /// Whether `∂L/∂hidden_proj` differs from `∂L/∂input_proj` (the GRU's reset gate).
    pub fn splits_hidden_grad(&self) -> bool {
        with_cell!(self, cell => shape(cell).3)
    }

    /// One step on tensors: the next state from `input_proj` and `hidden_proj`
    /// (`[batch, gates·hidden]`) and the previous state, and what [`CellKind::step_backward`]
    /// needs.
    pub fn step<B: Backend>(
        &self,
        input_proj: Tensor<B, 2>,
        hidden_proj: Tensor<B, 2>,
        prev: &CellState<B>,
    ) -> (CellState<B>, StepCache<B>) {
        with_cell!(self, cell => tensors::forward(cell, input_proj, hidden_proj, prev))
    }

    /// One step of BPTT on tensors (see [`Cell::backward`]).
    pub fn step_backward<B: Backend>(
        &self,
        cache: &StepCache<B>,
        prev: &CellState<B>,
        grad: CellState<B>,
    ) -> TensorGrads<B> {
        with_cell!(self, cell => tensors::backward(cell, cache, prev, grad))
    }

    /// One step of one batch row of the CPU kernel, `hidden` elements wide.
    #[inline(always)]
    pub fn forward_row<F: Real>(&self, hidden: usize, row: ForwardRow<'_, F>) {
        with_cell!(self, cell => rows::forward(cell, hidden, row));
    }

    /// The backward step of one batch row of the CPU kernel.
    #[inline(always)]
    pub fn backward_row<F: Real>(&self, hidden: usize, row: BackwardRow<'_, F>) {
        with_cell!(self, cell => rows::backward(cell, hidden, row));
    }
}

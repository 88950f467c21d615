//! What every way of running a layer shares: the layer's inputs ([`LayerInput`], one
//! [`DirectionInput`] per direction), the order in which a direction visits the time steps, and
//! the padding rule.
//!
//! The rule, in every path: a step `t` with `mask_t = 0` (padding) outputs zeros and leaves the
//! state as it was; in BPTT its gradient passes through to the previous state untouched and its
//! own projections get none. The backward direction of a layer visits `T−1 … 0`, so it starts
//! at each sequence's last real token.

use std::sync::Arc;

use burn::tensor::{backend::Backend, module::linear, Tensor};

use super::cell::{CellKind, CellState};
use super::kernel::int8::Int8Direction;

/// One layer of a stack, every direction, ready to run.
#[derive(Debug, Clone)]
pub struct LayerInput<B: Backend> {
    pub cell: CellKind,
    /// The layer's input: `[batch, seq, d_input]`.
    pub input: Tensor<B, 3>,
    /// `[batch, seq]`: 1 at real positions, 0 at padding; `None` when all are real.
    pub mask: Option<Tensor<B, 2>>,
    /// Forward, then (bidirectional) backward.
    pub directions: Vec<DirectionInput<B>>,
    /// The directions' int8 weights when the stack is quantised ([`crate::Recurrent::quantize_int8`]):
    /// the CPU kernel's inference path computes with them, every other path with the f32
    /// weights above (which equal them dequantised).
    pub int8: Option<Arc<[Int8Direction]>>,
}

/// The weights and initial state of one direction of a [`LayerInput`].
#[derive(Debug, Clone)]
pub struct DirectionInput<B: Backend> {
    /// `W_ih`: `[d_input, gates·hidden]`.
    pub weight_ih: Tensor<B, 2>,
    /// `b_ih`: `[gates·hidden]`.
    pub bias_ih: Option<Tensor<B, 1>>,
    /// `W_hh`: `[hidden, gates·hidden]`.
    pub weight_hh: Tensor<B, 2>,
    /// `b_hh`: `[gates·hidden]`.
    pub bias_hh: Option<Tensor<B, 1>>,
    /// `h_0` (and `c_0`): `[batch, hidden]`.
    pub initial: CellState<B>,
    /// Whether the direction runs from the last step to the first.
    pub reverse: bool,
}

/// The time steps `0..seq` in the order a direction's forward pass visits them.
pub fn forward_order(seq: usize, reverse: bool) -> impl Iterator<Item = usize> {
    (0..seq).map(move |step| if reverse { seq - 1 - step } else { step })
}

/// The time steps in the order BPTT visits them: the reverse of [`forward_order`].
pub fn backward_order(seq: usize, reverse: bool) -> impl Iterator<Item = usize> {
    forward_order(seq, !reverse)
}

/// One layer in one direction for the tensor-level paths, the input projection of all steps
/// computed as one matmul.
#[derive(Debug, Clone)]
pub struct ScanInput<B: Backend> {
    pub cell: CellKind,
    /// `x_t W_ih + b_ih` for every step, time-major: `[seq, batch, gates·hidden]`.
    pub input_proj: Tensor<B, 3>,
    /// `W_hh`: `[hidden, gates·hidden]`.
    pub weight_hh: Tensor<B, 2>,
    /// `b_hh`: `[gates·hidden]`.
    pub bias_hh: Option<Tensor<B, 1>>,
    /// Per-step masks `[batch, 1]` (1 real, 0 padding).
    pub masks: Option<Vec<Tensor<B, 2>>>,
    pub initial: CellState<B>,
    pub reverse: bool,
}

impl<B: Backend> LayerInput<B> {
    /// The layer as one [`ScanInput`] per direction (time-major).
    pub fn into_scans(self) -> Vec<ScanInput<B>> {
        let [batch, seq, _] = self.input.dims();
        let time_major = self.input.swap_dims(0, 1);
        let masks: Option<Vec<Tensor<B, 2>>> = self.mask.map(|mask| {
            let mask = mask.transpose(); // [seq, batch]
            (0..seq).map(|t| mask.clone().slice([t..t + 1]).reshape([batch, 1])).collect()
        });
        self.directions
            .into_iter()
            .map(|d| ScanInput {
                cell: self.cell,
                input_proj: linear(time_major.clone(), d.weight_ih, d.bias_ih),
                weight_hh: d.weight_hh,
                bias_hh: d.bias_hh,
                masks: masks.clone(),
                initial: d.initial,
                reverse: d.reverse,
            })
            .collect()
    }
}

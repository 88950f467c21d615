//! A layer as Burn tensor operations, step by step: runs on any backend, and on an autodiff
//! backend every operation of every step is recorded on the tape (Burn differentiates it).
//! [`TensorLoop`] is also the forward pass of the wgpu node ([`super::wgpu`]).

use burn::tensor::{backend::Backend, Tensor};

use crate::recurrent::cell::{CellKind, CellState, StepCache};
use crate::recurrent::scan::{forward_order, LayerInput, ScanInput};
use crate::subnormal::FlushToZero;

/// Runs one layer: every direction's time loop (the two directions on two threads when there is
/// no autodiff tape to share). Returns the outputs `[batch, seq, directions·hidden]` and the
/// final states. `probes[t]`, when given, is added to the new hidden state of step `t` (one
/// direction only; see `Recurrent::forward_probed`).
pub fn run<B: Backend>(layer: LayerInput<B>, probes: Option<&[Tensor<B, 2>]>) -> (Tensor<B, 3>, Vec<CellState<B>>) {
    let device = layer.input.device();
    let scans = layer.into_scans();
    let run = |scan: ScanInput<B>| {
        let width = scan.input_proj.dims()[2];
        let steps = split_steps(scan.input_proj);
        let bias_hh = scan.bias_hh.map(|b| b.reshape([1, width]));
        let (outputs, last) = TensorLoop {
            cell: scan.cell,
            weight_hh: &scan.weight_hh,
            bias_hh: bias_hh.as_ref(),
            masks: scan.masks.as_deref(),
            reverse: scan.reverse,
        }
        .run(steps, scan.initial, probes, None);
        (Tensor::stack(outputs, 0), last)
    };
    // Recording both directions into Burn 0.21's autodiff tape from two threads gave wrong and
    // missing gradients in our tests, so with a tape they run in sequence.
    let results: Vec<(Tensor<B, 3>, CellState<B>)> = if scans.len() == 2 && !B::ad_enabled(&device) {
        let mut scans = scans.into_iter();
        let (forward, backward) = (scans.next().unwrap(), scans.next().unwrap());
        std::thread::scope(|scope| {
            let backward = scope.spawn(|| {
                let _flush = FlushToZero::new();
                run(backward)
            });
            let forward = run(forward);
            vec![forward, backward.join().expect("the backward direction's thread panicked")]
        })
    } else {
        scans.into_iter().map(run).collect()
    };
    let (outputs, finals): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    (Tensor::cat(outputs, 2).swap_dims(0, 1), finals)
}

/// What one step of [`TensorLoop::run`] records for BPTT: the cell's cache and the state it
/// started from.
pub type StepRecord<B> = (StepCache<B>, CellState<B>);

/// The time loop of one layer in one direction, on tensors: one fused hidden matmul and one cell
/// step per position, padded positions leaving the state unchanged.
pub struct TensorLoop<'a, B: Backend> {
    pub cell: CellKind,
    pub weight_hh: &'a Tensor<B, 2>,
    /// `b_hh` as a row: `[1, gates·hidden]`.
    pub bias_hh: Option<&'a Tensor<B, 2>>,
    pub masks: Option<&'a [Tensor<B, 2>]>,
    pub reverse: bool,
}

impl<B: Backend> TensorLoop<'_, B> {
    /// Runs the loop over `steps[t] = input_proj_t` (`[batch, gates·hidden]`, in time order);
    /// returns the outputs `h_t ⊙ mask_t` in time order and the final state. With `record`,
    /// `record[t]` receives step `t`'s cache and previous state.
    pub fn run(
        &self,
        steps: Vec<Tensor<B, 2>>,
        initial: CellState<B>,
        probes: Option<&[Tensor<B, 2>]>,
        mut record: Option<&mut Vec<Option<StepRecord<B>>>>,
    ) -> (Vec<Tensor<B, 2>>, CellState<B>) {
        let seq = steps.len();
        let mut steps: Vec<Option<Tensor<B, 2>>> = steps.into_iter().map(Some).collect();
        let mut state = initial;
        let mut outputs: Vec<Option<Tensor<B, 2>>> = vec![None; seq];
        for t in forward_order(seq, self.reverse) {
            let x_t = steps[t].take().expect("each step's projection is used once");
            let mut h_t = state.hidden.clone().matmul(self.weight_hh.clone());
            if let Some(b) = self.bias_hh {
                h_t = h_t + b.clone();
            }
            let (mut next, cache) = self.cell.step(x_t, h_t, &state);
            if let Some(record) = record.as_deref_mut() {
                record[t] = Some((cache, state.clone()));
            }
            if let Some(probes) = probes {
                next.hidden = next.hidden + probes[t].clone();
            }
            outputs[t] = Some(match self.masks {
                None => {
                    state = next;
                    state.hidden.clone()
                }
                Some(masks) => {
                    let out = next.hidden.clone() * masks[t].clone();
                    state = state.advance_where(next, &masks[t]);
                    out
                }
            });
        }
        (outputs.into_iter().map(|o| o.expect("every step ran")).collect(), state)
    }
}

/// Splits time-major `[seq, batch, width]` into `seq` tensors `[batch, width]` by halving
/// recursively.
///
/// Why not `seq` slices: on an autodiff backend, Burn 0.21's slice backward writes its gradient
/// into a zero tensor of the *whole* input's shape, and the input's gradient is the sum of those
/// tensors, so `seq` slices cost O(seq²) memory traffic in the backward pass. Halving costs
/// O(seq · log seq) and the same number of slices on other backends (where slices are views).
fn split_steps<B: Backend>(input: Tensor<B, 3>) -> Vec<Tensor<B, 2>> {
    let [seq, batch, width] = input.dims();
    if seq == 1 {
        return vec![input.reshape([batch, width])];
    }
    let half = seq / 2;
    let mut steps = split_steps(input.clone().slice([0..half]));
    steps.extend(split_steps(input.slice([half..seq])));
    steps
}

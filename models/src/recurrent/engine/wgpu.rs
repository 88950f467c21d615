//! The layer as one autodiff node per direction on `Autodiff<Wgpu>`: the forward pass is
//! [`TensorLoop`] on the inner backend without a tape, keeping each step's cell cache and previous
//! state; the backward pass is the BPTT of [`super`]'s table, with Burn tensor operations. The
//! input projection stays an ordinary matmul before the loop, so its gradients come from Burn.
//!
//! The node's output is one time-major tensor `[seq + 1 (+ 1), batch, hidden]`: the outputs of
//! every step, then `h_n` (and `c_n`).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Autodiff;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{backend::Backend, Tensor, TensorCreationOptions, TensorPrimitive};

use super::recorded::{StepRecord, TensorLoop};
use crate::recurrent::cell::{CellKind, CellState};
use crate::recurrent::scan::{backward_order, LayerInput, ScanInput};

/// Runs one layer on `Autodiff<X>`, one node per direction. Returns the layer's output
/// `[batch, seq, directions·hidden]` and each direction's final state.
pub fn run<X: Backend>(layer: LayerInput<Ad<X>>) -> (Tensor<Ad<X>, 3>, Vec<CellState<Ad<X>>>) {
    let (outputs, finals): (Vec<_>, Vec<_>) = layer.into_scans().into_iter().map(node).unzip();
    (Tensor::cat(outputs, 2).swap_dims(0, 1), finals)
}

type Ad<X> = Autodiff<X>;
type AdPrimitive<X> = FloatTensor<Ad<X>>;

fn primitive<X: Backend, const D: usize>(t: Tensor<Ad<X>, D>) -> AdPrimitive<X> {
    t.into_primitive().tensor()
}

fn inner<X: Backend, const D: usize>(t: &AdPrimitive<X>) -> Tensor<X, D> {
    Tensor::from_primitive(TensorPrimitive::Float(t.primitive.clone()))
}

fn float_primitive<X: Backend, const D: usize>(t: Tensor<X, D>) -> FloatTensor<X> {
    t.into_primitive().tensor()
}

/// One direction: the loop on the inner backend, one node on the tape. Returns the outputs
/// `[seq, batch, hidden]` and the final state.
fn node<X: Backend>(input: ScanInput<Ad<X>>) -> (Tensor<Ad<X>, 3>, CellState<Ad<X>>) {
    let ScanInput { cell, input_proj, weight_hh, bias_hh, masks, initial, reverse } = input;
    let [seq, batch, width] = input_proj.dims();
    let hidden = width / cell.gates();
    let memory = cell.has_memory();
    let options = TensorCreationOptions::new(input_proj.device()).with_dtype(input_proj.dtype());
    let has_bias = bias_hh.is_some();

    // The node's five parents; absent ones are untracked zeros.
    let input_proj = primitive(input_proj);
    let weight_hh = primitive(weight_hh);
    let bias_hh = primitive(bias_hh.unwrap_or_else(|| Tensor::zeros([width], options.clone())));
    let h0 = primitive(initial.hidden);
    let c0 = primitive(initial.cell.unwrap_or_else(|| Tensor::zeros([batch, hidden], options)));

    let x: Tensor<X, 3> = inner(&input_proj);
    let steps = (0..seq).map(|t| x.clone().slice([t..t + 1]).reshape([batch, width])).collect();
    let w: Tensor<X, 2> = inner(&weight_hh);
    let b: Option<Tensor<X, 2>> = has_bias.then(|| inner::<X, 1>(&bias_hh).reshape([1, width]));
    let masks: Option<Vec<Tensor<X, 2>>> = masks.map(|m| m.into_iter().map(Tensor::inner).collect());
    let start = CellState { hidden: inner(&h0), cell: memory.then(|| inner(&c0)) };

    let prep = Bptt
        .prepare::<NoCheckpointing>([
            input_proj.node.clone(),
            weight_hh.node.clone(),
            bias_hh.node.clone(),
            h0.node.clone(),
            c0.node.clone(),
        ])
        .compute_bound()
        .stateful();
    let mut record = matches!(prep, OpsKind::Tracked(_)).then(|| vec![None; seq]);
    let scan = TensorLoop { cell, weight_hh: &w, bias_hh: b.as_ref(), masks: masks.as_deref(), reverse };
    let (outputs, last) = scan.run(steps, start, None, record.as_mut());

    // One output tensor: the outputs, then h_n (and c_n): `[seq + 1 (+ 1), batch, hidden]`.
    let mut stacked = vec![Tensor::stack(outputs, 0), last.hidden.unsqueeze::<3>()];
    stacked.extend(last.cell.map(|c| c.unsqueeze::<3>()));
    let stacked = float_primitive(Tensor::cat(stacked, 0));
    let out = match prep {
        OpsKind::Tracked(prep) => {
            let steps =
                record.expect("recorded when tracked").into_iter().map(|r| r.expect("every step ran")).collect();
            prep.finish(BpttState { cell, steps, masks, weight_hh: w, has_bias, reverse }, stacked)
        }
        OpsKind::UnTracked(prep) => prep.finish(stacked),
    };
    let out: Tensor<Ad<X>, 3> = Tensor::from_primitive(TensorPrimitive::Float(out));
    let pick = |t: usize| out.clone().slice([t..t + 1]).reshape([batch, hidden]);
    let last = CellState { hidden: pick(seq), cell: memory.then(|| pick(seq + 1)) };
    (out.slice([0..seq]), last)
}

/// The BPTT node of one layer in one direction; parents: input projection, `W_hh`, `b_hh`,
/// `h_0`, `c_0`.
#[derive(Debug)]
struct Bptt;

/// What the backward pass keeps from the forward pass.
#[derive(Debug, Clone)]
struct BpttState<X: Backend> {
    cell: CellKind,
    /// Per time step (in time order): the cell's cache and the state before the step.
    steps: Vec<StepRecord<X>>,
    masks: Option<Vec<Tensor<X, 2>>>,
    weight_hh: Tensor<X, 2>,
    has_bias: bool,
    reverse: bool,
}

/// Gradients with respect to the node's parents.
struct BpttGrads<X: Backend> {
    input_proj: Tensor<X, 3>,
    weight_hh: Tensor<X, 2>,
    bias_hh: Option<Tensor<X, 1>>,
    initial: CellState<X>,
}

impl<X: Backend> BpttState<X> {
    /// BPTT from the gradient of the node's output `[seq + 1 (+ 1), batch, hidden]`.
    fn backward(self, grad: Tensor<X, 3>) -> BpttGrads<X> {
        let seq = self.steps.len();
        let [_, batch, hidden] = grad.dims();
        let pick = |t: usize| grad.clone().slice([t..t + 1]).reshape([batch, hidden]);
        let mut carry = CellState { hidden: pick(seq), cell: self.cell.has_memory().then(|| pick(seq + 1)) };
        // `W_hhᵀ` materialised once: a transposed view would be copied by every step's matmul.
        let [rows, cols] = self.weight_hh.dims();
        let weight_hh_t = self.weight_hh.clone().transpose().reshape([cols, rows]);

        let mut d_input_proj: Vec<Option<Tensor<X, 2>>> = vec![None; seq];
        let mut d_hidden_proj: Vec<Option<Tensor<X, 2>>> = vec![None; seq];
        for t in backward_order(seq, self.reverse) {
            let (cache, previous) = &self.steps[t];
            let from_step = CellState { hidden: carry.hidden.clone() + pick(t), cell: carry.cell.clone() };
            // A padded step did not change the state: its gradient passes through untouched.
            let (into_step, passed) = match &self.masks {
                None => (from_step, None),
                Some(masks) => {
                    let mask = masks[t].clone();
                    let keep = mask.clone().neg().add_scalar(1.0);
                    let scale = |g: Tensor<X, 2>, m: &Tensor<X, 2>| g * m.clone();
                    let into = CellState {
                        hidden: scale(from_step.hidden, &mask),
                        cell: from_step.cell.map(|c| scale(c, &mask)),
                    };
                    let passed =
                        CellState { hidden: scale(carry.hidden, &keep), cell: carry.cell.map(|c| scale(c, &keep)) };
                    (into, Some(passed))
                }
            };
            let grads = self.cell.step_backward(cache, previous, into_step);
            // Kept apart only where the two differ (GRU); else one tensor serves both.
            let (d_hp, d_ip) = match grads.hidden_proj {
                Some(d_hp) => (d_hp, Some(grads.input_proj)),
                None => (grads.input_proj, None),
            };
            let mut d_h = d_hp.clone().matmul(weight_hh_t.clone());
            if let Some(direct) = grads.hidden {
                d_h = d_h + direct;
            }
            let mut d_c = grads.cell;
            if let Some(passed) = passed {
                d_h = d_h + passed.hidden;
                d_c = d_c.zip(passed.cell).map(|(a, b)| a + b);
            }
            carry = CellState { hidden: d_h, cell: d_c };
            d_input_proj[t] = d_ip;
            d_hidden_proj[t] = Some(d_hp);
        }

        let all = |v: Vec<Option<Tensor<X, 2>>>| v.into_iter().map(|g| g.expect("every step ran")).collect::<Vec<_>>();
        let d_hidden_proj = Tensor::cat(all(d_hidden_proj), 0); // [seq·batch, width]
        let width = d_hidden_proj.dims()[1];
        let d_input_proj = match d_input_proj.iter().all(Option::is_none) {
            true => d_hidden_proj.clone().reshape([seq, batch, width]),
            false => Tensor::stack(all(d_input_proj), 0),
        };
        let previous_h = Tensor::cat(self.steps.into_iter().map(|(_, s)| s.hidden).collect(), 0); // [seq·batch, hidden]
        BpttGrads {
            input_proj: d_input_proj,
            weight_hh: previous_h.transpose().matmul(d_hidden_proj.clone()),
            bias_hh: self.has_bias.then(|| d_hidden_proj.sum_dim(0).squeeze_dim(0)),
            initial: carry,
        }
    }
}

impl<X: Backend> Backward<X, 5> for Bptt {
    type State = BpttState<X>;

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad: Tensor<X, 3> = Tensor::from_primitive(TensorPrimitive::Float(grads.consume::<X>(&ops.node)));
        let result = ops.state.backward(grad);
        let [input_proj, weight_hh, bias_hh, h0, c0] = ops.parents;
        let values = [
            Some(float_primitive(result.input_proj)),
            Some(float_primitive(result.weight_hh)),
            result.bias_hh.map(float_primitive),
            Some(float_primitive(result.initial.hidden)),
            result.initial.cell.map(float_primitive),
        ];
        for (node, value) in [input_proj, weight_hh, bias_hh, h0, c0].into_iter().zip(values) {
            if let (Some(node), Some(value)) = (node, value) {
                grads.register::<X>(node.id, value);
            }
        }
    }
}

//! Backpropagation through time as one autodiff operation, and the choice of path per backend.
//!
//! Recorded step by step, a recurrent layer puts a dozen graph nodes per time step on Burn's
//! autodiff tape (the hidden matmul, the bias, the gate slices, every activation and product,
//! the padding blend), and its backward pass pays for each of them: bookkeeping, zero-filled
//! slice gradients, and one small `[hidden, batch] × [batch, gates·hidden]` weight-gradient
//! matmul per step. Here the forward loop runs on the inner backend without a tape, keeping
//! each step's cell cache ([`Cell::step_cached`]), and the backward pass is the course's BPTT
//! written out:
//!
//! ```text
//! for t = T … 1 (in the direction's reverse order):
//!     ∂state_t   = mask_t ⊙ (∂L/∂state_t + ∂L/∂out_t)            (what step t produced)
//!     ∂a_t, ∂hp_t, direct ∂state_{t-1}  =  cell.step_backward(∂state_t)
//!     ∂h_{t-1}   = ∂hp_t W_hhᵀ + direct + (1 − mask_t) ⊙ ∂L/∂h_t  (padding passes through)
//! ∂input_proj = [∂a_1 … ∂a_T]          ∂W_hh = Σ_t h_{t-1}ᵀ ∂hp_t  (one matmul over all steps)
//! ∂b_hh = Σ_t Σ_batch ∂hp_t             ∂h_0, ∂c_0 = what is left after step 1
//! ```
//!
//! Two implementations: on ndarray, the CPU kernel ([`super::kernel`], wired in by
//! `super::cpu`) runs this on flat buffers, input projections included, one node per layer;
//! on `Autodiff<Wgpu>`, the node in this file runs it with Burn tensor operations, one node per
//! layer and direction (the input projection stays an ordinary matmul before the loop, so its
//! gradients come from Burn). The results equal the step-by-step graph's to rounding; the
//! PyTorch-parity, finite-difference and padding tests run through these paths.
//!
//! Burn 0.21 has no way for code generic over `B: Backend` to reach the autodiff tape of an
//! unknown backend, so the layers ask `scan_layer`, which recognises the backends listed in
//! it by type (`NdArray<f32|f64>` and their `Autodiff` with the `ndarray` feature,
//! `Autodiff<Wgpu>` with `wgpu`; [`is_fused`] tells which autodiff backends get one node); any
//! other backend records the loop step by step, with the same results.

// The tensor-level node below serves wgpu only (ndarray has the CPU kernel).
#![cfg_attr(not(feature = "wgpu"), allow(dead_code))]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Autodiff;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{backend::Backend, Tensor, TensorCreationOptions, TensorPrimitive};

use super::layer::{LayerInput, Scan, ScanInput, StepRecord};
use crate::flat::cast;
use super::{Cell, CellKind, CellState};

/// Whether the recurrent layers run BPTT as one autodiff node per layer (and direction) on
/// backend `B` (else they record every time step, with the same results).
pub fn is_fused<B: Backend>() -> bool {
    known::<B>().is_some_and(|k| k.autodiff())
}

/// The backends with a dedicated path.
enum Known {
    /// `Autodiff<NdArray<f32>>`: the CPU kernel, one node per layer ([`super::cpu`]).
    #[cfg(feature = "ndarray")]
    NdArrayF32,
    /// `Autodiff<NdArray<f64>>`: the same, in f64.
    #[cfg(feature = "ndarray")]
    NdArrayF64,
    /// `NdArray<f32>` (inference): the CPU kernel's forward pass.
    #[cfg(feature = "ndarray")]
    PlainNdArrayF32,
    /// `NdArray<f64>` (inference).
    #[cfg(feature = "ndarray")]
    PlainNdArrayF64,
    /// `Autodiff<Wgpu>`: the tensor-level loop of this module, one node per layer and direction.
    #[cfg(feature = "wgpu")]
    Wgpu,
}

impl Known {
    fn autodiff(&self) -> bool {
        match self {
            #[cfg(feature = "ndarray")]
            Self::NdArrayF32 | Self::NdArrayF64 => true,
            #[cfg(feature = "ndarray")]
            Self::PlainNdArrayF32 | Self::PlainNdArrayF64 => false,
            #[cfg(feature = "wgpu")]
            Self::Wgpu => true,
        }
    }
}

/// Which known backend `B` is, if any.
fn known<B: Backend>() -> Option<Known> {
    #[allow(unused_variables)] // with no backend feature, no backend is known
    let is = |id: std::any::TypeId| std::any::TypeId::of::<B>() == id;
    #[cfg(feature = "ndarray")]
    {
        use burn::backend::NdArray;
        use std::any::TypeId;
        for (id, known) in [
            (TypeId::of::<Autodiff<NdArray<f32>>>(), Known::NdArrayF32),
            (TypeId::of::<Autodiff<NdArray<f64>>>(), Known::NdArrayF64),
            (TypeId::of::<NdArray<f32>>(), Known::PlainNdArrayF32),
            (TypeId::of::<NdArray<f64>>(), Known::PlainNdArrayF64),
        ] {
            if is(id) {
                return Some(known);
            }
        }
    }
    #[cfg(feature = "wgpu")]
    if is(std::any::TypeId::of::<Autodiff<burn::backend::Wgpu>>()) {
        return Some(Known::Wgpu);
    }
    None
}

/// Runs one layer (all its directions) on a backend with a dedicated path; gives the input
/// back otherwise. Returns the layer's output `[batch, seq, directions·hidden]` (directions
/// side by side) and each direction's final state.
pub(crate) fn scan_layer<B: Backend>(layer: LayerInput<B>) -> Result<(Tensor<B, 3>, Vec<CellState<B>>), LayerInput<B>> {
    #[cfg(feature = "ndarray")]
    use super::cpu;
    #[cfg(feature = "ndarray")]
    use burn::backend::NdArray;
    match known::<B>() {
        #[cfg(feature = "ndarray")]
        Some(Known::NdArrayF32) if cpu::accepts::<f32, B>(&layer) => Ok(cast(cpu::autodiff::<NdArray<f32>, f32>(cast(layer)))),
        #[cfg(feature = "ndarray")]
        Some(Known::NdArrayF64) if cpu::accepts::<f64, B>(&layer) => Ok(cast(cpu::autodiff::<NdArray<f64>, f64>(cast(layer)))),
        #[cfg(feature = "ndarray")]
        Some(Known::PlainNdArrayF32) if cpu::accepts::<f32, B>(&layer) => Ok(cast(cpu::plain::<NdArray<f32>, f32>(cast(layer)))),
        #[cfg(feature = "ndarray")]
        Some(Known::PlainNdArrayF64) if cpu::accepts::<f64, B>(&layer) => Ok(cast(cpu::plain::<NdArray<f64>, f64>(cast(layer)))),
        #[cfg(feature = "wgpu")]
        Some(Known::Wgpu) => {
            let (outputs, finals): (Vec<_>, Vec<_>) = layer
                .into_scans()
                .into_iter()
                .map(|scan| fused::<burn::backend::Wgpu>(cast(scan)))
                .map(|(out, last)| (cast::<_, Tensor<B, 3>>(out), cast::<_, CellState<B>>(last)))
                .unzip();
            Ok((Tensor::cat(outputs, 2).swap_dims(0, 1), finals))
        }
        _ => Err(layer),
    }
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

/// The forward pass: the loop on the inner backend, one node on the tape.
fn fused<X: Backend>(input: ScanInput<Ad<X>>) -> (Tensor<Ad<X>, 3>, CellState<Ad<X>>) {
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
    let scan = Scan { cell, weight_hh: &w, bias_hh: b.as_ref(), masks: masks.as_deref(), reverse };
    let (outputs, last) = scan.run(steps, start, None, record.as_mut());

    // One output tensor: the outputs, then h_n (and c_n): `[seq + 1 (+ 1), batch, hidden]`.
    let mut packed = vec![Tensor::stack(outputs, 0), last.hidden.unsqueeze::<3>()];
    packed.extend(last.cell.map(|c| c.unsqueeze::<3>()));
    let packed = float_primitive(Tensor::cat(packed, 0));
    let out = match prep {
        OpsKind::Tracked(prep) => {
            let steps = record.expect("recorded when tracked").into_iter().map(|r| r.expect("every step ran")).collect();
            prep.finish(BpttState { cell, steps, masks, weight_hh: w, has_bias, reverse }, packed)
        }
        OpsKind::UnTracked(prep) => prep.finish(packed),
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
    /// BPTT from the gradient of the packed output `[seq + 1 (+ 1), batch, hidden]`.
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
        for step in 0..seq {
            // The forward loop's order, reversed.
            let t = if self.reverse { step } else { seq - 1 - step };
            let (cache, previous) = &self.steps[t];
            let from_step = CellState { hidden: carry.hidden.clone() + pick(t), cell: carry.cell.clone() };
            // A padded step did not change the state: its gradient passes through untouched.
            let (into_step, passed) = match &self.masks {
                None => (from_step, None),
                Some(masks) => {
                    let mask = masks[t].clone();
                    let keep = mask.clone().neg().add_scalar(1.0);
                    let scale = |g: Tensor<X, 2>, m: &Tensor<X, 2>| g * m.clone();
                    let into =
                        CellState { hidden: scale(from_step.hidden, &mask), cell: from_step.cell.map(|c| scale(c, &mask)) };
                    let passed = CellState { hidden: scale(carry.hidden, &keep), cell: carry.cell.map(|c| scale(c, &keep)) };
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
            Some(result.input_proj).map(float_primitive),
            Some(result.weight_hh).map(float_primitive),
            result.bias_hh.map(float_primitive),
            Some(result.initial.hidden).map(float_primitive),
            result.initial.cell.map(float_primitive),
        ];
        for (node, value) in [input_proj, weight_hh, bias_hh, h0, c0].into_iter().zip(values) {
            if let (Some(node), Some(value)) = (node, value) {
                grads.register::<X>(node.id, value);
            }
        }
    }
}

//! The CPU kernel ([`crate::recurrent::kernel`]) wired into Burn's ndarray backend: tensors become flat
//! buffers and back, and on `Autodiff<NdArray>` the kernel's BPTT is one autodiff node per
//! layer (all its directions, input projections included). Its parents: the layer's input,
//! then per direction `W_ih, b_ih, W_hh, b_hh, h_0, c_0`.
//!
//! [`super::run_layer`] decides when this path runs.

use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::Autodiff;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{backend::Backend, Element, Tensor, TensorPrimitive};

use crate::flat::{self, Values};
use crate::recurrent::cell::{CellKind, CellState, Real};
use crate::recurrent::kernel::{Direction, Int8Direction, Layer, LayerGrads, Tape};
use crate::recurrent::scan::{DirectionInput, LayerInput};

/// The float types the kernel runs in, each with its fastest passes: `f32` ([`Layer::forward_packed`],
/// [`Layer::backward_packed`]) and `f64` (the generic ones).
pub(crate) trait KernelFloat: Real + Element {
    fn forward(layer: &Layer<Self>, cell: CellKind, record: bool) -> (Vec<Self>, Option<Tape<Self>>) {
        layer.forward(cell, record)
    }

    fn backward(layer: &Layer<Self>, cell: CellKind, tape: &Tape<Self>, grad: &[Self]) -> LayerGrads<Self> {
        layer.backward(cell, tape, grad)
    }
}

impl KernelFloat for f32 {
    fn forward(layer: &Layer<Self>, cell: CellKind, record: bool) -> (Vec<Self>, Option<Tape<Self>>) {
        layer.forward_packed(cell, record)
    }

    fn backward(layer: &Layer<Self>, cell: CellKind, tape: &Tape<Self>, grad: &[Self]) -> LayerGrads<Self> {
        layer.backward_packed(cell, tape, grad)
    }
}

impl KernelFloat for f64 {}

type Ad<X> = Autodiff<X>;

/// Parents of the node per direction: `W_ih, b_ih, W_hh, b_hh, h_0, c_0`.
const PER_DIRECTION: usize = 6;

/// Whether the kernel can take this layer: its float type must be `F` (an ndarray tensor may
/// hold another float type than its backend's default).
pub(crate) fn accepts<F: KernelFloat, B: Backend>(layer: &LayerInput<B>) -> bool {
    layer.input.dtype() == F::dtype() && layer.directions.iter().all(|d| d.weight_hh.dtype() == F::dtype())
}

/// One layer without autodiff (inference): the kernel's forward pass.
pub(crate) fn plain<X: Backend, F: KernelFloat>(layer: LayerInput<X>) -> (Tensor<X, 3>, Vec<CellState<X>>) {
    let (cell, device) = (layer.cell, layer.input.device());
    let layer = layer_of::<X, F>(layer, true);
    let (packed, _) = F::forward(&layer, cell, false);
    unpack_values::<X, F>(packed, Dims::of(&layer), cell, &device)
}

/// One layer of a quantised stack without autodiff: the kernel's forward pass with int8 weights.
pub(crate) fn plain_int8<X: Backend>(
    layer: LayerInput<X>,
    int8: &[Int8Direction],
) -> (Tensor<X, 3>, Vec<CellState<X>>) {
    let (cell, device) = (layer.cell, layer.input.device());
    let layer = layer_of::<X, f32>(layer, false);
    let packed = layer.forward_int8(cell, int8);
    unpack_values::<X, f32>(packed, Dims::of(&layer), cell, &device)
}

/// One layer on `Autodiff<X>`: the kernel's forward pass, recorded as one node whose backward
/// pass is the kernel's BPTT.
pub(crate) fn autodiff<X: Backend, F: KernelFloat>(
    layer: LayerInput<Ad<X>>,
) -> (Tensor<Ad<X>, 3>, Vec<CellState<Ad<X>>>) {
    let (cell, device) = (layer.cell, layer.input.device());
    let directions = layer.directions.len();
    let present: Vec<[bool; PER_DIRECTION]> = layer
        .directions
        .iter()
        .map(|d| [true, d.bias_ih.is_some(), true, d.bias_hh.is_some(), true, d.initial.cell.is_some()])
        .collect();

    // Each tensor's data moves out of its autodiff wrapper into the kernel's input; the wrapper
    // keeps its graph node and becomes a parent of the node. Absent tensors (no bias, no memory)
    // are untracked zeros.
    let mut parents: Vec<FloatTensor<Ad<X>>> = Vec::with_capacity(1 + PER_DIRECTION * directions);
    let untracked = || tensor::<Ad<X>, F, 1>(vec![F::ZERO], [1], &device).into_primitive().tensor();
    let mut take = |t: Option<FloatTensor<Ad<X>>>| -> Option<TensorPrimitive<X>> {
        let present = t.is_some();
        let mut wrapper = t.unwrap_or_else(untracked);
        let data = std::mem::replace(&mut wrapper.primitive, primitive::<X, F, 1>(vec![F::ZERO], [1], &device));
        parents.push(wrapper);
        present.then_some(TensorPrimitive::Float(data))
    };
    let float = |t: Tensor<Ad<X>, 2>| Some(t.into_primitive().tensor());
    let input = Tensor::<X, 3>::from_primitive(take(Some(layer.input.into_primitive().tensor())).expect("given"));
    let mut inner_directions = Vec::with_capacity(directions);
    for d in layer.directions {
        let weight_ih = Tensor::<X, 2>::from_primitive(take(float(d.weight_ih)).expect("given"));
        let bias_ih = take(d.bias_ih.map(|b| b.into_primitive().tensor())).map(Tensor::<X, 1>::from_primitive);
        let weight_hh = Tensor::<X, 2>::from_primitive(take(float(d.weight_hh)).expect("given"));
        let bias_hh = take(d.bias_hh.map(|b| b.into_primitive().tensor())).map(Tensor::<X, 1>::from_primitive);
        let hidden = Tensor::<X, 2>::from_primitive(take(float(d.initial.hidden)).expect("given"));
        let cell_state = take(d.initial.cell.and_then(float)).map(Tensor::<X, 2>::from_primitive);
        inner_directions.push(DirectionInput {
            weight_ih,
            bias_ih,
            weight_hh,
            bias_hh,
            initial: CellState { hidden, cell: cell_state },
            reverse: d.reverse,
        });
    }
    let inner =
        LayerInput { cell, input, mask: layer.mask.map(Tensor::inner), directions: inner_directions, int8: None };
    let layer = layer_of::<X, F>(inner, true);
    let dims = Dims::of(&layer);
    let shape = [layer.packed_len(cell.has_memory())];
    let state = KernelState { cell, layer, tape: None, present, device };
    let packed = match directions {
        1 => record::<X, F, { 1 + PER_DIRECTION }>(parents, state, shape),
        2 => record::<X, F, { 1 + 2 * PER_DIRECTION }>(parents, state, shape),
        n => unreachable!("a layer has one or two directions, not {n}"),
    };
    unpack::<X, F>(&packed, dims, cell)
}

/// Runs the forward pass under a node with `N` parents.
fn record<X: Backend, F: KernelFloat, const N: usize>(
    parents: Vec<FloatTensor<Ad<X>>>,
    mut state: KernelState<X, F>,
    shape: [usize; 1],
) -> FloatTensor<Ad<X>> {
    let nodes: Vec<_> = parents.iter().map(|p| p.node.clone()).collect();
    let nodes: [_; N] = nodes.try_into().unwrap_or_else(|_| unreachable!("one input and six parents per direction"));
    match KernelBptt::<X, F>(PhantomData).prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (packed, tape) = F::forward(&state.layer, state.cell, true);
            state.tape = tape;
            let out = primitive::<X, F, 1>(packed, shape, &state.device);
            prep.finish(Arc::new(state), out)
        }
        OpsKind::UnTracked(prep) => {
            let (packed, _) = F::forward(&state.layer, state.cell, false);
            prep.finish(primitive::<X, F, 1>(packed, shape, &state.device))
        }
    }
}

/// The kernel's BPTT node.
#[derive(Debug)]
struct KernelBptt<X, F>(PhantomData<(X, F)>);

/// What the backward pass keeps: the layer (input, weights, masks) and the tape.
#[derive(Debug)]
struct KernelState<X: Backend, F: Send + 'static> {
    cell: CellKind,
    layer: Layer<F>,
    tape: Option<Tape<F>>,
    /// Per direction, which of `W_ih, b_ih, W_hh, b_hh, h_0, c_0` the layer has.
    present: Vec<[bool; PER_DIRECTION]>,
    device: X::Device,
}

impl<X: Backend, F: KernelFloat, const N: usize> Backward<X, N> for KernelBptt<X, F> {
    type State = Arc<KernelState<X, F>>;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad: Tensor<X, 1> = Tensor::from_primitive(TensorPrimitive::Float(grads.consume::<X>(&ops.node)));
        let state = &ops.state;
        let tape = state.tape.as_ref().expect("a tracked node has a tape");
        let (layer, device) = (&state.layer, &state.device);
        let (batch, seq, d_in, hidden) = (layer.batch, layer.seq, layer.d_input, layer.hidden);
        let width = state.cell.gates() * hidden;
        let result = F::backward(layer, state.cell, tape, &to_vec::<X, F, 1>(grad));

        let mut values: Vec<Option<FloatTensor<X>>> =
            vec![Some(primitive::<X, F, 3>(result.input, [batch, seq, d_in], device))];
        for (g, present) in result.directions.into_iter().zip(&state.present) {
            let [_, has_bias_ih, _, has_bias_hh, _, has_c0] = *present;
            values.push(Some(primitive::<X, F, 2>(g.weight_ih, [d_in, width], device)));
            values.push(has_bias_ih.then(|| primitive::<X, F, 1>(g.bias_ih, [width], device)));
            values.push(Some(primitive::<X, F, 2>(g.weight_hh, [hidden, width], device)));
            values.push(has_bias_hh.then(|| primitive::<X, F, 1>(g.bias_hh, [width], device)));
            values.push(Some(primitive::<X, F, 2>(g.h0, [batch, hidden], device)));
            values
                .push((has_c0 && state.cell.has_memory()).then(|| primitive::<X, F, 2>(g.c0, [batch, hidden], device)));
        }
        for (parent, value) in ops.parents.iter().zip(values) {
            if let (Some(node), Some(value)) = (parent, value) {
                grads.register::<X>(node.id, value);
            }
        }
    }
}

/// The kernel's view of one layer: the tensors as flat buffers, the weights read in place
/// (without `W_ih` and `W_hh`, left empty, unless `weights`: the int8 path has its own).
fn layer_of<X: Backend, F: KernelFloat>(layer: LayerInput<X>, weights: bool) -> Layer<F> {
    let [batch, seq, d_input] = layer.input.dims();
    let hidden = layer.directions[0].weight_hh.dims()[0];
    let memory = layer.cell.has_memory();
    let directions = layer
        .directions
        .into_iter()
        .map(|d| {
            let c0 = match (d.initial.cell, memory) {
                (Some(c), true) => Some(to_vec::<X, F, 2>(c)),
                (None, true) => Some(vec![F::ZERO; batch * hidden]),
                (_, false) => None,
            };
            Direction {
                weight_ih: if weights { flat::values::<X, F, 2>(d.weight_ih) } else { Values::default() },
                bias_ih: d.bias_ih.map(to_vec::<X, F, 1>),
                weight_hh: if weights { flat::values::<X, F, 2>(d.weight_hh) } else { Values::default() },
                bias_hh: d.bias_hh.map(to_vec::<X, F, 1>),
                h0: to_vec::<X, F, 2>(d.initial.hidden),
                c0,
                reverse: d.reverse,
            }
        })
        .collect();
    Layer {
        batch,
        seq,
        d_input,
        hidden,
        input: to_vec::<X, F, 3>(layer.input),
        masks: layer.mask.map(to_vec::<X, F, 2>),
        directions,
    }
}

/// The sizes [`unpack`] needs.
#[derive(Debug, Clone, Copy)]
struct Dims {
    batch: usize,
    seq: usize,
    hidden: usize,
    directions: usize,
}

impl Dims {
    fn of<F>(layer: &Layer<F>) -> Self {
        Self { batch: layer.batch, seq: layer.seq, hidden: layer.hidden, directions: layer.directions.len() }
    }

    /// Each direction's final state, `pick` making a `[batch, hidden]` tensor of a range of the
    /// packed output's finals (`h_n` of every direction, then `c_n`; counted from the finals'
    /// start).
    fn final_states<B: Backend>(
        self,
        cell: CellKind,
        pick: impl Fn(Range<usize>) -> Tensor<B, 2>,
    ) -> Vec<CellState<B>> {
        let state = self.batch * self.hidden;
        let at = |index: usize| pick(index * state..(index + 1) * state);
        (0..self.directions)
            .map(|d| CellState { hidden: at(d), cell: cell.has_memory().then(|| at(self.directions + d)) })
            .collect()
    }
}

/// Splits the node's packed output (see [`Layer::packed_len`]) into the layer's output
/// `[batch, seq, directions·hidden]` and each direction's final state, each a [`Pick`].
fn unpack<X: Backend, F: KernelFloat>(
    packed: &FloatTensor<Ad<X>>,
    dims: Dims,
    cell: CellKind,
) -> (Tensor<Ad<X>, 3>, Vec<CellState<Ad<X>>>) {
    let Dims { batch, seq, hidden, directions } = dims;
    let outputs = batch * seq * directions * hidden;
    let finals = dims.final_states(cell, |values| {
        pick::<X, F, 2>(packed, outputs + values.start..outputs + values.end, [batch, hidden])
    });
    (pick::<X, F, 3>(packed, 0..outputs, [batch, seq, directions * hidden]), finals)
}

/// Values `range` of the packed output as a tensor of `shape`, recorded as a [`Pick`] node.
fn pick<X: Backend, F: KernelFloat, const D: usize>(
    packed: &FloatTensor<Ad<X>>,
    range: Range<usize>,
    shape: [usize; D],
) -> Tensor<Ad<X>, D> {
    let whole = Tensor::<X, 1>::from_primitive(TensorPrimitive::Float(packed.primitive.clone()));
    let (len, device) = (whole.dims()[0], whole.device());
    let part = whole.slice([range.clone()]).reshape(shape).into_primitive().tensor();
    let out =
        match Pick::<F, D>(PhantomData).prepare::<NoCheckpointing>([packed.node.clone()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(PickState { range, len, device }, part),
            OpsKind::UnTracked(prep) => prep.finish(part),
        };
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

/// A part of the packed output, as a node whose backward pass puts the part's gradient into a
/// zeroed buffer of the packed length: Burn's `slice` makes that buffer's zeros one element at a
/// time (`TensorData::full`), for half a million values per layer and step.
#[derive(Debug)]
struct Pick<F, const D: usize>(PhantomData<F>);

/// Where a [`Pick`] lies in the packed output.
#[derive(Debug, Clone)]
struct PickState<Device> {
    range: Range<usize>,
    /// The packed output's length.
    len: usize,
    device: Device,
}

impl<X: Backend, F: KernelFloat, const D: usize> Backward<X, 1> for Pick<F, D> {
    type State = PickState<X::Device>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<X>(&ops.node);
        let [Some(parent)] = ops.parents else { return };
        let PickState { range, len, device } = ops.state;
        let mut whole = vec![F::ZERO; len];
        whole[range].copy_from_slice(&to_vec::<X, F, D>(Tensor::from_primitive(TensorPrimitive::Float(grad))));
        grads.register::<X>(parent.id, primitive::<X, F, 1>(whole, [len], &device));
    }
}

/// [`unpack`] on the packed values of a pass without autodiff: the outputs, which come first,
/// become the output tensor without a copy (a slice of a tensor would be copied when reshaped).
fn unpack_values<X: Backend, F: KernelFloat>(
    mut packed: Vec<F>,
    dims: Dims,
    cell: CellKind,
    device: &X::Device,
) -> (Tensor<X, 3>, Vec<CellState<X>>) {
    let Dims { batch, seq, hidden, directions } = dims;
    let finals = packed.split_off(batch * seq * directions * hidden);
    let states = dims.final_states(cell, |values| tensor::<X, F, 2>(finals[values].to_vec(), [batch, hidden], device));
    (tensor::<X, F, 3>(packed, [batch, seq, directions * hidden], device), states)
}

fn to_vec<X: Backend, F: KernelFloat, const D: usize>(t: Tensor<X, D>) -> Vec<F> {
    flat::to_vec::<X, F, D>(t)
}

fn tensor<X: Backend, F: KernelFloat, const D: usize>(
    values: Vec<F>,
    shape: [usize; D],
    device: &X::Device,
) -> Tensor<X, D> {
    flat::from_vec::<X, F, D>(values, shape, device)
}

fn primitive<X: Backend, F: KernelFloat, const D: usize>(
    values: Vec<F>,
    shape: [usize; D],
    device: &X::Device,
) -> FloatTensor<X> {
    tensor::<X, F, D>(values, shape, device).into_primitive().tensor()
}

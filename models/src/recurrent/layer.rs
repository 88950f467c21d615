//! The public recurrent layer stack: its config, parameters and outputs, and the loop over
//! layers (inter-layer dropout, initial and final states in PyTorch's shapes). Each layer is run
//! by [`super::engine::run_layer`].

use std::sync::Arc;

use burn::config::Config;
use burn::module::{Initializer, Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{backend::Backend, Int, Tensor, TensorCreationOptions, TensorData};

use super::cell::{CellKind, CellState};
use super::engine;
use super::kernel::int8::Int8Matrix;
use super::kernel::Int8Direction;
use super::scan::{DirectionInput, LayerInput};
use crate::mask::length_mask;

/// Configuration of a [`Recurrent`] layer stack.
///
/// ```rust,ignore
/// let lstm = RecurrentConfig::new(CellKind::Lstm, 100, 200)
///     .with_num_layers(2)
///     .with_bidirectional(true)
///     .with_dropout(0.3)
///     .init::<B>(&device);
/// ```
#[derive(Config, Debug)]
pub struct RecurrentConfig {
    /// The cell: Elman RNN (tanh or ReLU), LSTM or GRU.
    pub cell: CellKind,
    /// Size of the input features.
    pub d_input: usize,
    /// Size of the hidden state, per direction.
    pub d_hidden: usize,
    /// Number of stacked layers; layer `l > 0` reads the outputs of layer `l − 1`.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Whether every layer also runs right-to-left; outputs are then `[.., 2·hidden]`.
    #[config(default = false)]
    pub bidirectional: bool,
    /// Dropout on the outputs of every layer except the last (training only), as PyTorch.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Whether the layers have the bias vectors `b_ih` and `b_hh`.
    #[config(default = true)]
    pub bias: bool,
    /// LSTM only: initial value of the forget-gate bias (`b_ih`'s `f` block; `b_hh`'s is set to
    /// 0). `Some(1.0)` is the classic remedy for early forgetting. `None` keeps PyTorch's init.
    #[config(default = "None")]
    pub forget_bias: Option<f64>,
}

/// The parameters of one layer in one direction, named as PyTorch names them.
///
/// Weights are stored `[d_in, gates·hidden]` (Burn's row layout, the transpose of PyTorch's
/// `[gates·hidden, d_in]`); the gate blocks follow PyTorch's order (LSTM `i, f, g, o`; GRU
/// `r, z, n`).
#[derive(Module, Debug)]
pub struct RecurrentWeights<B: Backend> {
    /// Input-to-hidden weights `W_ih`: `[d_in, gates·hidden]`.
    pub weight_ih: Param<Tensor<B, 2>>,
    /// Hidden-to-hidden weights `W_hh`: `[hidden, gates·hidden]`.
    pub weight_hh: Param<Tensor<B, 2>>,
    /// Input bias `b_ih`: `[gates·hidden]`.
    pub bias_ih: Option<Param<Tensor<B, 1>>>,
    /// Hidden bias `b_hh`: `[gates·hidden]`.
    pub bias_hh: Option<Param<Tensor<B, 1>>>,
}

/// Final states, shaped as PyTorch returns them.
#[derive(Debug, Clone)]
pub struct RecurrentState<B: Backend> {
    /// `h_n`: `[layers·directions, batch, hidden]`, ordered layer 0 forward, layer 0 backward,
    /// layer 1 forward, … For a padded batch, each sequence's state at its own last real token
    /// (forward) or at its first token (backward).
    pub hidden: Tensor<B, 3>,
    /// `c_n` (LSTM only): `[layers·directions, batch, hidden]`, ordered as `hidden`.
    pub cell: Option<Tensor<B, 3>>,
}

/// What a [`Recurrent`] layer stack returns.
#[derive(Debug, Clone)]
pub struct RecurrentOutput<B: Backend> {
    /// Outputs of the last layer at every step: `[batch, seq, directions·hidden]`, the forward
    /// and backward halves concatenated. Zero at padded positions.
    pub output: Tensor<B, 3>,
    /// Final states of every layer and direction.
    pub state: RecurrentState<B>,
}

/// A stack of recurrent layers (Elman RNN, LSTM or GRU), optionally bidirectional, that
/// understands right-padded batches.
///
/// Given `lengths`, positions `t ≥ lengths[b]` give zero outputs and leave sequence `b`'s state
/// unchanged, and the backward direction starts at each sequence's last real token: every
/// sequence of a padded batch gets exactly what it would get alone (PyTorch needs packed
/// sequences for this).
///
/// Per layer and direction, the input projection of all steps is one matmul before the time
/// loop; each step then does one fused hidden matmul `[batch, hidden] × [hidden, gates·hidden]`.
/// On ndarray a CPU kernel runs each layer ([`super::kernel`]; with autodiff, one graph node
/// with a hand-written BPTT); on `Autodiff<Wgpu>` each layer and direction is one graph node
/// over Burn tensor operations; elsewhere every step is recorded ([`super::engine`]).
///
/// Should be created with [`RecurrentConfig`].
#[derive(Module, Debug)]
pub struct Recurrent<B: Backend> {
    /// Parameters per layer and direction, in PyTorch's order: index `layer·directions + d`,
    /// `d = 0` forward, `d = 1` backward (PyTorch's `_reverse` suffix).
    pub weights: Vec<RecurrentWeights<B>>,
    /// Dropout between layers.
    pub dropout: Dropout,
    /// The cell.
    pub cell: CellKind,
    /// Input size.
    pub d_input: usize,
    /// Hidden size per direction.
    pub d_hidden: usize,
    /// Number of layers.
    pub num_layers: usize,
    /// Whether each layer runs in both directions.
    pub bidirectional: bool,
    /// Int8 weights per layer (each layer's directions), set by [`Recurrent::quantize_int8`]:
    /// inference on the CPU kernel then computes in int8. Not part of the record.
    #[module(skip)]
    pub int8: Option<Vec<Arc<[Int8Direction]>>>,
}

impl RecurrentConfig {
    /// Initialises every weight and bias from `U(−1/√hidden, 1/√hidden)`, as PyTorch does.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Recurrent<B> {
        let width = self.cell.gates() * self.d_hidden;
        let bound = 1.0 / (self.d_hidden as f64).sqrt();
        let init = Initializer::Uniform { min: -bound, max: bound };
        let directions = if self.bidirectional { 2 } else { 1 };
        let weights = (0..self.num_layers * directions)
            .map(|index| {
                let d_in = if index < directions { self.d_input } else { directions * self.d_hidden };
                let mut bias_ih = self.bias.then(|| init.init([width], device));
                let mut bias_hh = self.bias.then(|| init.init([width], device));
                if let (CellKind::Lstm, Some(value)) = (self.cell, self.forget_bias) {
                    let h = self.d_hidden;
                    let set_forget = |p: Param<Tensor<B, 1>>, v: f64| {
                        p.map(|t| {
                            let device = t.device();
                            t.slice_assign([h..2 * h], Tensor::full([h], v, &device))
                        })
                    };
                    bias_ih = bias_ih.map(|p| set_forget(p, value));
                    bias_hh = bias_hh.map(|p| set_forget(p, 0.0));
                }
                RecurrentWeights {
                    weight_ih: init.init([d_in, width], device),
                    weight_hh: init.init([self.d_hidden, width], device),
                    bias_ih,
                    bias_hh,
                }
            })
            .collect();
        Recurrent {
            weights,
            dropout: DropoutConfig::new(self.dropout).init(),
            cell: self.cell,
            d_input: self.d_input,
            d_hidden: self.d_hidden,
            num_layers: self.num_layers,
            bidirectional: self.bidirectional,
            int8: None,
        }
    }
}

impl<B: Backend> Recurrent<B> {
    /// Number of directions: 2 if bidirectional, else 1.
    pub fn directions(&self) -> usize {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    /// Width of the output features: `directions · hidden`.
    pub fn d_output(&self) -> usize {
        self.directions() * self.d_hidden
    }

    /// The stack for int8 inference: every `W_ih` and `W_hh` quantised per output column
    /// ([`crate::recurrent::kernel::int8`]). The f32 weights become the quantised ones
    /// dequantised, so every path computes with the same weights; on ndarray without autodiff
    /// the CPU kernel computes the products in int8 (activations quantised per row as they run).
    /// Biases and states stay f32.
    pub fn quantize_int8(mut self) -> Self {
        let width = self.cell.gates() * self.d_hidden;
        let directions = self.directions();
        let hidden = self.d_hidden;
        let mut layers = Vec::with_capacity(self.num_layers);
        for layer in self.weights.chunks_mut(directions) {
            let quantized: Vec<Int8Direction> = layer
                .iter_mut()
                .map(|w| {
                    let d_input = w.weight_ih.dims()[0];
                    let values = |p: &Param<Tensor<B, 2>>| {
                        p.val().into_data().convert::<f32>().to_vec::<f32>().expect("f32 values")
                    };
                    let int8 =
                        Int8Direction::quantize(&values(&w.weight_ih), &values(&w.weight_hh), d_input, hidden, width);
                    let replace = |p: Param<Tensor<B, 2>>, m: &Int8Matrix| {
                        p.map(|t| {
                            let (shape, device, dtype) = (t.dims(), t.device(), t.dtype());
                            Tensor::<B, 2>::from_data(
                                TensorData::new(m.dequantized(), shape).convert_dtype(dtype),
                                &device,
                            )
                        })
                    };
                    w.weight_ih = replace(w.weight_ih.clone(), &int8.weight_ih);
                    w.weight_hh = replace(w.weight_hh.clone(), &int8.weight_hh);
                    int8
                })
                .collect();
            layers.push(Arc::from(quantized));
        }
        self.int8 = Some(layers);
        self
    }

    /// Runs the stack over a batch.
    ///
    /// ## Parameters
    /// - `input`: `[batch, seq, d_input]`.
    /// - `lengths`: `[batch]`, the number of real (leading) positions of each sequence, each in
    ///   `0..=seq`; `None` when every position is real.
    /// - `state`: initial states `[layers·directions, batch, hidden]` (and the cell for LSTM),
    ///   ordered as [`RecurrentState`]; `None` for zeros.
    ///
    /// ## Returns
    /// All outputs of the last layer `[batch, seq, directions·hidden]` and the final states.
    pub fn forward(
        &self,
        input: Tensor<B, 3>,
        lengths: Option<Tensor<B, 1, Int>>,
        state: Option<RecurrentState<B>>,
    ) -> RecurrentOutput<B> {
        self.forward_inner(input, lengths, state, None)
    }

    /// Runs a one-layer, one-direction stack with a *probe* added to the hidden state after
    /// every step: `h_t ← h_t + probes[t]`, where the result feeds step `t + 1` and the output.
    ///
    /// With zero probes the outputs equal [`Recurrent::forward`]'s (to rounding: this loop is
    /// always Burn tensor operations, `forward` may run the CPU kernel); on an autodiff backend the
    /// gradient of a loss with respect to `probes[t]` is then `∂L/∂h_t`, the BPTT signal that
    /// reaches step `t` through every later step. This is how `grad-flow` measures vanishing
    /// gradients.
    ///
    /// - `input`: `[batch, seq, d_input]`.
    /// - `probes`: `seq` tensors `[batch, hidden]`.
    ///
    /// # Panics
    /// If the stack has more than one layer or is bidirectional, or `probes.len() != seq`.
    pub fn forward_probed(&self, input: Tensor<B, 3>, probes: &[Tensor<B, 2>]) -> RecurrentOutput<B> {
        assert!(
            self.num_layers == 1 && !self.bidirectional,
            "forward_probed: one layer, one direction (got {} layers, bidirectional {})",
            self.num_layers,
            self.bidirectional
        );
        assert_eq!(probes.len(), input.dims()[1], "forward_probed: one probe per step");
        self.forward_inner(input, None, None, Some(probes))
    }

    fn forward_inner(
        &self,
        input: Tensor<B, 3>,
        lengths: Option<Tensor<B, 1, Int>>,
        state: Option<RecurrentState<B>>,
        probes: Option<&[Tensor<B, 2>]>,
    ) -> RecurrentOutput<B> {
        let [batch, seq, _] = input.dims();
        let device = input.device();
        let dtype = input.dtype();
        let directions = self.directions();

        // `[batch, seq]`: 1 at real positions, 0 at padding; shared by every layer and direction.
        let mask: Option<Tensor<B, 2>> = lengths.map(|lengths| length_mask(lengths, seq, dtype));
        let initial = |index: usize| -> CellState<B> {
            let pick = |t: &Tensor<B, 3>| t.clone().slice([index..index + 1]).reshape([batch, self.d_hidden]);
            // Zero states in the input's float type (not the device default): the layer computes in
            // the dtype it is given.
            let zeros =
                || Tensor::zeros([batch, self.d_hidden], TensorCreationOptions::new(device.clone()).with_dtype(dtype));
            match &state {
                Some(s) => CellState {
                    hidden: pick(&s.hidden),
                    cell: self.cell.has_memory().then(|| s.cell.as_ref().map(pick).unwrap_or_else(zeros)),
                },
                None => CellState { hidden: zeros(), cell: self.cell.has_memory().then(zeros) },
            }
        };

        let mut layer_input = input; // [batch, seq, features]
        let mut finals = Vec::with_capacity(self.weights.len());
        for layer in 0..self.num_layers {
            if layer > 0 {
                layer_input = crate::dropout::dropout(&self.dropout, layer_input);
            }
            let layer_run = LayerInput {
                cell: self.cell,
                input: layer_input,
                mask: mask.clone(),
                directions: (0..directions)
                    .map(|d| {
                        let index = layer * directions + d;
                        let weights = &self.weights[index];
                        DirectionInput {
                            weight_ih: weights.weight_ih.val(),
                            bias_ih: weights.bias_ih.as_ref().map(|b| b.val()),
                            weight_hh: weights.weight_hh.val(),
                            bias_hh: weights.bias_hh.as_ref().map(|b| b.val()),
                            initial: initial(index),
                            reverse: d == 1,
                        }
                    })
                    .collect(),
                int8: self.int8.as_ref().map(|layers| Arc::clone(&layers[layer])),
            };
            let (output, lasts) = engine::run_layer(layer_run, probes);
            finals.extend(lasts);
            layer_input = output;
        }

        let hidden = Tensor::stack(finals.iter().map(|s| s.hidden.clone()).collect(), 0);
        let cell = self
            .cell
            .has_memory()
            .then(|| Tensor::stack(finals.into_iter().map(|s| s.cell.expect("LSTM state")).collect(), 0));
        RecurrentOutput { output: layer_input, state: RecurrentState { hidden, cell } }
    }
}

//! The adding problem (Hochreiter & Schmidhuber, 1997) in the vanishing-gradient lab: a
//! recurrent layer over two inputs with a linear read-out, its training on fresh batches and
//! its gradient norms through time.

use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, ElementConversion, Tensor, TensorCreationOptions, TensorData};
use seqlab_datasets::longdep::{AddingExample, AddingTask};
use seqlab_models::{Recurrent, RecurrentConfig};

use crate::probe::{mean_probe_norms, zero_probes, ProbeModelConfig};

/// A recurrent layer over the adding problem's two inputs and a linear read-out of the last
/// hidden state: the predicted sum.
#[derive(Module, Debug)]
pub struct AddingModel<B: Backend> {
    /// The recurrent layer (one layer, one direction).
    pub recurrent: Recurrent<B>,
    /// `[hidden] → [1]`.
    pub head: Linear<B>,
}

impl ProbeModelConfig {
    /// A model for the adding problem (2 inputs, 1 output), initialised from the backend's seed.
    pub fn init_adding<B: Backend>(&self, device: &B::Device) -> AddingModel<B> {
        AddingModel {
            recurrent: RecurrentConfig::new(self.cell, 2, self.hidden).with_forget_bias(self.forget_bias).init(device),
            head: LinearConfig::new(self.hidden, 1).init(device),
        }
    }
}

impl<B: Backend> AddingModel<B> {
    /// Predicted sums `[batch]`; `input`: `[batch, T, 2]`.
    pub fn forward(&self, input: Tensor<B, 3>) -> Tensor<B, 1> {
        let [batch, seq, _] = input.dims();
        let out = self.recurrent.forward(input, None, None).output;
        self.head
            .forward(out.slice([0..batch, seq - 1..seq]).reshape([batch, self.recurrent.d_hidden]))
            .reshape([batch])
    }

    /// Mean squared error on `examples`.
    pub fn mse(&self, examples: &[AddingExample]) -> Tensor<B, 1> {
        let device = self.head.weight.val().device();
        let (inputs, targets) = adding_batch::<B>(examples, self.head.weight.val().dtype(), &device);
        (self.forward(inputs) - targets).powi_scalar(2).mean()
    }
}

/// Inputs `[batch, T, 2]` and targets `[batch]` in `dtype`.
pub fn adding_batch<B: Backend>(
    examples: &[AddingExample],
    dtype: DType,
    device: &B::Device,
) -> (Tensor<B, 3>, Tensor<B, 1>) {
    let (batch, length) = (examples.len(), examples.first().map_or(0, |e| e.inputs.len()));
    let inputs: Vec<f32> = examples.iter().flat_map(|e| e.inputs.iter().flatten().copied()).collect();
    let targets: Vec<f32> = examples.iter().map(|e| e.target).collect();
    let options = TensorCreationOptions::new(device.clone()).with_dtype(dtype);
    (
        Tensor::from_data(TensorData::new(inputs, [batch, length, 2]), options.clone()),
        Tensor::from_data(TensorData::new(targets, [batch]), options),
    )
}

/// How a run on the adding problem trains.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AddingTraining {
    /// The budget, in training sequences.
    pub sequences: usize,
    /// Sequences per step (fresh random ones every step).
    pub batch_size: usize,
    /// Adam learning rate (β₁ 0.9, β₂ 0.999, ε 1e-5: Burn's defaults).
    pub learning_rate: f64,
    /// Each parameter's gradient is clipped to this L2 norm (Burn's `GradientClipping::Norm`).
    pub clip_norm: f32,
    /// Evaluate on the held-out set every this many steps.
    pub eval_every: usize,
    /// Size of the held-out set.
    pub eval_size: usize,
}

impl Default for AddingTraining {
    fn default() -> Self {
        Self { sequences: 60_000, batch_size: 50, learning_rate: 1e-3, clip_norm: 1.0, eval_every: 20, eval_size: 500 }
    }
}

/// The outcome of one run on the adding problem.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AddingRun {
    /// Held-out MSE at the end.
    pub final_mse: f64,
    /// Training sequences seen when the held-out MSE first went below 0.01.
    pub sequences_to_001: Option<usize>,
    /// `(training sequences seen, held-out MSE)` at every evaluation (and 0 at the start).
    pub curve: Vec<(usize, f64)>,
}

/// The held-out set of a run with `seed` (independent of the training batches).
pub fn adding_held_out(task: &AddingTask, size: usize, seed: u64) -> Vec<AddingExample> {
    task.generate(size, seed ^ 0x0E7A_1000_0000_0000)
}

/// The batch of training step `step` (1, 2, …) of a run with `seed`.
pub fn adding_step_seed(seed: u64, step: usize) -> u64 {
    seed.wrapping_mul(1_000_003).wrapping_add(step as u64)
}

/// Trains `model` on the adding problem with fresh batches; the curve of held-out MSE.
pub fn train_adding<B: AutodiffBackend>(
    mut model: AddingModel<B>,
    task: &AddingTask,
    training: &AddingTraining,
    seed: u64,
) -> (AddingModel<B>, AddingRun) {
    let held_out = adding_held_out(task, training.eval_size, seed);
    let evaluate = |m: &AddingModel<B>| -> f64 { m.valid().mse(&held_out).into_scalar().elem::<f64>() };
    let mut optim = AdamConfig::new()
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(training.clip_norm)))
        .init();
    let mut run = AddingRun { final_mse: evaluate(&model), sequences_to_001: None, curve: Vec::new() };
    run.curve.push((0, run.final_mse));
    let steps = training.sequences.div_ceil(training.batch_size.max(1));
    for step in 1..=steps {
        let batch = task.generate(training.batch_size, adding_step_seed(seed, step));
        let loss = model.mse(&batch);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(training.learning_rate, model, grads);
        if step % training.eval_every == 0 || step == steps {
            let mse = evaluate(&model);
            let seen = step * training.batch_size;
            run.curve.push((seen, mse));
            run.final_mse = mse;
            if mse < 0.01 && run.sequences_to_001.is_none() {
                run.sequences_to_001 = Some(seen);
            }
        }
    }
    (model, run)
}

/// `‖∂L/∂h_t‖` for `t = 1..=T`, averaged over `examples`, where `L` is each sequence's own
/// squared error on the adding problem (see [`super::gradient_norms`] for the probes).
pub fn adding_gradient_norms<B: AutodiffBackend>(model: &AddingModel<B>, examples: &[AddingExample]) -> Vec<f64> {
    let device = model.head.weight.val().device();
    let dtype = model.head.weight.val().dtype();
    let (batch, seq) = (examples.len(), examples[0].inputs.len());
    let probes = zero_probes::<B>(batch, seq, model.recurrent.d_hidden, dtype, &device);
    let (inputs, targets) = adding_batch::<B>(examples, dtype, &device);
    let out = model.recurrent.forward_probed(inputs, &probes).output;
    let predicted = model
        .head
        .forward(out.slice([0..batch, seq - 1..seq]).reshape([batch, model.recurrent.d_hidden]))
        .reshape([batch]);
    mean_probe_norms(&probes, &(predicted - targets).powi_scalar(2).sum().backward())
}

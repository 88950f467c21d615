//! The probe model of the vanishing-gradient lab on the first-token task: its gradient norms
//! through time and its training.
//!
//! A [`ProbeModel`] (one recurrent layer over one-hot tokens, a linear read-out of the last
//! hidden state) is run with a zero *probe* added to every hidden state `h_t`
//! ([`Recurrent::forward_probed`]); the gradient of the loss with respect to probe `t` is
//! `∂L/∂h_t`, the product of Jacobians `∂h_T/∂h_{T−1} ⋯ ∂h_{t+1}/∂h_t` applied to `∂L/∂h_T`.
//! [`gradient_norms`] averages its norm over sequences for every `t`; [`train_on_task`] trains
//! the same model on the long-dependency [`FirstTokenTask`].

use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, Int, Tensor, TensorCreationOptions, TensorData};
use seqlab_datasets::longdep::{FirstTokenExample, FirstTokenTask};
use seqlab_models::{CellKind, Recurrent, RecurrentConfig};

/// One recurrent layer over one-hot tokens and a linear read-out of its last hidden state.
#[derive(Module, Debug)]
pub struct ProbeModel<B: Backend> {
    /// The recurrent layer (one layer, one direction).
    pub recurrent: Recurrent<B>,
    /// `[hidden] → [classes]`.
    pub head: Linear<B>,
}

/// What a [`ProbeModel`] is made of.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeModelConfig {
    /// The cell.
    pub cell: CellKind,
    /// Hidden size.
    pub hidden: usize,
    /// LSTM forget-gate bias at initialisation (`None`: PyTorch's uniform init).
    pub forget_bias: Option<f64>,
}

impl ProbeModelConfig {
    /// A model for `task`, initialised from the backend's current seed.
    pub fn init<B: Backend>(&self, task: &FirstTokenTask, device: &B::Device) -> ProbeModel<B> {
        ProbeModel {
            recurrent: RecurrentConfig::new(self.cell, task.vocab_size(), self.hidden)
                .with_forget_bias(self.forget_bias)
                .init(device),
            head: LinearConfig::new(self.hidden, task.classes).init(device),
        }
    }
}

impl<B: Backend> ProbeModel<B> {
    /// Logits `[batch, classes]` from the last hidden state; `input`: `[batch, seq, vocab]`.
    pub fn forward(&self, input: Tensor<B, 3>) -> Tensor<B, 2> {
        let [batch, seq, _] = input.dims();
        let out = self.recurrent.forward(input, None, None).output;
        self.head.forward(out.slice([0..batch, seq - 1..seq]).reshape([batch, self.recurrent.d_hidden]))
    }

    /// The summed cross-entropy of the last step's prediction, with `probes[t]` (`[batch,
    /// hidden]`) added to `h_t`; see [`Recurrent::forward_probed`].
    pub fn probed_loss(&self, input: Tensor<B, 3>, labels: Tensor<B, 1, Int>, probes: &[Tensor<B, 2>]) -> Tensor<B, 1> {
        let [batch, seq, _] = input.dims();
        let out = self.recurrent.forward_probed(input, probes).output;
        let logits = self.head.forward(out.slice([0..batch, seq - 1..seq]).reshape([batch, self.recurrent.d_hidden]));
        seqlab_models::loss::cross_entropy(logits, labels) * batch as f64
    }

    /// The float type of the weights (inputs are created in it).
    pub fn dtype(&self) -> DType {
        self.head.weight.val().dtype()
    }
}

/// One-hot inputs `[batch, seq, vocab]` in `dtype`.
pub fn one_hot<B: Backend>(
    examples: &[FirstTokenExample],
    vocab: usize,
    dtype: DType,
    device: &B::Device,
) -> Tensor<B, 3> {
    let seq = examples.first().map_or(0, |e| e.tokens.len());
    let mut values = vec![0f32; examples.len() * seq * vocab];
    for (b, e) in examples.iter().enumerate() {
        for (t, &token) in e.tokens.iter().enumerate() {
            values[(b * seq + t) * vocab + token] = 1.0;
        }
    }
    let data = TensorData::new(values, [examples.len(), seq, vocab]).convert_dtype(dtype);
    Tensor::from_data(data, TensorCreationOptions::new(device.clone()).with_dtype(dtype))
}

/// The labels `[batch]`.
pub fn labels<B: Backend>(examples: &[FirstTokenExample], device: &B::Device) -> Tensor<B, 1, Int> {
    let values: Vec<i64> = examples.iter().map(|e| e.label as i64).collect();
    Tensor::from_data(TensorData::new(values, [examples.len()]), device)
}

/// `‖∂L/∂h_t‖` for `t = 1..=T` (index `t − 1`), averaged over `examples`, where `L` is each
/// sequence's own cross-entropy at the last step (so every row of the gradient is one
/// sequence's).
pub fn gradient_norms<B: AutodiffBackend>(
    model: &ProbeModel<B>,
    examples: &[FirstTokenExample],
    vocab: usize,
) -> Vec<f64> {
    let device = model.head.weight.val().device();
    let dtype = model.dtype();
    let probes = zero_probes::<B>(examples.len(), examples[0].tokens.len(), model.recurrent.d_hidden, dtype, &device);
    let loss = model.probed_loss(one_hot(examples, vocab, dtype, &device), labels(examples, &device), &probes);
    mean_probe_norms(&probes, &loss.backward())
}

/// `seq` zero probes `[batch, hidden]` that record their gradient.
pub(super) fn zero_probes<B: AutodiffBackend>(
    batch: usize,
    seq: usize,
    hidden: usize,
    dtype: DType,
    device: &B::Device,
) -> Vec<Tensor<B, 2>> {
    (0..seq)
        .map(|_| {
            Tensor::zeros([batch, hidden], TensorCreationOptions::new(device.clone()).with_dtype(dtype)).require_grad()
        })
        .collect()
}

/// Each probe's gradient norm, per sequence (row), averaged over the batch.
pub(super) fn mean_probe_norms<B: AutodiffBackend>(probes: &[Tensor<B, 2>], grads: &B::Gradients) -> Vec<f64> {
    probes
        .iter()
        .map(|p| {
            let g = p.grad(grads).expect("every probe reaches the loss");
            let norms: Vec<f64> = g.powi_scalar(2).sum_dim(1).sqrt().into_data().convert::<f64>().to_vec().unwrap();
            norms.iter().sum::<f64>() / norms.len().max(1) as f64
        })
        .collect()
}

/// What a curve of gradient norms says.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DecaySummary {
    /// `‖∂L/∂h_1‖ / ‖∂L/∂h_T‖`.
    pub first_over_last: f64,
    /// The smallest distance `T − t` at which the norm falls below `1e−3 · ‖∂L/∂h_T‖`, if any.
    pub distance_below_1e_3: Option<usize>,
}

/// Summarises [`gradient_norms`].
pub fn decay_summary(norms: &[f64]) -> DecaySummary {
    let last = *norms.last().expect("at least one step");
    let distance_below_1e_3 = (0..norms.len()).find(|&d| norms[norms.len() - 1 - d] < 1e-3 * last);
    DecaySummary { first_over_last: norms[0] / last, distance_below_1e_3 }
}

/// How [`train_on_task`] trains: Adam, gradient-norm clipping, fresh batches every step.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskTraining {
    /// Optimiser steps (the budget).
    pub steps: usize,
    /// Sequences per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Gradient-norm clipping threshold.
    pub clip_norm: f32,
    /// Evaluate on the held-out set every this many steps.
    pub eval_every: usize,
    /// Size of the held-out set.
    pub eval_size: usize,
    /// Stop early once held-out accuracy reaches this.
    pub stop_at: f64,
}

impl Default for TaskTraining {
    fn default() -> Self {
        Self {
            steps: 800,
            batch_size: 64,
            learning_rate: 1e-2,
            clip_norm: 1.0,
            eval_every: 50,
            eval_size: 512,
            stop_at: 0.99,
        }
    }
}

/// The outcome of one training run on the task.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskRun {
    /// Held-out accuracy at the end.
    pub final_accuracy: f64,
    /// First evaluation step with held-out accuracy ≥ 0.95.
    pub steps_to_95: Option<usize>,
    /// Steps taken (less than the budget when the run stopped at `stop_at`).
    pub steps: usize,
    /// `(step, held-out accuracy)` at every evaluation.
    pub curve: Vec<(usize, f64)>,
}

/// Accuracy of `model` on `examples`.
pub fn accuracy<B: Backend>(model: &ProbeModel<B>, examples: &[FirstTokenExample], vocab: usize) -> f64 {
    let device = model.head.weight.val().device();
    let logits = model.forward(one_hot(examples, vocab, model.dtype(), &device));
    let predicted: Vec<i64> = logits.argmax(1).into_data().convert::<i64>().to_vec().unwrap();
    let right = predicted.iter().zip(examples).filter(|(p, e)| **p as usize == e.label).count();
    right as f64 / examples.len() as f64
}

/// Trains `model` on `task` with fresh batches drawn from `seed`; returns the trained model and
/// the run's accuracy curve.
pub fn train_on_task<B: AutodiffBackend>(
    mut model: ProbeModel<B>,
    task: &FirstTokenTask,
    training: &TaskTraining,
    seed: u64,
) -> (ProbeModel<B>, TaskRun) {
    let device = model.head.weight.val().device();
    let vocab = task.vocab_size();
    let held_out = task.generate(training.eval_size, seed.wrapping_add(0x5EED_0000_0000));
    let mut optim = AdamConfig::new()
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(training.clip_norm)))
        .init();
    let mut run = TaskRun { final_accuracy: 0.0, steps_to_95: None, steps: 0, curve: Vec::new() };
    for step in 1..=training.steps {
        let batch = task.generate(training.batch_size, seed.wrapping_mul(1_000_003).wrapping_add(step as u64));
        let logits = model.forward(one_hot(&batch, vocab, model.dtype(), &device));
        let loss = seqlab_models::loss::cross_entropy(logits, labels(&batch, &device));
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(training.learning_rate, model, grads);
        run.steps = step;
        if step % training.eval_every == 0 || step == training.steps {
            let acc = accuracy(&model.valid(), &held_out, vocab);
            run.curve.push((step, acc));
            run.final_accuracy = acc;
            if acc >= 0.95 && run.steps_to_95.is_none() {
                run.steps_to_95 = Some(step);
            }
            if acc >= training.stop_at {
                break;
            }
        }
    }
    (model, run)
}

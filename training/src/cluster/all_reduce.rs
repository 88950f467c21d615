//! The optimiser of a cluster node: [`AllReduced`] sums the nodes' gradients in one
//! all-reduce before the same optimiser step on every node.

use std::sync::atomic::{AtomicUsize, Ordering};

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::{GradientsParams, LearningRate, MultiGradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};

use super::ClusterConfig;

/// The loss terms (examples, or a tagger's real tokens) that this process's last training step
/// averaged its loss over; set by every training step ([`record_step_weight`]), read by the
/// all-reduce that follows it.
static STEP_WEIGHT: AtomicUsize = AtomicUsize::new(1);

/// Records the loss terms of the training step just taken (see [`crate::steps`]).
pub fn record_step_weight(terms: usize) {
    STEP_WEIGHT.store(terms, Ordering::SeqCst);
}

/// What this process's all-reduces have moved and cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// All-reduces (optimiser steps).
    pub steps: usize,
    /// Values (`f32`) in each all-reduce: every gradient and the weight.
    pub values: usize,
    /// Seconds spent in them, waiting for the other nodes included.
    pub seconds: f64,
}

static TRAFFIC: std::sync::Mutex<Traffic> = std::sync::Mutex::new(Traffic { steps: 0, values: 0, seconds: 0.0 });

/// This process's [`Traffic`] so far.
pub fn traffic() -> Traffic {
    *TRAFFIC.lock().unwrap()
}

/// An optimiser whose gradients are first combined over the cluster's nodes (when there is a
/// cluster; otherwise it is `inner` alone): every node's gradient of its mean loss, times its
/// loss terms `n_r`, flattened into one vector with `n_r` after it, summed over the nodes in one
/// all-reduce, and divided by `Σ n_r`. That is the
/// gradient of the mean loss over all the nodes' terms, what one process computes on the
/// combined batches. `inner`'s state and record are kept as they are: every node holds the same.
#[derive(Clone)]
pub struct AllReduced<O> {
    /// The optimiser.
    pub inner: O,
    /// The cluster this process is a node of, if any.
    pub cluster: Option<ClusterConfig>,
    /// Steps taken by this process, for messages.
    pub steps: usize,
}

impl<O> AllReduced<O> {
    /// `inner`, combining gradients over `cluster` when there is one.
    pub fn new(inner: O, cluster: Option<ClusterConfig>) -> Self {
        Self { inner, cluster, steps: 0 }
    }
}

impl<M, B, O> Optimizer<M, B> for AllReduced<O>
where
    M: AutodiffModule<B>,
    B: AutodiffBackend,
    O: Optimizer<M, B>,
{
    type Record = O::Record;

    fn step(&mut self, lr: LearningRate, module: M, grads: GradientsParams) -> M {
        let Some(cluster) = &self.cluster else {
            return self.inner.step(lr, module, grads);
        };
        self.steps += 1;
        let grads = match combine::<M, B>(&module, grads, cluster, self.steps) {
            Ok(grads) => grads,
            Err(e) => {
                // burn-train's step cannot fail: a node that is gone ends this one, with the
                // last complete checkpoint on disk and the folder's lock released by the kernel.
                crate::note!("error: {e}; the last complete checkpoint is kept (continue with --resume)");
                std::process::exit(1);
            }
        };
        self.inner.step(lr, module, grads)
    }

    fn step_multi(&mut self, lr: LearningRate, module: M, grads: MultiGradientsParams) -> M {
        self.inner.step_multi(lr, module, grads)
    }

    fn to_record(&self) -> Self::Record {
        self.inner.to_record()
    }

    fn load_record(self, record: Self::Record) -> Self {
        Self { inner: self.inner.load_record(record), ..self }
    }
}

/// `grads` of `module`'s parameters combined over the nodes of `cluster` at `step` (see
/// [`AllReduced`]).
fn combine<M: AutodiffModule<B>, B: AutodiffBackend>(
    module: &M,
    mut grads: GradientsParams,
    cluster: &ClusterConfig,
    step: usize,
) -> Result<GradientsParams, crate::error::RunError> {
    let weight = STEP_WEIGHT.load(Ordering::SeqCst) as f32;
    let mut flatten = Flatten::<B::InnerBackend> { grads: &mut grads, pieces: Vec::new() };
    module.visit(&mut flatten);
    let Some(device) = flatten.pieces.first().map(Tensor::device) else {
        return Ok(grads);
    };
    let pieces = flatten.pieces;
    let values: usize = pieces.iter().map(|p| p.dims()[0]).sum();
    let flat = Tensor::cat(pieces, 0).mul_scalar(weight);
    let flat = Tensor::cat(vec![flat, Tensor::from_data(TensorData::new(vec![weight], [1]), &device)], 0);
    let what = format!("{}: the all-reduce of step {step}", cluster.name());
    let started = std::time::Instant::now();
    let summed = super::sum(flat, cluster.timeout, &what)?;
    let mut traffic = TRAFFIC.lock().unwrap();
    traffic.steps += 1;
    traffic.values = values + 1;
    traffic.seconds += started.elapsed().as_secs_f64();
    drop(traffic);
    let total = summed.clone().slice([values..values + 1]).into_scalar();
    let mean = summed.slice([0..values]).div_scalar(total);
    module.visit(&mut Unflatten::<B::InnerBackend> { grads: &mut grads, flat: mean, offset: 0 });
    Ok(grads)
}

/// Takes every parameter's gradient out of `grads`, flattened, in visiting order.
struct Flatten<'a, I: Backend> {
    grads: &'a mut GradientsParams,
    pieces: Vec<Tensor<I, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Flatten<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let values = grad.shape().num_elements();
            self.pieces.push(grad.reshape([values]));
        }
    }
}

/// Puts the combined gradients back, in the same visiting order as [`Flatten`].
struct Unflatten<'a, I: Backend> {
    grads: &'a mut GradientsParams,
    flat: Tensor<I, 1>,
    offset: usize,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Unflatten<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let shape = grad.shape();
            let values = shape.num_elements();
            let piece = self.flat.clone().slice([self.offset..self.offset + values]).reshape(shape);
            self.offset += values;
            self.grads.register::<B::InnerBackend, D>(param.id, piece);
        }
    }
}

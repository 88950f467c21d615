//! The optimiser of a rank: [`AllReduced`] sums the ranks' gradients in one all-reduce before
//! the same optimiser step on every rank; [`StepWeight`] carries each step's loss terms to it.

use burn::module::{AutodiffModule, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, LearningRate, MultiGradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};

use super::ClusterConfig;
use crate::error::RunError;

/// The loss terms (examples, or a tagger's real tokens) that a training step averaged its loss
/// over, carried to the optimiser with the step's gradients: burn-train hands the optimiser
/// nothing else. It travels as a one-value "gradient" under a parameter id of its own, which no
/// module parameter has (Burn draws parameter ids at random from 2⁶⁴).
pub struct StepWeight;

impl StepWeight {
    /// The parameter id the weight travels under.
    const ID: u64 = 0x5e91_ab00_57e9_0001;

    /// Adds `terms` to a training step's `grads` (see [`crate::steps`]).
    pub fn attach<B: AutodiffBackend>(grads: &mut GradientsParams, terms: usize, device: &B::Device) {
        let value = Tensor::<B::InnerBackend, 1>::from_data(TensorData::new(vec![terms as f32], [1]), device);
        grads.register::<B::InnerBackend, 1>(ParamId::from(Self::ID), value);
    }

    /// Takes the weight out of `grads`, if a step attached one.
    pub fn take<B: AutodiffBackend>(grads: &mut GradientsParams) -> Option<f32> {
        let value = grads.remove::<B::InnerBackend, 1>(ParamId::from(Self::ID))?;
        value.into_data().to_vec::<f32>().ok()?.first().copied()
    }
}

/// What this process's all-reduces have moved and cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// All-reduces (optimiser steps).
    pub steps: usize,
    /// Values (`f32`) in each all-reduce: every gradient and the weight.
    pub values: usize,
    /// Seconds spent in them, waiting for the other ranks included.
    pub seconds: f64,
}

static TRAFFIC: std::sync::Mutex<Traffic> = std::sync::Mutex::new(Traffic { steps: 0, values: 0, seconds: 0.0 });

/// This process's [`Traffic`] so far.
pub fn traffic() -> Traffic {
    *TRAFFIC.lock().unwrap()
}

/// An optimiser whose gradients are first combined over the job's ranks (when there is a job;
/// otherwise it is `inner` alone): every rank's gradient of its mean loss, times its loss terms
/// `n_r` ([`StepWeight`]), flattened into one vector with `n_r` after it, summed over the ranks
/// in one all-reduce, and divided by `Σ n_r`. That is the gradient of the mean loss over all
/// the ranks' terms, what one process computes on the combined batches. `inner`'s state and
/// record are kept as they are: every rank holds the same.
#[derive(Clone)]
pub struct AllReduced<O> {
    /// The optimiser.
    pub inner: O,
    /// The job this process is a rank of, if any.
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

    fn step(&mut self, lr: LearningRate, module: M, mut grads: GradientsParams) -> M {
        let weight = StepWeight::take::<B>(&mut grads);
        let Some(cluster) = &self.cluster else {
            return self.inner.step(lr, module, grads);
        };
        self.steps += 1;
        let combined = weight
            .ok_or_else(|| RunError::Other(format!("{}: step {} carried no step weight", cluster.name(), self.steps)))
            .and_then(|weight| combine::<M, B>(&module, grads, weight, cluster, self.steps));
        let grads = match combined {
            Ok(grads) => grads,
            Err(e) => {
                // burn-train's step cannot fail: a rank that is gone ends this one, with the
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

/// `grads` of `module`'s parameters combined over the ranks of `cluster` at `step`, this
/// rank's weighed by `weight` (see [`AllReduced`]).
fn combine<M: AutodiffModule<B>, B: AutodiffBackend>(
    module: &M,
    mut grads: GradientsParams,
    weight: f32,
    cluster: &ClusterConfig,
    step: usize,
) -> Result<GradientsParams, RunError> {
    let mut flatten = Flatten::<B::InnerBackend> { grads: &mut grads, pieces: Vec::new() };
    module.visit(&mut flatten);
    let Some(device) = flatten.pieces.first().map(Tensor::device) else {
        return Ok(grads);
    };
    let pieces = flatten.pieces;
    let count: usize = pieces.iter().map(|p| p.dims()[0]).sum();
    let mut values = Tensor::cat(pieces, 0)
        .mul_scalar(weight)
        .into_data()
        .into_vec::<f32>()
        .map_err(|e| RunError::Other(format!("the gradients as f32: {e:?}")))?;
    values.push(weight);
    super::signals::at_step(step);
    let what = format!("{}: the all-reduce of step {step}", cluster.name());
    let started = std::time::Instant::now();
    let sums = super::engine::sum(values, cluster.timeout, &what)?;
    let mut traffic = TRAFFIC.lock().unwrap();
    traffic.steps += 1;
    traffic.values = count + 1;
    traffic.seconds += started.elapsed().as_secs_f64();
    drop(traffic);
    let total = sums[count];
    module.visit(&mut Unflatten::<B::InnerBackend> {
        grads: &mut grads,
        sums: &sums[..count],
        total,
        offset: 0,
        device,
    });
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

/// Puts the combined gradients back, divided by the summed weight `total`, in the same
/// visiting order as [`Flatten`].
struct Unflatten<'a, I: Backend> {
    grads: &'a mut GradientsParams,
    sums: &'a [f32],
    total: f32,
    offset: usize,
    device: I::Device,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Unflatten<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let shape = grad.shape();
            let values = shape.num_elements();
            let mean: Vec<f32> = self.sums[self.offset..self.offset + values].iter().map(|v| v / self.total).collect();
            self.offset += values;
            let piece = Tensor::<B::InnerBackend, 1>::from_data(TensorData::new(mean, [values]), &self.device);
            self.grads.register::<B::InnerBackend, D>(param.id, piece.reshape(shape));
        }
    }
}

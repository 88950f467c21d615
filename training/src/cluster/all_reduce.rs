//! The optimiser of a rank: [`AllReduced`] sums the ranks' gradients in one all-reduce before
//! the same optimiser step on every rank; [`StepWeight`] carries each step's loss terms to it.

use std::sync::{Arc, Mutex};

use burn::module::{AutodiffModule, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, LearningRate, MultiGradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};

use super::blocks::Blocks;
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

    /// Adds `terms` to a training step's `grads` (see `crate::steps`).
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

/// What a run's all-reduces have moved and cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// All-reduces (optimiser steps).
    pub steps: usize,
    /// Values (`f32`) in each step's gradients and weight.
    pub values: usize,
    /// Values summed over the ranks in all the steps: the weight and the blocks of the
    /// gradients some rank filled (see [`AllReduced`]).
    pub sent: usize,
    /// Seconds spent in them, waiting for the other ranks included.
    pub seconds: f64,
}

/// A run's [`Traffic`], shared between its optimiser, which adds to it, and the learner, which
/// reports it when training ends.
#[derive(Debug, Clone, Default)]
pub struct TrafficLog(Arc<Mutex<Traffic>>);

impl TrafficLog {
    /// The traffic so far.
    pub fn get(&self) -> Traffic {
        *self.0.lock().unwrap()
    }
}

/// An optimiser whose gradients are first combined over the job's ranks (when there is a job;
/// otherwise it is `inner` alone): every rank's gradient of its mean loss, times its loss terms
/// `n_r` ([`StepWeight`]), packed into one vector after `n_r` (only the blocks some rank
/// filled: see `blocks.rs`), summed over the ranks in one all-reduce, and divided by `Σ n_r`.
/// That is the gradient of the mean loss over all the ranks' terms, what one process computes
/// on the combined batches. `inner`'s state and record are kept as they are: every rank holds
/// the same.
#[derive(Clone)]
pub struct AllReduced<O> {
    /// The optimiser.
    pub inner: O,
    /// The job this process is a rank of, if any.
    pub cluster: Option<ClusterConfig>,
    /// Steps taken by this process, for messages.
    pub steps: usize,
    /// What the all-reduces moved and cost.
    pub traffic: TrafficLog,
}

impl<O> AllReduced<O> {
    /// `inner`, combining gradients over `cluster` when there is one and adding what that
    /// moves to `traffic`.
    pub fn new(inner: O, cluster: Option<ClusterConfig>, traffic: TrafficLog) -> Self {
        Self { inner, cluster, steps: 0, traffic }
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
            .and_then(|weight| combine::<M, B>(&module, grads, weight, cluster, self.steps, &self.traffic));
        // burn-train's step cannot fail: a rank that is gone ends this one.
        let grads = combined.unwrap_or_else(|e| super::end_rank(&e));
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
/// rank's weighed by `weight` (see [`AllReduced`]). The ranks agree first on the blocks of the
/// gradients that any of them filled ([`Blocks`]) and sum only those, packed after the weight:
/// a step's word embedding gradient is zero outside its batch's words. The sums, divided by the
/// summed weight, are written over the gradients this rank took, in place.
fn combine<M: AutodiffModule<B>, B: AutodiffBackend>(
    module: &M,
    mut grads: GradientsParams,
    weight: f32,
    cluster: &ClusterConfig,
    step: usize,
    traffic: &TrafficLog,
) -> Result<GradientsParams, RunError> {
    let mut flatten = Flatten::<B::InnerBackend> { grads: &mut grads, taken: Vec::new(), device: None };
    module.visit(&mut flatten);
    let (taken, Some(device)) = (flatten.taken, flatten.device) else {
        return Ok(grads);
    };
    let (ids, mut data): (Vec<ParamId>, Vec<TensorData>) = taken.into_iter().unzip();
    let as_f32 = |e| RunError::Other(format!("the gradients as f32: {e:?}"));
    let segments = data.iter().map(|d| d.as_slice::<f32>()).collect::<Result<Vec<_>, _>>().map_err(as_f32)?;
    let count: usize = segments.iter().map(|s| s.len()).sum();
    super::signals::at_step(step);
    let what = format!("{}: the all-reduce of step {step}", cluster.name());
    let started = std::time::Instant::now();
    let mut filled = Blocks::nonzero(&segments);
    filled.words = super::engine::union(filled.words, cluster.timeout, &what)?;
    let mut packed = vec![weight];
    filled.pack(&segments, weight, &mut packed);
    let sums = super::engine::sum(packed, cluster.timeout, &what)?;
    let mut traffic = traffic.0.lock().unwrap();
    traffic.steps += 1;
    traffic.values = count + 1;
    traffic.sent += sums.len();
    traffic.seconds += started.elapsed().as_secs_f64();
    drop(traffic);
    let mut segments =
        data.iter_mut().map(|d| d.as_mut_slice::<f32>()).collect::<Result<Vec<_>, _>>().map_err(as_f32)?;
    filled.unpack(&sums[1..], sums[0], &mut segments);
    module.visit(&mut Unflatten::<B::InnerBackend> {
        grads: &mut grads,
        taken: ids.into_iter().zip(data).collect(),
        device,
    });
    Ok(grads)
}

/// Takes every parameter's gradient out of `grads`, in visiting order, with the device they
/// are on.
struct Flatten<'a, I: Backend> {
    grads: &'a mut GradientsParams,
    taken: Vec<(ParamId, TensorData)>,
    device: Option<I::Device>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Flatten<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.device.get_or_insert_with(|| grad.device());
            self.taken.push((param.id, grad.into_data()));
        }
    }
}

/// Puts the combined gradients `taken` back, in the order [`Flatten`] took them.
struct Unflatten<'a, I: Backend> {
    grads: &'a mut GradientsParams,
    taken: std::collections::VecDeque<(ParamId, TensorData)>,
    device: I::Device,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Unflatten<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if self.taken.front().is_none_or(|(id, _)| *id != param.id) {
            return;
        }
        if let Some((id, data)) = self.taken.pop_front() {
            self.grads.register::<B::InnerBackend, D>(id, Tensor::from_data(data, &self.device));
        }
    }
}

//! Gradient clipping by the global L2 norm, as PyTorch's `clip_grad_norm_`: when the norm of
//! all gradients taken together exceeds the limit, every gradient is scaled by the same factor
//! `limit / norm`, so the step keeps its direction.
//!
//! Burn 0.21's `GradientClipping::Norm` clips each parameter's gradient on its own (a
//! different factor per tensor, which changes the direction); [`GlobalNormClip`] wraps any
//! optimiser and clips before it, after the gradients of devices and ranks are combined.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::{GradientsParams, LearningRate, MultiGradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};

/// An optimiser that scales the gradients to a global L2 norm of at most `max_norm` (none:
/// unchanged) before `inner`'s step; its state and record are `inner`'s.
#[derive(Clone)]
pub struct GlobalNormClip<O> {
    /// The optimiser.
    pub inner: O,
    /// The largest global norm a step may have (`None`: no clipping).
    pub max_norm: Option<f32>,
}

impl<M, B, O> Optimizer<M, B> for GlobalNormClip<O>
where
    M: AutodiffModule<B>,
    B: AutodiffBackend,
    O: Optimizer<M, B>,
{
    type Record = O::Record;

    fn step(&mut self, lr: LearningRate, module: M, mut grads: GradientsParams) -> M {
        if let Some(max_norm) = self.max_norm {
            clip_global_norm::<M, B>(&module, &mut grads, max_norm);
        }
        self.inner.step(lr, module, grads)
    }

    /// The sharded strategy's step (seqlab uses the main-device one): each share is clipped on
    /// its own, as its gradients never meet.
    fn step_multi(&mut self, lr: LearningRate, module: M, mut grads: MultiGradientsParams) -> M {
        if let Some(max_norm) = self.max_norm {
            for (share, _) in grads.grads.iter_mut() {
                clip_global_norm::<M, B>(&module, share, max_norm);
            }
        }
        self.inner.step_multi(lr, module, grads)
    }

    fn to_record(&self) -> Self::Record {
        self.inner.to_record()
    }

    fn load_record(self, record: Self::Record) -> Self {
        Self { inner: self.inner.load_record(record), max_norm: self.max_norm }
    }
}

/// Scales the gradients of `module`'s parameters in `grads` by `max_norm / norm` when their
/// global L2 norm exceeds `max_norm`; returns the norm before clipping.
pub fn clip_global_norm<M: AutodiffModule<B>, B: AutodiffBackend>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f32,
) -> f64 {
    let mut squares = SumOfSquares::<B::InnerBackend> { grads, sum: None };
    module.visit(&mut squares);
    let Some(sum) = squares.sum else {
        return 0.0;
    };
    let norm = f64::from(sum.into_scalar().elem::<f32>()).sqrt();
    // PyTorch's factor: max_norm / (norm + 1e-6), applied only when it is below 1.
    let factor = f64::from(max_norm) / (norm + 1e-6);
    if factor < 1.0 {
        crate::devices::scale_gradients::<M, B>(module, grads, factor);
    }
    norm
}

/// The sum of the squares of every parameter's gradient, as a one-element tensor.
struct SumOfSquares<'a, I: Backend> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<I, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SumOfSquares<'_, B::InnerBackend> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let square = grad.square().sum();
            self.sum = Some(match self.sum.take() {
                Some(sum) => sum + square,
                None => square,
            });
        }
    }
}

//! Data-parallel training on several devices (`--devices 0,1`) through burn-train 0.21's own
//! multi-device strategy (`ExecutionStrategy::MultiDevice`, the optimiser on the first device).
//!
//! burn-train splits the training batches into one contiguous share per device; each step
//! every device runs one batch on its own copy of the model, and the gradients are *summed*
//! on the first device before one optimiser step. Our losses are means over a batch, so the
//! sum is N times the gradient of the combined batch's mean; [`MeanOfDevices`] divides it by
//! N, so that a step on N devices with batch B is the step one device would take with the
//! N·B examples (a test checks the parameters after such a step). The learning-rate schedule
//! counts optimiser steps, which are N times fewer per epoch.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::LearningRate;
use burn::optim::{GradientsParams, MultiGradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend, Device, DeviceId};
use burn::tensor::Tensor;

/// The devices of `indices`, of the same kind as `main` (on wgpu `DiscreteGpu(i)` when `main`
/// is a discrete GPU; ndarray has one device, the CPU, whatever the index).
pub fn devices<B: Backend>(main: &B::Device, indices: &[u16]) -> Vec<B::Device> {
    let kind = main.to_id().type_id;
    indices.iter().map(|&i| <B::Device as Device>::from_id(DeviceId::new(kind, i))).collect()
}

/// An optimiser that divides the summed gradients of `devices` devices by their number before
/// `inner`'s step; its state and record are `inner`'s.
#[derive(Clone)]
pub struct MeanOfDevices<O> {
    /// The optimiser.
    pub inner: O,
    /// How many devices' gradients each step sums.
    pub devices: usize,
}

impl<M, B, O> Optimizer<M, B> for MeanOfDevices<O>
where
    M: AutodiffModule<B>,
    B: AutodiffBackend,
    O: Optimizer<M, B>,
{
    type Record = O::Record;

    fn step(&mut self, lr: LearningRate, module: M, mut grads: GradientsParams) -> M {
        self.scale(&module, &mut grads);
        self.inner.step(lr, module, grads)
    }

    /// The sharded strategy's step (seqlab uses the main-device one): each device's share is
    /// scaled alike.
    fn step_multi(&mut self, lr: LearningRate, module: M, mut grads: MultiGradientsParams) -> M {
        for (share, _) in grads.grads.iter_mut() {
            self.scale(&module, share);
        }
        self.inner.step_multi(lr, module, grads)
    }

    fn to_record(&self) -> Self::Record {
        self.inner.to_record()
    }

    fn load_record(self, record: Self::Record) -> Self {
        Self { inner: self.inner.load_record(record), devices: self.devices }
    }
}

impl<O> MeanOfDevices<O> {
    /// Divides every gradient of `module`'s parameters in `grads` by the number of devices.
    fn scale<M: AutodiffModule<B>, B: AutodiffBackend>(&self, module: &M, grads: &mut GradientsParams) {
        if self.devices > 1 {
            scale_gradients::<M, B>(module, grads, 1.0 / self.devices as f64);
        }
    }
}

/// Multiplies the gradient of every parameter of `module` in `grads` by `factor`.
pub(crate) fn scale_gradients<M: AutodiffModule<B>, B: AutodiffBackend>(
    module: &M,
    grads: &mut GradientsParams,
    factor: f64,
) {
    module.visit(&mut Scale::<B> { grads, factor, backend: std::marker::PhantomData });
}

/// Multiplies every parameter's gradient by `factor`.
struct Scale<'a, B> {
    grads: &'a mut GradientsParams,
    factor: f64,
    backend: std::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.grads.register::<B::InnerBackend, D>(param.id, grad.mul_scalar(self.factor));
        }
    }
}

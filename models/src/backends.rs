//! The one place that recognises backends by type, for the fast paths: Burn 0.21 gives code
//! generic over `B: Backend` no way to reach a concrete backend's tensors or autodiff tape, so
//! the fast paths ask [`known`] which backend `B` is and move tensors there by a checked
//! downcast ([`crate::flat::cast`]). A backend extension trait would be Burn's usual pattern,
//! but it would put a bound on every model and binary.

use burn::tensor::backend::Backend;

/// A backend some fast path is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// `Autodiff<NdArray<f32>>`: training on the CPU.
    #[cfg(feature = "ndarray")]
    AutodiffNdArrayF32,
    /// `Autodiff<NdArray<f64>>`.
    #[cfg(feature = "ndarray")]
    AutodiffNdArrayF64,
    /// `NdArray<f32>`: inference on the CPU.
    #[cfg(feature = "ndarray")]
    NdArrayF32,
    /// `NdArray<f64>`.
    #[cfg(feature = "ndarray")]
    NdArrayF64,
    /// `Autodiff<Wgpu>`: training on a GPU.
    #[cfg(feature = "wgpu")]
    AutodiffWgpu,
}

/// Which known backend `B` is, if any.
pub fn known<B: Backend>() -> Option<Known> {
    #[allow(unused_variables)] // with no backend feature, no backend is known
    let is = |id: std::any::TypeId| std::any::TypeId::of::<B>() == id;
    #[cfg(feature = "ndarray")]
    {
        use burn::backend::{Autodiff, NdArray};
        use std::any::TypeId;
        for (id, backend) in [
            (TypeId::of::<Autodiff<NdArray<f32>>>(), Known::AutodiffNdArrayF32),
            (TypeId::of::<Autodiff<NdArray<f64>>>(), Known::AutodiffNdArrayF64),
            (TypeId::of::<NdArray<f32>>(), Known::NdArrayF32),
            (TypeId::of::<NdArray<f64>>(), Known::NdArrayF64),
        ] {
            if is(id) {
                return Some(backend);
            }
        }
    }
    #[cfg(feature = "wgpu")]
    if is(std::any::TypeId::of::<burn::backend::Autodiff<burn::backend::Wgpu>>()) {
        return Some(Known::AutodiffWgpu);
    }
    None
}

/// Whether `B`'s float tensors are burn-ndarray's (any `NdArray` float type, with or without
/// `Autodiff`'s inner tensors), whose storage can be read in place.
#[cfg(feature = "ndarray")]
pub fn ndarray_floats<B: Backend>() -> bool {
    std::any::TypeId::of::<B::FloatTensorPrimitive>() == std::any::TypeId::of::<burn::backend::ndarray::NdArrayTensor>()
}

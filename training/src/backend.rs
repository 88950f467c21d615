//! The single place where cargo features choose the backend.
//!
//! `ndarray` (the default) runs on the CPU; `wgpu` (`--features wgpu`) runs on a GPU through
//! WebGPU/Vulkan (or on the CPU through Mesa's lavapipe) and wins when both are enabled.
//! Everything else in seqlab is generic over `B: Backend` and names these aliases only at the
//! edges (binaries and tests).

#[cfg(not(any(feature = "ndarray", feature = "wgpu")))]
compile_error!("seqlab-training needs a backend feature: `ndarray` (default) or `wgpu`");

/// The inference backend selected by cargo features.
#[cfg(feature = "wgpu")]
pub type Inner = burn::backend::Wgpu;
/// The inference backend selected by cargo features.
#[cfg(all(feature = "ndarray", not(feature = "wgpu")))]
pub type Inner = burn::backend::NdArray;

/// The training backend: [`Inner`] with automatic differentiation.
pub type Autodiff = burn::backend::Autodiff<Inner>;

/// The device of [`Inner`] (and [`Autodiff`]).
pub type Device = burn::tensor::Device<Inner>;

/// Human-readable name of the selected backend, for logs.
pub fn name() -> &'static str {
    if cfg!(feature = "wgpu") { "wgpu" } else { "ndarray" }
}

/// The device of index `index` (`--devices`): on wgpu the discrete GPU of that index (none
/// given: the default device); on ndarray the CPU, whatever the index.
pub fn device(index: Option<u16>) -> Device {
    #[cfg(feature = "wgpu")]
    if let Some(i) = index {
        return burn::backend::wgpu::WgpuDevice::DiscreteGpu(i as usize);
    }
    let _ = index;
    Device::default()
}

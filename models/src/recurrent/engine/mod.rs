//! The ways of running one recurrent layer, and the choice between them: [`run_layer`] is the
//! one entry point the layer stack calls.
//!
//! | path | backends | BPTT |
//! | --- | --- | --- |
//! | [`cpu`] (ndarray only) | `NdArray<f32\|f64>` and their `Autodiff` | the CPU kernel ([`crate::recurrent::kernel`]) on flat buffers, one autodiff node per layer |
//! | [`wgpu`] (wgpu only) | `Autodiff<Wgpu>` | [`recorded::TensorLoop`] on the inner backend, one autodiff node per layer and direction |
//! | [`recorded`] | every other backend | Burn's, from every recorded step |
//!
//! The two autodiff nodes run the course's BPTT written out (the cell supplies only its local
//! derivatives, [`crate::recurrent::Cell::backward`]):
//!
//! ```text
//! for t in backward_order(T):
//!     ∂state_t   = mask_t ⊙ (∂L/∂state_t + ∂L/∂out_t)            (what step t produced)
//!     ∂a_t, ∂hp_t, direct ∂state_{t-1}  =  cell.backward(∂state_t)
//!     ∂h_{t-1}   = ∂hp_t W_hhᵀ + direct + (1 − mask_t) ⊙ ∂L/∂h_t  (padding passes through)
//! ∂input_proj = [∂a_1 … ∂a_T]          ∂W_hh = Σ_t h_{t-1}ᵀ ∂hp_t  (one matmul over all steps)
//! ∂b_hh = Σ_t Σ_batch ∂hp_t             ∂h_0, ∂c_0 = what is left after step 1
//! ```
//!
//! Their results equal the recorded graph's to rounding (the PyTorch-parity, finite-difference,
//! padding and node-against-graph tests run through them).
//!
//! **Why the wgpu node stays.** Recorded step by step, a layer puts a dozen nodes per time step
//! on Burn's tape (the hidden matmul, the bias, the gate slices, every activation and product,
//! the padding blend), and its backward pass pays for each of them: bookkeeping, zero-filled
//! slice gradients, and one small weight-gradient matmul per step; on a GPU each recorded
//! operation is a kernel launch. `bench --recorded` measures what the node saves (the figures
//! are in BENCHMARKS.md). It costs one file and one backward loop; the CI's wgpu subset checks
//! it against PyTorch.
//!
//! **Why by type.** The path is chosen by which backend `B` is ([`crate::backends`], the one
//! place that decides it).

#[cfg(feature = "ndarray")]
mod cpu;
pub mod recorded;
#[cfg(feature = "wgpu")]
mod wgpu;

use burn::tensor::{backend::Backend, Tensor};

use super::cell::CellState;
use super::scan::LayerInput;
#[allow(unused_imports)] // with no backend feature, no backend is known
use crate::backends::Known;
#[allow(unused_imports)] // with no backend feature, nothing is cast
use crate::flat::cast;

/// Whether the recurrent layers run BPTT as one autodiff node per layer (and direction) on
/// backend `B` (else they record every time step, with the same results).
pub fn is_fused<B: Backend>() -> bool {
    path::<B>().is_some_and(|path| path.autodiff())
}

/// Runs one layer (all its directions) on the path for backend `B`. Returns the layer's output
/// `[batch, seq, directions·hidden]` (directions side by side) and each direction's final state.
/// `probes` (see `Recurrent::forward_probed`) always take the recorded path.
pub fn run_layer<B: Backend>(
    layer: LayerInput<B>,
    probes: Option<&[Tensor<B, 2>]>,
) -> (Tensor<B, 3>, Vec<CellState<B>>) {
    if probes.is_some() {
        return recorded::run(layer, probes);
    }
    #[cfg(feature = "ndarray")]
    use burn::backend::NdArray;
    match path::<B>() {
        #[cfg(feature = "ndarray")]
        Some(Path::NdArrayF32) if cpu::accepts::<f32, B>(&layer) => {
            cast(cpu::autodiff::<NdArray<f32>, f32>(cast(layer)))
        }
        #[cfg(feature = "ndarray")]
        Some(Path::NdArrayF64) if cpu::accepts::<f64, B>(&layer) => {
            cast(cpu::autodiff::<NdArray<f64>, f64>(cast(layer)))
        }
        #[cfg(feature = "ndarray")]
        Some(Path::PlainNdArrayF32) if cpu::accepts::<f32, B>(&layer) => match layer.int8.clone() {
            Some(int8) => cast(cpu::plain_int8::<NdArray<f32>>(cast(layer), &int8)),
            None => cast(cpu::plain::<NdArray<f32>, f32>(cast(layer))),
        },
        #[cfg(feature = "ndarray")]
        Some(Path::PlainNdArrayF64) if cpu::accepts::<f64, B>(&layer) => {
            cast(cpu::plain::<NdArray<f64>, f64>(cast(layer)))
        }
        #[cfg(feature = "wgpu")]
        Some(Path::Wgpu) => cast(wgpu::run::<burn::backend::Wgpu>(cast(layer))),
        _ => recorded::run(layer, None),
    }
}

/// The backends with a path of their own.
enum Path {
    /// `Autodiff<NdArray<f32>>`: the CPU kernel, one node per layer.
    #[cfg(feature = "ndarray")]
    NdArrayF32,
    /// `Autodiff<NdArray<f64>>`: the same, in f64.
    #[cfg(feature = "ndarray")]
    NdArrayF64,
    /// `NdArray<f32>` (inference): the CPU kernel's forward pass.
    #[cfg(feature = "ndarray")]
    PlainNdArrayF32,
    /// `NdArray<f64>` (inference).
    #[cfg(feature = "ndarray")]
    PlainNdArrayF64,
    /// `Autodiff<Wgpu>`: one node per layer and direction.
    #[cfg(feature = "wgpu")]
    Wgpu,
}

impl Path {
    fn autodiff(&self) -> bool {
        match *self {
            #[cfg(feature = "ndarray")]
            Self::NdArrayF32 | Self::NdArrayF64 => true,
            #[cfg(feature = "ndarray")]
            Self::PlainNdArrayF32 | Self::PlainNdArrayF64 => false,
            #[cfg(feature = "wgpu")]
            Self::Wgpu => true,
        }
    }
}

/// Which path backend `B` has, if any ([`crate::backends::known`]).
fn path<B: Backend>() -> Option<Path> {
    #[allow(unreachable_patterns)] // with no backend feature, no backend is known
    match crate::backends::known::<B>()? {
        #[cfg(feature = "ndarray")]
        Known::AutodiffNdArrayF32 => Some(Path::NdArrayF32),
        #[cfg(feature = "ndarray")]
        Known::AutodiffNdArrayF64 => Some(Path::NdArrayF64),
        #[cfg(feature = "ndarray")]
        Known::NdArrayF32 => Some(Path::PlainNdArrayF32),
        #[cfg(feature = "ndarray")]
        Known::NdArrayF64 => Some(Path::PlainNdArrayF64),
        #[cfg(feature = "wgpu")]
        Known::AutodiffWgpu => Some(Path::Wgpu),
        _ => None,
    }
}

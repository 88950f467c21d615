//! Tests of `seqlab-models`.

mod activations;
mod bptt;
mod crf;
// Float64 finite differences and the README example name NdArray directly.
mod export;
mod fast_paths;
#[cfg(feature = "ndarray")]
mod flat;
mod gradcheck;
mod heads;
mod import;
mod loss;
mod onnx;
mod padding;
mod parity;
#[cfg(feature = "ndarray")]
mod readme;

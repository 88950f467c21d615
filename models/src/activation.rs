//! The activation functions of the course, selectable from a config.

use burn::config::Config;
use burn::tensor::{activation, backend::Backend, Tensor};

/// An activation function, applied element-wise (softmax: over the last dimension).
///
/// | variant | formula |
/// | --- | --- |
/// | `Identity` | `x` |
/// | `Sigmoid` | `σ(x) = 1 / (1 + e^{-x})` |
/// | `Tanh` | `tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})` |
/// | `Relu` | `max(0, x)` |
/// | `Gelu` | `x · Φ(x)` (exact, with the Gaussian CDF `Φ`) |
/// | `Softmax` | `e^{x_i} / Σ_j e^{x_j}` over the last dimension |
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `x`, unchanged.
    Identity,
    /// The logistic sigmoid.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// The rectified linear unit.
    Relu,
    /// The Gaussian error linear unit (exact form).
    Gelu,
    /// Softmax over the last dimension.
    Softmax,
}

impl Activation {
    /// Applies the activation to a tensor of any rank; softmax normalises the last dimension.
    pub fn forward<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Self::Identity => x,
            Self::Sigmoid => sigmoid(x),
            Self::Tanh => tanh(x),
            Self::Relu => activation::relu(x),
            Self::Gelu => activation::gelu(x),
            Self::Softmax => activation::softmax(x, D - 1),
        }
    }
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^{−x})`, in the input's dtype.
///
/// Burn 0.21's `activation::sigmoid` casts to f32 and evaluates `exp(−log(1 + e^{−x}))`; this
/// form is exact in any float type, and built on `exp`, which burn-ndarray evaluates in f32 (its
/// `tanh` goes through f64 libm, a third of the time of a recurrent forward pass).
///
/// The input is clamped to `[−80, 80]` first: beyond, `e^{80}` would overflow f32 and the
/// autodiff derivative of `1/(1 + e^{−x})` would be `0 · ∞ = NaN` (it was, in a CoNLL run
/// whose pre-activations grew past −88). The clamp changes values by less than `e^{−80} ≈ 2e−35`
/// and makes the derivative 0 out there (the true one is below 2e−35).
///
/// Relative error of a few ulp in f32 at any tensor size (see the note on `recip` inside).
pub fn sigmoid<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let denominator = x.clamp(-80.0, 80.0).neg().exp().add_scalar(1.0);
    // A division, not `recip`: burn-ndarray 0.21 computes `recip` of f32 tensors of 32 or more
    // elements with the CPU's approximate reciprocal instruction (relative error ~3e-4).
    denominator.ones_like().div(denominator)
}

/// The hyperbolic tangent, as `tanh(x) = 2σ(2x) − 1` (see [`sigmoid`] for why not Burn's
/// `tanh`). Absolute error below 1e-7 in f32; saturates cleanly to ±1.
pub fn tanh<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    sigmoid(x.mul_scalar(2.0)).mul_scalar(2.0).sub_scalar(1.0)
}

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
            Self::Tanh => activation::tanh(x),
            Self::Relu => activation::relu(x),
            Self::Gelu => activation::gelu(x),
            Self::Softmax => activation::softmax(x, D - 1),
        }
    }
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^{-x}) = ½·tanh(x/2) + ½`, in the input's dtype.
///
/// Burn 0.21's `activation::sigmoid` casts to f32 and evaluates `exp(−log(1 + e^{−x}))`
/// (8 tensor ops); this form is exact in any float type and takes 4, which matters in a
/// recurrent cell that calls it three times per step.
pub fn sigmoid<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    activation::tanh(x.mul_scalar(0.5)).mul_scalar(0.5).add_scalar(0.5)
}

//! The feed-forward network of the course: `h = σ(Wx + b)`, `z = Uh`, `y = softmax(z)`.

use burn::config::Config;
use burn::module::{Initializer, Module};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{activation::softmax, backend::Backend, Tensor};

use crate::Activation;

/// Configuration of an [`Ffn`].
#[derive(Config, Debug)]
pub struct FfnConfig {
    /// Size of the input `x`.
    pub d_input: usize,
    /// Sizes of the hidden layers, in order; empty gives a single linear map `z = Ux`.
    pub hidden: Vec<usize>,
    /// Size of the output `z` (number of classes).
    pub d_output: usize,
    /// The non-linearity `σ` after every hidden layer.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Dropout probability applied to every hidden representation (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Whether the output layer has a bias. The course's `z = Uh` has none.
    #[config(default = true)]
    pub output_bias: bool,
}

/// A feed-forward network: hidden layers `h_k = σ(W_k h_{k-1} + b_k)` then logits `z = U h + c`.
///
/// [`Ffn::forward`] returns the logits `z`; [`Ffn::probabilities`] applies `softmax`.
/// Should be created with [`FfnConfig`].
#[derive(Module, Debug)]
pub struct Ffn<B: Backend> {
    /// The hidden layers `W_k, b_k`; weights are `[d_in, d_out]` (Burn's row layout).
    pub hidden: Vec<Linear<B>>,
    /// The output layer `U`.
    pub output: Linear<B>,
    /// The hidden non-linearity.
    pub activation: Activation,
    /// Dropout on hidden representations.
    pub dropout: Dropout,
}

impl FfnConfig {
    /// Initialises the network (Kaiming-uniform weights, as `burn::nn::Linear`).
    pub fn init<B: Backend>(&self, device: &B::Device) -> Ffn<B> {
        let mut d_in = self.d_input;
        let hidden = self
            .hidden
            .iter()
            .map(|&d_out| {
                let layer = LinearConfig::new(d_in, d_out).init(device);
                d_in = d_out;
                layer
            })
            .collect();
        let output = LinearConfig::new(d_in, self.d_output)
            .with_bias(self.output_bias)
            .with_initializer(Initializer::KaimingUniform { gain: 1.0 / 3f64.sqrt(), fan_out_only: false })
            .init(device);
        Ffn { hidden, output, activation: self.activation, dropout: DropoutConfig::new(self.dropout).init() }
    }
}

impl<B: Backend> Ffn<B> {
    /// Logits `z`.
    ///
    /// - `x`: `[..., d_input]` (any rank).
    /// - returns: `[..., d_output]`.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let h = self
            .hidden
            .iter()
            .fold(x, |h, layer| crate::dropout::dropout(&self.dropout, self.activation.forward(layer.forward(h))));
        self.output.forward(h)
    }

    /// Class probabilities `y = softmax(z)` over the last dimension, shape `[..., d_output]`.
    pub fn probabilities<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        softmax(self.forward(x), D - 1)
    }
}

//! # seqlab-models
//!
//! The neural building blocks of an NLP course on recurrent networks, as Burn modules that are
//! generic over `B: Backend`:
//!
//! - [`Activation`]: sigmoid, tanh, ReLU, GELU and softmax behind one config enum.
//! - [`Ffn`]: the feed-forward network `h = σ(Wx + b)`, `z = Uh`, `y = softmax(z)`.
//! - [`BagOfEmbeddings`]: mean/max pooling over the real tokens of a padded batch.
//! - [`Recurrent`]: Elman RNN, LSTM and GRU layers — stacked, bidirectional and padding-aware —
//!   sharing one layer machinery and differing only in their [`Cell`].
//! - [`Crf`]: a linear-chain CRF output layer (log-likelihood, Viterbi, n-best, marginals,
//!   tag-scheme constraints).
//! - [`SequenceClassifier`] and [`TokenClassifier`]: task heads rebuilt from a serialisable config.
//! - [`import`]: PyTorch `nn.RNN`/`nn.LSTM`/`nn.GRU` parameters (safetensors) into [`Recurrent`].
//!
//! Shapes are written `[batch, seq, hidden]`; every recurrent layer is batch-first.

pub mod activation;
pub mod backends;
pub mod bag;
pub mod crf;
pub mod dropout;
pub mod embedding;
pub mod export;
pub mod ffn;
pub mod flat;
pub mod heads;
pub mod import;
pub mod linear;
pub mod loss;
pub mod mask;
pub mod masked_max;
pub mod onnx;
pub mod quantize;
pub mod recurrent;
pub mod subnormal;
pub mod threads;

pub use activation::Activation;
pub use bag::{BagOfEmbeddings, Pooling};
pub use crf::{Crf, CrfConfig};
pub use ffn::{Ffn, FfnConfig};
pub use heads::{EncoderKind, SequenceClassifier, SequenceClassifierConfig, TokenClassifier, TokenClassifierConfig};
pub use quantize::Precision;
pub use recurrent::{
    Cell, CellKind, CellState, Recurrent, RecurrentConfig, RecurrentOutput, RecurrentState, RecurrentWeights,
};

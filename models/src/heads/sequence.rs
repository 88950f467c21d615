//! Sequence classification: one label per sequence (e.g. sentiment).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig};
use burn::tensor::{backend::Backend, Int, Tensor};

use super::{Encoder, EncoderConfig};
use crate::bag::pool;
use crate::{Activation, Ffn, FfnConfig, Pooling, Precision};

/// Configuration of a [`SequenceClassifier`]; serialisable, so a saved model can be rebuilt.
#[derive(Config, Debug)]
pub struct SequenceClassifierConfig {
    /// Vocabulary size (token ids are `0..vocab_size`, 0 is padding).
    pub vocab_size: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Embedding width.
    #[config(default = 128)]
    pub embedding_dim: usize,
    /// The encoder (bag of embeddings, RNN, LSTM or GRU; layers; directions).
    #[config(default = "EncoderConfig::new()")]
    pub encoder: EncoderConfig,
    /// How the encoder's outputs become one vector per sequence.
    #[config(default = "Pooling::Last")]
    pub pooling: Pooling,
    /// Hidden layer sizes of the output FFN (empty: a linear layer).
    #[config(default = "Vec::new()")]
    pub ffn_hidden: Vec<usize>,
    /// Activation of the output FFN's hidden layers.
    #[config(default = "Activation::Relu")]
    pub ffn_activation: Activation,
    /// Dropout on the embeddings and on the pooled representation (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// How the weights are stored and multiplied: `int8` for a model written by `quantize`
    /// (see [`crate::quantize`]); `None` (f32) otherwise, and in files written before the
    /// field existed.
    #[config(default = "None")]
    pub precision: Option<Precision>,
}

/// `embedding → encoder → pooled representation → FFN → logits [batch, classes]`.
///
/// The pooled representation is the final state ([`Pooling::Last`]; for a bidirectional
/// encoder the final forward and final backward states concatenated) or the mean/max over the
/// real tokens. The bag-of-embeddings encoder pools the embeddings themselves (mean for `Last`).
#[derive(Module, Debug)]
pub struct SequenceClassifier<B: Backend> {
    /// Token embeddings `[vocab, embedding_dim]`.
    pub embedding: Embedding<B>,
    /// The contextual encoder.
    pub encoder: Encoder<B>,
    /// The output network.
    pub ffn: Ffn<B>,
    /// Dropout on embeddings and pooled vector.
    pub dropout: Dropout,
    /// Pooling.
    pub pooling: Pooling,
}

impl SequenceClassifierConfig {
    /// Initialises the model.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SequenceClassifier<B> {
        let embedding = EmbeddingConfig::new(self.vocab_size, self.embedding_dim).init(device);
        let encoder = self.encoder.init(self.embedding_dim, device);
        let ffn = FfnConfig::new(encoder.d_output, self.ffn_hidden.clone(), self.num_classes)
            .with_activation(self.ffn_activation)
            .with_dropout(self.dropout)
            .init(device);
        SequenceClassifier {
            embedding,
            encoder,
            ffn,
            dropout: DropoutConfig::new(self.dropout).init(),
            pooling: self.pooling,
        }
    }
}

impl<B: Backend> SequenceClassifier<B> {
    /// The model for int8 inference: its recurrent encoder gets its int8 weights
    /// ([`crate::Recurrent::quantize_int8`]).
    pub fn quantize_int8(mut self) -> Self {
        self.encoder.recurrent = self.encoder.recurrent.map(crate::Recurrent::quantize_int8);
        self
    }

    /// Logits for a right-padded batch.
    ///
    /// - `tokens`: `[batch, seq]` token ids.
    /// - `lengths`: `[batch]` real lengths; `None` when there is no padding.
    /// - returns: `[batch, classes]`.
    pub fn forward(&self, tokens: Tensor<B, 2, Int>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let x = crate::dropout::dropout(&self.dropout, crate::embedding::lookup(&self.embedding, tokens));
        let (outputs, recurrent) = self.encoder.forward(x, lengths.clone());
        let pooled = match (self.pooling, recurrent) {
            (Pooling::Last, Some(out)) => self.encoder.last_state(&out),
            (pooling, _) => pool(outputs, lengths, pooling),
        };
        self.ffn.forward(crate::dropout::dropout(&self.dropout, pooled))
    }
}

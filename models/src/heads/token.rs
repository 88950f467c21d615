//! Token classification: one tag per token (e.g. NER with B/I/O/E/S tags).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::{backend::Backend, Int, Tensor};

use super::{CharCnn, CharCnnConfig, CharLstm, CharLstmConfig, Encoder, EncoderConfig};
use crate::crf::{Crf, CrfConfig};
use crate::{Precision, Recurrent};

/// An extra per-token feature (e.g. casing) embedded and concatenated to the word embedding.
#[derive(Config, Debug)]
pub struct FeatureEmbeddingConfig {
    /// Number of distinct feature values (ids `0..vocab_size`, 0 is padding).
    pub vocab_size: usize,
    /// Embedding width.
    pub dim: usize,
}

/// Configuration of a [`TokenClassifier`]; serialisable, so a saved model can be rebuilt.
#[derive(Config, Debug)]
pub struct TokenClassifierConfig {
    /// Vocabulary size (token ids are `0..vocab_size`, 0 is padding).
    pub vocab_size: usize,
    /// Number of tags.
    pub num_tags: usize,
    /// Word embedding width.
    #[config(default = 100)]
    pub embedding_dim: usize,
    /// Extra per-token feature embeddings, in the order their ids are passed to `forward`.
    #[config(default = "Vec::new()")]
    pub features: Vec<FeatureEmbeddingConfig>,
    /// The encoder; a bidirectional LSTM by default.
    #[config(default = "EncoderConfig::new().with_bidirectional(true)")]
    pub encoder: EncoderConfig,
    /// Dropout on the embeddings and on the encoder outputs (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// A character CNN whose word vectors are concatenated after the feature embeddings.
    #[config(default = "None")]
    pub chars: Option<CharCnnConfig>,
    /// A character BiLSTM whose word vectors are concatenated last.
    #[config(default = "None")]
    pub char_lstm: Option<CharLstmConfig>,
    /// A CRF over the output scores (`None`: independent per-token softmax).
    #[config(default = "None")]
    pub crf: Option<CrfConfig>,
    /// How the weights are stored and multiplied: `int8` for a model written by `quantize`
    /// (see [`crate::quantize`]); `None` (f32) otherwise, and in files written before the
    /// field existed.
    #[config(default = "None")]
    pub precision: Option<Precision>,
}

/// `embedding (‖ feature embeddings ‖ character vectors) → encoder → linear → tag scores
/// [batch, seq, tags]`, read by a softmax per token or, with a [`Crf`], as the CRF's emissions.
#[derive(Module, Debug)]
pub struct TokenClassifier<B: Backend> {
    /// Word embeddings.
    pub embedding: Embedding<B>,
    /// Feature embeddings, concatenated after the word embedding.
    pub features: Vec<Embedding<B>>,
    /// Character CNN, concatenated after the features.
    pub chars: Option<CharCnn<B>>,
    /// Character BiLSTM, concatenated last.
    pub char_lstm: Option<CharLstm<B>>,
    /// The contextual encoder.
    pub encoder: Encoder<B>,
    /// Per-token output layer.
    pub output: Linear<B>,
    /// Dropout.
    pub dropout: Dropout,
    /// The CRF output layer, when there is one.
    pub crf: Option<Crf<B>>,
}

impl TokenClassifierConfig {
    /// Initialises the model.
    pub fn init<B: Backend>(&self, device: &B::Device) -> TokenClassifier<B> {
        let embedding = EmbeddingConfig::new(self.vocab_size, self.embedding_dim).init(device);
        let features: Vec<_> =
            self.features.iter().map(|f| EmbeddingConfig::new(f.vocab_size, f.dim).init(device)).collect();
        let d_chars =
            self.chars.as_ref().map_or(0, |c| c.filters) + self.char_lstm.as_ref().map_or(0, |c| c.d_output());
        let d_input = self.embedding_dim + self.features.iter().map(|f| f.dim).sum::<usize>() + d_chars;
        let encoder = self.encoder.init(d_input, device);
        let output = LinearConfig::new(encoder.d_output, self.num_tags).init(device);
        let chars = self.chars.as_ref().map(|c| c.init(device));
        TokenClassifier {
            embedding,
            features,
            chars,
            char_lstm: self.char_lstm.as_ref().map(|c| c.init(device)),
            encoder,
            output,
            dropout: DropoutConfig::new(self.dropout).init(),
            crf: self.crf.as_ref().map(|c| c.init(device)),
        }
    }
}

impl<B: Backend> TokenClassifier<B> {
    /// The model for int8 inference: its recurrent layers (the encoder's and the character
    /// BiLSTM's) get their int8 weights ([`crate::Recurrent::quantize_int8`]).
    pub fn quantize_int8(mut self) -> Self {
        self.encoder.recurrent = self.encoder.recurrent.map(Recurrent::quantize_int8);
        if let Some(chars) = self.char_lstm.as_mut() {
            chars.lstm = chars.lstm.clone().quantize_int8();
        }
        self
    }

    /// Tag scores (softmax logits, or the CRF's emissions) for a right-padded batch.
    ///
    /// - `tokens`: `[batch, seq]` token ids.
    /// - `features`: one `[batch, seq]` id tensor per configured feature, in config order.
    /// - `chars`: `[batch, seq, chars]` character ids when the model has a character encoder.
    /// - `lengths`: `[batch]` real lengths; `None` when there is no padding.
    /// - returns: `[batch, seq, tags]`.
    ///
    /// # Panics
    /// If `features.len()` differs from the configured number of features, or `chars` is
    /// missing for a model with a character encoder.
    pub fn forward(
        &self,
        tokens: Tensor<B, 2, Int>,
        features: Vec<Tensor<B, 2, Int>>,
        chars: Option<Tensor<B, 3, Int>>,
        lengths: Option<Tensor<B, 1, Int>>,
    ) -> Tensor<B, 3> {
        assert_eq!(features.len(), self.features.len(), "one id tensor per feature embedding");
        let mut parts = vec![crate::embedding::lookup(&self.embedding, tokens)];
        parts.extend(self.features.iter().zip(features).map(|(emb, ids)| crate::embedding::lookup(emb, ids)));
        if let Some(cnn) = &self.chars {
            parts.push(cnn.forward(chars.clone().expect("character ids for the character CNN")));
        }
        if let Some(lstm) = &self.char_lstm {
            parts.push(lstm.forward(chars.expect("character ids for the character BiLSTM")));
        }
        let x = crate::dropout::dropout(
            &self.dropout,
            if parts.len() == 1 { parts.pop().unwrap() } else { Tensor::cat(parts, 2) },
        );
        let (outputs, _) = self.encoder.forward(x, lengths);
        crate::linear::forward(&self.output, crate::dropout::dropout(&self.dropout, outputs))
    }
}

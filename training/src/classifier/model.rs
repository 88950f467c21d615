//! The classifier as burn-train trains it ([`Classifier`]: a [`SequenceClassifier`] with its
//! cross-entropy), and the model config of a run.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::train::ClassificationOutput;
use seqlab_datasets::batch::ClassificationBatch;
use seqlab_models::{SequenceClassifier, SequenceClassifierConfig};

use super::config::ClassifierRunConfig;
use crate::memory::{Footprint, Part};

/// A [`SequenceClassifier`] with the training and inference steps burn-train calls.
#[derive(Module, Debug)]
pub struct Classifier<B: Backend> {
    /// The network.
    pub net: SequenceClassifier<B>,
}

impl<B: Backend> Classifier<B> {
    /// Logits, the mean cross-entropy over the batch, and the targets.
    pub fn forward_classification(&self, batch: ClassificationBatch<B>) -> ClassificationOutput<B> {
        let logits = self.net.forward(batch.tokens, Some(batch.lengths));
        let loss = seqlab_models::loss::cross_entropy(logits.clone(), batch.labels.clone());
        ClassificationOutput::new(loss, logits, batch.labels)
    }

    /// The examples the loss averages over.
    pub fn loss_terms(&self, batch: &ClassificationBatch<B>) -> usize {
        batch.labels.dims()[0]
    }
}

crate::steps::supervised_steps!(Classifier, ClassificationBatch, forward_classification);

/// The network a run trains over `words` words and `classes` classes, with embeddings
/// `embedding_dim` wide.
pub(super) fn model_config(
    config: &ClassifierRunConfig,
    words: usize,
    classes: usize,
    embedding_dim: usize,
) -> SequenceClassifierConfig {
    SequenceClassifierConfig::new(words, classes)
        .with_embedding_dim(embedding_dim)
        .with_encoder(config.encoder.clone())
        .with_pooling(config.pooling)
        .with_ffn_hidden(config.ffn_hidden.clone())
        .with_dropout(config.dropout)
}

/// What training the network of [`model_config`] takes ([`Footprint`]), with batches of up to
/// `batch_tokens` padded tokens.
pub(super) fn footprint(
    config: &ClassifierRunConfig,
    words: usize,
    classes: usize,
    embedding_dim: usize,
    batch_tokens: usize,
) -> Footprint {
    let e = &config.encoder;
    let encoded = if e.kind.cell().is_some() {
        e.hidden.saturating_mul(if e.bidirectional { 2 } else { 1 })
    } else {
        embedding_dim
    };
    let mut parts =
        vec![Part::embedding("embedding-dim", words, embedding_dim), Part::encoder(e, embedding_dim, "embedding-dim")];
    let mut width = encoded;
    for &hidden in &config.ffn_hidden {
        parts.push(Part::dense("ffn-hidden", width, hidden));
        width = hidden;
    }
    parts.push(Part::dense("hidden", width, classes));
    Footprint { parts, batch_tokens }
}

//! The classifier as burn-train trains it ([`Classifier`]: a [`SequenceClassifier`] with its
//! cross-entropy), and the model config of a run.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::train::ClassificationOutput;
use seqlab_datasets::batch::ClassificationBatch;
use seqlab_models::{SequenceClassifier, SequenceClassifierConfig};

use super::config::ClassifierRunConfig;

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

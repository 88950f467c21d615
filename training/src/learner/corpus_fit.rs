//! The end both tasks' training shares once a task has its encoded training split, its
//! validation items and its model: the loaders, the learner's options for the run, and
//! [`fit`](super::fit).

use burn::data::dataset::Dataset;
use burn::tensor::backend::AutodiffBackend;
use seqlab_datasets::encoded::EncodedCorpus;

use super::bounds::{InnerBatch, LoaderItem, RunBatcher, Trainable};
use super::loaders::loaders;
use super::options::TrainingConfig;
use super::Fitted;
use crate::error::RunError;

/// What a task hands [`fit_corpus`] besides its model and data.
pub struct CorpusRun<'a> {
    /// The learner's options.
    pub training: &'a TrainingConfig,
    /// The artifacts folder.
    pub artifacts: &'a std::path::Path,
    /// A tagger's tag names (its entity scores are then the selection's default).
    pub entity_tags: Option<Vec<String>>,
    /// What every rank of a job must agree on ([`crate::cluster::fingerprint`]).
    pub fingerprint: u64,
}

/// Trains `model` on `train` (the dataset over the encoded training split `corpus`, whose
/// lengths plan the batches) and validates on `valid` (items of length `length`) every epoch;
/// returns the best epoch's model and the progress (see [`super::fit`]).
pub fn fit_corpus<B, T, I, Bt, M>(
    model: M,
    train: impl Dataset<T> + 'static,
    corpus: &EncodedCorpus,
    valid: Vec<T>,
    batcher: Bt,
    length: fn(&T) -> usize,
    run: CorpusRun<'_>,
) -> Result<Fitted<M::InnerModule>, RunError>
where
    B: AutodiffBackend,
    T: LoaderItem,
    I: InnerBatch<B, InnerBatch: LoaderItem> + LoaderItem,
    Bt: RunBatcher<B, T, I>,
    M: Trainable<B, I>,
{
    let (train_loader, valid_loader) = loaders(train, |i| corpus.length(i), valid, batcher, length, run.training);
    let mut options =
        run.training.fit_options(run.artifacts, corpus.len(), train_loader.num_items(), run.entity_tags)?;
    options.fingerprint = run.fingerprint;
    // The plan read every length: those pages are not needed again.
    corpus.release();
    super::fit(model, train_loader, valid_loader, &options)
}

//! The data loaders of a run: length-bucketed batches (see [`bucket_batches`]), reshuffled every
//! epoch for training and in a fixed order for validation; and the seeding of a run.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::tensor::backend::{AutodiffBackend, Backend};
use seqlab_datasets::batch::{bucket_batches, BucketedDataset, Flatten};

use super::bounds::InnerBatch;
use super::options::TrainingConfig;

/// A data loader over length-bucketed batches of `items` (see
/// [`bucket_batches`]); `shuffle` reorders the batches every epoch.
pub fn bucketed_loader<B, I, O, Bt>(
    items: Vec<I>,
    batcher: Bt,
    length: impl Fn(&I) -> usize,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
) -> Arc<dyn DataLoader<B, O>>
where
    B: Backend,
    I: Clone + Send + Sync + std::fmt::Debug + 'static,
    O: Clone + Send + Sync + std::fmt::Debug + 'static,
    Bt: Batcher<B, I, O> + 'static,
{
    let lengths: Vec<usize> = items.iter().map(length).collect();
    let plan = bucket_batches(&lengths, batch_size, 50, seed);
    let builder = DataLoaderBuilder::new(Flatten(batcher)).batch_size(1);
    let builder = if shuffle { builder.shuffle(seed) } else { builder };
    builder.build(BucketedDataset::new(Arc::new(items), plan))
}

/// The two loaders of a run: `train` in length-bucketed batches reshuffled every epoch,
/// `valid` in the same kind of batches in a fixed order (on the inference backend).
#[allow(clippy::type_complexity)]
pub fn loaders<B, T, I, Bt>(
    train: Vec<T>,
    valid: Vec<T>,
    batcher: Bt,
    length: fn(&T) -> usize,
    training: &TrainingConfig,
) -> (Arc<dyn DataLoader<B, I>>, Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>)
where
    B: AutodiffBackend,
    T: Clone + Send + Sync + std::fmt::Debug + 'static,
    I: InnerBatch<B> + Clone + Send + Sync + std::fmt::Debug + 'static,
    I::InnerBatch: Clone + Sync + std::fmt::Debug,
    Bt: Batcher<B, T, I> + Batcher<B::InnerBackend, T, I::InnerBatch> + Clone + 'static,
{
    let (size, seed) = (training.batch_size, training.seed);
    (
        bucketed_loader::<B, _, _, _>(train, batcher.clone(), length, size, seed, true),
        bucketed_loader::<B::InnerBackend, _, _, _>(valid, batcher, length, size, seed, false),
    )
}

/// Seeds the random streams of a run: the backend's (initialisation) and the dropout masks'.
pub fn seed<B: Backend>(device: &B::Device, seed: u64) {
    B::seed(device, seed);
    seqlab_models::dropout::seed(seed);
}

//! The data loaders of a run: length-bucketed batches (see
//! [`bucket_batches`](seqlab_datasets::batch::bucket_batches)), reshuffled every
//! epoch for training and in a fixed order for validation; and the seeding of a run.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::{Dataset, InMemDataset};
use burn::tensor::backend::{AutodiffBackend, Backend};
use seqlab_datasets::batch::{BatchPlan, BucketedDataset, Flatten};

use super::bounds::{InnerBatch, LoaderItem, RunBatcher};
use super::options::TrainingConfig;

/// Which of a plan's batches a rank of a job takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Every batch (a process alone).
    All,
    /// Training: rank `rank`'s share of `ranks`, paired by cost (see [`BatchPlan::shard`]).
    Shard { rank: usize, ranks: usize },
    /// Validation: every batch once over the ranks (see [`BatchPlan::deal`]).
    Dealt { rank: usize, ranks: usize },
}

/// A data loader over length-bucketed batches of `items` (see [`BatchPlan::bucketed`]), item `i`
/// of length `length(i)`, at most `batch_size` examples and `max_tokens` padded tokens a batch;
/// `shuffle` reorders the batches every epoch; `share`: which of them this process takes.
#[allow(clippy::too_many_arguments)]
pub fn bucketed_loader<B, I, O, Bt>(
    items: impl Dataset<I> + 'static,
    length: impl Fn(usize) -> usize,
    batcher: Bt,
    batch_size: usize,
    max_tokens: usize,
    seed: u64,
    shuffle: bool,
    share: Share,
) -> Arc<dyn DataLoader<B, O>>
where
    B: Backend,
    I: LoaderItem,
    O: LoaderItem,
    Bt: Batcher<B, I, O> + 'static,
{
    let plan = BatchPlan::bucketed(items.len(), &length, batch_size, max_tokens, 50, seed);
    let plan = match share {
        Share::All => plan,
        Share::Shard { rank, ranks } => plan.shard(rank, ranks, &length, seed),
        Share::Dealt { rank, ranks } => plan.deal(rank, ranks, &length),
    };
    let builder = DataLoaderBuilder::new(Flatten(batcher)).batch_size(1);
    let builder = if shuffle { builder.shuffle(seed) } else { builder };
    builder.build(BucketedDataset::new(items, plan))
}

/// The two loaders of a run: `train` (item `i` of length `train_length(i)`; in memory or an
/// encoded corpus) in length-bucketed batches reshuffled every epoch, `valid` in the same kind
/// of batches in a fixed order (on the inference backend). A rank of a job trains on its share
/// of the training batches and scores its part of the validation batches; the epoch's
/// validation means are combined over the ranks (see `EpochMetrics`).
#[allow(clippy::type_complexity)]
pub fn loaders<B, T, I, Bt>(
    train: impl Dataset<T> + 'static,
    train_length: impl Fn(usize) -> usize,
    valid: Vec<T>,
    batcher: Bt,
    length: fn(&T) -> usize,
    training: &TrainingConfig,
) -> (Arc<dyn DataLoader<B, I>>, Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>)
where
    B: AutodiffBackend,
    T: LoaderItem,
    I: InnerBatch<B, InnerBatch: LoaderItem> + LoaderItem,
    Bt: RunBatcher<B, T, I>,
{
    let (size, tokens, seed) = (training.batch_size, training.max_tokens, training.seed);
    let (shard, dealt) = match &training.cluster {
        Some(c) => (Share::Shard { rank: c.rank, ranks: c.ranks }, Share::Dealt { rank: c.rank, ranks: c.ranks }),
        None => (Share::All, Share::All),
    };
    let valid_lengths: Vec<usize> = valid.iter().map(length).collect();
    (
        bucketed_loader::<B, _, _, _>(train, train_length, batcher.clone(), size, tokens, seed, true, shard),
        bucketed_loader::<B::InnerBackend, _, _, _>(
            InMemDataset::new(valid),
            |i| valid_lengths[i],
            batcher,
            size,
            tokens,
            seed,
            false,
            dealt,
        ),
    )
}

/// The padded tokens of a run's largest batch: `max_tokens`, or `batch_size` times the longest
/// example where that is less, and at least the longest example (which has a batch of its own).
pub fn batch_tokens(training: &TrainingConfig, lengths: impl IntoIterator<Item = usize>) -> usize {
    let longest = lengths.into_iter().max().unwrap_or(1).max(1);
    training.max_tokens.min(training.batch_size.saturating_mul(longest)).max(longest)
}

/// Seeds the random streams of a run: the backend's (initialisation) and the dropout masks'.
pub fn seed<B: Backend>(device: &B::Device, seed: u64) {
    B::seed(device, seed);
    seqlab_models::dropout::seed(seed);
}

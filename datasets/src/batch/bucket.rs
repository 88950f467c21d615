//! Length bucketing: shuffle, then sort by length within chunks of many batches, so that each
//! batch holds sequences of similar length and padding is cut, while batches still vary from
//! chunk to chunk.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::tensor::backend::Backend;

use crate::embedded::Rng;

/// Batches of example indices: the indices are shuffled with `seed`, cut into chunks of
/// `batch_size · chunk_batches`, each chunk is sorted by length and cut into batches, and the
/// batches are shuffled. `chunk_batches = 1` gives plain shuffled batches.
pub fn bucket_batches(lengths: &[usize], batch_size: usize, chunk_batches: usize, seed: u64) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    shuffle(&mut order, &mut rng);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for chunk in order.chunks_mut(batch_size * chunk_batches.max(1)) {
        chunk.sort_by_key(|&i| lengths[i]);
        batches.extend(chunk.chunks(batch_size).map(<[usize]>::to_vec));
    }
    shuffle(&mut batches, &mut rng);
    batches
}

/// Batches of example indices for scoring: sorted by length (stable), cut into batches, so that
/// each batch pads as little as possible. Every index appears once; map the results back with
/// the indices.
pub fn length_sorted_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// Fraction of padded positions when `batches` are padded to their longest member.
pub fn padding_ratio(lengths: &[usize], batches: &[Vec<usize>]) -> f64 {
    let (mut real, mut total) = (0usize, 0usize);
    for batch in batches {
        let longest = batch.iter().map(|&i| lengths[i]).max().unwrap_or(0);
        real += batch.iter().map(|&i| lengths[i]).sum::<usize>();
        total += longest * batch.len();
    }
    if total == 0 {
        0.0
    } else {
        1.0 - real as f64 / total as f64
    }
}

/// A dataset whose items are whole batches, following a plan from [`bucket_batches`]. Use it
/// with a data loader of batch size 1 and [`Flatten`] around the item batcher.
#[derive(Debug, Clone)]
pub struct BucketedDataset<I> {
    items: Arc<Vec<I>>,
    batches: Vec<Vec<usize>>,
}

impl<I> BucketedDataset<I> {
    /// Groups `items` as `batches` (indices into `items`).
    pub fn new(items: Arc<Vec<I>>, batches: Vec<Vec<usize>>) -> Self {
        Self { items, batches }
    }
}

impl<I: Clone + Send + Sync> Dataset<Vec<I>> for BucketedDataset<I> {
    fn get(&self, index: usize) -> Option<Vec<I>> {
        self.batches.get(index).map(|b| b.iter().map(|&i| self.items[i].clone()).collect())
    }

    fn len(&self) -> usize {
        self.batches.len()
    }
}

/// Adapts an item batcher to pre-grouped batches (items that are `Vec<I>`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Flatten<T>(pub T);

impl<B: Backend, I, O, T: Batcher<B, I, O>> Batcher<B, Vec<I>, O> for Flatten<T> {
    fn batch(&self, items: Vec<Vec<I>>, device: &B::Device) -> O {
        self.0.batch(items.into_iter().flatten().collect(), device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucketing_covers_every_example_once_and_cuts_padding() {
        let lengths: Vec<usize> = (0..1000).map(|i| 5 + (i * 37) % 36).collect();
        let plain = bucket_batches(&lengths, 32, 1, 7);
        let bucketed = bucket_batches(&lengths, 32, 50, 7);
        for plan in [&plain, &bucketed] {
            let mut all: Vec<usize> = plan.iter().flatten().copied().collect();
            all.sort();
            assert_eq!(all, (0..1000).collect::<Vec<_>>());
        }
        let (p, b) = (padding_ratio(&lengths, &plain), padding_ratio(&lengths, &bucketed));
        assert!(p > 0.3 && b < 0.05, "padding plain {p:.3}, bucketed {b:.3}");
        assert_eq!(bucket_batches(&lengths, 32, 50, 7), bucketed, "deterministic for a seed");
        let sorted = length_sorted_batches(&lengths, 32);
        let mut all: Vec<usize> = sorted.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(padding_ratio(&lengths, &sorted) <= b, "sorted batches pad no more than bucketed ones");
    }
}

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
/// batches are shuffled. `chunk_batches = 1` gives plain shuffled batches. (The plan of
/// [`BatchPlan::bucketed`], one `Vec` per batch.)
pub fn bucket_batches(lengths: &[usize], batch_size: usize, chunk_batches: usize, seed: u64) -> Vec<Vec<usize>> {
    let plan = BatchPlan::bucketed(lengths.len(), |i| lengths[i], batch_size, usize::MAX, chunk_batches, seed);
    (0..plan.len()).map(|b| plan.batch(b).iter().map(|&i| i as usize).collect()).collect()
}

/// A plan of batches over a dataset, four bytes per example: the examples' indices in one array,
/// each batch a run of it. What a corpus of tens of millions of examples can afford.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchPlan {
    /// Example indices, batch after batch as the runs below cut them.
    order: Vec<u32>,
    /// Each batch: its start in `order` and its size.
    runs: Vec<(u32, u32)>,
}

impl BatchPlan {
    /// The plan of [`bucket_batches`] for `len` examples whose lengths `length` gives, each batch
    /// also bounded by `max_tokens` padded positions (its examples × its longest): a batch ends
    /// before the example that would take it past the budget, so an example longer than the
    /// budget has a batch of its own.
    ///
    /// # Panics
    /// With more than `u32::MAX` examples.
    pub fn bucketed(
        len: usize,
        length: impl Fn(usize) -> usize,
        batch_size: usize,
        max_tokens: usize,
        chunk_batches: usize,
        seed: u64,
    ) -> Self {
        let len = u32::try_from(len).expect("at most 4,294,967,295 examples");
        let batch_size = batch_size.max(1);
        let mut rng = Rng::new(seed);
        let mut order: Vec<u32> = (0..len).collect();
        shuffle(&mut order, &mut rng);
        let mut runs: Vec<(u32, u32)> = Vec::new();
        let chunk = batch_size * chunk_batches.max(1);
        for (c, part) in order.chunks_mut(chunk).enumerate() {
            part.sort_by_key(|&i| length(i as usize));
            let start = c * chunk;
            let mut b = 0;
            while b < part.len() {
                // Sorted: each example joining is the longest of the batch so far.
                let fits =
                    |size: usize| (size + 1).saturating_mul(length(part[b + size] as usize).max(1)) <= max_tokens;
                let mut size = 1;
                while size < batch_size && b + size < part.len() && fits(size) {
                    size += 1;
                }
                runs.push(((start + b) as u32, size as u32));
                b += size;
            }
        }
        shuffle(&mut runs, &mut rng);
        Self { order, runs }
    }

    /// The plan of the given batches (indices into a dataset), in order.
    pub fn of(batches: &[Vec<usize>]) -> Self {
        let mut plan = Self::default();
        for batch in batches {
            plan.runs.push((plan.order.len() as u32, batch.len() as u32));
            plan.order.extend(batch.iter().map(|&i| u32::try_from(i).expect("an index below 2^32")));
        }
        plan
    }

    /// The share of rank `rank` of `ranks` (data-parallel training across processes, where every
    /// step waits for the slowest rank): the batches ordered by their cost (padded positions:
    /// examples × the longest, with `length` as in [`BatchPlan::bucketed`]), cut into groups of
    /// `ranks` consecutive batches, the groups shuffled with `seed`; rank `rank` takes the
    /// `rank`-th batch of each group. So every rank has the same number of batches and the
    /// ranks' `k`-th batches cost about the same. The cheapest `len mod ranks` batches are left
    /// out. Every rank computes the same groups.
    pub fn shard(&self, rank: usize, ranks: usize, length: impl Fn(usize) -> usize, seed: u64) -> Self {
        let ranks = ranks.max(1);
        let runs = self.by_cost(length);
        let mut groups: Vec<&[(u32, u32)]> = runs[runs.len() % ranks..].chunks(ranks).collect();
        shuffle(&mut groups, &mut Rng::new(seed));
        let runs = groups.iter().map(|group| group[rank.min(ranks - 1)]).collect();
        Self { order: self.order.clone(), runs }
    }

    /// Rank `rank`'s part of `ranks` for scoring, where nothing waits batch by batch and every
    /// batch must be scored once: the batches ordered by their cost (as in
    /// [`BatchPlan::shard`]) and dealt round, batch `i` to rank `i mod ranks`. With fewer
    /// batches than ranks every rank takes them all (so that none has nothing to score).
    pub fn deal(&self, rank: usize, ranks: usize, length: impl Fn(usize) -> usize) -> Self {
        let ranks = ranks.max(1);
        if self.runs.len() < ranks {
            return self.clone();
        }
        let runs = self.by_cost(length).into_iter().skip(rank.min(ranks - 1)).step_by(ranks).collect();
        Self { order: self.order.clone(), runs }
    }

    /// The batches ordered by their cost, padded positions (examples × the longest, with
    /// `length` as in [`BatchPlan::bucketed`]). Stable: batches of equal cost keep the plan's
    /// order, the same on every rank.
    fn by_cost(&self, length: impl Fn(usize) -> usize) -> Vec<(u32, u32)> {
        let cost = |&(start, size): &(u32, u32)| {
            let batch = &self.order[start as usize..(start + size) as usize];
            batch.len() * batch.iter().map(|&i| length(i as usize)).max().unwrap_or(0)
        };
        let mut runs = self.runs.clone();
        runs.sort_by_cached_key(cost);
        runs
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether there are no batches.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The example indices of batch `index`.
    pub fn batch(&self, index: usize) -> &[u32] {
        let (start, size) = self.runs[index];
        &self.order[start as usize..(start + size) as usize]
    }
}

/// Batches of example indices for scoring: sorted by length (stable), cut into batches of at
/// most `batch_size` examples and at most `max_tokens` padded positions (examples × the longest
/// one; a single longer example still gets a batch of its own), and cut where a batch of at
/// least 8 would grow past twice its shortest length, so that each batch pads as little as
/// possible (a server's batch of requests mixes short and long sentences) and memory is bounded
/// by tokens, not by how long the longest sentences are. Every index appears once; map the
/// results back with the indices.
pub fn length_sorted_batches(lengths: &[usize], batch_size: usize, max_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut batch: Vec<usize> = Vec::new();
    for i in order {
        // Sorted: this example is the longest of the batch it joins.
        let padded = (batch.len() + 1) * lengths[i].max(1);
        let spread = batch.len() >= 8 && lengths[i] > 2 * lengths[batch[0]].max(1);
        if !batch.is_empty() && (batch.len() == batch_size.max(1) || padded > max_tokens || spread) {
            batches.push(std::mem::take(&mut batch));
        }
        batch.push(i);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
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

/// A dataset whose items are whole batches, following a [`BatchPlan`]. Use it with a data
/// loader of batch size 1 and [`Flatten`] around the item batcher. The items may be in memory
/// ([`burn::data::dataset::InMemDataset`]) or read from a mapped file.
#[derive(Clone)]
pub struct BucketedDataset<I> {
    items: Arc<dyn Dataset<I>>,
    plan: BatchPlan,
}

impl<I> BucketedDataset<I> {
    /// Groups the items of `items` as `plan` says.
    pub fn new(items: impl Dataset<I> + 'static, plan: BatchPlan) -> Self {
        Self { items: Arc::new(items), plan }
    }
}

impl<I> std::fmt::Debug for BucketedDataset<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BucketedDataset {{ {} items in {} batches }}", self.items.len(), self.plan.len())
    }
}

impl<I: Send + Sync> Dataset<Vec<I>> for BucketedDataset<I> {
    fn get(&self, index: usize) -> Option<Vec<I>> {
        if index >= self.plan.len() {
            return None;
        }
        self.plan.batch(index).iter().map(|&i| self.items.get(i as usize)).collect()
    }

    fn len(&self) -> usize {
        self.plan.len()
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
        let sorted = length_sorted_batches(&lengths, 32, usize::MAX);
        let mut all: Vec<usize> = sorted.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(padding_ratio(&lengths, &sorted) <= b, "sorted batches pad no more than bucketed ones");
    }

    #[test]
    fn scoring_batches_keep_to_the_token_budget() {
        // Lengths 1..=100: batches of up to 8 examples and 200 padded positions.
        let lengths: Vec<usize> = (1..=100).rev().collect();
        let batches = length_sorted_batches(&lengths, 8, 200);
        let mut all: Vec<usize> = batches.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        for batch in &batches {
            let longest = batch.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(batch.len() <= 8 && (batch.len() * longest <= 200 || batch.len() == 1), "{batch:?}");
        }
        // Short examples fill the count (8 × 24 = 192); from length 25 on the budget cuts first
        // (6 × 30 = 180, a seventh of 31 would make 217); one example longer than the budget
        // still gets a batch of its own.
        assert_eq!(batches[0].len(), 8);
        assert_eq!(batches.iter().map(|b| lengths[b[0]]).take(4).collect::<Vec<_>>(), [1, 9, 17, 25]);
        assert_eq!(length_sorted_batches(&[500, 3], 8, 200), [vec![1], vec![0]]);
        // Lengths past twice the shortest start a new batch once it holds 8.
        let mixed = [vec![2; 10], vec![5; 10]].concat();
        assert_eq!(length_sorted_batches(&mixed, 64, 10_000), [(0..10).collect::<Vec<_>>(), (10..20).collect()]);
        let few = [vec![2; 4], vec![5; 4]].concat();
        assert_eq!(length_sorted_batches(&few, 64, 10_000), [(0..8).collect::<Vec<_>>()]);
    }

    #[test]
    fn dealt_parts_score_every_batch_once() {
        let lengths: Vec<usize> = (0..500).map(|i| 3 + (i * 13) % 40).collect();
        let plan = BatchPlan::bucketed(lengths.len(), |i| lengths[i], 16, 10_000, 50, 5);
        for ranks in [1, 2, 3] {
            let parts: Vec<BatchPlan> = (0..ranks).map(|rank| plan.deal(rank, ranks, |i| lengths[i])).collect();
            let mut all: Vec<u32> = parts.iter().flat_map(|p| (0..p.len()).flat_map(|b| p.batch(b).to_vec())).collect();
            all.sort();
            assert_eq!(all, (0..500).collect::<Vec<u32>>(), "{ranks} ranks");
            let sizes: Vec<usize> = parts.iter().map(BatchPlan::len).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        }
        // Fewer batches than ranks: each rank scores them all.
        let two = BatchPlan::of(&[vec![0, 1], vec![2]]);
        assert_eq!(two.deal(2, 3, |_| 1), two);
    }
}

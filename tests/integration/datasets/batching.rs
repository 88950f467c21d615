//! Batchers pad on the right, report lengths, and work under a Burn data loader with
//! length bucketing.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use seqlab_datasets::batch::{
    bucket_batches, BatchPlan, BucketedDataset, ClassificationBatcher, ClassificationItem, Flatten, TaggingBatcher,
    TaggingItem,
};

use crate::common::*;

fn ints<const D: usize>(t: burn::tensor::Tensor<TestBackend, D, burn::tensor::Int>) -> Vec<i64> {
    t.into_data().convert::<i64>().to_vec().unwrap()
}

#[test]
fn classification_batch_is_right_padded() {
    let items =
        vec![ClassificationItem { ids: vec![5, 6, 7], label: 1 }, ClassificationItem { ids: vec![8], label: 0 }];
    let b: seqlab_datasets::batch::ClassificationBatch<TestBackend> =
        ClassificationBatcher.batch(items, &Default::default());
    assert_eq!(ints(b.tokens), [5, 6, 7, 8, 0, 0]);
    assert_eq!(ints(b.lengths), [3, 1]);
    assert_eq!(ints(b.labels), [1, 0]);
}

#[test]
fn tagging_batch_pads_tags_and_features_with_zero() {
    let items = vec![
        TaggingItem { ids: vec![4, 5], features: vec![vec![2, 1]], chars: Vec::new(), tags: vec![3, 1] },
        TaggingItem { ids: vec![6, 7, 8], features: vec![vec![3, 1, 6]], chars: Vec::new(), tags: vec![2, 2, 1] },
    ];
    let b: seqlab_datasets::batch::TaggingBatch<TestBackend> = TaggingBatcher.batch(items, &Default::default());
    assert_eq!(ints(b.tokens), [4, 5, 0, 6, 7, 8]);
    assert_eq!(ints(b.tags), [3, 1, 0, 2, 2, 1]);
    assert_eq!(ints(b.features[0].clone()), [2, 1, 0, 3, 1, 6]);
    assert_eq!(ints(b.lengths), [2, 3]);
    assert_eq!(ints(b.positions), [0, 1, 3, 4, 5]);
}

#[test]
fn bucketed_loader_yields_every_example_once() {
    let items: Vec<ClassificationItem> =
        (0..100).map(|i| ClassificationItem { ids: vec![1; 1 + i % 17], label: i % 2 }).collect();
    let lengths: Vec<usize> = items.iter().map(|i| i.ids.len()).collect();
    let plan = bucket_batches(&lengths, 8, 4, 3);
    let loader = DataLoaderBuilder::<TestBackend, _, _>::new(Flatten(ClassificationBatcher))
        .batch_size(1)
        .build(BucketedDataset::new(burn::data::dataset::InMemDataset::new(items), BatchPlan::of(&plan)));
    let (mut seen, mut padded) = (0, 0);
    for batch in loader.iter() {
        let [b, seq] = batch.tokens.dims();
        seen += b;
        padded += b * seq;
    }
    assert_eq!(seen, 100);
    assert!(padded < 100 * 17, "bucketing pads less than padding everything to the longest");
}

#[test]
fn a_token_budget_bounds_every_batch_and_gives_a_long_sentence_its_own() {
    // 300 sentences of 5–40 tokens and one of 50,000, as in a corpus with one runaway line.
    let mut lengths: Vec<usize> = (0..300).map(|i| 5 + (i * 37) % 36).collect();
    lengths[150] = 50_000;
    let plan = BatchPlan::bucketed(lengths.len(), |i| lengths[i], 32, 256, 50, 7);
    let mut seen = vec![0usize; lengths.len()];
    for b in 0..plan.len() {
        let batch = plan.batch(b);
        let longest = batch.iter().map(|&i| lengths[i as usize]).max().unwrap();
        assert!(batch.len() <= 32);
        assert!(batch.len() * longest <= 256 || batch.len() == 1, "batch {b}: {} × {longest}", batch.len());
        batch.iter().for_each(|&i| seen[i as usize] += 1);
    }
    assert!(seen.iter().all(|&n| n == 1), "every sentence exactly once");
    let alone = (0..plan.len()).find(|&b| plan.batch(b).contains(&150)).unwrap();
    assert_eq!(plan.batch(alone), [150]);
    // Without a binding budget the plan is the sentence-count plan of bucket_batches.
    let unbounded = BatchPlan::bucketed(lengths.len(), |i| lengths[i], 32, usize::MAX, 50, 7);
    let batches: Vec<Vec<usize>> =
        (0..unbounded.len()).map(|b| unbounded.batch(b).iter().map(|&i| i as usize).collect()).collect();
    assert_eq!(batches, bucket_batches(&lengths, 32, 50, 7));
    assert_eq!(unbounded.len(), 300usize.div_ceil(32));
}

/// A rank's share of a batch plan: every rank the same number of batches; the ranks' k-th
/// batches are N batches adjacent in cost (padded positions), so that no step waits long for
/// one rank; each kept batch is trained once, the cheapest (fewer than N) left out.
#[test]
fn shards_of_a_plan_pair_batches_of_like_cost_and_leave_out_the_cheapest() {
    let lengths: Vec<usize> = (0..203).map(|i| 1 + (i * 37) % 41).collect();
    let length = |i: usize| lengths[i];
    let plan = BatchPlan::bucketed(lengths.len(), length, 4, usize::MAX, 5, 3);
    let cost = |batch: &[u32]| batch.len() * batch.iter().map(|&i| lengths[i as usize]).max().unwrap();
    let mut costs: Vec<usize> = (0..plan.len()).map(|b| cost(plan.batch(b))).collect();
    costs.sort_unstable();
    for ranks in [2, 3, 4] {
        let shards: Vec<BatchPlan> = (0..ranks).map(|rank| plan.shard(rank, ranks, length, 9)).collect();
        let per_rank = plan.len() / ranks;
        let kept = &costs[plan.len() % ranks..];
        let groups: Vec<Vec<usize>> = kept.chunks(ranks).map(<[usize]>::to_vec).collect();
        let mut seen = std::collections::HashSet::new();
        for k in 0..per_rank {
            let mut step: Vec<usize> = shards.iter().map(|s| cost(s.batch(k))).collect();
            step.sort_unstable();
            assert!(groups.contains(&step), "{ranks} ranks, step {k}: costs {step:?} are not adjacent");
            for shard in &shards {
                assert!(seen.insert(shard.batch(k).to_vec()), "{ranks} ranks: a batch trained twice");
            }
        }
        assert_eq!(shards.iter().map(BatchPlan::len).collect::<Vec<_>>(), vec![per_rank; ranks]);
        assert_eq!(shards[0], plan.shard(0, ranks, length, 9), "the same groups every time");
    }
    assert_eq!(plan.shard(0, 1, length, 9).len(), plan.len());
}

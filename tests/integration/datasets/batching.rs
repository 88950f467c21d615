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

/// A cluster node's share of a batch plan: every node the same number of batches, the nodes'
/// k-th batches the plan's consecutive batches k·N … k·N + N − 1, the rest (fewer than N) left out.
#[test]
fn shards_of_a_plan_take_turns_and_leave_out_the_same_remainder() {
    let lengths: Vec<usize> = (0..23).map(|i| 1 + i % 7).collect();
    let plan = BatchPlan::bucketed(lengths.len(), |i| lengths[i], 4, usize::MAX, 50, 3);
    assert_eq!(plan.len(), 6); // 5 batches of 4 and one of 3
    for nodes in [2, 3, 4] {
        let shards: Vec<BatchPlan> = (0..nodes).map(|rank| plan.shard(rank, nodes)).collect();
        let per_node = plan.len() / nodes;
        for (rank, shard) in shards.iter().enumerate() {
            assert_eq!(shard.len(), per_node, "{nodes} nodes");
            for k in 0..per_node {
                assert_eq!(shard.batch(k), plan.batch(k * nodes + rank), "{nodes} nodes, rank {rank}, batch {k}");
            }
        }
    }
    assert_eq!(plan.shard(0, 1).len(), plan.len());
}

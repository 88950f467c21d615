//! From encoded examples to Burn tensors: padding batchers for both tasks, length-bucketed
//! batch plans that cut padding.

mod bucket;

pub use bucket::{bucket_batches, length_sorted_batches, padding_ratio, BatchPlan, BucketedDataset, Flatten};

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{backend::Backend, Int, Tensor, TensorData};

use crate::text::PAD;

/// A text encoded for classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassificationItem {
    /// Token ids.
    pub ids: Vec<usize>,
    /// Label id.
    pub label: usize,
}

/// A sentence encoded for tagging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggingItem {
    /// Token ids.
    pub ids: Vec<usize>,
    /// Per-token feature ids (e.g. casing), one sequence per feature, each as long as `ids`.
    pub features: Vec<Vec<usize>>,
    /// Per-token character ids (at most [`MAX_WORD_CHARS`] each); empty when the model reads no
    /// characters.
    pub chars: Vec<Vec<usize>>,
    /// Tag ids.
    pub tags: Vec<usize>,
}

/// Characters kept per word for character features (the first ones).
pub const MAX_WORD_CHARS: usize = 24;

/// A padded classification batch.
#[derive(Debug, Clone)]
pub struct ClassificationBatch<B: Backend> {
    /// Token ids `[batch, seq]`, padded with `PAD` (0) on the right.
    pub tokens: Tensor<B, 2, Int>,
    /// Real lengths `[batch]` (the models build their padding masks from these).
    pub lengths: Tensor<B, 1, Int>,
    /// Label ids `[batch]`.
    pub labels: Tensor<B, 1, Int>,
}

/// A padded tagging batch.
#[derive(Debug, Clone)]
pub struct TaggingBatch<B: Backend> {
    /// Token ids `[batch, seq]`, padded with `PAD` (0).
    pub tokens: Tensor<B, 2, Int>,
    /// Feature ids, one `[batch, seq]` tensor per feature, padded with 0.
    pub features: Vec<Tensor<B, 2, Int>>,
    /// Character ids `[batch, seq, chars]`, padded with 0, when the items carry characters.
    pub chars: Option<Tensor<B, 3, Int>>,
    /// Real lengths `[batch]` (the models build their padding masks from these).
    pub lengths: Tensor<B, 1, Int>,
    /// Tag ids `[batch, seq]`; padded positions hold the padding tag 0
    /// ([`PAD_TAG`](crate::labels::PAD_TAG)), which loss and metrics must ignore.
    pub tags: Tensor<B, 2, Int>,
    /// Indices of the real positions in the flattened `[batch · seq]` layout, in order:
    /// `select` them from flattened logits and tags to leave padding out of loss and metrics.
    pub positions: Tensor<B, 1, Int>,
}

/// Right-pads id sequences to the longest (at least 1) and returns `[batch, seq]` as a tensor.
pub fn pad_ids<B: Backend>(rows: &[&[usize]], device: &B::Device) -> Tensor<B, 2, Int> {
    let seq = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
    let mut flat = vec![PAD as i64; rows.len() * seq];
    for (b, row) in rows.iter().enumerate() {
        for (t, &id) in row.iter().enumerate() {
            flat[b * seq + t] = id as i64;
        }
    }
    Tensor::from_data(TensorData::new(flat, [rows.len(), seq]), device)
}

/// Character ids `[batch, seq, longest word]`, zero-padded.
fn pad_chars<B: Backend>(items: &[TaggingItem], seq: usize, device: &B::Device) -> Tensor<B, 3, Int> {
    let width = items.iter().flat_map(|i| i.chars.iter().map(Vec::len)).max().unwrap_or(0).max(1);
    let mut flat = vec![PAD as i64; items.len() * seq * width];
    for (b, item) in items.iter().enumerate() {
        for (t, word) in item.chars.iter().enumerate() {
            for (c, &id) in word.iter().enumerate() {
                flat[(b * seq + t) * width + c] = id as i64;
            }
        }
    }
    Tensor::from_data(TensorData::new(flat, [items.len(), seq, width]), device)
}

fn lengths_tensor<B: Backend>(lengths: &[usize], device: &B::Device) -> Tensor<B, 1, Int> {
    let lens: Vec<i64> = lengths.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(lens, [lengths.len()]), device)
}

/// Pads [`ClassificationItem`]s into a [`ClassificationBatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassificationBatcher;

impl<B: Backend> Batcher<B, ClassificationItem, ClassificationBatch<B>> for ClassificationBatcher {
    fn batch(&self, items: Vec<ClassificationItem>, device: &B::Device) -> ClassificationBatch<B> {
        let rows: Vec<&[usize]> = items.iter().map(|i| i.ids.as_slice()).collect();
        let lengths: Vec<usize> = items.iter().map(|i| i.ids.len()).collect();
        let lengths = lengths_tensor(&lengths, device);
        let labels: Vec<i64> = items.iter().map(|i| i.label as i64).collect();
        ClassificationBatch {
            tokens: pad_ids(&rows, device),
            lengths,
            labels: Tensor::from_data(TensorData::new(labels, [items.len()]), device),
        }
    }
}

/// Pads [`TaggingItem`]s into a [`TaggingBatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TaggingBatcher;

impl<B: Backend> Batcher<B, TaggingItem, TaggingBatch<B>> for TaggingBatcher {
    fn batch(&self, items: Vec<TaggingItem>, device: &B::Device) -> TaggingBatch<B> {
        let rows =
            |f: &dyn Fn(&TaggingItem) -> &[usize]| pad_ids::<B>(&items.iter().map(f).collect::<Vec<_>>(), device);
        let n_features = items.first().map_or(0, |i| i.features.len());
        let lens: Vec<usize> = items.iter().map(|i| i.ids.len()).collect();
        let seq = lens.iter().copied().max().unwrap_or(0).max(1);
        let positions: Vec<i64> =
            lens.iter().enumerate().flat_map(|(b, &l)| (0..l).map(move |t| (b * seq + t) as i64)).collect();
        let count = positions.len();
        let lengths = lengths_tensor(&lens, device);
        TaggingBatch {
            positions: Tensor::from_data(TensorData::new(positions, [count]), device),
            tokens: rows(&|i| &i.ids),
            features: (0..n_features).map(|k| rows(&|i| &i.features[k])).collect(),
            chars: items.iter().any(|i| !i.chars.is_empty()).then(|| pad_chars(&items, seq, device)),
            lengths,
            tags: rows(&|i| &i.tags),
        }
    }
}

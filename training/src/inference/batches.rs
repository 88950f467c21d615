//! Running a model over many encoded inputs: length-sorted batches of at most `batch_size`
//! inputs and [`super::MAX_BATCH_TOKENS`] padded positions (far less padding than file order,
//! and memory bounded by tokens), answers handed back in input order. Written once per
//! task and used by training-time scoring, `evaluate`, `report` and `predict`.

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use seqlab_datasets::batch::{
    length_sorted_batches, ClassificationBatch, ClassificationBatcher, ClassificationItem, TaggingBatch,
    TaggingBatcher, TaggingItem,
};
use seqlab_models::crf::Potentials;
use seqlab_models::{Crf, SequenceClassifier, TokenClassifier};

/// A classifier's answer for one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The class with the highest logit (the first of equal ones).
    pub best: usize,
    /// The softmax of the logits, in class order.
    pub probabilities: Vec<f32>,
}

/// Runs `model` over `items` in length-sorted batches of at most `batch_size`; one answer per
/// item, in item order.
pub fn classify<B: Backend>(
    model: &SequenceClassifier<B>,
    items: &[ClassificationItem],
    batch_size: usize,
    device: &B::Device,
) -> Vec<Classified> {
    let lengths: Vec<usize> = items.iter().map(|i| i.ids.len()).collect();
    let mut answers = vec![None; items.len()];
    for indices in length_sorted_batches(&lengths, batch_size, super::MAX_BATCH_TOKENS) {
        let batch: ClassificationBatch<B> =
            ClassificationBatcher.batch(indices.iter().map(|&i| items[i].clone()).collect(), device);
        let logits = model.forward(batch.tokens, Some(batch.lengths));
        let classes = logits.dims()[1];
        let best: Vec<i64> = logits.clone().argmax(1).into_data().convert::<i64>().to_vec().expect("int ids");
        let probabilities: Vec<f32> = softmax(logits, 1).into_data().convert::<f32>().to_vec().expect("floats");
        for ((&i, best), row) in indices.iter().zip(best).zip(probabilities.chunks(classes)) {
            answers[i] = Some(Classified { best: best as usize, probabilities: row.to_vec() });
        }
    }
    answers.into_iter().map(|a| a.expect("every item is in one batch")).collect()
}

/// Runs `model` over `items` in length-sorted batches of at most `batch_size` and asks `answer`
/// for each item's result from its batch's [`TagLattice`] and its row in it; results in item
/// order.
pub fn tag_with<B: Backend, R>(
    model: &TokenClassifier<B>,
    items: &[TaggingItem],
    batch_size: usize,
    device: &B::Device,
    mut answer: impl FnMut(&TagLattice, usize, usize) -> R,
) -> Vec<R> {
    let lengths: Vec<usize> = items.iter().map(|i| i.ids.len()).collect();
    let mut answers: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for indices in length_sorted_batches(&lengths, batch_size, super::MAX_BATCH_TOKENS) {
        let batch: TaggingBatch<B> = TaggingBatcher.batch(indices.iter().map(|&i| items[i].clone()).collect(), device);
        let scores = model.forward(batch.tokens, batch.features, batch.chars, Some(batch.lengths.clone()));
        let lattice = TagLattice::new(model.crf.as_ref(), scores, batch.lengths);
        for (row, &i) in indices.iter().enumerate() {
            answers[i] = Some(answer(&lattice, row, i));
        }
    }
    answers.into_iter().map(|a| a.expect("every item is in one batch")).collect()
}

/// The best tag ids (never the padding tag) of every item, in item order: the Viterbi path for
/// a CRF tagger, each token's highest-scoring tag otherwise.
pub fn tag<B: Backend>(
    model: &TokenClassifier<B>,
    items: &[TaggingItem],
    batch_size: usize,
    device: &B::Device,
) -> Vec<Vec<usize>> {
    tag_with(model, items, batch_size, device, |lattice, row, _| lattice.best(row))
}

/// A batch's tag scores on the host, read through the CRF when the tagger has one and as
/// independent per-token softmaxes otherwise.
pub enum TagLattice {
    /// A CRF tagger: the CRF's potentials and each sentence's emissions.
    Crf {
        /// Transitions, start and end scores.
        potentials: Potentials,
        /// Each sentence's emissions, `[length × tags]` row-major.
        emissions: Vec<Vec<f64>>,
    },
    /// A softmax tagger: each sentence's scores and their per-token softmax.
    Softmax {
        /// Each sentence's scores, `[length × tags]` row-major.
        scores: Vec<Vec<f64>>,
        /// Their softmax over the tags, token by token.
        probabilities: Vec<Vec<f64>>,
        /// Tags per token.
        tags: usize,
    },
}

impl TagLattice {
    /// The host lattice of a batch's `scores` `[N, L, tags]` with `lengths` `[N]`.
    pub fn new<B: Backend>(crf: Option<&Crf<B>>, scores: Tensor<B, 3>, lengths: Tensor<B, 1, Int>) -> Self {
        let tags = scores.dims()[2];
        match crf {
            Some(crf) => {
                Self::Crf { potentials: crf.potentials(), emissions: Crf::<B>::host_emissions(scores, lengths) }
            }
            None => Self::Softmax {
                probabilities: Crf::<B>::host_emissions(softmax(scores.clone(), 2), lengths.clone()),
                scores: Crf::<B>::host_emissions(scores, lengths),
                tags,
            },
        }
    }

    /// Sentence `i`'s best path (never the padding tag 0; the first of equal scores).
    pub fn best(&self, i: usize) -> Vec<usize> {
        match self {
            Self::Crf { potentials, emissions } => potentials.viterbi(&emissions[i]).0,
            Self::Softmax { scores, tags, .. } => scores[i].chunks(*tags).map(first_max_after_padding).collect(),
        }
    }

    /// The probability of each `(start, tags)` span of sentence `i` (its tags on tokens
    /// `start..start + tags.len()`): its marginal under the CRF (one forward–backward pass for
    /// all of them), or the product of the tokens' softmaxes.
    pub fn confidences(&self, i: usize, spans: &[(usize, &[usize])]) -> Vec<f64> {
        match self {
            Self::Crf { potentials, emissions } => potentials.span_probabilities(&emissions[i], spans),
            Self::Softmax { probabilities, tags, .. } => spans
                .iter()
                .map(|(start, path)| {
                    path.iter().enumerate().map(|(o, &tag)| probabilities[i][(start + o) * tags + tag]).product()
                })
                .collect(),
        }
    }

    /// Sentence `i`'s `n` best paths with score and probability (none for a softmax tagger).
    pub fn nbest(&self, i: usize, n: usize) -> Vec<(Vec<usize>, f64, f64)> {
        match self {
            Self::Crf { potentials, emissions } if n > 0 => {
                let log_z = potentials.log_partition(&emissions[i]);
                potentials
                    .nbest(&emissions[i], n)
                    .into_iter()
                    .map(|(path, score)| (path, score, (score - log_z).exp()))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The index of the first highest score of a token's row, the padding tag 0 left out.
fn first_max_after_padding(row: &[f64]) -> usize {
    let mut best = 1.min(row.len().saturating_sub(1));
    for (tag, &score) in row.iter().enumerate().skip(1) {
        if score > row[best] {
            best = tag;
        }
    }
    best
}

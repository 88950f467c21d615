//! The tagger as burn-train trains it: [`Tagger`] (a [`TokenClassifier`] with word dropout on
//! rare words, its loss over real tokens as a mean per sentence or per token, softmax or CRF),
//! and the model config of a run.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Int, Tensor};
use burn::train::ClassificationOutput;
use seqlab_datasets::batch::TaggingBatch;
use seqlab_datasets::ner::{allowed_transition, TagScheme};
use seqlab_datasets::text::{Casing, TokenCounts, Vocab, UNK};
use seqlab_datasets::LabelMap;
use seqlab_models::crf::Allowed;
use seqlab_models::heads::{CharCnnConfig, CharLstmConfig, FeatureEmbeddingConfig};
use seqlab_models::{CrfConfig, TokenClassifier, TokenClassifierConfig};

use super::config::{CharEncoder, TaggerOutput, TaggerRunConfig};
use crate::memory::{Footprint, Part};

/// A [`TokenClassifier`] with the steps burn-train calls. Loss and token accuracy see only real
/// tokens: the flattened logits and tags are `select`ed at the batch's real positions (Burn
/// 0.21's padded cross-entropy would count pads too), and the summed loss is divided by the
/// batch's sentences or real tokens ([`Tagger::loss_terms`]).
#[derive(Module, Debug)]
pub struct Tagger<B: Backend> {
    /// The network.
    pub net: TokenClassifier<B>,
    /// Word dropout: in training, each rare word (id ≥ `rare_from`) becomes `<unk>` with this
    /// probability, so that the model learns what to do with unknown words from context and
    /// casing (as Lample et al., 2016, do with singletons).
    pub word_dropout: f64,
    /// The first id of the rare words (the vocabulary is sorted by frequency).
    pub rare_from: usize,
    /// `[vocabulary]`: 1 for the words word dropout never touches (those with a pretrained
    /// vector, as Lample et al. keep them), 0 for the others; `None`: every rare word may drop.
    pub kept_words: Option<Tensor<B, 1, Int>>,
    /// The loss is the mean over the batch's sentences (`true`) or over its real tokens.
    pub per_sentence: bool,
}

impl<B: Backend> Tagger<B> {
    /// Logits (or the CRF's Viterbi paths, one-hot) and tags of the real tokens
    /// `[tokens, tags]`, and the loss: the summed cross-entropy or CRF negative log-likelihood
    /// divided by [`Self::loss_terms`].
    pub fn forward_tagging(&self, batch: TaggingBatch<B>) -> ClassificationOutput<B> {
        let device = batch.tokens.device();
        let terms = self.loss_terms(&batch).max(1) as f64;
        let tokens = self.drop_rare_words(batch.tokens);
        let scores = self.net.forward(tokens, batch.features, batch.chars, Some(batch.lengths.clone()));
        let [b, t, c] = scores.dims();
        let targets = batch.tags.clone().reshape([b * t]).select(0, batch.positions.clone());
        match &self.net.crf {
            None => {
                let logits = scores.reshape([b * t, c]).select(0, batch.positions);
                let tokens = targets.dims()[0].max(1) as f64;
                let mean = seqlab_models::loss::cross_entropy(logits.clone(), targets.clone());
                let loss = mean.mul_scalar(tokens / terms);
                ClassificationOutput::new(loss, logits, targets)
            }
            Some(crf) => {
                // The Viterbi paths as one-hot rows for the metrics.
                let (ll, paths) = crf.log_likelihood_and_decode(scores, batch.tags, batch.lengths);
                let loss = ll.sum().neg().div_scalar(terms);
                ClassificationOutput::new(loss, one_hot(&paths, c, &device), targets)
            }
        }
    }

    /// `tokens` with word dropout applied in training: each rare word that has no pretrained
    /// vector kept becomes `<unk>` with probability `word_dropout`; unchanged in inference.
    fn drop_rare_words(&self, tokens: Tensor<B, 2, Int>) -> Tensor<B, 2, Int> {
        let device = tokens.device();
        if self.word_dropout <= 0.0 || !B::ad_enabled(&device) {
            return tokens;
        }
        let mut rare = tokens.clone().greater_equal_elem(self.rare_from as i64);
        if let Some(kept) = &self.kept_words {
            let ids = tokens.clone().flatten::<1>(0, 1);
            rare = rare.bool_and(kept.clone().select(0, ids).reshape(tokens.shape()).equal_elem(0));
        }
        let coin = Tensor::<B, 2>::random(tokens.shape(), Distribution::Uniform(0.0, 1.0), &device)
            .lower_elem(self.word_dropout);
        tokens.mask_fill(rare.bool_and(coin), UNK as i64)
    }

    /// What the loss averages over: the batch's sentences, or its real tokens.
    pub fn loss_terms(&self, batch: &TaggingBatch<B>) -> usize {
        if self.per_sentence {
            batch.lengths.dims()[0]
        } else {
            batch.positions.dims()[0]
        }
    }
}

/// The tags of `paths`, one after another, as one-hot rows `[Σ lengths, tags]`.
fn one_hot<B: Backend>(paths: &[Vec<usize>], tags: usize, device: &B::Device) -> Tensor<B, 2> {
    let n: usize = paths.iter().map(Vec::len).sum();
    let mut values = vec![0.0f32; n * tags];
    for (row, &tag) in paths.iter().flatten().enumerate() {
        values[row * tags + tag] = 1.0;
    }
    Tensor::from_data(burn::tensor::TensorData::new(values, [n, tags]), device)
}

crate::steps::supervised_steps!(Tagger, TaggingBatch, forward_tagging);

/// The CRF's allowed transitions over a tag map: the rules of `scheme`
/// ([`allowed_transition`]), `<pad>` never.
pub fn scheme_constraints(tags: &LabelMap, scheme: TagScheme) -> Allowed {
    Allowed::from_rule(tags.len(), |from, to| {
        allowed_transition(scheme, from.map(|i| tags.name(i)), to.map(|j| tags.name(j)))
    })
}

/// The ids of `found` (the words with a pretrained vector) as 1, the others 0, on `device`.
pub fn kept_words<B: Backend>(found: &[bool], device: &B::Device) -> Tensor<B, 1, Int> {
    let ids: Vec<i64> = found.iter().map(|&f| i64::from(f)).collect();
    Tensor::from_data(burn::tensor::TensorData::new(ids, [found.len()]), device)
}

/// The first id of the words seen once in training: the vocabulary is sorted by descending
/// frequency, so every id from there on is a singleton.
pub(super) fn rare_from(words: &Vocab, counts: &TokenCounts) -> usize {
    let mut by_id = vec![0usize; words.len()];
    counts.iter().for_each(|(token, n)| by_id[words.id(token)] += n);
    (UNK + 1..words.len()).find(|&id| by_id[id] <= 1).unwrap_or(words.len())
}

/// The network a run trains: embeddings (of the vectors' width when there are vectors), the
/// casing feature, the character encoder, the encoder, and a softmax or CRF output.
pub(super) fn model_config(
    config: &TaggerRunConfig,
    vocab: &Vocab,
    tags: &LabelMap,
    embedding_dim: usize,
    chars: Option<&Vocab>,
) -> TokenClassifierConfig {
    let features = if config.casing_dim > 0 {
        vec![FeatureEmbeddingConfig::new(Casing::COUNT, config.casing_dim)]
    } else {
        Vec::new()
    };
    let char_encoder = config.char_encoder;
    TokenClassifierConfig::new(vocab.len(), tags.len())
        .with_embedding_dim(embedding_dim)
        .with_features(features)
        .with_encoder(config.encoder.clone())
        .with_dropout(config.dropout)
        .with_chars(
            chars
                .filter(|_| char_encoder == CharEncoder::Cnn)
                .map(|c| CharCnnConfig::new(c.len()).with_filters(config.char_filters)),
        )
        .with_char_lstm(
            chars
                .filter(|_| char_encoder == CharEncoder::Lstm)
                .map(|c| CharLstmConfig::new(c.len()).with_hidden(config.char_hidden)),
        )
        .with_crf(
            (config.output == TaggerOutput::Crf)
                .then(|| CrfConfig::new(tags.len()).with_allowed(Some(scheme_constraints(tags, config.train_scheme)))),
        )
}

/// Characters a word is assumed to have when sizing the character encoder's activations.
const WORD_CHARS: usize = 24;

/// What training the network of [`model_config`] takes ([`Footprint`]) over `words` words,
/// `chars` characters and `tags` tags, with batches of up to `batch_tokens` padded tokens.
pub(super) fn footprint(
    config: &TaggerRunConfig,
    words: usize,
    chars: usize,
    tags: usize,
    embedding_dim: usize,
    batch_tokens: usize,
) -> Footprint {
    let mut parts = vec![Part::embedding("embedding-dim", words, embedding_dim)];
    let mut input = embedding_dim.saturating_add(config.casing_dim);
    parts.push(Part::embedding("casing-dim", Casing::COUNT, config.casing_dim));
    match config.char_encoder {
        CharEncoder::Cnn => {
            let (dim, filters) = (CharCnnConfig::new(chars).dim, config.char_filters);
            let table = Part::embedding("char-filters", chars, dim);
            let convolution = Part::dense("char-filters", 3 * dim, filters);
            let per_token = WORD_CHARS as f64 * (table.per_token + convolution.per_token);
            parts.push(Part {
                option: "char-filters",
                parameters: table.parameters + convolution.parameters,
                per_token,
            });
            input = input.saturating_add(filters);
        }
        CharEncoder::Lstm => {
            let dim = CharLstmConfig::new(chars).dim;
            let lstm = seqlab_models::heads::EncoderConfig::new()
                .with_kind(seqlab_models::heads::EncoderKind::Recurrent(seqlab_models::CellKind::Lstm))
                .with_hidden(config.char_hidden)
                .with_bidirectional(true);
            let mut part = Part::encoder(&lstm, dim, "char-hidden");
            part.option = "char-hidden";
            part.parameters += chars as f64 * dim as f64;
            part.per_token *= WORD_CHARS as f64;
            parts.push(part);
            input = input.saturating_add(config.char_hidden.saturating_mul(2));
        }
        CharEncoder::None => {}
    }
    let e = &config.encoder;
    // The encoder's input is named by whichever option makes it widest.
    let widest = [
        ("embedding-dim", embedding_dim),
        ("casing-dim", config.casing_dim),
        ("char-filters", if config.char_encoder == CharEncoder::Cnn { config.char_filters } else { 0 }),
        ("char-hidden", if config.char_encoder == CharEncoder::Lstm { config.char_hidden } else { 0 }),
    ]
    .into_iter()
    .max_by_key(|&(_, width)| width)
    .map_or("embedding-dim", |(option, _)| option);
    parts.push(Part::encoder(e, input, widest));
    let encoded =
        if e.kind.cell().is_some() { e.hidden.saturating_mul(if e.bidirectional { 2 } else { 1 }) } else { input };
    parts.push(Part::dense("hidden", encoded, tags));
    parts.push(Part::dense("hidden", tags, tags));
    Footprint { parts, batch_tokens }
}

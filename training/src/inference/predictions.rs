//! What `predict` and `serve` answer: a classifier's label and probabilities for a text, a
//! tagger's tags, entities (with confidences and, for raw text, character offsets) and n best
//! taggings; each with the share of its tokens the model does not know.

use seqlab_datasets::ner::Span;

/// A classifier's answer for one text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabelPrediction {
    /// The tokens the model read.
    pub tokens: Vec<String>,
    /// The most probable label.
    pub label: String,
    /// Probability of every label, in label order.
    pub probabilities: Vec<(String, f32)>,
    /// The share of the tokens that the model's vocabulary does not know (read as `<unk>`).
    pub unknown: f64,
}

/// An entity found by a tagger, with the model's confidence in it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntityPrediction {
    /// Tokens `start..end` and the type.
    #[serde(flatten)]
    pub span: Span,
    /// The entity as the text writes it (raw text), or its tokens joined by spaces (tokens
    /// given one by one, as in a CoNLL file).
    pub text: String,
    /// Raw text: where the entity starts in it, in characters (Unicode scalar values, so
    /// `text[start_char:end_char]` in Python is the entity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_char: Option<usize>,
    /// Raw text: one past the entity's last character.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_char: Option<usize>,
    /// The probability of exactly this tagging of the span's tokens: for a CRF tagger its
    /// marginal probability under the CRF (forward–backward), for a softmax tagger the product
    /// of its tokens' tag probabilities.
    pub confidence: f64,
}

/// One of a CRF tagger's n best taggings of a sentence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alternative {
    /// One tag per token, in the training files' scheme.
    pub tags: Vec<String>,
    /// The path's CRF score.
    pub score: f64,
    /// Its probability, `exp(score − log Z)`.
    pub probability: f64,
    /// Its entities.
    pub entities: Vec<Span>,
}

/// A tagger's answer for one sentence.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TagPrediction {
    /// The tokens the model read.
    pub tokens: Vec<String>,
    /// One tag per token, in the training files' scheme.
    pub tags: Vec<String>,
    /// The entities, with confidences.
    pub entities: Vec<EntityPrediction>,
    /// The n best taggings, best first (when asked for; CRF taggers only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
    /// The share of the tokens that the model's vocabulary does not know (read as `<unk>`).
    pub unknown: f64,
    /// Raw text cut into sentences: each sentence's tokens and characters, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sentences: Vec<SentencePlace>,
}

/// Where one sentence of a raw text stands: its tokens `start..end` (indices into the answer's
/// tokens) and its characters `start_char..end_char` in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SentencePlace {
    /// Its first token.
    pub start: usize,
    /// One past its last token.
    pub end: usize,
    /// Its first character.
    pub start_char: usize,
    /// One past its last character.
    pub end_char: usize,
}

//! What `predict` answers (and `serve` will): a classifier's label and probabilities for a
//! text, a tagger's tags, entities with confidences and n best taggings for a sentence.

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
}

/// An entity found by a tagger, with the model's confidence in it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntityPrediction {
    /// Tokens `start..end` and the type.
    #[serde(flatten)]
    pub span: Span,
    /// The entity's tokens joined by spaces.
    pub text: String,
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
}

//! Entity-level precision, recall and F1, computed like seqeval: an entity counts as found only
//! if its type, first and last token all match a gold entity; micro-averaged over all entities,
//! with a per-type breakdown. The default mode reads entities as conlleval does (an `I-X` after
//! `O` starts one); the strict mode applies a scheme's rules (seqeval's `mode="strict"`).

use std::collections::BTreeMap;

use seqlab_datasets::ner::{spans, spans_strict, Span, TagScheme};

/// How predicted and gold tags are read as entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EntityMode {
    /// conlleval / seqeval default.
    Default,
    /// Only entities well formed under the scheme.
    Strict(TagScheme),
}

/// Precision, recall, F1 and the number of gold entities.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prf {
    /// Correct predicted entities / predicted entities.
    pub precision: f64,
    /// Correct predicted entities / gold entities.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Gold entities.
    pub support: usize,
}

impl Prf {
    fn from_counts(correct: usize, predicted: usize, gold: usize) -> Self {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(correct, predicted), ratio(correct, gold));
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        Self { precision, recall, f1, support: gold }
    }
}

/// Micro-averaged scores and the scores of each entity type.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EntityScores {
    /// Micro precision over all entities.
    pub precision: f64,
    /// Micro recall.
    pub recall: f64,
    /// Micro F1.
    pub f1: f64,
    /// Scores per entity type (types seen in gold or predictions).
    pub per_type: BTreeMap<String, Prf>,
}

fn entities<S: AsRef<str>>(tags: &[S], mode: EntityMode) -> Vec<Span> {
    match mode {
        EntityMode::Default => spans(tags),
        EntityMode::Strict(scheme) => spans_strict(tags, scheme),
    }
}

/// Scores predicted tag sequences against gold ones (one pair per sentence).
pub fn entity_scores<S: AsRef<str>, T: AsRef<str>>(
    gold: &[Vec<S>],
    predicted: &[Vec<T>],
    mode: EntityMode,
) -> EntityScores {
    let counts = type_counts(gold, predicted, mode);
    let total = micro_counts(&counts);
    let micro = Prf::from_counts(total[0], total[1], total[2]);
    EntityScores {
        precision: micro.precision,
        recall: micro.recall,
        f1: micro.f1,
        per_type: counts.into_iter().map(|(k, c)| (k, Prf::from_counts(c[0], c[1], c[2]))).collect(),
    }
}

/// `[correct, predicted, gold]` entity counts summed over types.
fn micro_counts(counts: &BTreeMap<String, [usize; 3]>) -> [usize; 3] {
    counts.values().fold([0; 3], |a, c| [a[0] + c[0], a[1] + c[1], a[2] + c[2]])
}

/// `[correct, predicted, gold]` entity counts over all sentences, as [`entity_scores`] counts
/// them.
pub fn entity_counts<S: AsRef<str>, T: AsRef<str>>(
    gold: &[Vec<S>],
    predicted: &[Vec<T>],
    mode: EntityMode,
) -> [usize; 3] {
    micro_counts(&type_counts(gold, predicted, mode))
}

/// `[correct, predicted, gold]` per entity type.
fn type_counts<S: AsRef<str>, T: AsRef<str>>(
    gold: &[Vec<S>],
    predicted: &[Vec<T>],
    mode: EntityMode,
) -> BTreeMap<String, [usize; 3]> {
    assert_eq!(gold.len(), predicted.len(), "one prediction per sentence");
    let mut counts: BTreeMap<String, [usize; 3]> = BTreeMap::new(); // correct, predicted, gold
    for (g, p) in gold.iter().zip(predicted) {
        let (g, p) = (entities(g, mode), entities(p, mode));
        for span in &g {
            counts.entry(span.label.clone()).or_default()[2] += 1;
        }
        for span in &p {
            let c = counts.entry(span.label.clone()).or_default();
            c[1] += 1;
            if g.contains(span) {
                c[0] += 1;
            }
        }
    }
    counts
}

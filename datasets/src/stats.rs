//! Corpus statistics, as printed by `dataset-stats`.

use std::collections::{BTreeMap, HashSet};

use crate::ner::{spans, validate, ConllFile, TagScheme};
use crate::sentiment::SentimentFile;
use crate::text::Vocab;

/// Length percentiles (nearest rank) of the examples, in tokens.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Lengths {
    /// Median.
    pub p50: usize,
    /// 90th percentile.
    pub p90: usize,
    /// 99th percentile.
    pub p99: usize,
    /// Longest.
    pub max: usize,
    /// Mean.
    pub mean: f64,
}

impl Lengths {
    /// Percentiles of `lengths`.
    pub fn of(lengths: &[usize]) -> Self {
        let mut sorted = lengths.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| {
            if sorted.is_empty() {
                return 0;
            }
            let k = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            sorted[k.clamp(1, sorted.len()) - 1]
        };
        let mean = if sorted.is_empty() { 0.0 } else { sorted.iter().sum::<usize>() as f64 / sorted.len() as f64 };
        Self { p50: rank(50.0), p90: rank(90.0), p99: rank(99.0), max: sorted.last().copied().unwrap_or(0), mean }
    }
}

/// Out-of-vocabulary rates against a training vocabulary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Oov {
    /// Entries of the vocabulary (with `<pad>`, `<unk>`).
    pub vocab_size: usize,
    /// Tokens not in the vocabulary.
    pub oov_tokens: usize,
    /// `oov_tokens / tokens`.
    pub oov_rate: f64,
    /// Distinct token types not in the vocabulary.
    pub oov_types: usize,
    /// `oov_types / types`.
    pub oov_type_rate: f64,
}

/// What `dataset-stats` reports.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CorpusStats {
    /// Format name.
    pub format: String,
    /// Examples (sentences for NER).
    pub examples: usize,
    /// Tokens.
    pub tokens: usize,
    /// Label (or token-level tag) → count.
    pub labels: BTreeMap<String, usize>,
    /// Example lengths in tokens.
    pub lengths: Lengths,
    /// Examples whose token sequence occurred earlier in the file.
    pub duplicates: usize,
    /// NER: documents (`-DOCSTART-` lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<usize>,
    /// NER: entities by type (conlleval reading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<BTreeMap<String, usize>>,
    /// NER: invalid tags or transitions under each scheme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_transitions: Option<BTreeMap<String, usize>>,
    /// Items skipped on purpose, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// OOV rates, with `--vocab-from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oov: Option<Oov>,
}

fn common(format: &str, token_lists: &[&[String]]) -> CorpusStats {
    let lengths: Vec<usize> = token_lists.iter().map(|t| t.len()).collect();
    let mut seen = HashSet::new();
    let duplicates = token_lists.iter().filter(|t| !seen.insert(t.join(" "))).count();
    CorpusStats {
        format: format.into(),
        examples: token_lists.len(),
        tokens: lengths.iter().sum(),
        lengths: Lengths::of(&lengths),
        duplicates,
        ..Default::default()
    }
}

/// Statistics of a sentiment file, given its tokens.
pub fn sentiment_stats(format: &str, file: &SentimentFile, tokens: &[Vec<String>]) -> CorpusStats {
    let lists: Vec<&[String]> = tokens.iter().map(Vec::as_slice).collect();
    let mut stats = common(format, &lists);
    for e in &file.examples {
        *stats.labels.entry(e.label.clone()).or_default() += 1;
    }
    stats.skipped = file.skipped.clone();
    stats
}

/// Statistics of a CoNLL file.
pub fn conll_stats(file: &ConllFile) -> CorpusStats {
    let lists: Vec<&[String]> = file.sentences.iter().map(|s| s.tokens.as_slice()).collect();
    let mut stats = common("conll", &lists);
    let mut entities = BTreeMap::new();
    let mut invalid: BTreeMap<String, usize> = TagScheme::ALL.iter().map(|s| (s.name().to_string(), 0)).collect();
    for s in &file.sentences {
        for tag in &s.tags {
            *stats.labels.entry(tag.clone()).or_default() += 1;
        }
        for span in spans(&s.tags) {
            *entities.entry(span.label).or_default() += 1;
        }
        for scheme in TagScheme::ALL {
            *invalid.get_mut(scheme.name()).unwrap() += validate(&s.tags, scheme).len();
        }
    }
    stats.documents = Some(file.documents);
    stats.entities = Some(entities);
    stats.invalid_transitions = Some(invalid);
    stats
}

/// Adds OOV rates of `tokens` against `vocab`.
pub fn add_oov(stats: &mut CorpusStats, tokens: &[&[String]], vocab: &Vocab) {
    let mut types = HashSet::new();
    let mut oov_types = HashSet::new();
    let mut oov_tokens = 0;
    for token in tokens.iter().flat_map(|t| t.iter()) {
        types.insert(token.as_str());
        if vocab.get(token).is_none() {
            oov_tokens += 1;
            oov_types.insert(token.as_str());
        }
    }
    let total: usize = tokens.iter().map(|t| t.len()).sum();
    stats.oov = Some(Oov {
        vocab_size: vocab.len(),
        oov_tokens,
        oov_rate: if total == 0 { 0.0 } else { oov_tokens as f64 / total as f64 },
        oov_types: oov_types.len(),
        oov_type_rate: if types.is_empty() { 0.0 } else { oov_types.len() as f64 / types.len() as f64 },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let l = Lengths::of(&(1..=100).collect::<Vec<_>>());
        assert_eq!((l.p50, l.p90, l.p99, l.max), (50, 90, 99, 100));
        assert!((l.mean - 50.5).abs() < 1e-12);
        assert_eq!(Lengths::of(&[]), Lengths::default());
    }
}

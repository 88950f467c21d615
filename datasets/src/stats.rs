//! Corpus statistics, as printed by `dataset-stats`.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};

use crate::ner::{spans, validate, ConllFile, TagScheme};
use crate::sentiment::SentimentFile;
use crate::text::{TokenCounts, Vocab};

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

/// Statistics gathered part by part (see [`crate::stream`]): each part's counts merge into the
/// whole's. Holds a length and a 64-bit hash per example and the distinct tokens, never the
/// text. Duplicates are found by the hash of the token sequence.
#[derive(Debug, Clone, Default)]
pub struct StatsBuilder {
    stats: CorpusStats,
    lengths: Vec<usize>,
    sequences: HashSet<u64>,
    tokens: TokenCounts,
    tagged: bool,
    entities: BTreeMap<String, usize>,
    invalid: BTreeMap<String, usize>,
}

fn sequence_hash(tokens: &[String]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    tokens.hash(&mut hasher);
    hasher.finish()
}

impl StatsBuilder {
    /// Statistics of a corpus of format `format`, empty.
    pub fn new(format: &str) -> Self {
        Self { stats: CorpusStats { format: format.into(), ..Default::default() }, ..Default::default() }
    }

    fn add_tokens(&mut self, tokens: &[String]) {
        self.lengths.push(tokens.len());
        self.sequences.insert(sequence_hash(tokens));
        self.tokens.add_all(tokens.iter().map(String::as_str));
    }

    /// Adds a part of a sentiment file, given its tokens.
    pub fn add_sentiment(&mut self, file: &SentimentFile, tokens: &[Vec<String>]) {
        tokens.iter().for_each(|t| self.add_tokens(t));
        for e in &file.examples {
            *self.stats.labels.entry(e.label.clone()).or_default() += 1;
        }
        for (reason, n) in &file.skipped {
            *self.stats.skipped.entry(reason.clone()).or_default() += n;
        }
    }

    /// Adds a part of a CoNLL file.
    pub fn add_conll(&mut self, file: &ConllFile) {
        if !self.tagged {
            self.tagged = true;
            self.invalid = TagScheme::ALL.iter().map(|s| (s.name().to_string(), 0)).collect();
        }
        for s in &file.sentences {
            self.add_tokens(&s.tokens);
            for tag in &s.tags {
                *self.stats.labels.entry(tag.clone()).or_default() += 1;
            }
            for span in spans(&s.tags) {
                *self.entities.entry(span.label).or_default() += 1;
            }
            for scheme in TagScheme::ALL {
                *self.invalid.get_mut(scheme.name()).unwrap() += validate(&s.tags, scheme).len();
            }
        }
        *self.stats.documents.get_or_insert(0) += file.documents;
    }

    /// The counts of the tokens seen.
    pub fn token_counts(&self) -> &TokenCounts {
        &self.tokens
    }

    /// The statistics, with OOV rates against `vocab` if given.
    pub fn finish(self, vocab: Option<&Vocab>) -> CorpusStats {
        let mut stats = self.stats;
        stats.examples = self.lengths.len();
        stats.tokens = self.lengths.iter().sum();
        stats.lengths = Lengths::of(&self.lengths);
        stats.duplicates = self.lengths.len() - self.sequences.len();
        if self.tagged {
            stats.documents.get_or_insert(0);
            stats.entities = Some(self.entities);
            stats.invalid_transitions = Some(self.invalid);
        }
        stats.oov = vocab.map(|v| oov(&self.tokens, v));
        stats
    }
}

/// Statistics of a sentiment file, given its tokens.
pub fn sentiment_stats(format: &str, file: &SentimentFile, tokens: &[Vec<String>]) -> CorpusStats {
    let mut builder = StatsBuilder::new(format);
    builder.add_sentiment(file, tokens);
    builder.finish(None)
}

/// Statistics of a CoNLL file.
pub fn conll_stats(file: &ConllFile) -> CorpusStats {
    let mut builder = StatsBuilder::new("conll");
    builder.add_conll(file);
    builder.finish(None)
}

/// Adds OOV rates of `tokens` against `vocab`.
pub fn add_oov(stats: &mut CorpusStats, tokens: &[&[String]], vocab: &Vocab) {
    stats.oov = Some(oov(&TokenCounts::of(tokens.iter().flat_map(|t| t.iter().map(String::as_str))), vocab));
}

/// OOV rates of the counted tokens against `vocab`.
fn oov(counts: &TokenCounts, vocab: &Vocab) -> Oov {
    let (mut oov_tokens, mut oov_types) = (0, 0);
    for (token, n) in counts.iter() {
        if vocab.get(token).is_none() {
            oov_tokens += n;
            oov_types += 1;
        }
    }
    let (total, types) = (counts.total(), counts.distinct());
    Oov {
        vocab_size: vocab.len(),
        oov_tokens,
        oov_rate: if total == 0 { 0.0 } else { oov_tokens as f64 / total as f64 },
        oov_types,
        oov_type_rate: if types == 0 { 0.0 } else { oov_types as f64 / types as f64 },
    }
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

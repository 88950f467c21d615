//! Where a run's validation data comes from: a file of its own, or a seeded share of the
//! training file held out ([`Holdout`], as Flair's `ColumnCorpus` samples a dev split from
//! train).
//!
//! An example is held out by its content (its tokens, or its text) and the seed alone, not by
//! its position, so every pass over the file (counting, encoding, reading the held-out share)
//! makes the same choice, whatever parts the file is read in; identical examples fall on the
//! same side, so no duplicate is both trained on and validated on. The share held out is
//! `fraction` on average, not exactly: each example is a seeded coin toss.

use std::fmt;

use crate::corpus::LabelledTexts;
use crate::ner::ConllFile;

/// A seeded share of a training file's examples, held out for validation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Holdout {
    /// The share held out, in (0, 1).
    pub fraction: f64,
    /// The seed of the choice (a run's training seed).
    pub seed: u64,
}

impl Holdout {
    /// A holdout of `fraction` (strictly between 0 and 1) under `seed`.
    pub fn new(fraction: f64, seed: u64) -> Result<Self, String> {
        if fraction > 0.0 && fraction < 1.0 {
            Ok(Self { fraction, seed })
        } else {
            Err(format!("{fraction}: the share held out for validation must be between 0 and 1 (e.g. 0.1)"))
        }
    }

    /// Whether the example made of `parts` (its tokens, or its one text) is held out.
    pub fn holds_out<'a>(&self, parts: impl IntoIterator<Item = &'a str>) -> bool {
        // FNV-1a over the seed and the parts (each followed by a separator no text holds),
        // then SplitMix64's finaliser, so that near-identical texts land far apart.
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let bytes = self.seed.to_le_bytes().into_iter().chain(parts.into_iter().flat_map(|p| p.bytes().chain([0xff])));
        for byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
        }
        hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        hash ^= hash >> 31;
        // The top 53 bits as a uniform number in [0, 1).
        ((hash >> 11) as f64 / (1u64 << 53) as f64) < self.fraction
    }

    /// A tagged file's sentences split into (kept for training, held out), in file order.
    pub fn split_tagged(&self, file: ConllFile) -> (ConllFile, ConllFile) {
        let (held, kept) =
            file.sentences.into_iter().partition(|s| self.holds_out(s.tokens.iter().map(String::as_str)));
        (ConllFile { sentences: kept, ..file }, ConllFile { sentences: held, documents: 0, ..file })
    }

    /// Labelled texts split into (kept for training, held out), in file order.
    pub fn split_labelled(&self, texts: LabelledTexts) -> (LabelledTexts, LabelledTexts) {
        let (mut kept, mut held) = (texts.empty(), texts.empty());
        for (example, tokens) in texts.examples.into_iter().zip(texts.tokens) {
            let side = if self.holds_out([example.text.as_str()]) { &mut held } else { &mut kept };
            side.examples.push(example);
            side.tokens.push(tokens);
        }
        (kept, held)
    }
}

impl fmt::Display for Holdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}% of the training file held out (seed {})", self.fraction * 100.0, self.seed)
    }
}

/// Where a run's validation data comes from; `run.json` writes a file as its path and a
/// holdout as `{"fraction": .., "seed": ..}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Validation {
    /// A file (or folder, or embedded corpus) of its own.
    File(String),
    /// A share of the training file.
    HeldOut(Holdout),
}

impl Validation {
    /// The file, when validation has one.
    pub fn file(&self) -> Option<&str> {
        match self {
            Self::File(path) => Some(path),
            Self::HeldOut(_) => None,
        }
    }

    /// The holdout, when validation is one.
    pub fn holdout(&self) -> Option<&Holdout> {
        match self {
            Self::File(_) => None,
            Self::HeldOut(h) => Some(h),
        }
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => f.write_str(path),
            Self::HeldOut(h) => h.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_held_out_is_near_the_fraction_and_follows_the_seed() {
        let h = Holdout::new(0.1, 42).unwrap();
        let texts: Vec<String> = (0..20_000).map(|i| format!("sentence number {i}")).collect();
        let held = texts.iter().filter(|t| h.holds_out([t.as_str()])).count();
        // 2,000 expected; a binomial's standard deviation here is 42.
        assert!((1_850..=2_150).contains(&held), "{held} held out");
        let again = texts.iter().filter(|t| h.holds_out([t.as_str()])).count();
        assert_eq!(held, again);
        let other = Holdout::new(0.1, 43).unwrap();
        let moved = texts.iter().filter(|t| h.holds_out([t.as_str()]) != other.holds_out([t.as_str()])).count();
        assert!(moved > 1_000, "another seed chooses another share ({moved} differ)");
    }

    #[test]
    fn a_fraction_outside_zero_to_one_is_refused() {
        for f in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            assert!(Holdout::new(f, 1).is_err(), "{f}");
        }
    }

    #[test]
    fn validation_reads_old_and_new_run_files() {
        let file: Validation = serde_json::from_str("\"dev.txt\"").unwrap();
        assert_eq!(file, Validation::File("dev.txt".into()));
        let held: Validation = serde_json::from_str(r#"{"fraction":0.1,"seed":7}"#).unwrap();
        assert_eq!(held, Validation::HeldOut(Holdout { fraction: 0.1, seed: 7 }));
        assert_eq!(serde_json::to_string(&held).unwrap(), r#"{"fraction":0.1,"seed":7}"#);
    }
}

//! The embedded default corpora: synthetic, generated here from a grammar and a lexicon (no
//! copied text), deterministic, so that the training commands work with no files at all.
//!
//! - [`sentiment`]: English movie-review sentences in GLUE TSV whose label depends on word
//!   order — negation (`not bad`), contrast (`good but boring`), concession (`although …`),
//!   hedges (`hardly worth it`). A bag of words cannot separate `good but boring` from
//!   `boring but good`; a recurrent model can.
//! - [`ner`]: news-like sentences with PER, ORG, LOC and MISC entities, in IOB2 CoNLL columns.

pub mod ner;
pub mod sentiment;

/// Which split of an embedded corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Training split.
    Train,
    /// Validation split.
    Valid,
    /// Held-out test split.
    Test,
}

impl Split {
    /// `train`, `valid`, `test`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Valid => "valid",
            Self::Test => "test",
        }
    }
}

/// SplitMix64: a tiny deterministic generator, so the corpora never change with a dependency.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// One split of a generated corpus: draws from `generate` with a fixed seed until the three
/// splits' worth of distinct items (by `key`) exist, then returns the slice for `split`.
pub(crate) fn generate_split<T>(
    seed: u64,
    sizes: [usize; 3],
    split: Split,
    mut generate: impl FnMut(&mut Rng) -> T,
    key: impl Fn(&T) -> String,
) -> Vec<T> {
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::new();
    while items.len() < sizes.iter().sum() {
        let item = generate(&mut rng);
        if seen.insert(key(&item)) {
            items.push(item);
        }
    }
    let (start, len) = match split {
        Split::Train => (0, sizes[0]),
        Split::Valid => (sizes[0], sizes[1]),
        Split::Test => (sizes[0] + sizes[1], sizes[2]),
    };
    items.drain(start..start + len).collect()
}

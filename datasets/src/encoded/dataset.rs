//! Burn datasets over an encoded corpus: each item built from the mapped arrays when a batch
//! asks for it.

use std::sync::Arc;

use burn::data::dataset::Dataset;

use super::EncodedCorpus;
use crate::batch::{ClassificationItem, TaggingItem};
use crate::ids::word_chars;
use crate::text::{Casing, Vocab};

/// The items of a classification corpus.
#[derive(Debug, Clone)]
pub struct ClassificationDataset {
    corpus: Arc<EncodedCorpus>,
}

impl ClassificationDataset {
    /// The dataset of `corpus`.
    pub fn new(corpus: Arc<EncodedCorpus>) -> Self {
        Self { corpus }
    }
}

impl Dataset<ClassificationItem> for ClassificationDataset {
    fn get(&self, index: usize) -> Option<ClassificationItem> {
        (index < self.corpus.len()).then(|| ClassificationItem {
            ids: self.corpus.ids(index).iter().map(|&id| id as usize).collect(),
            label: self.corpus.label(index),
        })
    }

    fn len(&self) -> usize {
        self.corpus.len()
    }
}

/// The items of a tagging corpus, with the casing feature and the character ids rebuilt from
/// the tokens' text as [`crate::ids::tagging_items`] builds them.
#[derive(Debug, Clone)]
pub struct TaggingDataset {
    corpus: Arc<EncodedCorpus>,
    casing: bool,
    chars: Option<Arc<Vocab>>,
}

impl TaggingDataset {
    /// The dataset of `corpus`, with the casing feature when `casing` is set and character ids
    /// when `chars` is given.
    pub fn new(corpus: Arc<EncodedCorpus>, casing: bool, chars: Option<Arc<Vocab>>) -> Self {
        Self { corpus, casing, chars }
    }
}

impl Dataset<TaggingItem> for TaggingDataset {
    fn get(&self, index: usize) -> Option<TaggingItem> {
        if index >= self.corpus.len() {
            return None;
        }
        let tokens: Vec<&str> = self.corpus.tokens(index).collect();
        Some(TaggingItem {
            ids: self.corpus.ids(index).iter().map(|&id| id as usize).collect(),
            features: if self.casing { vec![tokens.iter().map(|t| Casing::of(t).id()).collect()] } else { Vec::new() },
            chars: self.chars.as_deref().map_or_else(Vec::new, |c| word_chars(&tokens, c)),
            tags: self.corpus.tags(index).iter().map(|&id| id as usize).collect(),
        })
    }

    fn len(&self) -> usize {
        self.corpus.len()
    }
}

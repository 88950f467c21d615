//! Turning read examples into ids: tokens through a vocabulary, labels and tags through their
//! maps. An unknown label or tag is an error naming the file and line where it occurs.

use std::path::Path;

use crate::batch::{ClassificationItem, TaggingItem};
use crate::error::DataError;
use crate::labels::LabelMap;
use crate::ner::Sentence;
use crate::sentiment::TextExample;
use crate::text::{Casing, Tokenizer, Vocab};

/// The tokens of each example.
pub fn tokenize_all(examples: &[TextExample], tokenizer: Tokenizer) -> Vec<Vec<String>> {
    examples.iter().map(|e| tokenizer.tokenize(&e.text, false)).collect()
}

/// Classification items from examples and their tokens.
pub fn classification_items(
    examples: &[TextExample],
    tokens: &[Vec<String>],
    vocab: &Vocab,
    labels: &LabelMap,
) -> Result<Vec<ClassificationItem>, DataError> {
    examples
        .iter()
        .zip(tokens)
        .map(|(e, t)| {
            Ok(ClassificationItem { ids: vocab.encode(t), label: labels.id_at(&e.label, &e.origin.path, e.origin.line)? })
        })
        .collect()
}

/// Tagging items: token ids, the casing feature when `casing` is set, tag ids (tags must
/// already be in the tag map's scheme).
pub fn tagging_items(
    sentences: &[Sentence],
    path: &Path,
    vocab: &Vocab,
    tags: &LabelMap,
    casing: bool,
) -> Result<Vec<TaggingItem>, DataError> {
    sentences
        .iter()
        .map(|s| {
            let tag_ids = s
                .tags
                .iter()
                .enumerate()
                .map(|(i, tag)| tags.id_at(tag, path, s.line + i))
                .collect::<Result<Vec<_>, _>>()?;
            let features = if casing { vec![s.tokens.iter().map(|t| Casing::of(t).id()).collect()] } else { Vec::new() };
            Ok(TaggingItem { ids: vocab.encode(&s.tokens), features, tags: tag_ids })
        })
        .collect()
}

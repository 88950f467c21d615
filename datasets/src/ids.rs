//! Turning read examples into ids: tokens through a vocabulary, labels and tags through their
//! maps. An unknown label or tag is an error naming the file and line where it occurs.

use std::path::Path;

use crate::batch::{ClassificationItem, TaggingItem, MAX_WORD_CHARS};
use crate::error::DataError;
use crate::labels::LabelMap;
use crate::ner::Sentence;
use crate::sentiment::TextExample;
use crate::text::{Casing, Vocab};

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
            Ok(ClassificationItem {
                ids: vocab.encode(t),
                label: labels.id_at(&e.label, &e.origin.path, e.origin.line)?,
            })
        })
        .collect()
}

/// Tagging items: token ids, the casing feature when `casing` is set, character ids when a
/// character vocabulary is given, tag ids (tags must already be in the tag map's scheme).
pub fn tagging_items(
    sentences: &[Sentence],
    path: &Path,
    vocab: &Vocab,
    tags: &LabelMap,
    casing: bool,
    chars: Option<&Vocab>,
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
            let features =
                if casing { vec![s.tokens.iter().map(|t| Casing::of(t).id()).collect()] } else { Vec::new() };
            Ok(TaggingItem {
                ids: vocab.encode(&s.tokens),
                features,
                chars: chars.map_or_else(Vec::new, |c| word_chars(&s.tokens, c)),
                tags: tag_ids,
            })
        })
        .collect()
}

/// The character ids of every token (its first [`MAX_WORD_CHARS`] characters).
pub fn word_chars<S: AsRef<str>>(tokens: &[S], chars: &Vocab) -> Vec<Vec<usize>> {
    tokens
        .iter()
        .map(|t| t.as_ref().chars().take(MAX_WORD_CHARS).map(|c| chars.id(c.encode_utf8(&mut [0; 4]))).collect())
        .collect()
}

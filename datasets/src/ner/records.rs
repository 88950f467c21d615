//! Tagged sentences as records, the shape the Hugging Face hub serves NER corpora in: a list of
//! tokens and a list of tags per record, the tags written as names (`"B-PER"`) or as ids into
//! the dataset's list of tag names (`ner_tags: [3, 4, 0]` with `O, B-PER, I-PER, …` from its
//! card). JSON Lines here; Parquet in [`crate::parquet`] builds the same sentences.
//!
//! ```text
//! {"tokens": ["EU", "rejects", "German", "call"], "ner_tags": [3, 0, 7, 0]}
//! ```

use std::path::Path;

use super::conll::{ConllFile, Sentence};
use super::scheme::split_tag;
use crate::error::{excerpt, DataError};

/// Where the tokens and the tags are, and what tag ids name.
#[derive(Debug, Clone)]
pub struct RecordFields {
    /// The list of tokens (default `tokens`).
    pub tokens: String,
    /// The list of tags (default `ner_tags`).
    pub tags: String,
    /// The names of the tag ids, when the tags are ids.
    pub names: Option<Vec<String>>,
}

impl RecordFields {
    /// The fields named `tokens` and `tags` (the defaults when `None`), tag ids named by `names`.
    pub fn new(tokens: Option<&str>, tags: Option<&str>, names: Option<&[String]>) -> Self {
        Self {
            tokens: tokens.unwrap_or("tokens").to_string(),
            tags: tags.unwrap_or("ner_tags").to_string(),
            names: names.map(<[String]>::to_vec),
        }
    }

    /// The tag an id names; `at` says where it was read, for the error.
    pub fn tag_name(&self, id: i64, at: &dyn Fn(String) -> DataError) -> Result<String, DataError> {
        let Some(names) = &self.names else {
            return Err(at(format!(
                "{} holds tag ids ({id}): these are tagged sentences, which train-tagger reads with --tag-names (the dataset card's list, in id order, e.g. O,B-PER,I-PER,…)",
                self.tags
            )));
        };
        usize::try_from(id).ok().and_then(|i| names.get(i)).cloned().ok_or_else(|| {
            at(format!("tag id {id} in {} is outside the {} names of --tag-names", self.tags, names.len()))
        })
    }

    /// A sentence from its tokens and tags (as read), checked: as many tags as tokens, and every
    /// tag `O` or `PREFIX-TYPE`. `at` says where it was read, given the field at fault.
    pub fn sentence(
        &self,
        tokens: Vec<String>,
        tags: Vec<String>,
        line: usize,
        at: &dyn Fn(&str, String) -> DataError,
    ) -> Result<Sentence, DataError> {
        if tokens.len() != tags.len() {
            return Err(at(&self.tags, format!("{} tokens but {} tags", tokens.len(), tags.len())));
        }
        // As in CoNLL files, where ASCII whitespace separates columns and a Unicode space (U+00A0)
        // belongs to the token.
        if let Some(t) = tokens.iter().find(|t| t.is_empty() || t.chars().any(|c| c.is_ascii_whitespace())) {
            return Err(at(&self.tokens, format!("token {t:?} is empty or holds a space, tab or line break")));
        }
        for tag in &tags {
            split_tag(tag).map_err(|reason| {
                // A tag id written as text ("3") is an id all the same.
                let hint = if !tag.is_empty() && tag.chars().all(|c| c.is_ascii_digit()) {
                    "; it looks like a tag id written as text: give the tag names with --tag-names"
                } else {
                    ""
                };
                at(&self.tags, format!("{reason} (in {}){hint}", self.tags))
            })?;
        }
        Ok(Sentence { tokens, tags, extra: Vec::new(), line })
    }
}

/// Whether a JSON Lines text holds tagged records: its first object has a list under the tokens
/// field.
pub fn holds_tagged_records(first_line: &str, fields: &RecordFields) -> bool {
    serde_json::from_str::<serde_json::Value>(first_line)
        .ok()
        .is_some_and(|v| v.get(&fields.tokens).is_some_and(serde_json::Value::is_array))
}

/// Parses JSON Lines text of tagged records; `path` names it in errors, `first_line` is the
/// file's line the text starts on. Blank lines are skipped.
pub fn parse_tagged_jsonl(
    text: &str,
    path: &Path,
    first_line: usize,
    fields: &RecordFields,
) -> Result<ConllFile, DataError> {
    let mut file = ConllFile { columns: 2, records: true, ..ConllFile::default() };
    for (index, line) in text.lines().enumerate() {
        let number = first_line + index;
        if line.trim().is_empty() {
            continue;
        }
        let at = |message: String| DataError::line(path, number, message);
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| at(format!("invalid JSON ({e}): {}", excerpt(line))))?;
        let list = |name: &str| {
            value
                .get(name)
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| at(format!("no list {name:?}: {}", excerpt(line))))
        };
        let tokens = list(&fields.tokens)?
            .iter()
            .map(|t| {
                t.as_str().map(String::from).ok_or_else(|| at(format!("{} holds {t}, not a string", fields.tokens)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tags = list(&fields.tags)?
            .iter()
            .map(|t| match t {
                serde_json::Value::String(s) => Ok(s.clone()),
                serde_json::Value::Number(n) if n.is_i64() => fields.tag_name(n.as_i64().unwrap_or(-1), &at),
                other => Err(at(format!("{} holds {other}, neither a tag nor a tag id", fields.tags))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        file.sentences.push(fields.sentence(tokens, tags, number, &|_, message| at(message))?);
    }
    Ok(file)
}

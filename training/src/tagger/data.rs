//! A tagger's data: reading CoNLL files, tag schemes (the file's, the training one, the tag map
//! between them), and entity-level scoring.

use burn::tensor::backend::Backend;
use seqlab_datasets::batch::TaggingItem;
use seqlab_datasets::ner::{convert, validate, ConllFile, ConllOptions, Sentence, TagScheme};
use seqlab_datasets::text::Encoding;
use seqlab_datasets::{read_tagged, LabelMap};
use seqlab_models::TokenClassifier;

use super::config::TaggerScores;
use crate::entity::{entity_scores, EntityMode};
use crate::error::RunError;
use crate::inference::{tag, BATCH};

/// Reads a CoNLL file (or `embedded:ner/SPLIT`).
pub(crate) fn read_file(path: &str, tag_column: Option<usize>, encoding: Encoding) -> Result<ConllFile, RunError> {
    Ok(read_tagged(path, &ConllOptions { tag_column, encoding })?)
}

/// The tag map of a scheme for the entity types of the training data: `<pad>`, `O`, and every
/// prefix the scheme uses for every type, so any converted tag of a known type has an id.
pub(super) fn tag_map(types: &[String], scheme: TagScheme) -> LabelMap {
    let prefixes: &[&str] = match scheme {
        TagScheme::Iobes => &["B", "I", "E", "S"],
        _ => &["B", "I"],
    };
    let tags: Vec<String> = std::iter::once("O".to_string())
        .chain(types.iter().flat_map(|t| prefixes.iter().map(move |p| format!("{p}-{t}"))))
        .collect();
    LabelMap::build_tags(tags.iter().map(String::as_str))
}

/// Sentences with their tags converted to `scheme`.
pub(crate) fn in_scheme(file: &ConllFile, scheme: TagScheme) -> Vec<Sentence> {
    file.sentences.iter().map(|s| Sentence { tags: convert(&s.tags, scheme), ..s.clone() }).collect()
}

/// A file whose tags break `scheme` (given with `--file-scheme`) is an error at its first
/// invalid tag, naming the scheme the training file looks like.
pub(super) fn check_scheme(
    file: &ConllFile,
    path: &str,
    scheme: TagScheme,
    detected: TagScheme,
) -> Result<(), RunError> {
    for sentence in &file.sentences {
        if let Some(v) = validate(&sentence.tags, scheme).first() {
            return Err(RunError::Data(seqlab_datasets::DataError::line(
                path,
                sentence.line + v.index,
                format!(
                    "tag {:?} is not valid {scheme} here ({}), but --file-scheme {} was given; the training file looks like {detected}",
                    v.tag,
                    v.reason,
                    scheme.name()
                ),
            )));
        }
    }
    Ok(())
}

/// Entity scores (default and strict) and token accuracy of `model` on `items`, against the
/// gold tags of `gold` (in `file_scheme`).
pub(crate) fn score<B: Backend>(
    model: &TokenClassifier<B>,
    items: &[TaggingItem],
    gold: &ConllFile,
    tags: &LabelMap,
    file_scheme: TagScheme,
    device: &B::Device,
) -> TaggerScores {
    let predicted: Vec<Vec<String>> = tag(model, items, BATCH, device)
        .into_iter()
        .map(|ids| convert(&ids.iter().map(|&i| tags.name(i)).collect::<Vec<_>>(), file_scheme))
        .collect();
    entity_report(gold, &predicted, file_scheme)
}

/// Entity scores (default and strict) and token accuracy of `predicted` tags against `gold`'s,
/// both in `file_scheme`.
pub(crate) fn entity_report(gold: &ConllFile, predicted: &[Vec<String>], file_scheme: TagScheme) -> TaggerScores {
    let gold_tags: Vec<Vec<String>> = gold.sentences.iter().map(|s| s.tags.clone()).collect();
    let lenient = entity_scores(&gold_tags, predicted, EntityMode::Default);
    let strict = entity_scores(&gold_tags, predicted, EntityMode::Strict(file_scheme));
    let (mut right, mut total) = (0usize, 0usize);
    for (g, p) in gold_tags.iter().zip(predicted) {
        // Token accuracy on spans-normalised tags, so that equivalent writings agree.
        let g = convert(g, file_scheme);
        right += g.iter().zip(p).filter(|(a, b)| a == b).count();
        total += g.len();
    }
    TaggerScores {
        precision: lenient.precision,
        recall: lenient.recall,
        f1: lenient.f1,
        per_type: lenient.per_type,
        strict_f1: strict.f1,
        token_accuracy: if total == 0 { 0.0 } else { right as f64 / total as f64 },
    }
}

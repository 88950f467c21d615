//! A tagger's data: reading CoNLL files, tag schemes (the file's, the training one, the tag map
//! between them), and entity-level scoring.

use burn::tensor::backend::Backend;
use seqlab_datasets::batch::TaggingItem;
use std::collections::BTreeSet;

use seqlab_datasets::chunks::Fingerprint;
use seqlab_datasets::ner::{convert, spans, validate, ConllFile, SchemeEvidence, Sentence, TagScheme};
use seqlab_datasets::text::TokenCounts;
use seqlab_datasets::{
    not_conll, read_tagged_any, stream_corpus, tagged_format, Corpus, DataError, Format, Holdout, LabelMap, ReadOptions,
};
use seqlab_models::TokenClassifier;

use super::config::TaggerScores;
use crate::entity_scores::{entity_scores, EntityMode};
use crate::error::RunError;
use crate::inference::{tag, BATCH};

/// Reads a CoNLL file, tagged records (`.jsonl`, `.parquet`) or `embedded:ner/SPLIT`.
pub(crate) fn read_file(path: &str, options: &ReadOptions) -> Result<ConllFile, RunError> {
    Ok(read_tagged_any(path, options)?)
}

/// The training file as a run needs it before encoding, from one streamed pass.
pub(crate) struct TrainCounts {
    /// The tokens as written.
    pub tokens: TokenCounts,
    /// The entity types, sorted.
    pub types: Vec<String>,
    /// The scheme the file looks written in.
    pub detected: TagScheme,
    /// The file's size and CRC-32.
    pub fingerprint: Fingerprint,
}

/// Reads the tagged file at `path` (CoNLL, or records: `.jsonl`, `.parquet`) part by part: `map` gets each part in parallel, `consume` the
/// results in file order. Labelled texts are an error.
pub(crate) fn stream_tagged<R: Send>(
    path: &str,
    options: &ReadOptions,
    map: impl Fn(ConllFile) -> Result<R, DataError> + Sync,
    consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Fingerprint, DataError> {
    let format = tagged_format(path.as_ref());
    let read = ReadOptions { format: Some(format), ..options.clone() };
    let part = |_, corpus| match corpus {
        Corpus::Tagged(file) => map(file),
        Corpus::Sentiment { .. } => {
            Err(DataError::file(path, "labelled texts, not a tagged corpus; use embedded:ner/SPLIT"))
        }
    };
    match stream_corpus(path, &read, part, consume) {
        Ok(read) => Ok(read.fingerprint),
        Err(e) if format == Format::Conll => Err(not_conll(path.as_ref(), e)),
        Err(e) => Err(e),
    }
}

/// Counts the training file in one streamed pass; with `check`, the first tag that breaks that
/// scheme is an error at its line. With a `holdout`, its sentences are not counted but
/// returned, as the validation file.
pub(crate) fn count_train(
    path: &str,
    options: &ReadOptions,
    check: Option<TagScheme>,
    holdout: Option<&Holdout>,
) -> Result<(TrainCounts, Option<ConllFile>), DataError> {
    let (mut tokens, mut types, mut evidence) = (TokenCounts::default(), BTreeSet::new(), SchemeEvidence::default());
    let mut violation = None;
    let mut held: Option<ConllFile> = None;
    let part = |file: ConllFile| {
        let (file, out) = match holdout {
            Some(h) => {
                let (kept, out) = h.split_tagged(file);
                (kept, Some(out))
            }
            None => (file, None),
        };
        let broken = check.and_then(|scheme| first_violation(&file, scheme));
        let mut evidence = SchemeEvidence::default();
        file.sentences.iter().for_each(|s| evidence.add(&s.tags));
        let types: BTreeSet<String> = file.sentences.iter().flat_map(|s| spans(&s.tags)).map(|s| s.label).collect();
        let words = TokenCounts::of(file.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)));
        Ok((words, types, evidence, broken, out))
    };
    let fingerprint = stream_tagged(path, options, part, |(w, t, e, broken, out)| {
        if let Some(out) = out {
            match &mut held {
                Some(held) => held.sentences.extend(out.sentences),
                None => held = Some(out),
            }
        }
        violation = violation.take().or(broken);
        tokens.merge(w);
        types.extend(t);
        evidence.merge(e);
        Ok(())
    })?;
    let detected = evidence.scheme();
    if let (Some(v), Some(scheme)) = (violation, check) {
        return Err(scheme_error(path, v, scheme, detected));
    }
    Ok((TrainCounts { tokens, types: types.into_iter().collect(), detected, fingerprint }, held))
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

/// Sentences of `file` (read from `path`) with their tags converted to `scheme`, every one of
/// which must be in `tags`. A tag of an entity type the map does not have is an error at its
/// line, naming the tag as the file writes it (`B-EVENT`, not the converted `S-EVENT`).
pub(crate) fn in_scheme(
    file: &ConllFile,
    path: &str,
    scheme: TagScheme,
    tags: &LabelMap,
) -> Result<Vec<Sentence>, DataError> {
    file.sentences
        .iter()
        .map(|s| {
            let converted = convert(&s.tags, scheme);
            match converted.iter().position(|t| tags.get(t).is_none()) {
                Some(i) => Err(unknown_type(path, file.line_of(s, i), &s.tags[i], tags)),
                None => Ok(Sentence { tags: converted, ..s.clone() }),
            }
        })
        .collect()
}

/// The error for `tag`, whose entity type the tag map `tags` does not have.
fn unknown_type(path: &str, line: usize, tag: &str, tags: &LabelMap) -> DataError {
    let kind = tag.split_once('-').map_or(tag, |(_, ty)| ty);
    let known = tags.entity_types().join(", ");
    DataError::line(path, line, format!("tag {tag:?}: entity type {kind:?} is not among the training data's ({known})"))
}

/// The first tag of `file` that breaks `scheme`: its line, the tag and why.
pub(super) fn first_violation(file: &ConllFile, scheme: TagScheme) -> Option<(usize, String, String)> {
    file.sentences.iter().find_map(|s| {
        validate(&s.tags, scheme)
            .into_iter()
            .next()
            .map(|v| (s.line + v.index, v.tag.to_string(), v.reason.to_string()))
    })
}

/// The error for a tag that breaks `scheme` (given with `--file-scheme`), naming the scheme the
/// training file looks like.
pub(super) fn scheme_error(
    path: &str,
    (line, tag, reason): (usize, String, String),
    scheme: TagScheme,
    detected: TagScheme,
) -> DataError {
    DataError::line(
        path,
        line,
        format!(
            "tag {tag:?} is not valid {scheme} here ({reason}), but --file-scheme {} was given; the training file looks like {detected}",
            scheme.name()
        ),
    )
}

/// A file whose tags break `scheme` (given with `--file-scheme`) is an error at its first
/// invalid tag, naming the scheme the training file looks like.
pub(super) fn check_scheme(
    file: &ConllFile,
    path: &str,
    scheme: TagScheme,
    detected: TagScheme,
) -> Result<(), DataError> {
    first_violation(file, scheme).map_or(Ok(()), |v| Err(scheme_error(path, v, scheme, detected)))
}

/// Entity scores (default and strict) and token accuracy of `model` on `items`, against the
/// gold tags of `gold` (in `file_scheme`).
pub(crate) fn score<B: Backend>(
    model: &TokenClassifier<B>,
    items: &[TaggingItem],
    gold: &ConllFile,
    tags: &LabelMap,
    (file_scheme, train_scheme): (TagScheme, TagScheme),
    device: &B::Device,
) -> TaggerScores {
    let predicted: Vec<Vec<String>> = tag(model, items, BATCH, device)
        .into_iter()
        .map(|ids| convert(&ids.iter().map(|&i| tags.name(i)).collect::<Vec<_>>(), file_scheme))
        .collect();
    entity_report(gold, &predicted, file_scheme, train_scheme)
}

/// Entity scores (default and strict) of `predicted` tags against `gold`'s, both in
/// `file_scheme`, and token accuracy in `train_scheme` (the tags the model learns): the share
/// of tokens whose training-scheme tag is right, the definition of the validation accuracy
/// that each epoch's line and `log.csv` give (for a softmax tagger these count its raw
/// per-token choices, which may not form a valid tagging).
pub(crate) fn entity_report(
    gold: &ConllFile,
    predicted: &[Vec<String>],
    file_scheme: TagScheme,
    train_scheme: TagScheme,
) -> TaggerScores {
    let gold_tags: Vec<Vec<String>> = gold.sentences.iter().map(|s| s.tags.clone()).collect();
    let lenient = entity_scores(&gold_tags, predicted, EntityMode::Default);
    let strict = entity_scores(&gold_tags, predicted, EntityMode::Strict(file_scheme));
    let (mut right, mut total) = (0usize, 0usize);
    for (g, p) in gold_tags.iter().zip(predicted) {
        let (g, p) = (convert(g, train_scheme), convert(p, train_scheme));
        right += g.iter().zip(&p).filter(|(a, b)| a == b).count();
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

//! The report of a tagger: the confusion of entity types (with missed and spurious entities)
//! and of token tags, the sentences with the most entity errors, and how many errors involve
//! words outside the vocabulary.

use burn::tensor::backend::Backend;
use seqlab_datasets::batch::TaggingItem;
use seqlab_datasets::ner::{convert, spans, ConllFile, Sentence, Span, TagScheme};
use seqlab_datasets::text::UNK;

use super::{data_info, share, About, Confusion, Report, SentenceError, UnseenShare, MAX_ERRORS};
use crate::error::RunError;
use crate::inference::{Evaluation, LoadedTagger, TaggerData};

/// The report of `t` on the CoNLL file `path`.
pub(super) fn report<B: Backend>(
    t: &LoadedTagger<B>,
    path: &str,
    about: About,
    device: &B::Device,
) -> Result<Report, RunError> {
    let TaggerData { file, items } = t.read(path)?;
    let scheme = t.file_scheme();
    let predicted = t.tag(&items, device);
    let metrics = Evaluation::Tagger(t.scores(&file, &predicted));
    let mut tally = Tally::new(&file, &predicted, scheme);
    let mut errors: Vec<SentenceError> = file
        .sentences
        .iter()
        .zip(&items)
        .zip(&predicted)
        .filter_map(|((sentence, item), tags)| tally.sentence(sentence, item, tags, path))
        .collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.missed.len() + e.spurious.len() + e.wrong_type.len()));
    errors.truncate(MAX_ERRORS);
    Ok(Report {
        model: "token-classifier".into(),
        artifacts: about.artifacts,
        data: data_info(path, items.len()),
        metrics,
        unseen: UnseenShare {
            errors: tally.errors,
            errors_with_unseen: tally.errors_with_unseen,
            share_of_errors: share(tally.errors_with_unseen, tally.errors),
            share_overall: share(tally.entities_with_unseen, tally.entities),
        },
        confusion: tally.entity_types,
        tag_confusion: Some(tally.tags),
        label_errors: Vec::new(),
        sentence_errors: errors,
        config: about.config,
        training: about.training,
    })
}

/// The sorted, distinct values of `names`.
fn distinct(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names.dedup();
    names
}

/// What the report counts over all sentences.
struct Tally {
    /// Gold entity types (rows, and `spurious`) against predicted ones (columns, and `missed`).
    entity_types: Confusion,
    /// Gold token tags against predicted ones, in the file's scheme.
    tags: Confusion,
    scheme: TagScheme,
    /// Entities, gold and predicted.
    entities: usize,
    entities_with_unseen: usize,
    /// Missed, spurious and wrongly typed entities.
    errors: usize,
    errors_with_unseen: usize,
}

impl Tally {
    fn new(file: &ConllFile, predicted: &[Vec<String>], scheme: TagScheme) -> Self {
        let gold_spans = file.sentences.iter().flat_map(|s| spans(&s.tags));
        let types = distinct(gold_spans.chain(predicted.iter().flat_map(|p| spans(p))).map(|s| s.label));
        let entity_types = Confusion::new(
            types.iter().cloned().chain(["spurious".to_string()]).collect(),
            types.iter().cloned().chain(["missed".to_string()]).collect(),
        );
        let gold_tags = file.sentences.iter().flat_map(|s| convert(&s.tags, scheme));
        let tag_names = distinct(gold_tags.chain(predicted.iter().flatten().cloned()));
        let tags = Confusion::new(tag_names.clone(), tag_names);
        Self { entity_types, tags, scheme, entities: 0, entities_with_unseen: 0, errors: 0, errors_with_unseen: 0 }
    }

    /// Counts one sentence; its errors, if it has any.
    fn sentence(
        &mut self,
        sentence: &Sentence,
        item: &TaggingItem,
        tags: &[String],
        path: &str,
    ) -> Option<SentenceError> {
        for (g, p) in convert(&sentence.tags, self.scheme).iter().zip(tags) {
            self.tags.add(g, p);
        }
        let oov = |span: &Span| item.ids[span.start..span.end].contains(&UNK);
        let (gold, pred) = (spans(&sentence.tags), spans(tags));
        let (mut missed, mut spurious, mut wrong_type) = (Vec::new(), Vec::new(), Vec::new());
        for g in &gold {
            match pred.iter().find(|p| p.start == g.start && p.end == g.end) {
                Some(p) => {
                    self.entity_types.add(&g.label, &p.label);
                    if p.label != g.label {
                        wrong_type.push((g.clone(), p.clone()));
                    }
                }
                None => {
                    self.entity_types.add(&g.label, "missed");
                    missed.push(g.clone());
                }
            }
        }
        for p in pred.iter().filter(|p| !gold.iter().any(|g| g.start == p.start && g.end == p.end)) {
            self.entity_types.add("spurious", &p.label);
            spurious.push(p.clone());
        }
        self.entities += gold.len() + pred.len();
        self.entities_with_unseen += gold.iter().chain(&pred).filter(|s| oov(s)).count();
        let wrong: Vec<&Span> = missed.iter().chain(&spurious).chain(wrong_type.iter().map(|(g, _)| g)).collect();
        self.errors += wrong.len();
        self.errors_with_unseen += wrong.iter().filter(|s| oov(s)).count();
        if wrong.is_empty() {
            return None;
        }
        let unseen = sentence.tokens.iter().zip(&item.ids).filter(|(_, &id)| id == UNK).map(|(w, _)| w.clone());
        Some(SentenceError {
            origin: format!("{path}:{}", sentence.line),
            tokens: sentence.tokens.clone(),
            gold,
            predicted: pred,
            missed,
            spurious,
            wrong_type,
            unseen: unseen.collect(),
        })
    }
}

//! The report of a classifier: the confusion of classes, the most confident wrong predictions,
//! and how many errors involve words outside the vocabulary.

use burn::tensor::backend::Backend;
use seqlab_datasets::text::UNK;

use super::{data_info, share, About, Confusion, LabelError, Report, UnseenShare, MAX_ERRORS};
use crate::error::RunError;
use crate::inference::{ClassifierData, Evaluation, LoadedClassifier};

/// The report of `c` on the labelled file `path`.
pub(super) fn report<B: Backend>(
    c: &LoadedClassifier<B>,
    path: &str,
    about: About,
    device: &B::Device,
) -> Result<Report, RunError> {
    let ClassifierData { texts: split, items } = c.read(path)?;
    let answers = c.classify(&items, device);
    let metrics = Evaluation::Classifier(c.scores(&items, &answers));
    let mut confusion = Confusion::new(c.labels.names.clone(), c.labels.names.clone());
    let mut errors = Vec::new();
    let mut with_unseen = 0;
    for ((example, item), (tokens, answer)) in split.examples.iter().zip(&items).zip(split.tokens.iter().zip(&answers))
    {
        let (best, p) = (answer.best, &answer.probabilities);
        confusion.add(c.labels.name(item.label), c.labels.name(best));
        let unseen: Vec<String> =
            tokens.iter().zip(&item.ids).filter(|(_, &id)| id == UNK).map(|(t, _)| t.clone()).collect();
        with_unseen += usize::from(!unseen.is_empty());
        if best != item.label {
            errors.push(LabelError {
                text: example.text.clone(),
                origin: format!("{}:{}", example.origin.path.display(), example.origin.line),
                gold: example.label.clone(),
                predicted: c.labels.name(best).to_string(),
                probability: p[best],
                unseen,
            });
        }
    }
    let errors_with_unseen = errors.iter().filter(|e| !e.unseen.is_empty()).count();
    let unseen = UnseenShare {
        errors: errors.len(),
        errors_with_unseen,
        share_of_errors: share(errors_with_unseen, errors.len()),
        share_overall: share(with_unseen, items.len()),
    };
    errors.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    errors.truncate(MAX_ERRORS);
    Ok(Report {
        model: "sequence-classifier".into(),
        artifacts: about.artifacts,
        data: data_info(path, items.len()),
        metrics,
        confusion,
        tag_confusion: None,
        label_errors: errors,
        sentence_errors: Vec::new(),
        unseen,
        config: about.config,
        training: about.training,
    })
}

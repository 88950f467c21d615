//! A classifier's data: reading labelled texts, tokenising them as the run does, and scoring.

use burn::tensor::backend::Backend;
use seqlab_datasets::batch::ClassificationItem;
use seqlab_datasets::corpus::tokenizer_for;
use seqlab_datasets::text::Normalisation;
use seqlab_datasets::{read_labelled, LabelledTexts, ReadOptions};
use seqlab_models::SequenceClassifier;

use crate::error::RunError;
use crate::inference::{classify, BATCH};
use crate::metrics::{classification_scores, ClassificationScores};

/// Reads labelled texts (printing the format when it was inferred).
pub(crate) fn read_file(path: &str, options: &ReadOptions) -> Result<LabelledTexts, RunError> {
    let read = read_labelled(path, options)?;
    if let Some(why) = &read.inferred {
        eprintln!("{path}: format {} ({why})", read.format.name());
    }
    Ok(read)
}

/// The texts tokenised by `norm`: the reader's tokens when they are already `norm`'s (the
/// format's own tokenizer; lower-cased if asked), else each text tokenised again.
pub(crate) fn normalised(texts: LabelledTexts, norm: &Normalisation) -> LabelledTexts {
    let tokens = if norm.tokenizer == tokenizer_for(texts.format) {
        let lower = |tokens: Vec<String>| tokens.into_iter().map(|t| t.to_lowercase()).collect();
        if norm.lowercase {
            texts.tokens.into_iter().map(lower).collect()
        } else {
            texts.tokens
        }
    } else {
        texts.examples.iter().map(|e| norm.tokens(&e.text)).collect()
    };
    LabelledTexts { tokens, ..texts }
}

/// Accuracy and macro-F1 of `model` on `items` (batched as [`crate::inference::classify`]).
pub(crate) fn score<B: Backend>(
    model: &SequenceClassifier<B>,
    items: &[ClassificationItem],
    classes: usize,
    device: &B::Device,
) -> ClassificationScores {
    let gold: Vec<usize> = items.iter().map(|i| i.label).collect();
    let predicted: Vec<usize> = classify(model, items, BATCH, device).into_iter().map(|a| a.best).collect();
    classification_scores(&predicted, &gold, classes)
}

//! A classifier's data: reading labelled texts, tokenising them as the run does, and scoring.

use burn::tensor::backend::Backend;
use seqlab_datasets::batch::ClassificationItem;
use seqlab_datasets::chunks::Fingerprint;
use seqlab_datasets::sentiment::LabelKinds;
use seqlab_datasets::text::Normalisation;
use seqlab_datasets::text::TokenCounts;
use seqlab_datasets::{
    read_labelled, stream_corpus, tokenizer_for, Corpus, DataError, Format, Holdout, LabelledTexts, ReadOptions,
    Streamed,
};
use seqlab_models::SequenceClassifier;

use crate::classification_scores::{classification_scores, ClassificationScores};
use crate::error::RunError;
use crate::inference::{classify, BATCH};

/// Reads labelled texts (printing the format when it was inferred).
pub(crate) fn read_file(path: &str, options: &ReadOptions) -> Result<LabelledTexts, RunError> {
    let read = read_labelled(path, options)?;
    if let Some(why) = &read.inferred {
        crate::note!("{path}: format {} ({why})", read.format.name());
    }
    Ok(read)
}

/// The training file as a run needs it before encoding, from one streamed pass: the counts of
/// its tokens (normalised as the run reads them) and labels, its label kinds and its size.
pub(crate) struct TrainCounts {
    /// The tokens, as `normalise` made them.
    pub tokens: TokenCounts,
    /// The labels.
    pub labels: TokenCounts,
    /// Integer and named labels, for the check over every split.
    pub kinds: LabelKinds,
    /// Examples.
    pub examples: usize,
    /// The format.
    pub format: Format,
    /// The file's size and CRC-32.
    pub fingerprint: Fingerprint,
}

/// Reads the labelled texts at `path` part by part: `map` gets each part in parallel,
/// `consume` the results in file order. A tagged corpus is an error.
pub(crate) fn stream_labelled<R: Send>(
    path: &str,
    options: &ReadOptions,
    map: impl Fn(LabelledTexts) -> Result<R, DataError> + Sync,
    consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Streamed, DataError> {
    let part = |format, corpus| match corpus {
        Corpus::Sentiment { file, tokens } => {
            map(LabelledTexts { examples: file.examples, tokens, format, inferred: None })
        }
        Corpus::Tagged(_) => Err(DataError::file(path, "a tagged (CoNLL) corpus; a classifier needs labelled texts")),
    };
    stream_corpus(path, options, part, consume)
}

/// Counts the training file at `path` in one streamed pass, its tokens as `tokens` makes them
/// from each part (printing the format when it was inferred). With a `holdout`, its texts are
/// not counted but returned (as read, before `tokens`), as the validation texts.
pub(crate) fn count_train(
    path: &str,
    options: &ReadOptions,
    holdout: Option<&Holdout>,
    tokens: impl Fn(LabelledTexts) -> LabelledTexts + Sync,
) -> Result<(TrainCounts, Option<LabelledTexts>), DataError> {
    let mut counts = TrainCounts {
        tokens: TokenCounts::default(),
        labels: TokenCounts::default(),
        kinds: LabelKinds::default(),
        examples: 0,
        format: Format::Glue,
        fingerprint: Fingerprint::default(),
    };
    let mut held: Option<LabelledTexts> = None;
    let part = |texts: LabelledTexts| {
        let (texts, out) = match holdout {
            Some(h) => {
                let (kept, out) = h.split_labelled(texts);
                (kept, Some(out))
            }
            None => (texts, None),
        };
        let texts = tokens(texts);
        let words = TokenCounts::of(texts.tokens.iter().flatten().map(String::as_str));
        let labels = TokenCounts::of(texts.examples.iter().map(|e| e.label.as_str()));
        let mut kinds = LabelKinds::default();
        texts.examples.iter().for_each(|e| kinds.add(e));
        Ok((words, labels, kinds, texts.examples.len(), out))
    };
    let streamed = stream_labelled(path, options, part, |(words, labels, kinds, n, out)| {
        if let Some(out) = out {
            match &mut held {
                Some(held) => {
                    held.examples.extend(out.examples);
                    held.tokens.extend(out.tokens);
                }
                None => held = Some(out),
            }
        }
        counts.tokens.merge(words);
        counts.labels.merge(labels);
        counts.kinds.merge(kinds);
        counts.examples += n;
        Ok(())
    })?;
    if let Some(why) = &streamed.inferred {
        crate::note!("{path}: format {} ({why})", streamed.format.name());
    }
    Ok((TrainCounts { format: streamed.format, fingerprint: streamed.fingerprint, ..counts }, held))
}

/// The counts of the tokens lower-cased (the counts `normalised` gives when it only
/// lower-cases).
pub(crate) fn lowercased(counts: &TokenCounts) -> TokenCounts {
    let mut lower = TokenCounts::default();
    counts.iter().for_each(|(t, n)| lower.add_count(&t.to_lowercase(), n));
    lower
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

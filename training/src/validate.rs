//! The valid range of every option of a training run, checked once before any work starts
//! (the options the two tasks share here; each task's own in `classifier.rs` and `tagger.rs`).
//! Each error names the command-line option (`--hidden`); the binaries add the config file
//! and key when the value came from `--config`.

use seqlab_models::heads::EncoderConfig;

use crate::error::RunError;
use crate::learner::TrainingConfig;

fn invalid(option: &str, message: String) -> RunError {
    RunError::Invalid { option: option.to_string(), message }
}

/// `value ≥ min`.
pub(crate) fn at_least(option: &str, value: usize, min: usize) -> Result<(), RunError> {
    if value >= min {
        Ok(())
    } else {
        Err(invalid(option, format!("must be at least {min}, got {value}")))
    }
}

/// A finite `value` in `[low, high)` (`high_inclusive`: `[low, high]`).
pub(crate) fn fraction(option: &str, value: f64, low: f64, high: f64, high_inclusive: bool) -> Result<(), RunError> {
    let inside = value.is_finite() && value >= low && if high_inclusive { value <= high } else { value < high };
    if inside {
        Ok(())
    } else {
        let bracket = if high_inclusive { "]" } else { ")" };
        Err(invalid(option, format!("must be in [{low}, {high}{bracket}, got {value}")))
    }
}

/// A finite `value > 0` (`or_zero`: `≥ 0`).
pub(crate) fn positive(option: &str, value: f64, or_zero: bool) -> Result<(), RunError> {
    if value.is_finite() && (value > 0.0 || (or_zero && value == 0.0)) {
        Ok(())
    } else {
        let what = if or_zero { "a finite number ≥ 0" } else { "a finite number > 0" };
        Err(invalid(option, format!("must be {what}, got {value}")))
    }
}

/// The learner's options.
pub fn training(t: &TrainingConfig) -> Result<(), RunError> {
    at_least("epochs", t.epochs, 1)?;
    at_least("batch-size", t.batch_size, 1)?;
    at_least("max-tokens", t.max_tokens, 1)?;
    let o = &t.optim;
    positive("lr", o.learning_rate, false)?;
    positive("weight-decay", o.weight_decay, true)?;
    fraction("momentum", o.momentum, 0.0, 1.0, false)?;
    positive("adam-epsilon", o.adam_epsilon, false)?;
    if let Some(clip) = o.clip_norm {
        positive("clip-norm", f64::from(clip), false)?;
    }
    at_least("step-epochs", o.step_epochs, 1)?;
    positive("gamma", o.gamma, false)?;
    at_least("plateau-patience", o.plateau_patience, 1)?;
    if let Some(patience) = t.patience {
        at_least("patience", patience, 1)?;
    }
    Ok(())
}

/// The encoder's sizes and dropout.
pub fn encoder(e: &EncoderConfig) -> Result<(), RunError> {
    at_least("hidden", e.hidden, 1)?;
    at_least("layers", e.layers, 1)?;
    fraction("dropout", e.dropout, 0.0, 1.0, false)
}

/// The word embedding width: at least 1, or 0 with pretrained vectors (their width).
pub(crate) fn embedding_dim(dim: usize, pretrained: bool) -> Result<(), RunError> {
    if dim == 0 && !pretrained {
        return Err(invalid("embedding-dim", "must be at least 1, got 0".into()));
    }
    Ok(())
}

/// Refuses a `--min-freq` that leaves no training word in the vocabulary `words` (only the
/// padding and unknown-word entries), saying how often the most frequent word appears.
pub(crate) fn words_left(
    words: &seqlab_datasets::text::Vocab,
    counts: &seqlab_datasets::text::TokenCounts,
    min_freq: usize,
) -> Result<(), RunError> {
    if words.len() > 2 || counts.distinct() == 0 {
        return Ok(());
    }
    let most = counts.iter().map(|(_, n)| n).max().unwrap_or(0);
    Err(invalid(
        "min-freq",
        format!("{min_freq} leaves no training word in the vocabulary (the most frequent appears {most} times)"),
    ))
}

/// Refuses a label column that holds text: more than 50 distinct labels, most of them seen once.
pub(crate) fn labels_look_like_labels(
    train: &str,
    labels: &seqlab_datasets::text::TokenCounts,
) -> Result<(), RunError> {
    let (distinct, examples) = (labels.distinct(), labels.total());
    if distinct <= 50 || distinct * 2 <= examples {
        return Ok(());
    }
    let example = labels.tokens().next().unwrap_or_default();
    Err(invalid(
        "label-column",
        format!(
            "{train}: {distinct} distinct labels in {examples} training examples (the first {example:?}): the column read as \
             labels seems to hold text; name the label column with --label-column"
        ),
    ))
}

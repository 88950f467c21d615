//! Using a trained model from its artifacts folder alone: evaluate it on a file, or predict
//! labels / tags for new text. The folder says which task it holds (`labels.json` for a
//! classifier, `tags.json` for a tagger).

use std::path::Path;

use burn::config::Config;
use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use seqlab_datasets::batch::{ClassificationBatch, ClassificationBatcher, ClassificationItem, TaggingItem};
use seqlab_datasets::encode::{classification_items, tagging_items, word_chars};
use seqlab_datasets::ner::{convert, spans, Span, TagScheme};
use seqlab_datasets::text::{Casing, Tokenizer, Vocab};
use seqlab_datasets::{Format, LabelMap};
use seqlab_models::{SequenceClassifier, SequenceClassifierConfig, TokenClassifier, TokenClassifierConfig};

use crate::artifacts::{weights_recorder, RunError};
use crate::classifier::{read_split, scores, ClassifierRunConfig};
use crate::metrics::ClassificationScores;
use crate::tagger::{in_scheme, read_tagged, score, tag_items, TaggerRunConfig, TaggerScores};

fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::Other(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| RunError::Other(format!("{}: {e}", path.display())))
}

fn load_weights<B: Backend, M: Module<B>>(model: M, dir: &Path, device: &B::Device) -> Result<M, RunError> {
    model.load_file(dir.join("model"), &weights_recorder(), device).map_err(|e| {
        RunError::Other(format!("{}: the weights do not fit model.json/vocab.json (different run?): {e}", dir.join("model.mpk").display()))
    })
}

/// A trained classifier with what it needs to read text.
pub struct LoadedClassifier<B: Backend> {
    /// The network.
    pub model: SequenceClassifier<B>,
    /// The vocabulary.
    pub vocab: Vocab,
    /// The labels.
    pub labels: LabelMap,
    /// The training run's settings.
    pub run: ClassifierRunConfig,
}

/// A trained tagger with what it needs to read text.
pub struct LoadedTagger<B: Backend> {
    /// The network.
    pub model: TokenClassifier<B>,
    /// The vocabulary.
    pub vocab: Vocab,
    /// The tags (in the training scheme).
    pub tags: LabelMap,
    /// The character vocabulary, for a model with character features.
    pub chars: Option<Vocab>,
    /// The training run's settings (with the file scheme resolved).
    pub run: TaggerRunConfig,
}

/// What an artifacts folder holds.
pub enum Loaded<B: Backend> {
    /// A sequence classifier.
    Classifier(LoadedClassifier<B>),
    /// A tagger.
    Tagger(LoadedTagger<B>),
}

fn check_sizes(dir: &Path, what: &str, config: usize, files: usize) -> Result<(), RunError> {
    if config == files {
        Ok(())
    } else {
        Err(RunError::Other(format!("{}: model.json expects {config} {what}, the folder's files have {files}", dir.display())))
    }
}

/// Loads an artifacts folder written by `train-classifier` or `train-tagger`.
pub fn load<B: Backend>(dir: &Path, device: &B::Device) -> Result<Loaded<B>, RunError> {
    let vocab = Vocab::load(dir.join("vocab.json"))?;
    if dir.join("tags.json").exists() {
        let tags = LabelMap::load(dir.join("tags.json"))?;
        let config = TokenClassifierConfig::load(dir.join("model.json")).map_err(|e| RunError::Other(format!("{}: {e}", dir.join("model.json").display())))?;
        check_sizes(dir, "words", config.vocab_size, vocab.len())?;
        check_sizes(dir, "tags", config.num_tags, tags.len())?;
        let chars = match &config.chars {
            Some(c) => {
                let chars = Vocab::load(dir.join("chars.json"))?;
                check_sizes(dir, "characters", c.vocab_size, chars.len())?;
                Some(chars)
            }
            None => None,
        };
        let model = load_weights(config.init::<B>(device), dir, device)?;
        Ok(Loaded::Tagger(LoadedTagger { model, vocab, tags, chars, run: load_json(&dir.join("run.json"))? }))
    } else {
        let labels = LabelMap::load(dir.join("labels.json"))?;
        let config = SequenceClassifierConfig::load(dir.join("model.json")).map_err(|e| RunError::Other(format!("{}: {e}", dir.join("model.json").display())))?;
        check_sizes(dir, "words", config.vocab_size, vocab.len())?;
        check_sizes(dir, "labels", config.num_classes, labels.len())?;
        let model = load_weights(config.init::<B>(device), dir, device)?;
        Ok(Loaded::Classifier(LoadedClassifier { model, vocab, labels, run: load_json(&dir.join("run.json"))? }))
    }
}

/// Scores of a loaded model on a file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Evaluation {
    /// Accuracy and macro-F1.
    Classifier(ClassificationScores),
    /// Entity-level scores.
    Tagger(TaggerScores),
}

/// Evaluates a loaded model on a file (or embedded corpus) in its training format.
pub fn evaluate<B: Backend>(loaded: &Loaded<B>, path: &str, device: &B::Device) -> Result<Evaluation, RunError> {
    match loaded {
        Loaded::Classifier(c) => {
            let format = c.run.format.as_deref().and_then(Format::from_name);
            let split = read_split(path, format)?;
            let items = classification_items(&split.examples, &split.tokens, &c.vocab, &c.labels)?;
            Ok(Evaluation::Classifier(scores(&c.model, &items, c.labels.len(), device)))
        }
        Loaded::Tagger(t) => {
            let file = read_tagged(path, t.run.tag_column)?;
            let items = tagging_items(&in_scheme(&file, t.run.train_scheme), path.as_ref(), &t.vocab, &t.tags, t.run.casing_dim > 0, t.chars.as_ref())?;
            let scheme = t.run.file_scheme.unwrap_or(TagScheme::Iob2);
            Ok(Evaluation::Tagger(score(&t.model, &items, &file, &t.tags, scheme, device)))
        }
    }
}

/// A classifier's answer for one text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabelPrediction {
    /// The tokens the model read.
    pub tokens: Vec<String>,
    /// The most probable label.
    pub label: String,
    /// Probability of every label, in label order.
    pub probabilities: Vec<(String, f32)>,
}

/// A tagger's answer for one sentence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TagPrediction {
    /// The tokens (split on whitespace).
    pub tokens: Vec<String>,
    /// One tag per token, in the training files' scheme.
    pub tags: Vec<String>,
    /// The entities.
    pub entities: Vec<Span>,
}

/// Labels for texts, tokenised as in training.
pub fn predict_labels<B: Backend>(c: &LoadedClassifier<B>, texts: &[String], device: &B::Device) -> Vec<LabelPrediction> {
    let tokenizer = c.run.tokenizer.unwrap_or(Tokenizer::Basic);
    let tokens: Vec<Vec<String>> = texts.iter().map(|t| tokenizer.tokenize(t, false)).collect();
    let items: Vec<ClassificationItem> = tokens.iter().map(|t| ClassificationItem { ids: c.vocab.encode(t), label: 0 }).collect();
    let batch: ClassificationBatch<B> = ClassificationBatcher.batch(items, device);
    let probs = softmax(c.model.forward(batch.tokens, Some(batch.lengths)), 1);
    let values: Vec<f32> = probs.into_data().convert::<f32>().to_vec().unwrap();
    let n = c.labels.len();
    tokens
        .into_iter()
        .enumerate()
        .map(|(i, tokens)| {
            let row = &values[i * n..(i + 1) * n];
            let best = (0..n).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0);
            LabelPrediction {
                tokens,
                label: c.labels.name(best).to_string(),
                probabilities: c.labels.names.iter().cloned().zip(row.iter().copied()).collect(),
            }
        })
        .collect()
}

/// Tags and entities for sentences (tokens split on whitespace).
pub fn predict_tags<B: Backend>(t: &LoadedTagger<B>, sentences: &[String], device: &B::Device) -> Vec<TagPrediction> {
    let tokens: Vec<Vec<String>> = sentences.iter().map(|s| s.split_whitespace().map(String::from).collect()).collect();
    let items: Vec<TaggingItem> = tokens
        .iter()
        .map(|toks| TaggingItem {
            ids: t.vocab.encode(toks),
            features: if t.run.casing_dim > 0 { vec![toks.iter().map(|w| Casing::of(w).id()).collect()] } else { Vec::new() },
            chars: t.chars.as_ref().map_or_else(Vec::new, |c| word_chars(toks, c)),
            tags: vec![0; toks.len()],
        })
        .collect();
    let scheme = t.run.file_scheme.unwrap_or(TagScheme::Iob2);
    tag_items(&t.model, &items, 64, device)
        .into_iter()
        .zip(tokens)
        .map(|(ids, tokens)| {
            let tags = convert(&ids.iter().map(|&i| t.tags.name(i)).collect::<Vec<_>>(), scheme);
            TagPrediction { entities: spans(&tags), tags, tokens }
        })
        .collect()
}

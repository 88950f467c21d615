//! Using a trained model from its artifacts folder alone: evaluate it on a file, or predict
//! labels / tags for new text. The folder says which task it holds (`labels.json` for a
//! classifier, `tags.json` for a tagger).

use std::path::Path;

use burn::config::Config;
use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use seqlab_datasets::batch::{
    ClassificationBatch, ClassificationBatcher, ClassificationItem, TaggingBatch, TaggingBatcher, TaggingItem,
};
use seqlab_datasets::encode::{classification_items, tagging_items, word_chars};
use seqlab_datasets::ner::{convert, spans, Span, TagScheme};
use seqlab_datasets::text::{Casing, Tokenizer, Vocab};
use seqlab_datasets::LabelMap;
use seqlab_models::crf::Potentials;
use seqlab_models::{Crf, SequenceClassifier, SequenceClassifierConfig, TokenClassifier, TokenClassifierConfig};

use crate::artifacts::{weights_recorder, Artifacts, Task};
use crate::classifier::{read_split, scores, ClassifierRunConfig};
use crate::error::RunError;
use crate::metrics::ClassificationScores;
use crate::tagger::{in_scheme, read_tagged, score, TaggerRunConfig, TaggerScores};

fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::Other(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| RunError::Other(format!("{}: {e}", path.display())))
}

/// Every float parameter's path and shape, in module order.
#[derive(Default)]
struct Shapes {
    path: Vec<String>,
    shapes: Vec<(String, Vec<usize>)>,
}

impl<B: Backend> burn::module::ModuleVisitor<B> for Shapes {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<B, D>>) {
        self.shapes.push((self.path.join("."), param.val().dims().to_vec()));
    }
}

fn shapes<B: Backend, M: Module<B>>(model: &M) -> Vec<(String, Vec<usize>)> {
    let mut visitor = Shapes::default();
    model.visit(&mut visitor);
    visitor.shapes
}

/// Loads `model.mpk` into a model built from `model.json`; a damaged file, or weights of
/// other shapes than the config's (an edited `model.json`, another run's `model.mpk`), is an
/// error naming the file and the first differing weight.
fn load_weights<B: Backend, M: Module<B>>(model: M, dir: &Path, device: &B::Device) -> Result<M, RunError> {
    let file = dir.join(Artifacts::WEIGHTS);
    let expected = shapes(&model);
    let loaded = model.load_file(dir.join(Artifacts::WEIGHTS_STEM), &weights_recorder(), device).map_err(|e| {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default().split("\\n").next().unwrap_or_default();
        let why = if text.contains("No such file") {
            "missing".to_string()
        } else {
            format!("damaged or truncated, or not a seqlab model ({first})")
        };
        RunError::Other(format!("{}: {why}", file.display()))
    })?;
    let found = shapes(&loaded);
    if found.len() != expected.len() {
        return Err(RunError::Other(format!(
            "{}: {} weights where model.json describes {}",
            file.display(),
            found.len(),
            expected.len()
        )));
    }
    if let Some(((name, want), (_, got))) = expected.iter().zip(&found).find(|((_, a), (_, b))| a != b) {
        return Err(RunError::Other(format!(
            "{}: weight {name} has shape {got:?} where model.json (with vocab.json and the label file) gives {want:?}; the files come from different runs or were edited",
            file.display()
        )));
    }
    Ok(loaded)
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
        Err(RunError::Other(format!(
            "{}: model.json expects {config} {what}, the folder's files have {files}",
            dir.display()
        )))
    }
}

/// Loads an artifacts folder written by `train-classifier` or `train-tagger`.
pub fn load<B: Backend>(dir: &Path, device: &B::Device) -> Result<Loaded<B>, RunError> {
    if !dir.is_dir() {
        return Err(RunError::Other(format!("{}: no such artifacts folder", dir.display())));
    }
    let loaded = load_unchecked(dir, device)?;
    // Sizes and shapes agree; the checksums catch what they cannot (a shuffled vocabulary).
    Artifacts::at(dir).check_manifest()?;
    Ok(loaded)
}

fn load_unchecked<B: Backend>(dir: &Path, device: &B::Device) -> Result<Loaded<B>, RunError> {
    let folder = Artifacts::at(dir);
    let vocab = Vocab::load(folder.file(Artifacts::VOCAB))?;
    let model_config = folder.file(Artifacts::MODEL_CONFIG);
    let config_error = |e: burn::config::ConfigError| RunError::Other(format!("{}: {e}", model_config.display()));
    if folder.task() == Task::Tagger {
        let tags = LabelMap::load(folder.file(Artifacts::TAGS))?;
        let config = TokenClassifierConfig::load(&model_config).map_err(config_error)?;
        check_sizes(dir, "words", config.vocab_size, vocab.len())?;
        check_sizes(dir, "tags", config.num_tags, tags.len())?;
        let char_ids = config.chars.as_ref().map(|c| c.vocab_size).or(config.char_lstm.as_ref().map(|c| c.vocab_size));
        let chars = match char_ids {
            Some(size) => {
                let chars = Vocab::load(folder.file(Artifacts::CHARS))?;
                check_sizes(dir, "characters", size, chars.len())?;
                Some(chars)
            }
            None => None,
        };
        let model = load_weights(config.init::<B>(device), dir, device)?;
        Ok(Loaded::Tagger(LoadedTagger { model, vocab, tags, chars, run: load_json(&folder.file(Artifacts::RUN))? }))
    } else {
        let labels = LabelMap::load(folder.file(Artifacts::LABELS))?;
        let config = SequenceClassifierConfig::load(&model_config).map_err(config_error)?;
        check_sizes(dir, "words", config.vocab_size, vocab.len())?;
        check_sizes(dir, "labels", config.num_classes, labels.len())?;
        let model = load_weights(config.init::<B>(device), dir, device)?;
        Ok(Loaded::Classifier(LoadedClassifier { model, vocab, labels, run: load_json(&folder.file(Artifacts::RUN))? }))
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
            let split = read_split(path, &c.run.read_options()?)?.normalised(&c.run.normalisation());
            let items = classification_items(&split.examples, &split.tokens, &c.vocab, &c.labels)?;
            Ok(Evaluation::Classifier(scores(&c.model, &items, c.labels.len(), device)))
        }
        Loaded::Tagger(t) => {
            let file = read_tagged(path, t.run.tag_column, t.run.encoding)?;
            let items = tagging_items(
                &in_scheme(&file, t.run.train_scheme),
                path.as_ref(),
                &t.vocab,
                &t.tags,
                t.run.casing_dim > 0,
                t.chars.as_ref(),
            )?;
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

/// An entity found by a tagger, with the model's confidence in it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntityPrediction {
    /// Tokens `start..end` and the type.
    #[serde(flatten)]
    pub span: Span,
    /// The entity's tokens joined by spaces.
    pub text: String,
    /// The probability of exactly this tagging of the span's tokens: for a CRF tagger its
    /// marginal probability under the CRF (forward–backward), for a softmax tagger the product
    /// of its tokens' tag probabilities.
    pub confidence: f64,
}

/// One of a CRF tagger's n best taggings of a sentence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alternative {
    /// One tag per token, in the training files' scheme.
    pub tags: Vec<String>,
    /// The path's CRF score.
    pub score: f64,
    /// Its probability, `exp(score − log Z)`.
    pub probability: f64,
    /// Its entities.
    pub entities: Vec<Span>,
}

/// A tagger's answer for one sentence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TagPrediction {
    /// The tokens the model read.
    pub tokens: Vec<String>,
    /// One tag per token, in the training files' scheme.
    pub tags: Vec<String>,
    /// The entities, with confidences.
    pub entities: Vec<EntityPrediction>,
    /// The n best taggings, best first (when asked for; CRF taggers only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
}

/// Labels for texts, tokenised as in training. A text without tokens is an error naming it.
pub fn predict_labels<B: Backend>(
    c: &LoadedClassifier<B>,
    texts: &[String],
    device: &B::Device,
) -> Result<Vec<LabelPrediction>, RunError> {
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let norm = c.run.normalisation();
    let tokens: Vec<Vec<String>> = texts.iter().map(|t| norm.tokens(t)).collect();
    if let Some(i) = tokens.iter().position(Vec::is_empty) {
        return Err(RunError::Other(format!(
            "text {} ({:?}) has no tokens; a classifier needs at least one word",
            i + 1,
            texts[i]
        )));
    }
    let items: Vec<ClassificationItem> =
        tokens.iter().map(|t| ClassificationItem { ids: c.vocab.encode(t), label: 0 }).collect();
    let batch: ClassificationBatch<B> = ClassificationBatcher.batch(items, device);
    let probs = softmax(c.model.forward(batch.tokens, Some(batch.lengths)), 1);
    let values: Vec<f32> = probs.into_data().convert::<f32>().to_vec().unwrap();
    let n = c.labels.len();
    Ok(tokens
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
        .collect())
}

/// Tags, entities with confidences and, with `nbest > 0` on a CRF tagger, the `nbest` best
/// taggings of sentences, tokenised as the training run recorded (on whitespace by default).
pub fn predict_tags<B: Backend>(
    t: &LoadedTagger<B>,
    sentences: &[String],
    nbest: usize,
    device: &B::Device,
) -> Result<Vec<TagPrediction>, RunError> {
    if nbest > 0 && t.model.crf.is_none() {
        return Err(RunError::Other("--nbest needs a tagger trained with --output crf".into()));
    }
    let tokenizer = t.run.tokenizer.unwrap_or(Tokenizer::Whitespace);
    let tokens: Vec<Vec<String>> = sentences.iter().map(|s| tokenizer.tokenize(s, false)).collect();
    let items: Vec<TaggingItem> = tokens
        .iter()
        .map(|toks| TaggingItem {
            ids: t.vocab.encode(toks),
            features: if t.run.casing_dim > 0 {
                vec![toks.iter().map(|w| Casing::of(w).id()).collect()]
            } else {
                Vec::new()
            },
            chars: t.chars.as_ref().map_or_else(Vec::new, |c| word_chars(toks, c)),
            tags: vec![0; toks.len()],
        })
        .collect();
    let scheme = t.run.file_scheme.unwrap_or(TagScheme::Iob2);
    let names = |ids: &[usize]| ids.iter().map(|&i| t.tags.name(i)).collect::<Vec<_>>();
    // An empty sentence gets an empty answer; the others go through the model.
    let mut out: Vec<TagPrediction> = tokens
        .iter()
        .map(|_| TagPrediction { tokens: Vec::new(), tags: Vec::new(), entities: Vec::new(), alternatives: Vec::new() })
        .collect();
    let real: Vec<usize> = (0..tokens.len()).filter(|&i| !tokens[i].is_empty()).collect();
    for chunk_ids in real.chunks(64) {
        let chunk: Vec<TaggingItem> = chunk_ids.iter().map(|&i| items[i].clone()).collect();
        let batch: TaggingBatch<B> = TaggingBatcher.batch(chunk, device);
        let scores = t.model.forward(batch.tokens, batch.features, batch.chars, Some(batch.lengths.clone()));
        let lattice = TagLattice::new(t.model.crf.as_ref(), scores, batch.lengths);
        for (i, &sentence) in chunk_ids.iter().enumerate() {
            let toks = &tokens[sentence];
            let path = lattice.best(i);
            let training_tags = names(&path);
            let entities = spans(&training_tags)
                .into_iter()
                .map(|span| EntityPrediction {
                    text: toks[span.start..span.end].join(" "),
                    confidence: lattice.confidence(i, span.start, &path[span.start..span.end]),
                    span,
                })
                .collect();
            let alternatives = lattice
                .nbest(i, nbest)
                .into_iter()
                .map(|(path, score, probability)| {
                    let tags = convert(&names(&path), scheme);
                    Alternative { entities: spans(&tags), tags, score, probability }
                })
                .collect();
            out[sentence] =
                TagPrediction { tokens: toks.clone(), tags: convert(&training_tags, scheme), entities, alternatives };
        }
    }
    Ok(out)
}

/// A batch's tag scores on the host, read through the CRF when the tagger has one and as
/// independent per-token softmaxes otherwise.
enum TagLattice {
    Crf { potentials: Potentials, emissions: Vec<Vec<f64>> },
    Softmax { probabilities: Vec<Vec<f64>>, tags: usize },
}

impl TagLattice {
    fn new<B: Backend>(
        crf: Option<&Crf<B>>,
        scores: burn::tensor::Tensor<B, 3>,
        lengths: burn::tensor::Tensor<B, 1, burn::tensor::Int>,
    ) -> Self {
        let tags = scores.dims()[2];
        match crf {
            Some(crf) => {
                Self::Crf { potentials: crf.potentials(), emissions: Crf::<B>::host_emissions(scores, lengths) }
            }
            None => Self::Softmax { probabilities: Crf::<B>::host_emissions(softmax(scores, 2), lengths), tags },
        }
    }

    /// Sentence `i`'s best path (never the padding tag).
    fn best(&self, i: usize) -> Vec<usize> {
        match self {
            Self::Crf { potentials, emissions } => potentials.viterbi(&emissions[i]).0,
            Self::Softmax { probabilities, tags } => probabilities[i]
                .chunks(*tags)
                .map(|row| (1..*tags).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0))
                .collect(),
        }
    }

    /// The probability of `path` on tokens `start..start + path.len()` of sentence `i`.
    fn confidence(&self, i: usize, start: usize, path: &[usize]) -> f64 {
        match self {
            Self::Crf { potentials, emissions } => potentials.span_probability(&emissions[i], start, path),
            Self::Softmax { probabilities, tags } => {
                path.iter().enumerate().map(|(o, &tag)| probabilities[i][(start + o) * tags + tag]).product()
            }
        }
    }

    /// Sentence `i`'s `n` best paths with score and probability (none for a softmax tagger).
    fn nbest(&self, i: usize, n: usize) -> Vec<(Vec<usize>, f64, f64)> {
        match self {
            Self::Crf { potentials, emissions } if n > 0 => {
                let log_z = potentials.log_partition(&emissions[i]);
                potentials
                    .nbest(&emissions[i], n)
                    .into_iter()
                    .map(|(path, score)| (path, score, (score - log_z).exp()))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

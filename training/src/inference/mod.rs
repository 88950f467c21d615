//! Using a trained model: [`load`] an artifacts folder into a [`Loaded`] model, which reads and
//! encodes a file once ([`LoadedClassifier::read`], [`LoadedTagger::read`]), answers batches of
//! encoded inputs ([`batches`]: length-sorted, at most [`BATCH`] inputs and [`MAX_BATCH_TOKENS`]
//! padded positions at a time, answers in input
//! order), evaluates ([`evaluate`]) and predicts for raw text ([`LoadedClassifier::predict`],
//! [`LoadedTagger::predict`]). `evaluate`, `report`, `predict` and the scoring at the end of
//! training all go through these.

pub mod batches;
mod load;
pub mod predictions;
pub mod raw_text;

use burn::tensor::backend::Backend;
use seqlab_datasets::batch::{ClassificationItem, TaggingItem};
use seqlab_datasets::ids::{classification_items, tagging_items, word_chars};
use seqlab_datasets::ner::{convert, spans, ConllFile, TagScheme};
use seqlab_datasets::text::{Casing, Tokenizer, Vocab, UNK};
use seqlab_datasets::{LabelMap, LabelledTexts};
use seqlab_models::{SequenceClassifier, TokenClassifier};

pub use batches::{classify, tag, tag_with, Classified, TagLattice};
pub use load::load;
pub use predictions::{Alternative, EntityPrediction, LabelPrediction, SentencePlace, TagPrediction};
pub use raw_text::{ReadText, TextReading};

use crate::classification_scores::{classification_scores, ClassificationScores};
use crate::classifier::ClassifierRunConfig;
use crate::error::RunError;
use crate::tagger::{TaggerRunConfig, TaggerScores};

/// Inputs per batch when a loaded model answers many (evaluation, reports, prediction).
pub const BATCH: usize = 256;

/// Padded positions (inputs × the longest input) per batch at most: a batch of long sentences
/// is cut short, so that its activations (and a CRF's forward–backward tables) stay bounded.
pub const MAX_BATCH_TOKENS: usize = 8192;

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

/// What an artifacts folder holds (one per process or server model, so the variants' sizes
/// do not matter).
#[allow(clippy::large_enum_variant)]
pub enum Loaded<B: Backend> {
    /// A sequence classifier.
    Classifier(LoadedClassifier<B>),
    /// A tagger.
    Tagger(LoadedTagger<B>),
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
    Ok(match loaded {
        Loaded::Classifier(c) => {
            let data = c.read(path)?;
            Evaluation::Classifier(c.scores(&data.items, &c.classify(&data.items, device)))
        }
        Loaded::Tagger(t) => {
            let data = t.read(path)?;
            Evaluation::Tagger(t.scores(&data.file, &t.tag(&data.items, device)))
        }
    })
}

/// A labelled file read and encoded for a loaded classifier.
pub struct ClassifierData {
    /// The texts, tokenised as in training.
    pub texts: LabelledTexts,
    /// Their ids and labels.
    pub items: Vec<ClassificationItem>,
}

impl<B: Backend> LoadedClassifier<B> {
    /// Reads a file (or embedded corpus) as training read its data, and encodes it.
    pub fn read(&self, path: &str) -> Result<ClassifierData, RunError> {
        let texts = crate::classifier::read_file(path, &self.run.read_options())?;
        let texts = crate::classifier::normalised(texts, &self.run.normalisation());
        let items = classification_items(&texts.examples, &texts.tokens, &self.vocab, &self.labels)?;
        Ok(ClassifierData { texts, items })
    }

    /// The model's answer for every item, in order.
    pub fn classify(&self, items: &[ClassificationItem], device: &B::Device) -> Vec<Classified> {
        classify(&self.model, items, BATCH, device)
    }

    /// Accuracy and macro-F1 of `answers` against the items' labels.
    pub fn scores(&self, items: &[ClassificationItem], answers: &[Classified]) -> ClassificationScores {
        let gold: Vec<usize> = items.iter().map(|i| i.label).collect();
        let predicted: Vec<usize> = answers.iter().map(|a| a.best).collect();
        classification_scores(&predicted, &gold, self.labels.len())
    }

    /// Labels for texts, tokenised as in training; a text without tokens is an error naming it.
    pub fn predict(&self, texts: &[String], device: &B::Device) -> Result<Vec<LabelPrediction>, RunError> {
        let norm = self.run.normalisation();
        let tokens: Vec<Vec<String>> = texts.iter().map(|t| norm.tokens(t)).collect();
        if let Some(i) = tokens.iter().position(Vec::is_empty) {
            return Err(RunError::Input(format!(
                "text {} ({:?}) has no tokens; a classifier needs at least one word",
                i + 1,
                texts[i]
            )));
        }
        Ok(self.predict_tokens(tokens, device))
    }

    /// [`LoadedClassifier::predict`] for texts already split into tokens as the training run
    /// splits them (none empty: the caller has checked).
    pub fn predict_tokens(&self, tokens: Vec<Vec<String>>, device: &B::Device) -> Vec<LabelPrediction> {
        let items: Vec<ClassificationItem> =
            tokens.iter().map(|t| ClassificationItem { ids: self.vocab.encode(t), label: 0 }).collect();
        let answers = self.classify(&items, device);
        tokens
            .into_iter()
            .zip(answers)
            .zip(&items)
            .map(|((tokens, answer), item)| LabelPrediction {
                tokens,
                label: self.labels.name(answer.best).to_string(),
                probabilities: self.labels.names.iter().cloned().zip(answer.probabilities).collect(),
                unknown: unknown_share(&item.ids),
            })
            .collect()
    }
}

/// A tagged file read and encoded for a loaded tagger.
pub struct TaggerData {
    /// The sentences with their gold tags, in the file's scheme.
    pub file: ConllFile,
    /// Their ids, features and tags in the training scheme.
    pub items: Vec<TaggingItem>,
}

impl<B: Backend> LoadedTagger<B> {
    /// The scheme of the training files, which answers are given in.
    pub fn file_scheme(&self) -> TagScheme {
        self.run.file_scheme.unwrap_or(TagScheme::Iob2)
    }

    /// Reads a tagged file (CoNLL, records, or an embedded corpus) as training read its data, and
    /// encodes it.
    pub fn read(&self, path: &str) -> Result<TaggerData, RunError> {
        let file = crate::tagger::read_file(path, &self.run.read_options())?;
        let sentences = crate::tagger::in_scheme(&file, path, self.run.train_scheme, &self.tags)?;
        let items = tagging_items(
            &sentences,
            path.as_ref(),
            &self.vocab,
            &self.tags,
            self.run.casing_dim > 0,
            self.chars.as_ref(),
        )?;
        Ok(TaggerData { file, items })
    }

    /// The best tagging of every item, in order, in the files' scheme.
    pub fn tag(&self, items: &[TaggingItem], device: &B::Device) -> Vec<Vec<String>> {
        let scheme = self.file_scheme();
        tag(&self.model, items, BATCH, device).into_iter().map(|path| convert(&self.names(&path), scheme)).collect()
    }

    /// Entity scores and token accuracy of `predicted` (in the files' scheme) against `gold`.
    pub fn scores(&self, gold: &ConllFile, predicted: &[Vec<String>]) -> TaggerScores {
        crate::tagger::entity_report(gold, predicted, self.file_scheme(), self.run.train_scheme)
    }

    /// The tag names of a path of ids (the training scheme).
    fn names(&self, path: &[usize]) -> Vec<String> {
        path.iter().map(|&i| self.tags.name(i).to_string()).collect()
    }

    /// A tokenised sentence as the model reads it (the tags left at padding).
    fn encode(&self, tokens: &[String]) -> TaggingItem {
        TaggingItem {
            ids: self.vocab.encode(tokens),
            features: if self.run.casing_dim > 0 {
                vec![tokens.iter().map(|w| Casing::of(w).id()).collect()]
            } else {
                Vec::new()
            },
            chars: self.chars.as_ref().map_or_else(Vec::new, |c| word_chars(tokens, c)),
            tags: vec![0; tokens.len()],
        }
    }

    /// Tags, entities with confidences and character offsets and, with `nbest > 0` on a CRF
    /// tagger, the `nbest` best taggings of raw sentences, read with the tokenizer the training
    /// run recorded ([`LoadedTagger::predict_read`] of each as one sentence). An empty sentence
    /// gets an empty answer.
    pub fn predict(
        &self,
        sentences: &[String],
        nbest: usize,
        device: &B::Device,
    ) -> Result<Vec<TagPrediction>, RunError> {
        let reading = TextReading { tokenizer: self.tokenizer(), sentences: false };
        let read: Vec<ReadText> = sentences.iter().map(|s| reading.read(s)).collect();
        self.predict_read(&read, nbest, device)
    }

    /// The tokenizer the training run recorded for raw text (runs before it was recorded:
    /// whitespace).
    pub fn tokenizer(&self) -> Tokenizer {
        self.run.tokenizer.unwrap_or(Tokenizer::Whitespace)
    }

    /// Answers for raw texts read by [`TextReading::read`]: each sentence tagged on its own,
    /// the answers of a text's sentences joined into one, whose token indices count from the
    /// text's first token and whose entities carry their character offsets in the text. The
    /// n best taggings are of one sentence: with `nbest > 0`, a text of several sentences is
    /// an error.
    pub fn predict_read(
        &self,
        texts: &[ReadText],
        nbest: usize,
        device: &B::Device,
    ) -> Result<Vec<TagPrediction>, RunError> {
        if nbest > 0 && texts.iter().any(|t| t.sentences.len() > 1) {
            return Err(RunError::invalid(
                "nbest",
                "the n best taggings are of one sentence, and a text here has several; ask for them without \
                 cutting texts into sentences",
            ));
        }
        let sentences: Vec<Vec<String>> = texts.iter().flat_map(ReadText::sentence_words).collect();
        let mut answers = self.predict_tokens(&sentences, nbest, device)?.into_iter();
        Ok(texts.iter().map(|text| text.joined(answers.by_ref().take(text.sentences.len()).collect())).collect())
    }

    /// [`LoadedTagger::predict`] for sentences already split into tokens (a CoNLL file's).
    pub fn predict_tokens(
        &self,
        tokens: &[Vec<String>],
        nbest: usize,
        device: &B::Device,
    ) -> Result<Vec<TagPrediction>, RunError> {
        if nbest > 0 && self.model.crf.is_none() {
            return Err(RunError::invalid("nbest", "needs a tagger trained with --output crf"));
        }
        let real: Vec<usize> = (0..tokens.len()).filter(|&i| !tokens[i].is_empty()).collect();
        let items: Vec<TaggingItem> = real.iter().map(|&i| self.encode(&tokens[i])).collect();
        let answers = tag_with(&self.model, &items, BATCH, device, |lattice, row, item| {
            self.answer(lattice, row, (&tokens[real[item]], &items[item].ids), nbest)
        });
        let mut out: Vec<TagPrediction> = tokens.iter().map(|_| TagPrediction::default()).collect();
        for (&i, answer) in real.iter().zip(answers) {
            out[i] = answer;
        }
        Ok(out)
    }

    /// The best tagging of sentences already split into tokens, in the files' scheme, without
    /// entities or confidences (what a CoNLL output needs); an empty sentence gets no tags.
    pub fn tag_tokens(&self, tokens: &[Vec<String>], device: &B::Device) -> Vec<Vec<String>> {
        let real: Vec<usize> = (0..tokens.len()).filter(|&i| !tokens[i].is_empty()).collect();
        let items: Vec<TaggingItem> = real.iter().map(|&i| self.encode(&tokens[i])).collect();
        let mut out = vec![Vec::new(); tokens.len()];
        for (&i, tags) in real.iter().zip(self.tag(&items, device)) {
            out[i] = tags;
        }
        out
    }

    /// One sentence's answer from its row of a batch's lattice, given its tokens and their ids.
    fn answer(
        &self,
        lattice: &TagLattice,
        row: usize,
        (tokens, ids): (&[String], &[usize]),
        nbest: usize,
    ) -> TagPrediction {
        let scheme = self.file_scheme();
        let path = lattice.best(row);
        let training_tags = self.names(&path);
        let found = spans(&training_tags);
        let ranges: Vec<(usize, &[usize])> = found.iter().map(|s| (s.start, &path[s.start..s.end])).collect();
        let confidences = lattice.confidences(row, &ranges);
        let entities = found
            .into_iter()
            .zip(confidences)
            .map(|(span, confidence)| EntityPrediction {
                text: tokens[span.start..span.end].join(" "),
                start_char: None,
                end_char: None,
                confidence,
                span,
            })
            .collect();
        let alternatives = lattice
            .nbest(row, nbest)
            .into_iter()
            .map(|(path, score, probability)| {
                let tags = convert(&self.names(&path), scheme);
                Alternative { entities: spans(&tags), tags, score, probability }
            })
            .collect();
        TagPrediction {
            tokens: tokens.to_vec(),
            tags: convert(&training_tags, scheme),
            entities,
            alternatives,
            unknown: unknown_share(ids),
            sentences: Vec::new(),
        }
    }
}

/// The share of `ids` that are `<unk>` (0 for none).
fn unknown_share(ids: &[usize]) -> f64 {
    if ids.is_empty() {
        return 0.0;
    }
    ids.iter().filter(|&&id| id == UNK).count() as f64 / ids.len() as f64
}

//! Sequence classification end to end: data → input normalisation (tokenizer, lower-casing) →
//! vocabulary (grown by pretrained vectors, if any) and labels → bucketed loaders →
//! burn-train's supervised learner → evaluation → artifacts folder.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::train::ClassificationOutput;
use seqlab_datasets::batch::{ClassificationBatch, ClassificationBatcher, ClassificationItem};
use seqlab_datasets::corpus::tokenizer_for;
use seqlab_datasets::encode::classification_items;
use seqlab_datasets::text::{detect_normalisation, Encoding, Normalisation, Tokenizer, Vocab, VocabConfig};
use seqlab_datasets::{read_labelled, Format, LabelMap, LabelledTexts, ReadOptions};
use seqlab_models::heads::EncoderConfig;
use seqlab_models::{Pooling, SequenceClassifier, SequenceClassifierConfig};

use crate::artifacts::{canonical, write_results, write_setup, Artifacts};
use crate::error::RunError;
use crate::inference::{classify, BATCH};
use crate::learner::{fit, loaders, seed, TrainingConfig, TrainingSummary};
use crate::metrics::{classification_scores, ClassificationScores};
use crate::vectors::{vocabulary_with_vectors, with_pretrained};

/// A [`SequenceClassifier`] with the training and inference steps burn-train calls.
#[derive(Module, Debug)]
pub struct Classifier<B: Backend> {
    /// The network.
    pub net: SequenceClassifier<B>,
}

impl<B: Backend> Classifier<B> {
    /// Logits, the mean cross-entropy over the batch, and the targets.
    pub fn forward_classification(&self, batch: ClassificationBatch<B>) -> ClassificationOutput<B> {
        let logits = self.net.forward(batch.tokens, Some(batch.lengths));
        let loss = seqlab_models::loss::cross_entropy(logits.clone(), batch.labels.clone());
        ClassificationOutput::new(loss, logits, batch.labels)
    }
}

crate::steps::supervised_steps!(Classifier, ClassificationBatch, forward_classification);

/// Everything a classifier training run needs; serialised to `run.json` in the artifacts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassifierRunConfig {
    /// Training data: a file, a folder (imdb) or `embedded:sentiment/train`.
    pub train: String,
    /// Validation data.
    pub valid: String,
    /// Test data, evaluated once at the end.
    pub test: Option<String>,
    /// Format of the files (`None`: inferred).
    pub format: Option<Format>,
    /// How the files' bytes are decoded (older runs: UTF-8).
    #[serde(default)]
    pub encoding: Encoding,
    /// CSV/TSV: the text column (name or 0-based index); JSON Lines: the text field.
    #[serde(default)]
    pub text_column: Option<String>,
    /// CSV/TSV: the label column; JSON Lines: the label field.
    #[serde(default)]
    pub label_column: Option<String>,
    /// Encoder (kind, hidden, layers, directions, dropout between layers).
    pub encoder: EncoderConfig,
    /// Embedding width.
    pub embedding_dim: usize,
    /// How outputs become one vector per sequence.
    pub pooling: Pooling,
    /// Hidden layer sizes of the output FFN (empty: linear).
    pub ffn_hidden: Vec<usize>,
    /// Dropout on embeddings and the pooled vector.
    pub dropout: f64,
    /// Tokens seen fewer times in training become `<unk>`.
    pub min_freq: usize,
    /// The learner: epochs, batch size, optimiser and schedule, selection, patience, seed.
    pub training: TrainingConfig,
    /// Where the model, vocabulary, labels and metrics go.
    pub artifacts: PathBuf,
    /// How texts are tokenised, in training and for raw input (`None` before training:
    /// detected from the training data, see [`detect_normalisation`]; older runs: the
    /// training format's tokenizer).
    #[serde(default)]
    pub tokenizer: Option<Tokenizer>,
    /// Whether tokens are lower-cased, in training and for raw input (`None` before training:
    /// detected; older runs: no).
    #[serde(default)]
    pub lowercase: Option<bool>,
    /// Pretrained word vectors (GloVe/word2vec text, plain or `.gz`).
    #[serde(default)]
    pub embeddings: Option<PathBuf>,
    /// Keep the pretrained vectors fixed.
    #[serde(default)]
    pub freeze_embeddings: bool,
}

impl ClassifierRunConfig {
    /// How the data files are read.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            encoding: self.encoding,
            text_column: self.text_column.clone(),
            label_column: self.label_column.clone(),
            ..Default::default()
        }
    }

    /// How a trained model reads text (see [`ClassifierRunConfig::tokenizer`]).
    pub fn normalisation(&self) -> Normalisation {
        Normalisation {
            tokenizer: self.tokenizer.unwrap_or(Tokenizer::Basic),
            lowercase: self.lowercase.unwrap_or(false),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClassifierReport {
    /// Scores on the validation split, with the final model.
    pub valid: ClassificationScores,
    /// Scores on the test split, if one was given.
    pub test: Option<ClassificationScores>,
    /// Epochs, best epoch, early stop, wall time.
    #[serde(flatten)]
    pub training: TrainingSummary,
}

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

/// Every option of a classifier run in its range (see [`crate::validate`]).
fn check_options(c: &ClassifierRunConfig) -> Result<(), RunError> {
    use crate::validate::{at_least, embedding_dim, encoder, fraction, training};
    training(&c.training)?;
    encoder(&c.encoder)?;
    embedding_dim(c.embedding_dim, c.embeddings.is_some())?;
    fraction("dropout", c.dropout, 0.0, 1.0, false)?;
    at_least("min-freq", c.min_freq, 1)?;
    for &width in &c.ffn_hidden {
        at_least("ffn-hidden", width, 1)?;
    }
    Ok(())
}

/// Trains a sequence classifier and writes its artifacts:
/// `run.json`, `model.json` (the network config), `vocab.json`, `labels.json`, `model.mpk`,
/// `metrics.json` (`{"valid": {...}, "test": {"accuracy", "macro_f1", ...}}`), plus burn-train's
/// per-epoch metric logs and checkpoints.
pub fn train_classifier<B: AutodiffBackend>(
    config: &ClassifierRunConfig,
    device: &B::Device,
) -> Result<ClassifierReport, RunError> {
    check_options(config)?;
    let options = config.read_options();
    let train = read_file(&config.train, &options)?;
    let detected = detect_normalisation(train.tokens.iter().flatten().map(String::as_str), tokenizer_for(train.format));
    let norm = Normalisation {
        tokenizer: config.tokenizer.unwrap_or(detected.tokenizer),
        lowercase: config.lowercase.unwrap_or(detected.lowercase),
    };
    println!(
        "input: tokenizer {:?}, {}lower-cased ({})",
        norm.tokenizer,
        if norm.lowercase { "" } else { "not " },
        if config.tokenizer.is_some() && config.lowercase.is_some() {
            "as given"
        } else {
            "detected from the training data unless given"
        }
    );
    let train = normalised(train, &norm);
    let valid = normalised(read_file(&config.valid, &options)?, &norm);
    let test = config.test.as_deref().map(|p| read_file(p, &options)).transpose()?.map(|t| normalised(t, &norm));
    let every: Vec<_> = [&train, &valid].into_iter().chain(&test).flat_map(|s| s.examples.iter().cloned()).collect();
    seqlab_datasets::sentiment::check_label_kinds(&every)?;
    let _lock = crate::lock::ArtifactsLock::acquire(&config.artifacts, &config.training)?;

    let vocab = Vocab::build(
        train.tokens.iter().flatten().map(String::as_str),
        &VocabConfig { min_freq: config.min_freq, ..Default::default() },
    );
    fn words(s: &LabelledTexts) -> Vec<&str> {
        s.tokens.iter().flatten().map(String::as_str).collect()
    }
    let mut splits = vec![("train", words(&train)), ("valid", words(&valid))];
    if let Some(t) = &test {
        splits.push(("test", words(t)));
    }
    let (vocab, pretrained, embedding_dim) = vocabulary_with_vectors(
        config.embeddings.as_deref(),
        vocab,
        &splits,
        config.embedding_dim,
        config.freeze_embeddings,
        &config.artifacts,
    )?;
    let labels = LabelMap::build(train.examples.iter().map(|e| e.label.as_str()));
    if labels.len() < 2 {
        return Err(RunError::Other(format!(
            "{}: every training example is labelled {:?}; a classifier needs at least two classes",
            config.train,
            labels.names.first().map_or("", String::as_str)
        )));
    }
    let encode = |split: &LabelledTexts| classification_items(&split.examples, &split.tokens, &vocab, &labels);
    let (train_items, valid_items) = (encode(&train)?, encode(&valid)?);
    let test_items = test.as_ref().map(encode).transpose()?;
    println!(
        "data: {} train / {} valid{} examples, vocabulary {}, labels [{}]",
        train_items.len(),
        valid_items.len(),
        test_items.as_ref().map_or(String::new(), |t| format!(" / {} test", t.len())),
        vocab.len(),
        labels.names.join(", ")
    );

    let model_config = SequenceClassifierConfig::new(vocab.len(), labels.len())
        .with_embedding_dim(embedding_dim)
        .with_encoder(config.encoder.clone())
        .with_pooling(config.pooling)
        .with_ffn_hidden(config.ffn_hidden.clone())
        .with_dropout(config.dropout);
    let artifacts = &config.artifacts;
    let resolved = ClassifierRunConfig {
        tokenizer: Some(norm.tokenizer),
        lowercase: Some(norm.lowercase),
        embedding_dim,
        train: canonical(&config.train),
        valid: canonical(&config.valid),
        test: config.test.as_deref().map(canonical),
        embeddings: config.embeddings.as_deref().map(|p| canonical(&p.display().to_string()).into()),
        ..config.clone()
    };
    write_setup(artifacts, &resolved, config.training.resume, &model_config, &vocab, &labels, Artifacts::LABELS)?;

    let t = &config.training;
    seed::<B>(device, t.seed);
    let mut net = model_config.init::<B>(device);
    if let Some(matrix) = &pretrained {
        net.embedding = with_pretrained(net.embedding, matrix, config.freeze_embeddings);
    }
    println!("model: {} parameters", net.num_params());
    let options = t.fit_options(artifacts, train_items.len(), None)?;
    let (train_loader, valid_loader) =
        loaders(train_items, valid_items.clone(), ClassificationBatcher, |i: &ClassificationItem| i.ids.len(), t);
    let fitted = fit(Classifier { net }, train_loader, valid_loader, &options)?;
    // `fit` returns the best epoch's model (by the selection metric) on the inference backend.
    let model = fitted.model.net;
    let report = ClassifierReport {
        valid: score(&model, &valid_items, labels.len(), device),
        test: test_items.as_ref().map(|t| score(&model, t, labels.len(), device)),
        training: TrainingSummary::from(&fitted.progress),
    };
    write_results(artifacts, &model, &report)?;
    Ok(report)
}

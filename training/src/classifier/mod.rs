//! Sequence classification end to end: data → input normalisation (tokenizer, lower-casing) →
//! vocabulary (grown by pretrained vectors, if any) and labels → bucketed loaders →
//! burn-train's supervised learner → evaluation → artifacts folder.
//!
//! [`config`] holds what a run is told and reports, [`model`] what burn-train trains, [`data`]
//! the files, their tokens and the scores; [`train_classifier`] below is the pipeline, its end
//! (set-up, seed, fit, scores, results) shared with the tagger's (`pipeline.rs`).

pub mod config;
pub mod data;
pub mod model;

use burn::tensor::backend::AutodiffBackend;
use seqlab_datasets::batch::{ClassificationBatcher, ClassificationItem};
use seqlab_datasets::encoded::{ClassificationDataset, EncodedCorpus};
use seqlab_datasets::ids::classification_items;
use seqlab_datasets::sentiment::LabelKinds;
use seqlab_datasets::text::{detect_normalisation_of, Normalisation, TokenCounts, VocabConfig};
use seqlab_datasets::{tokenizer_for, DataError, LabelMap, LabelledTexts, ReadOptions};

pub use config::{ClassifierReport, ClassifierRunConfig};
use data::{count_train, lowercased, stream_labelled, TrainCounts};
pub(crate) use data::{normalised, read_file};
pub use model::Classifier;

use std::sync::Arc;

use crate::error::RunError;
use crate::memory::machine_memory;
use crate::pipeline::Vocabularies;
use crate::pipeline::{check_fits, encoded_train, fit_and_write, valid_split, vocabularies, FitData, TaskRun};
use crate::vectors::with_pretrained;
use config::check_options;
use data::score;
use model::{footprint, model_config};

/// The three splits of a run: the training file counted (it is encoded later, never held
/// whole), validation and test read and tokenised as the run reads text.
struct Splits {
    train: TrainCounts,
    valid: LabelledTexts,
    test: Option<LabelledTexts>,
    /// The tokenizer and lower-casing (given, or detected from the training data).
    norm: Normalisation,
}

/// Counts the training file (under the normalisation given, or detected from it), reads the
/// other splits and checks that the labels of all of them are of one kind.
fn read_splits(config: &ClassifierRunConfig) -> Result<Splits, RunError> {
    let options = config.read_options();
    let holdout = config.valid.holdout();
    let ((train, held), norm) = match (config.tokenizer, config.lowercase) {
        (Some(tokenizer), Some(lowercase)) => {
            let norm = Normalisation { tokenizer, lowercase };
            (count_train(&config.train, &options, holdout, |texts| normalised(texts, &norm))?, norm)
        }
        _ => detected_counts(config, &options)?,
    };
    let given = config.tokenizer.is_some() && config.lowercase.is_some();
    crate::say!(
        "input: tokenizer {}, {}lower-cased ({})",
        <&str>::from(norm.tokenizer),
        if norm.lowercase { "" } else { "not " },
        if given { "as given" } else { "detected from the training data unless given" }
    );
    let valid = valid_split(config, held, |t| t.examples.is_empty(), "text", |path| read_file(path, &options))?;
    let valid = normalised(valid, &norm);
    let test = config.test.as_deref().map(|p| read_file(p, &options)).transpose()?.map(|t| normalised(t, &norm));
    let mut kinds = train.kinds.clone();
    for split in [&valid].into_iter().chain(&test) {
        let mut part = LabelKinds::default();
        split.examples.iter().for_each(|e| part.add(e));
        kinds.merge(part);
    }
    kinds.check()?;
    Ok(Splits { train, valid, test, norm })
}

/// The training file's counts under the normalisation detected from it (where not given):
/// counted as its format tokenises it, and again with the run's tokenizer if that differs.
fn detected_counts(
    config: &ClassifierRunConfig,
    options: &ReadOptions,
) -> Result<((TrainCounts, Option<LabelledTexts>), Normalisation), RunError> {
    let holdout = config.valid.holdout();
    let (raw, held) = count_train(&config.train, options, holdout, |texts| texts)?;
    let detected = detect_normalisation_of(&raw.tokens, tokenizer_for(raw.format));
    let norm = Normalisation {
        tokenizer: config.tokenizer.unwrap_or(detected.tokenizer),
        lowercase: config.lowercase.unwrap_or(detected.lowercase),
    };
    let counted = if norm.tokenizer != tokenizer_for(raw.format) {
        count_train(&config.train, options, holdout, |texts| normalised(texts, &norm))?
    } else if norm.lowercase {
        (TrainCounts { tokens: lowercased(&raw.tokens), ..raw }, held)
    } else {
        (raw, held)
    };
    Ok((counted, norm))
}

/// The counts of a split's tokens.
fn counts(texts: &LabelledTexts) -> TokenCounts {
    TokenCounts::of(texts.tokens.iter().flatten().map(String::as_str))
}

/// The run's words and labels (at least two).
fn words_and_labels(config: &ClassifierRunConfig, splits: &Splits) -> Result<Vocabularies, RunError> {
    let labels = || {
        crate::validate::labels_look_like_labels(&config.train, &splits.train.labels)?;
        let labels = LabelMap::build(splits.train.labels.tokens());
        if labels.len() < 2 {
            let only = labels.names.first().map_or("", String::as_str);
            return Err(RunError::Data(DataError::file(
                &config.train,
                format!("every training example is labelled {only:?}; a classifier needs at least two classes"),
            )));
        }
        Ok(labels)
    };
    let vocab = VocabConfig { min_freq: config.min_freq, ..Default::default() };
    let (valid, test) = (counts(&splits.valid), splits.test.as_ref().map(counts));
    vocabularies(config, &vocab, &splits.train.tokens, (&valid, test.as_ref()), labels)
}

/// The training split, normalised and encoded (see [`encoded_train`]).
fn encoded(config: &ClassifierRunConfig, splits: &Splits, v: &Vocabularies) -> Result<Arc<EncodedCorpus>, RunError> {
    encoded_train(config, splits.train.fingerprint, v, |writer| {
        let encode = |texts: LabelledTexts| {
            let texts = match config.valid.holdout() {
                Some(h) => h.split_labelled(texts).0,
                None => texts,
            };
            let texts = normalised(texts, &splits.norm);
            classification_items(&texts.examples, &texts.tokens, &v.words, &v.labels)
        };
        let consume =
            |items: Vec<ClassificationItem>| items.iter().try_for_each(|i| writer.push_labelled(&i.ids, i.label));
        Ok(stream_labelled(&config.train, &config.read_options(), encode, consume)?.fingerprint)
    })
}

/// The run's options as `run.json` records them: the normalisation and embedding width
/// resolved, paths canonical.
fn resolved(config: &ClassifierRunConfig, norm: Normalisation, embedding_dim: usize) -> ClassifierRunConfig {
    let mut resolved = ClassifierRunConfig {
        tokenizer: Some(norm.tokenizer),
        lowercase: Some(norm.lowercase),
        embedding_dim,
        ..config.clone()
    };
    resolved.files().make_canonical();
    resolved
}

/// The run's sizes against the machine's memory, before any data is read.
fn check_sizes(config: &ClassifierRunConfig) -> Result<(), RunError> {
    // Sizes alone, before any data is read: a two-word vocabulary, one token per example.
    let tokens = config.training.max_tokens.min(config.training.batch_size);
    footprint(config, 2, 2, config.embedding_dim, tokens).check(machine_memory())
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
    check_sizes(config)?;
    let splits = read_splits(config)?;
    let _lock = crate::lock::ArtifactsLock::acquire(&config.artifacts, &config.training)?;
    let v = words_and_labels(config, &splits)?;
    let encode = |texts: &LabelledTexts| classification_items(&texts.examples, &texts.tokens, &v.words, &v.labels);
    let valid_items = encode(&splits.valid)?;
    let test_items = splits.test.as_ref().map(encode).transpose()?;
    let train = encoded(config, &splits, &v)?;
    crate::say!(
        "data: {} train / {} valid{} examples, vocabulary {}, labels [{}]",
        train.len(),
        valid_items.len(),
        test_items.as_ref().map_or(String::new(), |t| format!(" / {} test", t.len())),
        v.words.len(),
        v.labels.names.join(", ")
    );
    let valid_lengths: Vec<_> =
        splits.valid.examples.iter().zip(&valid_items).map(|(e, i)| (e.origin.line, i.ids.len())).collect();
    check_fits(config, &train, "text", &valid_lengths, |tokens| {
        footprint(config, v.words.len(), v.labels.len(), v.embedding_dim, tokens)
    })?;
    let model_config = model_config(config, v.words.len(), v.labels.len(), v.embedding_dim);
    let resolved = resolved(config, splits.norm, v.embedding_dim);
    let model = || {
        let mut net = model_config.init::<B>(device);
        net.embedding = with_pretrained(net.embedding, v.pretrained.as_ref(), config.freeze_embeddings);
        Classifier { net }
    };
    let fit = FitData {
        dataset: ClassificationDataset::new(train.clone()),
        corpus: &train,
        valid: valid_items.clone(),
        batcher: ClassificationBatcher,
        length: |i: &ClassificationItem| i.ids.len(),
    };
    let classes = v.labels.len();
    // The best epoch's model (by the selection metric) on the inference backend.
    fit_and_write(&resolved, &model_config, &v, device, model, fit, |best: Classifier<B::InnerBackend>, training| {
        let report = ClassifierReport {
            valid: score(&best.net, &valid_items, classes, device),
            test: test_items.as_ref().map(|t| score(&best.net, t, classes, device)),
            training,
        };
        (best.net, report)
    })
}

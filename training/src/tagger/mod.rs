//! Token classification (NER) end to end: CoNLL data in any scheme → training scheme →
//! vocabulary (grown by pretrained vectors, if any), casing feature, characters and tag map →
//! bucketed loaders → burn-train (softmax or CRF output) → entity-level evaluation →
//! artifacts folder.
//!
//! [`config`] holds what a run is told and reports, [`model`] what burn-train trains, [`data`]
//! the files, schemes and scores; [`train_tagger`] below is the pipeline, its end (set-up,
//! seed, fit, scores, results) shared with the classifier's (`pipeline.rs`).

pub mod config;
pub mod data;
pub mod model;

use std::sync::Arc;

use burn::tensor::backend::AutodiffBackend;
use seqlab_datasets::batch::{TaggingBatcher, TaggingItem};
use seqlab_datasets::encoded::{EncodedCorpus, TaggingDataset};
use seqlab_datasets::ids::tagging_items;
use seqlab_datasets::ner::{ConllFile, Sentence, TagScheme};
use seqlab_datasets::text::{char_vocab_of, TokenCounts, Vocab, VocabConfig};

pub use config::{CharEncoder, LossMean, TaggerOutput, TaggerReport, TaggerRunConfig, TaggerScores};
pub(crate) use data::{entity_report, in_scheme, read_file};
pub use model::{scheme_constraints, Tagger};

use crate::artifacts::Artifacts;
use crate::error::RunError;
use crate::memory::machine_memory;
use crate::pipeline::Vocabularies;
use crate::pipeline::{check_fits, encoded_train, fit_and_write, valid_split, vocabularies, FitData, TaskRun};
use crate::vectors::with_pretrained;
use config::check_options;
use data::{check_scheme, count_train, score, stream_tagged, tag_map, TrainCounts};
use model::{footprint, kept_words, model_config, rare_from};

/// The three splits of a run: the training file counted (it is encoded later, never held
/// whole), validation and test read, in the files' scheme.
struct Splits {
    train: TrainCounts,
    valid: ConllFile,
    test: Option<ConllFile>,
    /// The files' scheme (given, or detected from the training file).
    file_scheme: TagScheme,
}

/// Counts the training file and reads the others; with `--file-scheme`, a tag that breaks it
/// is an error at its line.
fn read_splits(config: &TaggerRunConfig) -> Result<Splits, RunError> {
    let options = config.read_options();
    let (train, held) = count_train(&config.train, &options, config.file_scheme, config.valid.holdout())?;
    let read = |path: &str| read_file(path, &options);
    let valid = valid_split(config, held, |f| f.sentences.is_empty(), "sentence", read)?;
    let test = config.test.as_deref().map(read).transpose()?;
    let file_scheme = config.file_scheme.unwrap_or(train.detected);
    if config.file_scheme.is_some() {
        check_scheme(&valid, config.valid_name(), file_scheme, train.detected)?;
        if let Some((t, p)) = test.as_ref().zip(config.test.as_deref()) {
            check_scheme(t, p, file_scheme, train.detected)?;
        }
    }
    Ok(Splits { train, valid, test, file_scheme })
}

/// Every token of a file, in order.
fn tokens(file: &ConllFile) -> TokenCounts {
    TokenCounts::of(file.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)))
}

/// The run's words and tags (in the training scheme).
fn words_and_tags(config: &TaggerRunConfig, splits: &Splits) -> Result<Vocabularies, RunError> {
    let vocab = VocabConfig { min_freq: config.min_freq, lowercase: config.lowercase, max_size: None };
    let (valid, test) = (tokens(&splits.valid), splits.test.as_ref().map(tokens));
    let tags = || Ok(tag_map(&splits.train.types, config.train_scheme));
    vocabularies(config, &vocab, &splits.train.tokens, (&valid, test.as_ref()), tags)
}

/// The training split in the training scheme, encoded (see [`encoded_train`]).
fn encoded(config: &TaggerRunConfig, splits: &Splits, v: &Vocabularies) -> Result<Arc<EncodedCorpus>, RunError> {
    let path = config.train.as_str();
    encoded_train(config, splits.train.fingerprint, v, |writer| {
        let encode = |file: ConllFile| {
            let file = match config.valid.holdout() {
                Some(h) => h.split_tagged(file).0,
                None => file,
            };
            let sentences = in_scheme(&file, path, config.train_scheme, &v.labels)?;
            let items = tagging_items(&sentences, path.as_ref(), &v.words, &v.labels, false, None)?;
            Ok((sentences, items))
        };
        let consume = |(sentences, items): (Vec<Sentence>, Vec<TaggingItem>)| {
            sentences.iter().zip(&items).try_for_each(|(s, i)| writer.push_tagged(&i.ids, &i.tags, &s.tokens))
        };
        Ok(stream_tagged(path, &config.read_options(), encode, consume)?)
    })
}

/// The character encoder a run builds (a CNN of no filters is none).
fn char_encoder(config: &TaggerRunConfig) -> CharEncoder {
    if config.char_encoder == CharEncoder::Cnn && config.char_filters == 0 {
        CharEncoder::None
    } else {
        config.char_encoder
    }
}

/// The run's options as `run.json` records them: the file scheme, embedding width and
/// character encoder resolved, paths canonical.
fn resolved(config: &TaggerRunConfig, file_scheme: TagScheme, embedding_dim: usize) -> TaggerRunConfig {
    let mut resolved = TaggerRunConfig {
        file_scheme: Some(file_scheme),
        embedding_dim,
        char_encoder: char_encoder(config),
        ..config.clone()
    };
    resolved.files().make_canonical();
    resolved
}

/// The run's sizes against the machine's memory, before any data is read.
fn check_sizes(config: &TaggerRunConfig) -> Result<(), RunError> {
    // Sizes alone, before any data is read: two words, characters and tags, one token a sentence.
    let tokens = config.training.max_tokens.min(config.training.batch_size);
    footprint(config, 2, 2, 2, config.embedding_dim, tokens).check(machine_memory())
}

/// Trains a tagger and writes `run.json`, `model.json`, `vocab.json`, `tags.json`, `model.mpk`
/// and `metrics.json` (`{"valid": {"precision", "recall", "f1", "per_type", …}, "test": …}`).
pub fn train_tagger<B: AutodiffBackend>(
    config: &TaggerRunConfig,
    device: &B::Device,
) -> Result<TaggerReport, RunError> {
    check_options(config)?;
    check_sizes(config)?;
    let splits = read_splits(config)?;
    let file_scheme = splits.file_scheme;
    let _lock = crate::lock::ArtifactsLock::acquire(&config.artifacts, &config.training)?;
    let v = words_and_tags(config, &splits)?;
    let chars = (char_encoder(config) != CharEncoder::None).then(|| char_vocab_of(&splits.train.tokens, 1));
    let encode = |file: &ConllFile, path: &str| {
        let sentences = in_scheme(file, path, config.train_scheme, &v.labels)?;
        tagging_items(&sentences, path.as_ref(), &v.words, &v.labels, config.casing_dim > 0, chars.as_ref())
    };
    let valid_items = encode(&splits.valid, config.valid_name())?;
    let test_items = splits.test.as_ref().zip(config.test.as_deref()).map(|(t, p)| encode(t, p)).transpose()?;
    let train = encoded(config, &splits, &v)?;
    crate::say!(
        "data: {} train / {} valid{} sentences, vocabulary {}, entity types [{}], file scheme {file_scheme}, \
         training scheme {}",
        train.len(),
        valid_items.len(),
        test_items.as_ref().map_or(String::new(), |t| format!(" / {} test", t.len())),
        v.words.len(),
        splits.train.types.join(", "),
        config.train_scheme
    );
    let resolved = resolved(config, file_scheme, v.embedding_dim);
    let valid_lengths: Vec<_> = splits.valid.sentences.iter().map(|s| (s.line, s.tokens.len())).collect();
    let char_count = chars.as_ref().map_or(0, Vocab::len);
    check_fits(config, &train, "sentence", &valid_lengths, |tokens| {
        footprint(config, v.words.len(), char_count, v.labels.len(), v.embedding_dim, tokens)
    })?;
    let model_config = model_config(&resolved, &v.words, &v.labels, v.embedding_dim, chars.as_ref());
    if let Some(c) = chars.as_ref().filter(|_| !config.training.resume) {
        crate::durable::write(&config.artifacts.join(Artifacts::CHARS), serde_json::to_string_pretty(c).unwrap())?;
    }
    let model = || {
        let mut net = model_config.init::<B>(device);
        net.embedding = with_pretrained(net.embedding, v.pretrained.as_ref(), config.freeze_embeddings);
        Tagger {
            net,
            word_dropout: config.word_dropout,
            rare_from: rare_from(&v.words, &splits.train.tokens),
            kept_words: v
                .pretrained
                .as_ref()
                .filter(|_| !config.drop_vector_words)
                .map(|p| kept_words(&p.found, device)),
            per_sentence: config.loss_mean == LossMean::Sentence,
        }
    };
    let fit = FitData {
        dataset: TaggingDataset::new(train.clone(), config.casing_dim > 0, chars.map(Arc::new)),
        corpus: &train,
        valid: valid_items.clone(),
        batcher: TaggingBatcher,
        length: |i: &TaggingItem| i.ids.len(),
    };
    // The best epoch's model by the selection metric.
    fit_and_write(&resolved, &model_config, &v, device, model, fit, |best: Tagger<B::InnerBackend>, training| {
        let score = |items: &[TaggingItem], gold: &ConllFile| {
            score(&best.net, items, gold, &v.labels, (file_scheme, config.train_scheme), device)
        };
        let report = TaggerReport {
            file_scheme,
            valid: score(&valid_items, &splits.valid),
            test: test_items.as_ref().zip(splits.test.as_ref()).map(|(items, gold)| score(items, gold)),
            training,
        };
        (best.net, report)
    })
}

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
use seqlab_datasets::encoded::{EncodedCorpus, TaggingDataset, Task};
use seqlab_datasets::ids::tagging_items;
use seqlab_datasets::ner::{ConllFile, Sentence, TagScheme};
use seqlab_datasets::text::{char_vocab_of, TokenCounts, Vocab, VocabConfig};
use seqlab_datasets::{Holdout, LabelMap, Validation};

pub use config::{CharEncoder, LossMean, TaggerOutput, TaggerReport, TaggerRunConfig, TaggerScores};
pub(crate) use data::{entity_report, in_scheme, read_file};
pub use model::{scheme_constraints, Tagger};

use crate::artifacts::{input_fingerprints, training_source, Artifacts, Setup};
use crate::corpus_cache::{train_corpus, Wanted};
use crate::error::RunError;
use crate::learner::batch_tokens;
use crate::memory::{machine_memory, Longest};
use crate::pipeline::{fit_and_write, FitData, TaskRun};
use crate::vectors::{vocabulary_with_vectors, with_pretrained};
use config::check_options;
use data::{check_scheme, count_train, score, stream_tagged, tag_map, TrainCounts};
use model::{footprint, kept_words, model_config, rare_from};
use seqlab_datasets::text::PretrainedEmbeddings;

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
    let valid = match (&config.valid, held) {
        (Validation::File(path), _) => read(path)?,
        (Validation::HeldOut(h), held) => {
            held.filter(|f| !f.sentences.is_empty()).ok_or_else(|| nothing_held(h, config))?
        }
    };
    let test = config.test.as_deref().map(read).transpose()?;
    let file_scheme = config.file_scheme.unwrap_or(train.detected);
    if config.file_scheme.is_some() {
        check_scheme(&valid, &valid_name(config), file_scheme, train.detected)?;
        if let Some((t, p)) = test.as_ref().zip(config.test.as_deref()) {
            check_scheme(t, p, file_scheme, train.detected)?;
        }
    }
    Ok(Splits { train, valid, test, file_scheme })
}

/// The error for a holdout that took no sentence of the training file.
fn nothing_held(h: &Holdout, config: &TaggerRunConfig) -> RunError {
    RunError::invalid(
        "valid-fraction",
        format!("{} held out no sentence of {}; give a larger fraction or --valid FILE", h.fraction, config.train),
    )
}

/// How errors and messages name the validation data: its file, or the training file's.
fn valid_name(config: &TaggerRunConfig) -> String {
    config.valid.file().unwrap_or(&config.train).to_string()
}

/// Every token of a file, in order.
fn tokens(file: &ConllFile) -> TokenCounts {
    TokenCounts::of(file.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)))
}

/// What a run reads its words and tags with.
struct Vocabularies {
    /// The entity types of the training data, sorted.
    types: Vec<String>,
    /// The tag map of the training scheme.
    tags: LabelMap,
    /// Words (grown by the pretrained vectors' words found in any split).
    words: Vocab,
    /// The pretrained vectors' rows, if any, and the embedding width.
    pretrained: Option<PretrainedEmbeddings>,
    embedding_dim: usize,
    /// Characters, when the model has a character encoder.
    chars: Option<Vocab>,
}

fn vocabularies(config: &TaggerRunConfig, splits: &Splits, chars: CharEncoder) -> Result<Vocabularies, RunError> {
    let types = splits.train.types.clone();
    let tags = tag_map(&types, config.train_scheme);
    let vocab_config = VocabConfig { min_freq: config.min_freq, lowercase: config.lowercase, max_size: None };
    let words = Vocab::from_counts(&splits.train.tokens, &vocab_config);
    crate::validate::words_left(&words, &splits.train.tokens, config.min_freq)?;
    let (valid, test) = (tokens(&splits.valid), splits.test.as_ref().map(tokens));
    let mut by_split = vec![("train", &splits.train.tokens), ("valid", &valid)];
    by_split.extend(test.as_ref().map(|t| ("test", t)));
    let (words, pretrained, embedding_dim) = vocabulary_with_vectors(
        config.embeddings.as_deref(),
        words,
        &by_split,
        config.embedding_dim,
        config.freeze_embeddings,
        &config.artifacts,
    )?;
    let chars = (chars != CharEncoder::None).then(|| char_vocab_of(&splits.train.tokens, 1));
    Ok(Vocabularies { types, tags, words, pretrained, embedding_dim, chars })
}

/// The training split in the training scheme, encoded with the run's vocabulary and tags (see
/// [`crate::corpus_cache`]): read a second time, part by part, unless the cached corpus is
/// still the file's.
fn encoded_train(config: &TaggerRunConfig, splits: &Splits, v: &Vocabularies) -> Result<Arc<EncodedCorpus>, RunError> {
    let source = training_source(&config.train, &config.valid);
    let wanted = Wanted {
        task: Task::Tagging,
        source: &source,
        fingerprint: splits.train.fingerprint,
        vocab: &v.words,
        labels: &v.tags,
    };
    let path = config.train.as_str();
    train_corpus(&config.artifacts, &wanted, |writer| {
        let encode = |file: ConllFile| {
            let file = match config.valid.holdout() {
                Some(h) => h.split_tagged(file).0,
                None => file,
            };
            let sentences = in_scheme(&file, path, config.train_scheme, &v.tags)?;
            let items = tagging_items(&sentences, path.as_ref(), &v.words, &v.tags, false, None)?;
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
    let v = vocabularies(config, &splits, char_encoder(config))?;
    let encode = |file: &ConllFile, path: &str| {
        let sentences = in_scheme(file, path, config.train_scheme, &v.tags)?;
        tagging_items(&sentences, path.as_ref(), &v.words, &v.tags, config.casing_dim > 0, v.chars.as_ref())
    };
    let valid_items = encode(&splits.valid, &valid_name(config))?;
    let test_items = splits.test.as_ref().zip(config.test.as_deref()).map(|(t, p)| encode(t, p)).transpose()?;
    let train = encoded_train(config, &splits, &v)?;
    crate::say!(
        "data: {} train / {} valid{} sentences, vocabulary {}, entity types [{}], file scheme {file_scheme}, \
         training scheme {}",
        train.len(),
        valid_items.len(),
        test_items.as_ref().map_or(String::new(), |t| format!(" / {} test", t.len())),
        v.words.len(),
        v.types.join(", "),
        config.train_scheme
    );
    let resolved = resolved(config, file_scheme, v.embedding_dim);
    let lengths = (0..train.len()).map(|i| train.length(i)).chain(valid_items.iter().map(|i| i.ids.len()));
    let chars = v.chars.as_ref().map_or(0, Vocab::len);
    let longest = Longest::of(
        "sentence",
        (config.train.as_str(), (0..train.len()).map(|i| train.length(i))),
        (valid_name(config).as_str(), splits.valid.sentences.iter().map(|s| (s.line, s.tokens.len()))),
    );
    footprint(config, v.words.len(), chars, v.tags.len(), v.embedding_dim, batch_tokens(&config.training, lengths))
        .check_run(config.training.max_tokens, &longest, machine_memory())?;
    let model_config = model_config(&resolved, &v.words, &v.tags, v.embedding_dim, v.chars.as_ref());
    let artifacts = &config.artifacts;
    if let Some(c) = v.chars.as_ref().filter(|_| !config.training.resume) {
        crate::durable::write(&artifacts.join(Artifacts::CHARS), serde_json::to_string_pretty(c).unwrap())?;
    }
    let data = input_fingerprints(splits.train.fingerprint, &config.valid, config.test.as_deref());
    let setup = Setup {
        run: &resolved,
        data: &data,
        model: &model_config,
        vocab: &v.words,
        labels: &v.tags,
        labels_file: Artifacts::TAGS,
    };
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
    let chars = v.chars.clone().map(Arc::new);
    let fit = FitData {
        dataset: TaggingDataset::new(train.clone(), config.casing_dim > 0, chars),
        corpus: &train,
        valid: valid_items.clone(),
        batcher: TaggingBatcher,
        length: |i: &TaggingItem| i.ids.len(),
        entity_tags: Some(v.tags.names.clone()),
    };
    // The best epoch's model by the selection metric.
    fit_and_write(config, &setup, device, model, fit, |best: Tagger<B::InnerBackend>, training| {
        let score = |items: &[TaggingItem], gold: &ConllFile| {
            score(&best.net, items, gold, &v.tags, (file_scheme, config.train_scheme), device)
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

//! Token classification (NER) end to end: CoNLL data in any scheme → training scheme →
//! vocabulary (grown by pretrained vectors, if any), casing feature, characters and tag map →
//! bucketed loaders → burn-train (softmax or CRF output) → entity-level evaluation →
//! artifacts folder.
//!
//! [`config`] holds what a run is told and reports, [`model`] what burn-train trains, [`data`]
//! the files, schemes and scores; [`train_tagger`] below is the pipeline, in the same order as
//! the classifier's.

pub mod config;
pub mod data;
pub mod model;

use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use seqlab_datasets::batch::{TaggingBatcher, TaggingItem};
use seqlab_datasets::encode::tagging_items;
use seqlab_datasets::ner::{detect_scheme, spans, ConllFile, TagScheme};
use seqlab_datasets::text::{char_vocab_of, TokenCounts, Vocab, VocabConfig};
use seqlab_datasets::LabelMap;

pub use config::{CharEncoder, TaggerOutput, TaggerReport, TaggerRunConfig, TaggerScores};
pub(crate) use data::{entity_report, in_scheme, read_file};
pub use model::{scheme_constraints, Tagger};

use crate::artifacts::{canonical, write_results, write_setup, Artifacts};
use crate::error::RunError;
use crate::learner::{fit, loaders, seed, TrainingSummary};
use crate::vectors::{vocabulary_with_vectors, with_pretrained};
use config::check_options;
use data::{check_scheme, score, tag_map};
use model::{model_config, rare_from};
use seqlab_datasets::text::PretrainedEmbeddings;

/// The three splits of a run as read, in the files' scheme.
struct Splits {
    train: ConllFile,
    valid: ConllFile,
    test: Option<ConllFile>,
    /// The files' scheme (given, or detected from the training file).
    file_scheme: TagScheme,
}

impl Splits {
    /// Each split with its path.
    fn with_paths<'a>(&'a self, config: &'a TaggerRunConfig) -> Vec<(&'a ConllFile, &'a str)> {
        let mut splits = vec![(&self.train, config.train.as_str()), (&self.valid, config.valid.as_str())];
        splits.extend(self.test.as_ref().zip(config.test.as_deref()));
        splits
    }

    /// Each split with its name (`train`, `valid`, `test`).
    fn with_names(&self) -> impl Iterator<Item = (&'static str, &ConllFile)> {
        [("train", &self.train), ("valid", &self.valid)].into_iter().chain(self.test.iter().map(|t| ("test", t)))
    }
}

/// Reads the splits; with `--file-scheme`, a tag that breaks it is an error at its line.
fn read_splits(config: &TaggerRunConfig) -> Result<Splits, RunError> {
    let read = |path: &str| read_file(path, config.tag_column, config.encoding);
    let (train, valid) = (read(&config.train)?, read(&config.valid)?);
    let test = config.test.as_deref().map(read).transpose()?;
    let detected = detect_scheme(train.sentences.iter().map(|s| s.tags.as_slice()));
    let splits = Splits { train, valid, test, file_scheme: config.file_scheme.unwrap_or(detected) };
    if config.file_scheme.is_some() {
        for (file, path) in splits.with_paths(config) {
            check_scheme(file, path, splits.file_scheme, detected)?;
        }
    }
    Ok(splits)
}

/// Every token of a file, in order.
fn tokens(file: &ConllFile) -> Vec<&str> {
    file.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)).collect()
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
    let mut types: Vec<String> = splits.train.sentences.iter().flat_map(|s| spans(&s.tags)).map(|s| s.label).collect();
    types.sort();
    types.dedup();
    let tags = tag_map(&types, config.train_scheme);
    let vocab_config = VocabConfig { min_freq: config.min_freq, lowercase: config.lowercase, max_size: None };
    let counts: Vec<(&str, TokenCounts)> =
        splits.with_names().map(|(name, f)| (name, TokenCounts::of(tokens(f)))).collect();
    let words = Vocab::from_counts(&counts[0].1, &vocab_config);
    let by_split: Vec<(&str, &TokenCounts)> = counts.iter().map(|(name, c)| (*name, c)).collect();
    let (words, pretrained, embedding_dim) = vocabulary_with_vectors(
        config.embeddings.as_deref(),
        words,
        &by_split,
        config.embedding_dim,
        config.freeze_embeddings,
        &config.artifacts,
    )?;
    let chars = (chars != CharEncoder::None).then(|| char_vocab_of(&counts[0].1, 1));
    Ok(Vocabularies { types, tags, words, pretrained, embedding_dim, chars })
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
    TaggerRunConfig {
        file_scheme: Some(file_scheme),
        embedding_dim,
        char_encoder: char_encoder(config),
        train: canonical(&config.train),
        valid: canonical(&config.valid),
        test: config.test.as_deref().map(canonical),
        embeddings: config.embeddings.as_deref().map(|p| canonical(&p.display().to_string()).into()),
        ..config.clone()
    }
}

/// Trains a tagger and writes `run.json`, `model.json`, `vocab.json`, `tags.json`, `model.mpk`
/// and `metrics.json` (`{"valid": {"precision", "recall", "f1", "per_type", …}, "test": …}`).
pub fn train_tagger<B: AutodiffBackend>(
    config: &TaggerRunConfig,
    device: &B::Device,
) -> Result<TaggerReport, RunError> {
    check_options(config)?;
    let splits = read_splits(config)?;
    let file_scheme = splits.file_scheme;
    let _lock = crate::lock::ArtifactsLock::acquire(&config.artifacts, &config.training)?;
    let v = vocabularies(config, &splits, char_encoder(config))?;
    let encode = |file: &ConllFile, path: &str| {
        let sentences = in_scheme(file, config.train_scheme);
        tagging_items(&sentences, path.as_ref(), &v.words, &v.tags, config.casing_dim > 0, v.chars.as_ref())
    };
    let (train_items, valid_items) = (encode(&splits.train, &config.train)?, encode(&splits.valid, &config.valid)?);
    let test_items = splits.test.as_ref().zip(config.test.as_deref()).map(|(t, p)| encode(t, p)).transpose()?;
    println!(
        "data: {} train / {} valid{} sentences, vocabulary {}, entity types [{}], file scheme {file_scheme}, \
         training scheme {}",
        train_items.len(),
        valid_items.len(),
        test_items.as_ref().map_or(String::new(), |t| format!(" / {} test", t.len())),
        v.words.len(),
        v.types.join(", "),
        config.train_scheme
    );
    let resolved = resolved(config, file_scheme, v.embedding_dim);
    let model_config = model_config(&resolved, &v.words, &v.tags, v.embedding_dim, v.chars.as_ref());
    let artifacts = &config.artifacts;
    if let Some(c) = v.chars.as_ref().filter(|_| !config.training.resume) {
        crate::durable::write(&artifacts.join(Artifacts::CHARS), serde_json::to_string_pretty(c).unwrap())?;
    }
    write_setup(artifacts, &resolved, config.training.resume, &model_config, &v.words, &v.tags, Artifacts::TAGS)?;

    let t = &config.training;
    seed::<B>(device, t.seed);
    let mut net = model_config.init::<B>(device);
    if let Some(matrix) = &v.pretrained {
        net.embedding = with_pretrained(net.embedding, matrix, config.freeze_embeddings);
    }
    println!("model: {} parameters", net.num_params());
    let options = t.fit_options(artifacts, train_items.len(), Some(v.tags.names.clone()))?;
    let lengths: Vec<usize> = train_items.iter().map(|i| i.ids.len()).collect();
    let model = Tagger { net, word_dropout: config.word_dropout, rare_from: rare_from(&train_items, v.words.len()) };
    let (train_loader, valid_loader) = loaders(
        InMemDataset::new(train_items),
        &lengths,
        valid_items.clone(),
        TaggingBatcher,
        |i: &TaggingItem| i.ids.len(),
        t,
    );
    // The best epoch's model by the selection metric.
    let fitted = fit(model, train_loader, valid_loader, &options)?;
    let model = fitted.model.net;
    let score = |items: &[TaggingItem], gold: &ConllFile| score(&model, items, gold, &v.tags, file_scheme, device);
    let report = TaggerReport {
        file_scheme,
        valid: score(&valid_items, &splits.valid),
        test: test_items.as_ref().zip(splits.test.as_ref()).map(|(items, gold)| score(items, gold)),
        training: TrainingSummary::from(&fitted.progress),
    };
    write_results(artifacts, &model, &report)?;
    Ok(report)
}

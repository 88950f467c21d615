//! Token classification (NER) end to end: CoNLL data in any scheme → training scheme →
//! vocabulary, casing feature and tag map → bucketed loaders → burn-train → entity-level
//! evaluation → artifacts folder.

use std::path::PathBuf;

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Tensor};
use burn::train::ClassificationOutput;
use seqlab_datasets::batch::{TaggingBatch, TaggingBatcher, TaggingItem};
use seqlab_datasets::encode::tagging_items;
use seqlab_datasets::ner::{convert, detect_scheme, spans, ConllFile, Sentence, TagScheme};
use seqlab_datasets::text::{char_vocab, Casing, Vocab, VocabConfig, UNK};
use seqlab_datasets::{read_corpus, Corpus, Format, LabelMap, ReadOptions};
use seqlab_models::heads::{CharCnnConfig, EncoderConfig, FeatureEmbeddingConfig};
use seqlab_models::{TokenClassifier, TokenClassifierConfig};

use crate::artifacts::{bucketed_loader, fit, write_results, write_setup, RunError, TrainingConfig, TrainingSummary};
use crate::entity::{entity_scores, EntityMode};

/// A [`TokenClassifier`] with the steps burn-train calls. Loss and token accuracy see only real
/// tokens: the flattened logits and tags are `select`ed at the batch's real positions, so the
/// mean is over real tokens (Burn 0.21's padded cross-entropy would divide by pads too).
#[derive(Module, Debug)]
pub struct Tagger<B: Backend> {
    /// The network.
    pub net: TokenClassifier<B>,
    /// Word dropout: in training, each rare word (id ≥ `rare_from`) becomes `<unk>` with this
    /// probability, so that the model learns what to do with unknown words from context and
    /// casing (as Lample et al., 2016, do with singletons).
    pub word_dropout: f64,
    /// The first id of the rare words (the vocabulary is sorted by frequency).
    pub rare_from: usize,
}

impl<B: Backend> Tagger<B> {
    /// Logits and tags of the real tokens `[tokens, tags]`, and their mean cross-entropy.
    pub fn forward_tagging(&self, batch: TaggingBatch<B>) -> ClassificationOutput<B> {
        let device = batch.tokens.device();
        let tokens = if self.word_dropout > 0.0 && B::ad_enabled(&device) {
            let rare = batch.tokens.clone().greater_equal_elem(self.rare_from as i64);
            let coin = Tensor::<B, 2>::random(batch.tokens.shape(), Distribution::Uniform(0.0, 1.0), &device).lower_elem(self.word_dropout);
            batch.tokens.mask_fill(rare.bool_and(coin), UNK as i64)
        } else {
            batch.tokens
        };
        let logits = self.net.forward(tokens, batch.features, batch.chars, Some(batch.lengths));
        let [b, t, c] = logits.dims();
        let logits = logits.reshape([b * t, c]).select(0, batch.positions.clone());
        let targets = batch.tags.reshape([b * t]).select(0, batch.positions);
        let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits.clone(), targets.clone());
        ClassificationOutput::new(loss, logits, targets)
    }
}

crate::steps::supervised_steps!(Tagger, TaggingBatch, forward_tagging);

/// Everything a tagger training run needs; serialised to `run.json` in the artifacts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaggerRunConfig {
    /// Training data: a CoNLL file or `embedded:ner/train`.
    pub train: String,
    /// Validation data.
    pub valid: String,
    /// Test data, evaluated once at the end.
    pub test: Option<String>,
    /// 0-based tag column (`None`: the last).
    pub tag_column: Option<usize>,
    /// The files' tag scheme (`None`: detected from the training file).
    pub file_scheme: Option<TagScheme>,
    /// The scheme the model learns (tags are converted through their spans).
    pub train_scheme: TagScheme,
    /// Encoder.
    pub encoder: EncoderConfig,
    /// Word embedding width.
    pub embedding_dim: usize,
    /// Width of the casing-feature embedding; 0 turns the feature off.
    pub casing_dim: usize,
    /// Character CNN filters (the width of each word's character vector); 0: no character
    /// features.
    #[serde(default)]
    pub char_filters: usize,
    /// Lower-case words for the vocabulary (the casing feature keeps the shape).
    pub lowercase: bool,
    /// Words seen fewer times in training become `<unk>`.
    pub min_freq: usize,
    /// Dropout on embeddings and encoder outputs.
    pub dropout: f64,
    /// Word dropout on words seen once in training (see [`Tagger::word_dropout`]).
    #[serde(default)]
    pub word_dropout: f64,
    /// The learner: epochs, batch size, optimiser and schedule, selection, patience, seed.
    pub training: TrainingConfig,
    /// Artifacts folder.
    pub artifacts: PathBuf,
}

/// Entity scores (default mode and strict) and token accuracy of one split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaggerScores {
    /// Micro precision (default, conlleval mode).
    pub precision: f64,
    /// Micro recall.
    pub recall: f64,
    /// Micro F1.
    pub f1: f64,
    /// Per entity type.
    pub per_type: std::collections::BTreeMap<String, crate::entity::Prf>,
    /// Micro F1 in strict mode under the file's scheme.
    pub strict_f1: f64,
    /// Fraction of tokens whose tag is right.
    pub token_accuracy: f64,
}

/// What a tagger run produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaggerReport {
    /// The files' scheme (reports are in it).
    pub file_scheme: TagScheme,
    /// Validation scores with the final model.
    pub valid: TaggerScores,
    /// Test scores, if a test file was given.
    pub test: Option<TaggerScores>,
    /// Epochs, best epoch, early stop, wall time.
    #[serde(flatten)]
    pub training: TrainingSummary,
}

pub(crate) fn read_tagged(path: &str, tag_column: Option<usize>) -> Result<ConllFile, RunError> {
    let read = read_corpus(path, &ReadOptions { format: Some(Format::Conll), tag_column, ..Default::default() })?;
    match read.corpus {
        Corpus::Tagged(file) => Ok(file),
        Corpus::Sentiment { .. } => unreachable!("read as CoNLL"),
    }
}

/// The tag map of a scheme for the entity types of the training data: `<pad>`, `O`, and every
/// prefix the scheme uses for every type, so any converted tag of a known type has an id.
fn tag_map(types: &[String], scheme: TagScheme) -> LabelMap {
    let prefixes: &[&str] = match scheme {
        TagScheme::Iobes => &["B", "I", "E", "S"],
        _ => &["B", "I"],
    };
    let tags: Vec<String> = std::iter::once("O".to_string())
        .chain(types.iter().flat_map(|t| prefixes.iter().map(move |p| format!("{p}-{t}"))))
        .collect();
    LabelMap::build_tags(tags.iter().map(String::as_str))
}

/// Sentences with their tags converted to `scheme`.
pub(crate) fn in_scheme(file: &ConllFile, scheme: TagScheme) -> Vec<Sentence> {
    file.sentences.iter().map(|s| Sentence { tags: convert(&s.tags, scheme), ..s.clone() }).collect()
}

/// Predicted tag ids (never the padding tag) of every sentence, in order.
pub fn tag_items<B: Backend>(model: &TokenClassifier<B>, items: &[TaggingItem], batch_size: usize, device: &B::Device) -> Vec<Vec<usize>> {
    items
        .chunks(batch_size.max(1))
        .flat_map(|chunk| {
            let batch: TaggingBatch<B> = TaggingBatcher.batch(chunk.to_vec(), device);
            let logits = model.forward(batch.tokens, batch.features, batch.chars, Some(batch.lengths));
            let [b, t, c] = logits.dims();
            // Leave the padding tag (id 0) out of the argmax.
            let ids: Vec<i64> = (logits.slice([0..b, 0..t, 1..c]).argmax(2) + 1).into_data().convert::<i64>().to_vec().unwrap();
            chunk.iter().enumerate().map(move |(i, item)| ids[i * t..i * t + item.ids.len()].iter().map(|&v| v as usize).collect::<Vec<_>>()).collect::<Vec<_>>()
        })
        .collect()
}

pub(crate) fn score<B: Backend>(
    model: &TokenClassifier<B>,
    items: &[TaggingItem],
    gold: &ConllFile,
    tags: &LabelMap,
    file_scheme: TagScheme,
    device: &B::Device,
) -> TaggerScores {
    let predicted: Vec<Vec<String>> = tag_items(model, items, 128, device)
        .into_iter()
        .map(|ids| convert(&ids.iter().map(|&i| tags.name(i)).collect::<Vec<_>>(), file_scheme))
        .collect();
    let gold_tags: Vec<Vec<String>> = gold.sentences.iter().map(|s| s.tags.clone()).collect();
    let lenient = entity_scores(&gold_tags, &predicted, EntityMode::Default);
    let strict = entity_scores(&gold_tags, &predicted, EntityMode::Strict(file_scheme));
    let (mut right, mut total) = (0usize, 0usize);
    for (g, p) in gold_tags.iter().zip(&predicted) {
        // Token accuracy on spans-normalised tags, so that equivalent writings agree.
        let g = convert(g, file_scheme);
        right += g.iter().zip(p).filter(|(a, b)| a == b).count();
        total += g.len();
    }
    TaggerScores {
        precision: lenient.precision,
        recall: lenient.recall,
        f1: lenient.f1,
        per_type: lenient.per_type,
        strict_f1: strict.f1,
        token_accuracy: if total == 0 { 0.0 } else { right as f64 / total as f64 },
    }
}

/// The first id of the words seen once in training: the vocabulary is sorted by descending
/// frequency, so every id from there on is a singleton.
fn rare_from(items: &[TaggingItem], vocab_len: usize) -> usize {
    let mut counts = vec![0usize; vocab_len];
    items.iter().flat_map(|i| &i.ids).for_each(|&id| counts[id] += 1);
    (UNK + 1..vocab_len).find(|&id| counts[id] <= 1).unwrap_or(vocab_len)
}

/// Trains a tagger and writes `run.json`, `model.json`, `vocab.json`, `tags.json`, `model.mpk`
/// and `metrics.json` (`{"valid": {"precision", "recall", "f1", "per_type", …}, "test": …}`).
pub fn train_tagger<B: AutodiffBackend>(config: &TaggerRunConfig, device: &B::Device) -> Result<TaggerReport, RunError> {
    let train = read_tagged(&config.train, config.tag_column)?;
    let valid = read_tagged(&config.valid, config.tag_column)?;
    let test = config.test.as_deref().map(|p| read_tagged(p, config.tag_column)).transpose()?;
    let file_scheme = config.file_scheme.unwrap_or_else(|| detect_scheme(train.sentences.iter().map(|s| s.tags.as_slice())));
    let mut types: Vec<String> = train.sentences.iter().flat_map(|s| spans(&s.tags)).map(|s| s.label).collect();
    types.sort();
    types.dedup();
    let tags = tag_map(&types, config.train_scheme);
    let vocab = Vocab::build(
        train.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)),
        &VocabConfig { min_freq: config.min_freq, lowercase: config.lowercase, max_size: None },
    );
    let casing = config.casing_dim > 0;
    let chars = (config.char_filters > 0).then(|| char_vocab(train.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)), 1));
    let encode = |file: &ConllFile, path: &str| tagging_items(&in_scheme(file, config.train_scheme), path.as_ref(), &vocab, &tags, casing, chars.as_ref());
    let (train_items, valid_items) = (encode(&train, &config.train)?, encode(&valid, &config.valid)?);
    let test_items = match (&test, &config.test) {
        (Some(t), Some(p)) => Some(encode(t, p)?),
        _ => None,
    };
    println!(
        "data: {} train / {} valid{} sentences, vocabulary {}, entity types [{}], file scheme {file_scheme}, training scheme {}",
        train_items.len(),
        valid_items.len(),
        test_items.as_ref().map_or(String::new(), |t| format!(" / {} test", t.len())),
        vocab.len(),
        types.join(", "),
        config.train_scheme
    );

    let features = if casing { vec![FeatureEmbeddingConfig::new(Casing::COUNT, config.casing_dim)] } else { Vec::new() };
    let model_config = TokenClassifierConfig::new(vocab.len(), tags.len())
        .with_embedding_dim(config.embedding_dim)
        .with_features(features)
        .with_encoder(config.encoder.clone())
        .with_dropout(config.dropout)
        .with_chars(chars.as_ref().map(|c| CharCnnConfig::new(c.len()).with_filters(config.char_filters)));
    let artifacts = &config.artifacts;
    if let Some(c) = &chars {
        std::fs::create_dir_all(artifacts).map_err(|e| RunError::Other(format!("{}: {e}", artifacts.display())))?;
        c.save(artifacts.join("chars.json"))?;
    }
    let resolved = TaggerRunConfig { file_scheme: Some(file_scheme), ..config.clone() };
    write_setup(artifacts, &resolved, config.training.resume, &model_config, &vocab, &tags, "tags.json")?;

    let t = &config.training;
    B::seed(device, t.seed);
    let net = model_config.init::<B>(device);
    println!("model: {} parameters", net.num_params());
    let length = |i: &TaggingItem| i.ids.len();
    let options = t.fit_options(artifacts, train_items.len(), Some(tags.names.clone()))?;
    let fitted = fit(
        Tagger { net, word_dropout: config.word_dropout, rare_from: rare_from(&train_items, vocab.len()) },
        bucketed_loader::<B, _, _, _>(train_items, TaggingBatcher, length, t.batch_size, t.seed, true),
        bucketed_loader::<B::InnerBackend, _, _, _>(valid_items.clone(), TaggingBatcher, length, t.batch_size, t.seed, false),
        &options,
    )?;
    // The best epoch's model by the selection metric.
    let model = fitted.model.net;
    let report = TaggerReport {
        file_scheme,
        valid: score(&model, &valid_items, &valid, &tags, file_scheme, device),
        test: match (&test, &test_items) {
            (Some(t), Some(items)) => Some(score(&model, items, t, &tags, file_scheme, device)),
            _ => None,
        },
        training: TrainingSummary::from(&fitted.progress),
    };
    write_results(artifacts, &model, &report)?;
    Ok(report)
}

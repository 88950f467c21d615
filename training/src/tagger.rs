//! Token classification (NER) end to end: CoNLL data in any scheme → training scheme →
//! vocabulary (grown by pretrained vectors, if any), casing feature, characters and tag map →
//! bucketed loaders → burn-train (softmax or CRF output) → entity-level evaluation →
//! artifacts folder.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Tensor};
use burn::train::ClassificationOutput;
use seqlab_datasets::batch::{TaggingBatch, TaggingBatcher, TaggingItem};
use seqlab_datasets::encode::tagging_items;
use seqlab_datasets::ner::ConllOptions;
use seqlab_datasets::ner::{
    allowed_transition, convert, detect_scheme, spans, validate, ConllFile, Sentence, TagScheme,
};
use seqlab_datasets::text::{char_vocab, Casing, Encoding, Tokenizer, Vocab, VocabConfig, UNK};
use seqlab_datasets::{read_tagged, LabelMap};
use seqlab_models::crf::Allowed;
use seqlab_models::heads::{CharCnnConfig, CharLstmConfig, EncoderConfig, FeatureEmbeddingConfig};
use seqlab_models::{CrfConfig, TokenClassifier, TokenClassifierConfig};

use crate::artifacts::{canonical, write_results, write_setup, Artifacts};
use crate::entity::{entity_scores, EntityMode};
use crate::error::RunError;
use crate::inference::{tag, BATCH};
use crate::learner::{fit, loaders, seed, TrainingConfig, TrainingSummary};
use crate::vectors::{vocabulary_with_vectors, with_pretrained};

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
            let coin = Tensor::<B, 2>::random(batch.tokens.shape(), Distribution::Uniform(0.0, 1.0), &device)
                .lower_elem(self.word_dropout);
            batch.tokens.mask_fill(rare.bool_and(coin), UNK as i64)
        } else {
            batch.tokens
        };
        let scores = self.net.forward(tokens, batch.features, batch.chars, Some(batch.lengths.clone()));
        let [b, t, c] = scores.dims();
        let targets = batch.tags.clone().reshape([b * t]).select(0, batch.positions.clone());
        match &self.net.crf {
            None => {
                let logits = scores.reshape([b * t, c]).select(0, batch.positions);
                let loss = seqlab_models::loss::cross_entropy(logits.clone(), targets.clone());
                ClassificationOutput::new(loss, logits, targets)
            }
            Some(crf) => {
                // The negative log-likelihood per real token (so the loss reads like the
                // softmax tagger's), and the Viterbi paths as one-hot rows for the metrics.
                let real = targets.dims()[0].max(1) as f64;
                let (ll, paths) = crf.log_likelihood_and_decode(scores, batch.tags, batch.lengths);
                let loss = ll.sum().neg().div_scalar(real);
                ClassificationOutput::new(loss, one_hot(&paths, c, &device), targets)
            }
        }
    }
}

/// The tags of `paths`, one after another, as one-hot rows `[Σ lengths, tags]`.
fn one_hot<B: Backend>(paths: &[Vec<usize>], tags: usize, device: &B::Device) -> Tensor<B, 2> {
    let n: usize = paths.iter().map(Vec::len).sum();
    let mut values = vec![0.0f32; n * tags];
    for (row, &tag) in paths.iter().flatten().enumerate() {
        values[row * tags + tag] = 1.0;
    }
    Tensor::from_data(burn::tensor::TensorData::new(values, [n, tags]), device)
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
    /// How the files' bytes are decoded (older runs: UTF-8).
    #[serde(default)]
    pub encoding: Encoding,
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
    /// Which encoder reads each word's characters (older runs: the CNN when `char_filters > 0`).
    #[serde(default)]
    pub char_encoder: CharEncoder,
    /// The character BiLSTM's hidden size per direction.
    #[serde(default = "default_char_hidden")]
    pub char_hidden: usize,
    /// The output layer (older runs: softmax).
    #[serde(default)]
    pub output: TaggerOutput,
    /// Pretrained word vectors (GloVe/word2vec text, plain or `.gz`).
    #[serde(default)]
    pub embeddings: Option<PathBuf>,
    /// Keep the pretrained vectors fixed.
    #[serde(default)]
    pub freeze_embeddings: bool,
    /// How `predict` splits raw sentences into tokens (`None`: on whitespace, as older runs).
    #[serde(default)]
    pub tokenizer: Option<Tokenizer>,
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

/// The tagger's output layer.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum TaggerOutput {
    /// An independent softmax per token.
    #[default]
    Softmax,
    /// A linear-chain CRF whose transitions are restricted to the training scheme's.
    Crf,
}

/// The encoder of each word's characters.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum CharEncoder {
    /// No character features.
    None,
    /// A character CNN (Ma & Hovy, 2016), `char_filters` wide.
    #[default]
    Cnn,
    /// A character BiLSTM (Lample et al., 2016), `2·char_hidden` wide.
    #[strum(to_string = "lstm", serialize = "bilstm")]
    Lstm,
}

fn default_char_hidden() -> usize {
    25
}

/// The CRF's allowed transitions over a tag map: the rules of `scheme`
/// ([`allowed_transition`]), `<pad>` never.
pub fn scheme_constraints(tags: &LabelMap, scheme: TagScheme) -> Allowed {
    Allowed::from_rule(tags.len(), |from, to| {
        allowed_transition(scheme, from.map(|i| tags.name(i)), to.map(|j| tags.name(j)))
    })
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

/// Reads a CoNLL file (or `embedded:ner/SPLIT`).
pub(crate) fn read_file(path: &str, tag_column: Option<usize>, encoding: Encoding) -> Result<ConllFile, RunError> {
    Ok(read_tagged(path, &ConllOptions { tag_column, encoding })?)
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

/// A file whose tags break `scheme` (given with `--file-scheme`) is an error at its first
/// invalid tag, naming the scheme the training file looks like.
fn check_scheme(file: &ConllFile, path: &str, scheme: TagScheme, detected: TagScheme) -> Result<(), RunError> {
    for sentence in &file.sentences {
        if let Some(v) = validate(&sentence.tags, scheme).first() {
            return Err(RunError::Data(seqlab_datasets::DataError::line(
                path,
                sentence.line + v.index,
                format!(
                    "tag {:?} is not valid {scheme} here ({}), but --file-scheme {} was given; the training file looks like {detected}",
                    v.tag,
                    v.reason,
                    scheme.name()
                ),
            )));
        }
    }
    Ok(())
}

/// Entity scores (default and strict) and token accuracy of `model` on `items`, against the
/// gold tags of `gold` (in `file_scheme`).
pub(crate) fn score<B: Backend>(
    model: &TokenClassifier<B>,
    items: &[TaggingItem],
    gold: &ConllFile,
    tags: &LabelMap,
    file_scheme: TagScheme,
    device: &B::Device,
) -> TaggerScores {
    let predicted: Vec<Vec<String>> = tag(model, items, BATCH, device)
        .into_iter()
        .map(|ids| convert(&ids.iter().map(|&i| tags.name(i)).collect::<Vec<_>>(), file_scheme))
        .collect();
    entity_report(gold, &predicted, file_scheme)
}

/// Entity scores (default and strict) and token accuracy of `predicted` tags against `gold`'s,
/// both in `file_scheme`.
pub(crate) fn entity_report(gold: &ConllFile, predicted: &[Vec<String>], file_scheme: TagScheme) -> TaggerScores {
    let gold_tags: Vec<Vec<String>> = gold.sentences.iter().map(|s| s.tags.clone()).collect();
    let lenient = entity_scores(&gold_tags, predicted, EntityMode::Default);
    let strict = entity_scores(&gold_tags, predicted, EntityMode::Strict(file_scheme));
    let (mut right, mut total) = (0usize, 0usize);
    for (g, p) in gold_tags.iter().zip(predicted) {
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

/// Every option of a tagger run in its range (see [`crate::validate`]).
fn check_options(t: &TaggerRunConfig) -> Result<(), RunError> {
    use crate::validate::{at_least, embedding_dim, encoder, fraction, training};
    training(&t.training)?;
    encoder(&t.encoder)?;
    embedding_dim(t.embedding_dim, t.embeddings.is_some())?;
    fraction("dropout", t.dropout, 0.0, 1.0, false)?;
    fraction("word-dropout", t.word_dropout, 0.0, 1.0, true)?;
    at_least("min-freq", t.min_freq, 1)?;
    if t.char_encoder == CharEncoder::Lstm {
        at_least("char-hidden", t.char_hidden, 1)?;
    }
    Ok(())
}

/// Trains a tagger and writes `run.json`, `model.json`, `vocab.json`, `tags.json`, `model.mpk`
/// and `metrics.json` (`{"valid": {"precision", "recall", "f1", "per_type", …}, "test": …}`).
pub fn train_tagger<B: AutodiffBackend>(
    config: &TaggerRunConfig,
    device: &B::Device,
) -> Result<TaggerReport, RunError> {
    check_options(config)?;
    let read = |path: &str| read_file(path, config.tag_column, config.encoding);
    let train = read(&config.train)?;
    let valid = read(&config.valid)?;
    let test = config.test.as_deref().map(read).transpose()?;
    let detected = detect_scheme(train.sentences.iter().map(|s| s.tags.as_slice()));
    let file_scheme = config.file_scheme.unwrap_or(detected);
    if config.file_scheme.is_some() {
        for (file, path) in [(&train, &config.train), (&valid, &config.valid)]
            .into_iter()
            .chain(test.as_ref().zip(config.test.as_ref()))
        {
            check_scheme(file, path, file_scheme, detected)?;
        }
    }
    let _lock = crate::lock::ArtifactsLock::acquire(&config.artifacts, &config.training)?;
    let mut types: Vec<String> = train.sentences.iter().flat_map(|s| spans(&s.tags)).map(|s| s.label).collect();
    types.sort();
    types.dedup();
    let tags = tag_map(&types, config.train_scheme);
    let vocab = Vocab::build(
        train.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)),
        &VocabConfig { min_freq: config.min_freq, lowercase: config.lowercase, max_size: None },
    );
    fn words(f: &ConllFile) -> Vec<&str> {
        f.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)).collect()
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
    let casing = config.casing_dim > 0;
    let char_encoder = if config.char_encoder == CharEncoder::Cnn && config.char_filters == 0 {
        CharEncoder::None
    } else {
        config.char_encoder
    };
    let chars = (char_encoder != CharEncoder::None)
        .then(|| char_vocab(train.sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)), 1));
    let encode = |file: &ConllFile, path: &str| {
        tagging_items(&in_scheme(file, config.train_scheme), path.as_ref(), &vocab, &tags, casing, chars.as_ref())
    };
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

    let features =
        if casing { vec![FeatureEmbeddingConfig::new(Casing::COUNT, config.casing_dim)] } else { Vec::new() };
    let model_config = TokenClassifierConfig::new(vocab.len(), tags.len())
        .with_embedding_dim(embedding_dim)
        .with_features(features)
        .with_encoder(config.encoder.clone())
        .with_dropout(config.dropout)
        .with_chars(
            chars
                .as_ref()
                .filter(|_| char_encoder == CharEncoder::Cnn)
                .map(|c| CharCnnConfig::new(c.len()).with_filters(config.char_filters)),
        )
        .with_char_lstm(
            chars
                .as_ref()
                .filter(|_| char_encoder == CharEncoder::Lstm)
                .map(|c| CharLstmConfig::new(c.len()).with_hidden(config.char_hidden)),
        )
        .with_crf(
            (config.output == TaggerOutput::Crf)
                .then(|| CrfConfig::new(tags.len()).with_allowed(Some(scheme_constraints(&tags, config.train_scheme)))),
        );
    let artifacts = &config.artifacts;
    if let Some(c) = chars.as_ref().filter(|_| !config.training.resume) {
        crate::durable::write(&artifacts.join(Artifacts::CHARS), serde_json::to_string_pretty(c).unwrap())?;
    }
    let resolved = TaggerRunConfig {
        file_scheme: Some(file_scheme),
        embedding_dim,
        char_encoder,
        train: canonical(&config.train),
        valid: canonical(&config.valid),
        test: config.test.as_deref().map(canonical),
        embeddings: config.embeddings.as_deref().map(|p| canonical(&p.display().to_string()).into()),
        ..config.clone()
    };
    write_setup(artifacts, &resolved, config.training.resume, &model_config, &vocab, &tags, Artifacts::TAGS)?;

    let t = &config.training;
    seed::<B>(device, t.seed);
    let mut net = model_config.init::<B>(device);
    if let Some(matrix) = &pretrained {
        net.embedding = with_pretrained(net.embedding, matrix, config.freeze_embeddings);
    }
    println!("model: {} parameters", net.num_params());
    let options = t.fit_options(artifacts, train_items.len(), Some(tags.names.clone()))?;
    let model = Tagger { net, word_dropout: config.word_dropout, rare_from: rare_from(&train_items, vocab.len()) };
    let (train_loader, valid_loader) =
        loaders(train_items, valid_items.clone(), TaggingBatcher, |i: &TaggingItem| i.ids.len(), t);
    let fitted = fit(model, train_loader, valid_loader, &options)?;
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

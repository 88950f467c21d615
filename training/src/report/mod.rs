//! `evaluate --report DIR`: what a model gets right and wrong on a file, as `report.json` and a
//! self-contained `report.html` (inline CSS and SVG, no scripts, nothing fetched).
//!
//! Both hold the metrics (a tagger's per entity type with support, default and strict F1), a
//! confusion matrix (classes; or entity types with "missed" and "spurious", plus token tags),
//! the errors (a classifier's most confident wrong predictions; a tagger's sentences with
//! missed, spurious and wrongly typed entities, gold beside predicted), the share of errors on
//! words outside the model's vocabulary (unseen in training, unless pretrained vectors brought
//! them in), the model's config, the training summary, and the data file's checksum.

mod classifier;
mod html;
mod tagger;

pub use html::html;

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use seqlab_datasets::ner::Span;

use crate::artifacts::Artifacts;
use crate::error::RunError;
use crate::inference::{Evaluation, Loaded};
use crate::learner::TrainingSummary;

/// Most errors listed.
const MAX_ERRORS: usize = 25;

/// Counts of gold (rows) against predicted (columns).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Confusion {
    /// Row names (gold).
    pub rows: Vec<String>,
    /// Column names (predicted).
    pub columns: Vec<String>,
    /// `counts[r][c]`.
    pub counts: Vec<Vec<usize>>,
}

impl Confusion {
    fn new(rows: Vec<String>, columns: Vec<String>) -> Self {
        let counts = vec![vec![0; columns.len()]; rows.len()];
        Self { rows, columns, counts }
    }

    fn add(&mut self, row: &str, column: &str) {
        let r = self.rows.iter().position(|n| n == row).expect("a known row");
        let c = self.columns.iter().position(|n| n == column).expect("a known column");
        self.counts[r][c] += 1;
    }
}

/// A classifier's wrong prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelError {
    /// The text as in the file.
    pub text: String,
    /// `file:line`.
    pub origin: String,
    /// The gold label.
    pub gold: String,
    /// The predicted label.
    pub predicted: String,
    /// The predicted label's probability.
    pub probability: f32,
    /// The text's words outside the vocabulary.
    pub unseen: Vec<String>,
}

/// A sentence a tagger got wrong.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SentenceError {
    /// `file:line` of the sentence's first token.
    pub origin: String,
    /// The tokens.
    pub tokens: Vec<String>,
    /// Gold entities.
    pub gold: Vec<Span>,
    /// Predicted entities.
    pub predicted: Vec<Span>,
    /// Gold entities with no prediction of the same span.
    pub missed: Vec<Span>,
    /// Predicted entities with no gold entity of the same span.
    pub spurious: Vec<Span>,
    /// Same span, other type: `(gold, predicted)`.
    pub wrong_type: Vec<(Span, Span)>,
    /// The sentence's words outside the vocabulary.
    pub unseen: Vec<String>,
}

/// How many errors involve words outside the vocabulary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnseenShare {
    /// Errors (wrong examples; or missed, spurious and wrongly typed entities).
    pub errors: usize,
    /// Of those, the ones with an out-of-vocabulary word (in the example; or in the entity).
    pub errors_with_unseen: usize,
    /// `errors_with_unseen / errors`.
    pub share_of_errors: f64,
    /// For comparison: the share of all examples (entities: gold and predicted) with one.
    pub share_overall: f64,
}

/// The data a report is about.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataInfo {
    /// The file as given.
    pub path: String,
    /// `fnv1a64:…` of its bytes (`embedded` for an embedded corpus; a folder corpus is not
    /// checksummed).
    pub checksum: String,
    /// Examples (sentences) read.
    pub examples: usize,
}

/// Everything `report.json` holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// `sequence-classifier` or `token-classifier`.
    pub model: String,
    /// The artifacts folder.
    pub artifacts: String,
    /// The data.
    pub data: DataInfo,
    /// The same scores as `evaluate` (and `metrics.json`).
    pub metrics: Evaluation,
    /// Classes, or entity types with `missed` (column) and `spurious` (row).
    pub confusion: Confusion,
    /// A tagger's token-level tags (the files' scheme).
    pub tag_confusion: Option<Confusion>,
    /// A classifier's most confident wrong predictions, most confident first.
    pub label_errors: Vec<LabelError>,
    /// A tagger's wrong sentences, the most errors first.
    pub sentence_errors: Vec<SentenceError>,
    /// Errors on out-of-vocabulary words.
    pub unseen: UnseenShare,
    /// `model.json`.
    pub config: serde_json::Value,
    /// The training summary of `metrics.json` (epochs, kept epoch, time), if there is one.
    pub training: Option<TrainingSummary>,
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn data_info(path: &str, examples: usize) -> DataInfo {
    let checksum = if seqlab_datasets::Source::is_embedded(path) {
        "embedded".to_string()
    } else {
        std::fs::read(path)
            .map_or_else(|_| "a folder (not checksummed)".to_string(), |bytes| crate::artifacts::checksum(&bytes))
    };
    DataInfo { path: path.to_string(), checksum, examples }
}

/// Builds the report of a loaded model on `path`.
pub fn report<B: Backend>(
    loaded: &Loaded<B>,
    artifacts: &Path,
    path: &str,
    device: &B::Device,
) -> Result<Report, RunError> {
    let read_json = |file: &str| -> Option<serde_json::Value> {
        std::fs::read_to_string(artifacts.join(file)).ok().and_then(|t| serde_json::from_str(&t).ok())
    };
    let about = About {
        artifacts: artifacts.display().to_string(),
        config: read_json(Artifacts::MODEL_CONFIG).unwrap_or(serde_json::Value::Null),
        training: read_json(Artifacts::METRICS).and_then(|v| serde_json::from_value::<TrainingSummary>(v).ok()),
    };
    match loaded {
        Loaded::Classifier(c) => classifier::report(c, path, about, device),
        Loaded::Tagger(t) => tagger::report(t, path, about, device),
    }
}

/// What a report says of the model, whichever its task.
struct About {
    artifacts: String,
    config: serde_json::Value,
    training: Option<TrainingSummary>,
}

/// Writes `report.json` and `report.html` into `dir` (created if needed).
pub fn write_report(r: &Report, dir: &Path) -> Result<(), RunError> {
    if dir.exists() && !dir.is_dir() {
        return Err(RunError::invalid(
            "report",
            format!("{} is a file; --report names a folder to write report.html and report.json into", dir.display()),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, &e))?;
    crate::durable::write(&dir.join("report.json"), serde_json::to_string_pretty(r).unwrap())?;
    crate::durable::write(&dir.join("report.html"), html(r))
}

/// The per-type counts of a confusion's diagonal and margins, for checks: `(type, right,
/// gold, predicted)`.
pub fn confusion_totals(c: &Confusion) -> BTreeMap<String, (usize, usize, usize)> {
    let mut out = BTreeMap::new();
    for (i, row) in c.rows.iter().enumerate() {
        if let Some(j) = c.columns.iter().position(|n| n == row) {
            let gold: usize = c.counts[i].iter().sum();
            let predicted: usize = c.counts.iter().map(|r| r[j]).sum();
            out.insert(row.clone(), (c.counts[i][j], gold, predicted));
        }
    }
    out
}

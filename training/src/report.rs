//! `evaluate --report DIR`: what a model gets right and wrong on a file, as `report.json` and a
//! self-contained `report.html` (inline CSS and SVG, no scripts, nothing fetched).
//!
//! Both hold the metrics (a tagger's per entity type with support, default and strict F1), a
//! confusion matrix (classes; or entity types with "missed" and "spurious", plus token tags),
//! the errors (a classifier's most confident wrong predictions; a tagger's sentences with
//! missed, spurious and wrongly typed entities, gold beside predicted), the share of errors on
//! words outside the model's vocabulary (unseen in training, unless pretrained vectors brought
//! them in), the model's config, the training summary, and the data file's checksum.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use burn::tensor::backend::Backend;
use seqlab_datasets::ner::{convert, spans, Span};
use seqlab_datasets::text::UNK;

use crate::artifacts::Artifacts;
use crate::error::RunError;
use crate::inference::{ClassifierData, Evaluation, Loaded, TaggerData};
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
    let checksum = if path.starts_with(seqlab_datasets::corpus::EMBEDDED_PREFIX) {
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
    let config = read_json(Artifacts::MODEL_CONFIG).unwrap_or(serde_json::Value::Null);
    let training = read_json(Artifacts::METRICS).and_then(|v| serde_json::from_value::<TrainingSummary>(v).ok());
    let artifacts = artifacts.display().to_string();
    match loaded {
        Loaded::Classifier(c) => {
            let ClassifierData { texts: split, items } = c.read(path)?;
            let answers = c.classify(&items, device);
            let metrics = Evaluation::Classifier(c.scores(&items, &answers));
            let mut confusion = Confusion::new(c.labels.names.clone(), c.labels.names.clone());
            let mut errors = Vec::new();
            let mut with_unseen = 0;
            for ((example, item), (tokens, answer)) in
                split.examples.iter().zip(&items).zip(split.tokens.iter().zip(&answers))
            {
                let (best, p) = (answer.best, &answer.probabilities);
                confusion.add(c.labels.name(item.label), c.labels.name(best));
                let unseen: Vec<String> =
                    tokens.iter().zip(&item.ids).filter(|(_, &id)| id == UNK).map(|(t, _)| t.clone()).collect();
                with_unseen += usize::from(!unseen.is_empty());
                if best != item.label {
                    errors.push(LabelError {
                        text: example.text.clone(),
                        origin: format!("{}:{}", example.origin.path.display(), example.origin.line),
                        gold: example.label.clone(),
                        predicted: c.labels.name(best).to_string(),
                        probability: p[best],
                        unseen,
                    });
                }
            }
            let errors_with_unseen = errors.iter().filter(|e| !e.unseen.is_empty()).count();
            let unseen = UnseenShare {
                errors: errors.len(),
                errors_with_unseen,
                share_of_errors: share(errors_with_unseen, errors.len()),
                share_overall: share(with_unseen, items.len()),
            };
            errors.sort_by(|a, b| b.probability.total_cmp(&a.probability));
            errors.truncate(MAX_ERRORS);
            Ok(Report {
                model: "sequence-classifier".into(),
                artifacts,
                data: data_info(path, items.len()),
                metrics,
                confusion,
                tag_confusion: None,
                label_errors: errors,
                sentence_errors: Vec::new(),
                unseen,
                config,
                training,
            })
        }
        Loaded::Tagger(t) => {
            let TaggerData { file, items } = t.read(path)?;
            let scheme = t.file_scheme();
            let predicted = t.tag(&items, device);
            let metrics = Evaluation::Tagger(t.scores(&file, &predicted));
            let mut types: Vec<String> = file
                .sentences
                .iter()
                .flat_map(|s| spans(&s.tags))
                .chain(predicted.iter().flat_map(|p| spans(p)))
                .map(|s| s.label)
                .collect();
            types.sort();
            types.dedup();
            let mut confusion = Confusion::new(
                types.iter().cloned().chain(["spurious".to_string()]).collect(),
                types.iter().cloned().chain(["missed".to_string()]).collect(),
            );
            let mut tag_names: Vec<String> = file
                .sentences
                .iter()
                .flat_map(|s| convert(&s.tags, scheme))
                .chain(predicted.iter().flatten().cloned())
                .collect();
            tag_names.sort();
            tag_names.dedup();
            let mut tag_confusion = Confusion::new(tag_names.clone(), tag_names);
            let (mut errors, mut error_count, mut errors_with_unseen, mut entities, mut entities_with_unseen) =
                (Vec::new(), 0, 0, 0, 0);
            for ((sentence, item), tags) in file.sentences.iter().zip(&items).zip(&predicted) {
                for (g, p) in convert(&sentence.tags, scheme).iter().zip(tags) {
                    tag_confusion.add(g, p);
                }
                let oov = |span: &Span| item.ids[span.start..span.end].contains(&UNK);
                let (gold, pred) = (spans(&sentence.tags), spans(tags));
                let (mut missed, mut spurious, mut wrong_type) = (Vec::new(), Vec::new(), Vec::new());
                for g in &gold {
                    match pred.iter().find(|p| p.start == g.start && p.end == g.end) {
                        Some(p) if p.label == g.label => confusion.add(&g.label, &p.label),
                        Some(p) => {
                            confusion.add(&g.label, &p.label);
                            wrong_type.push((g.clone(), p.clone()));
                        }
                        None => {
                            confusion.add(&g.label, "missed");
                            missed.push(g.clone());
                        }
                    }
                }
                for p in pred.iter().filter(|p| !gold.iter().any(|g| g.start == p.start && g.end == p.end)) {
                    confusion.add("spurious", &p.label);
                    spurious.push(p.clone());
                }
                entities += gold.len() + pred.len();
                entities_with_unseen += gold.iter().chain(&pred).filter(|s| oov(s)).count();
                let wrong: Vec<&Span> =
                    missed.iter().chain(&spurious).chain(wrong_type.iter().map(|(g, _)| g)).collect();
                error_count += wrong.len();
                errors_with_unseen += wrong.iter().filter(|s| oov(s)).count();
                if !wrong.is_empty() {
                    let unseen = sentence
                        .tokens
                        .iter()
                        .zip(&item.ids)
                        .filter(|(_, &id)| id == UNK)
                        .map(|(w, _)| w.clone())
                        .collect();
                    errors.push(SentenceError {
                        origin: format!("{path}:{}", sentence.line),
                        tokens: sentence.tokens.clone(),
                        gold,
                        predicted: pred,
                        missed,
                        spurious,
                        wrong_type,
                        unseen,
                    });
                }
            }
            errors.sort_by_key(|e: &SentenceError| {
                std::cmp::Reverse(e.missed.len() + e.spurious.len() + e.wrong_type.len())
            });
            errors.truncate(MAX_ERRORS);
            Ok(Report {
                model: "token-classifier".into(),
                artifacts,
                data: data_info(path, items.len()),
                metrics,
                confusion,
                tag_confusion: Some(tag_confusion),
                label_errors: Vec::new(),
                sentence_errors: errors,
                unseen: UnseenShare {
                    errors: error_count,
                    errors_with_unseen,
                    share_of_errors: share(errors_with_unseen, error_count),
                    share_overall: share(entities_with_unseen, entities),
                },
                config,
                training,
            })
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A confusion matrix as an SVG heat map: the darker, the larger the share of its row.
fn heatmap(c: &Confusion, title: &str) -> String {
    let cell = (560 / c.columns.len().max(1)).clamp(14, 56);
    // Room for the (rotated) column names and the row names, by their length.
    let longest = |names: &[String]| names.iter().map(|n| n.chars().count()).max().unwrap_or(1);
    let (left, top) = (24 + 7 * longest(&c.rows).max(6), 30 + 6 * longest(&c.columns));
    let (width, height) = (left + cell * c.columns.len() + 10, top + cell * c.rows.len() + 10);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{}"><style>text{{font:11px sans-serif}}</style>"##,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<text x="{left}" y="14" style="font-weight:bold">predicted →</text><text x="4" y="{}" style="font-weight:bold">gold ↓</text>"##,
        top - 6
    );
    for (j, name) in c.columns.iter().enumerate() {
        let x = left + j * cell + cell / 2;
        let _ = write!(svg, r##"<text transform="translate({x},{}) rotate(-60)">{}</text>"##, top - 4, escape(name));
    }
    for (i, row) in c.counts.iter().enumerate() {
        let y = top + i * cell;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text>"##,
            left - 6,
            y + cell / 2 + 4,
            escape(&c.rows[i])
        );
        let total: usize = row.iter().sum();
        for (j, &n) in row.iter().enumerate() {
            let x = left + j * cell;
            let level = if total == 0 { 0.0 } else { n as f64 / total as f64 };
            let shade = (255.0 * (1.0 - 0.85 * level)) as u8;
            let ink = if level > 0.5 { "#fff" } else { "#000" };
            let _ = write!(
                svg,
                r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="rgb({shade},{shade},255)" stroke="#ccc"><title>{} → {}: {n}</title></rect>"##,
                escape(&c.rows[i]),
                escape(&c.columns[j])
            );
            if n > 0 && cell >= 22 {
                let _ = write!(
                    svg,
                    r##"<text x="{}" y="{}" text-anchor="middle" fill="{ink}">{n}</text>"##,
                    x + cell / 2,
                    y + cell / 2 + 4
                );
            }
        }
    }
    svg + "</svg>"
}

/// Tokens with entities wrapped: `class` names the kind of each span.
fn marked(tokens: &[String], entities: &[(Span, &str)]) -> String {
    let mut html = String::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((span, class)) = entities.iter().find(|(s, _)| s.start == i) {
            let words: Vec<String> = tokens[span.start..span.end].iter().map(|t| escape(t)).collect();
            let _ =
                write!(html, r#"<span class="{class}">{} <sub>{}</sub></span> "#, words.join(" "), escape(&span.label));
            i = span.end.max(i + 1);
        } else {
            let _ = write!(html, "{} ", escape(&tokens[i]));
            i += 1;
        }
    }
    html
}

const STYLE: &str = "body{font:14px/1.45 sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}\
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th{background:#f4f4f8}td.l,th.l{text-align:left}.ok{background:#d8f3dc}.missed{background:#ffd6d6}\
.spurious{background:#ffe8b3}.wrong{background:#e0d4ff}sub{font-size:10px;color:#555}\
.pair td{text-align:left;vertical-align:top}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}\
.legend span{padding:1px 6px;margin-right:8px}";

/// The report as one HTML page.
pub fn html(r: &Report) -> String {
    let mut h = format!("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>seqlab report: {}</title><style>{STYLE}</style></head><body>", escape(&r.data.path));
    let _ = write!(h, "<h1>Evaluation of {} on {}</h1>", escape(&r.artifacts), escape(&r.data.path));
    let _ = write!(
        h,
        "<p>{}: {} examples; data checksum <code>{}</code>.</p>",
        escape(&r.model),
        r.data.examples,
        escape(&r.data.checksum)
    );
    h += "<h2>Metrics</h2>";
    match &r.metrics {
        Evaluation::Classifier(s) => {
            let _ = write!(h, "<table><tr><th>accuracy</th><th>macro-F1</th><th>examples</th></tr><tr><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr></table>", s.accuracy, s.macro_f1, s.examples);
        }
        Evaluation::Tagger(s) => {
            let _ = write!(h, "<table><tr><th class=\"l\">entities</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr><tr><td class=\"l\">all (default mode)</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td></td></tr>", s.precision, s.recall, s.f1);
            for (kind, p) in &s.per_type {
                let _ = write!(
                    h,
                    "<tr><td class=\"l\">{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
                    escape(kind),
                    p.precision,
                    p.recall,
                    p.f1,
                    p.support
                );
            }
            let _ = write!(h, "</table><p>Strict F1 {:.4}; token accuracy {:.4}.</p>", s.strict_f1, s.token_accuracy);
        }
    }
    let u = &r.unseen;
    let what = if r.model == "token-classifier" {
        "entity errors (missed, spurious, wrong type)"
    } else {
        "wrong predictions"
    };
    let _ = write!(
        h,
        "<p>{} {what}; {} of them ({:.1} %) involve a word outside the vocabulary, against {:.1} % of all {}.</p>",
        u.errors,
        u.errors_with_unseen,
        100.0 * u.share_of_errors,
        100.0 * u.share_overall,
        if r.model == "token-classifier" { "entities" } else { "examples" }
    );
    h += "<h2>Confusion</h2>";
    let title = if r.model == "token-classifier" {
        "Entities: gold type (rows, with spurious predictions) against predicted type (columns, with missed entities)"
    } else {
        "Classes: gold (rows) against predicted (columns)"
    };
    let _ = write!(h, "<p>{title}; shading is the share of the row.</p>{}", heatmap(&r.confusion, title));
    if let Some(tags) = &r.tag_confusion {
        let _ = write!(
            h,
            "<p>Token tags (the file's scheme): gold (rows) against predicted (columns).</p>{}",
            heatmap(tags, "Token tags")
        );
    }
    h += "<h2>Errors</h2>";
    if !r.label_errors.is_empty() {
        h += "<p>The most confident wrong predictions.</p><table><tr><th>probability</th><th class=\"l\">predicted</th><th class=\"l\">gold</th><th class=\"l\">text</th><th class=\"l\">unseen words</th></tr>";
        for e in &r.label_errors {
            let _ = write!(h, "<tr><td>{:.3}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}<br><sub>{}</sub></td><td class=\"l\">{}</td></tr>",
                e.probability, escape(&e.predicted), escape(&e.gold), escape(&e.text), escape(&e.origin), escape(&e.unseen.join(", ")));
        }
        h += "</table>";
    }
    if !r.sentence_errors.is_empty() {
        h += "<p class=\"legend\">Sentences with the most entity errors: <span class=\"ok\">right</span><span class=\"missed\">missed</span><span class=\"spurious\">spurious</span><span class=\"wrong\">wrong type</span></p><table class=\"pair\"><tr><th class=\"l\">gold</th><th class=\"l\">predicted</th></tr>";
        for e in &r.sentence_errors {
            // A span is right, of the wrong type, or without a counterpart (missed or spurious).
            let kind = |s: &Span, others: &[Span], alone: &'static str| -> &'static str {
                match others.iter().find(|o| o.start == s.start && o.end == s.end) {
                    Some(o) if o.label == s.label => "ok",
                    Some(_) => "wrong",
                    None => alone,
                }
            };
            let gold: Vec<(Span, &str)> = e.gold.iter().map(|s| (s.clone(), kind(s, &e.predicted, "missed"))).collect();
            let pred: Vec<(Span, &str)> =
                e.predicted.iter().map(|s| (s.clone(), kind(s, &e.gold, "spurious"))).collect();
            let _ = write!(
                h,
                "<tr><td>{}<br><sub>{}{}</sub></td><td>{}</td></tr>",
                marked(&e.tokens, &gold),
                escape(&e.origin),
                if e.unseen.is_empty() { String::new() } else { format!("; unseen: {}", escape(&e.unseen.join(", "))) },
                marked(&e.tokens, &pred)
            );
        }
        h += "</table>";
    }
    h += "<h2>Model and training</h2>";
    if let Some(t) = &r.training {
        let _ = write!(
            h,
            "<p>{} epochs in {:.1} s; kept epoch {}{}.</p>",
            t.epochs_completed,
            t.train_seconds,
            t.best_epoch,
            t.stopped.as_ref().map_or(String::new(), |s| format!("; {}", escape(s)))
        );
    }
    let _ = write!(h, "<pre>{}</pre>", escape(&serde_json::to_string_pretty(&r.config).unwrap_or_default()));
    h + "</body></html>"
}

/// Writes `report.json` and `report.html` into `dir` (created if needed).
pub fn write_report(r: &Report, dir: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| RunError::Other(format!("{}: cannot create: {e}", dir.display())))?;
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

//! `report.html`: a [`Report`] as one self-contained page (inline CSS and SVG heat maps, no
//! scripts, nothing fetched).

use std::fmt::Write as _;

use seqlab_datasets::ner::Span;

use super::{Confusion, Report};
use crate::inference::Evaluation;

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
    let mut h = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>seqlab report: {}</title>\
         <style>{STYLE}</style></head><body>",
        escape(&r.data.path)
    );
    let _ = write!(h, "<h1>Evaluation of {} on {}</h1>", escape(&r.artifacts), escape(&r.data.path));
    let _ = write!(
        h,
        "<p>{}: {} examples; data checksum <code>{}</code>.</p>",
        escape(&r.model),
        r.data.examples,
        escape(&r.data.checksum)
    );
    metrics(&mut h, r);
    confusions(&mut h, r);
    h += "<h2>Errors</h2>";
    label_errors(&mut h, r);
    sentence_errors(&mut h, r);
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

/// Whether the report is a tagger's.
fn tagger(r: &Report) -> bool {
    r.model == "token-classifier"
}

/// The metrics table and the share of errors on unseen words.
fn metrics(h: &mut String, r: &Report) {
    *h += "<h2>Metrics</h2>";
    match &r.metrics {
        Evaluation::Classifier(s) => {
            let _ = write!(
                h,
                "<table><tr><th>accuracy</th><th>macro-F1</th><th>examples</th></tr>\
                 <tr><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr></table>",
                s.accuracy, s.macro_f1, s.examples
            );
        }
        Evaluation::Tagger(s) => {
            let _ = write!(
                h,
                "<table><tr><th class=\"l\">entities</th><th>precision</th><th>recall</th><th>F1</th>\
                 <th>support</th></tr><tr><td class=\"l\">all (default mode)</td><td>{:.4}</td><td>{:.4}</td>\
                 <td>{:.4}</td><td></td></tr>",
                s.precision, s.recall, s.f1
            );
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
    let (what, of) = if tagger(r) {
        ("entity errors (missed, spurious, wrong type)", "entities")
    } else {
        ("wrong predictions", "examples")
    };
    let _ = write!(
        h,
        "<p>{} {what}; {} of them ({:.1} %) involve a word outside the vocabulary, against {:.1} % of all {of}.</p>",
        u.errors,
        u.errors_with_unseen,
        100.0 * u.share_of_errors,
        100.0 * u.share_overall,
    );
}

/// The confusion heat maps.
fn confusions(h: &mut String, r: &Report) {
    *h += "<h2>Confusion</h2>";
    let title = if tagger(r) {
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
}

/// A classifier's most confident wrong predictions.
fn label_errors(h: &mut String, r: &Report) {
    if r.label_errors.is_empty() {
        return;
    }
    *h += "<p>The most confident wrong predictions.</p><table><tr><th>probability</th><th class=\"l\">predicted</th>\
           <th class=\"l\">gold</th><th class=\"l\">text</th><th class=\"l\">unseen words</th></tr>";
    for e in &r.label_errors {
        let _ = write!(
            h,
            "<tr><td>{:.3}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}<br><sub>{}</sub></td>\
             <td class=\"l\">{}</td></tr>",
            e.probability,
            escape(&e.predicted),
            escape(&e.gold),
            escape(&e.text),
            escape(&e.origin),
            escape(&e.unseen.join(", "))
        );
    }
    *h += "</table>";
}

/// A tagger's sentences with the most entity errors, gold beside predicted.
fn sentence_errors(h: &mut String, r: &Report) {
    if r.sentence_errors.is_empty() {
        return;
    }
    *h += "<p class=\"legend\">Sentences with the most entity errors: <span class=\"ok\">right</span>\
           <span class=\"missed\">missed</span><span class=\"spurious\">spurious</span>\
           <span class=\"wrong\">wrong type</span></p><table class=\"pair\"><tr><th class=\"l\">gold</th>\
           <th class=\"l\">predicted</th></tr>";
    // A span is right, of the wrong type, or without a counterpart (missed or spurious).
    let kind = |s: &Span, others: &[Span], alone: &'static str| -> &'static str {
        match others.iter().find(|o| o.start == s.start && o.end == s.end) {
            Some(o) if o.label == s.label => "ok",
            Some(_) => "wrong",
            None => alone,
        }
    };
    for e in &r.sentence_errors {
        let gold: Vec<(Span, &str)> = e.gold.iter().map(|s| (s.clone(), kind(s, &e.predicted, "missed"))).collect();
        let pred: Vec<(Span, &str)> = e.predicted.iter().map(|s| (s.clone(), kind(s, &e.gold, "spurious"))).collect();
        let unseen =
            if e.unseen.is_empty() { String::new() } else { format!("; unseen: {}", escape(&e.unseen.join(", "))) };
        let _ = write!(
            h,
            "<tr><td>{}<br><sub>{}{unseen}</sub></td><td>{}</td></tr>",
            marked(&e.tokens, &gold),
            escape(&e.origin),
            marked(&e.tokens, &pred)
        );
    }
    *h += "</table>";
}

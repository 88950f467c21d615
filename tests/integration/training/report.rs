//! `evaluate --report`: report.json's values agree with the scores and with each other, and
//! report.html holds them, self-contained.

use seqlab_training::inference::{load, Evaluation};
use seqlab_training::report::{confusion_totals, html, report, write_report};

use crate::common::*;

/// One page that runs and fetches nothing (the SVG namespace is the only URL).
fn self_contained(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>"));
    let page = page.replace("http://www.w3.org/2000/svg", "");
    for outside in ["<script", "http:", "https:", "src=", "<link", "@import"] {
        assert!(!page.contains(outside), "the page loads nothing: found {outside}");
    }
}

#[test]
fn classifier_report_agrees_with_the_scores() {
    let dir = scratch("report-classifier");
    let device = Default::default();
    let config = super::classifier::tiny_classifier(&dir);
    seqlab_training::classifier::train_classifier::<TestAutodiff>(&config, &device).unwrap();
    let loaded = load::<TestBackend>(&dir, &device).unwrap();
    let r = report(&loaded, &dir, "embedded:sentiment/test", &device).unwrap();
    let Evaluation::Classifier(scores) = &r.metrics else { panic!("classifier scores") };
    // The confusion matrix is the accuracy and the error count.
    let total: usize = r.confusion.counts.iter().flatten().sum();
    let right: usize = (0..r.confusion.rows.len()).map(|i| r.confusion.counts[i][i]).sum();
    assert_eq!(total, scores.examples);
    assert!((right as f64 / total as f64 - scores.accuracy).abs() < 1e-12);
    assert_eq!(r.unseen.errors, total - right);
    // The listed errors are wrong, most confident first, with the predicted class's probability.
    assert!(r.label_errors.iter().all(|e| e.gold != e.predicted && e.probability >= 0.5));
    assert!(r.label_errors.windows(2).all(|w| w[0].probability >= w[1].probability));
    assert_eq!((r.data.checksum.as_str(), r.data.examples), ("embedded", scores.examples));
    assert_eq!(r.training.as_ref().map(|t| t.epochs_completed), Some(1));
    // --report names a folder: an existing file there is refused by name, and left as it was.
    let file = dir.join("taken.html");
    std::fs::write(&file, "mine").unwrap();
    let err = write_report(&r, &file).unwrap_err().to_string();
    assert!(err.contains("taken.html is a file; --report names a folder"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    write_report(&r, &dir.join("report")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/report.json")).unwrap()).unwrap();
    assert_eq!(json["metrics"]["accuracy"].as_f64(), Some(scores.accuracy));
    assert_eq!(json["config"]["encoder"]["kind"], "Gru");
    let page = std::fs::read_to_string(dir.join("report/report.html")).unwrap();
    assert_eq!(page, html(&r));
    self_contained(&page);
    assert!(
        page.contains(&format!("<td>{:.4}</td>", scores.accuracy))
            && page.contains("<svg")
            && page.matches("<rect").count() == 4
    );
}

#[test]
fn tagger_report_agrees_with_the_entity_scores() {
    let dir = scratch("report-tagger");
    let device = Default::default();
    let config = super::tagger::tiny_tagger(&dir);
    seqlab_training::tagger::train_tagger::<TestAutodiff>(&config, &device).unwrap();
    let loaded = load::<TestBackend>(&dir, &device).unwrap();
    let r = report(&loaded, &dir, "embedded:ner/test", &device).unwrap();
    let Evaluation::Tagger(scores) = &r.metrics else { panic!("tagger scores") };
    // Per type: the diagonal is the correct entities, the row the gold ones (support), the
    // column the predicted ones — the counts behind precision and recall.
    for (kind, (right, gold, predicted)) in confusion_totals(&r.confusion) {
        let prf = &scores.per_type[&kind];
        assert_eq!(gold, prf.support, "{kind} support");
        if gold > 0 {
            assert!((right as f64 / gold as f64 - prf.recall).abs() < 1e-12, "{kind} recall");
        }
        if predicted > 0 {
            assert!((right as f64 / predicted as f64 - prf.precision).abs() < 1e-12, "{kind} precision");
        }
    }
    let tags = r.tag_confusion.as_ref().expect("token tags");
    let tokens: usize = tags.counts.iter().flatten().sum();
    let right: usize = (0..tags.rows.len()).map(|i| tags.counts[i][i]).sum();
    assert!((right as f64 / tokens as f64 - scores.token_accuracy).abs() < 1e-12);
    for e in &r.sentence_errors {
        assert!(!(e.missed.is_empty() && e.spurious.is_empty() && e.wrong_type.is_empty()));
    }
    let page = html(&r);
    self_contained(&page);
    assert!(page.contains("missed") && page.contains("spurious") && page.contains(&format!("{:.4}", scores.f1)));
}

//! Validation held out of the training file: a training file of the user's needs validation
//! data named (a file, or a share held out), never the synthetic corpus in its place; the share
//! held out is what the kept epoch is chosen on and is not trained on; `run.json` records it.

use seqlab_bins::args::training::validation;
use seqlab_datasets::encoded::EncodedCorpus;
use seqlab_datasets::{read_labelled, read_tagged, Holdout, ReadOptions, Validation};
use seqlab_training::classifier::{train_classifier, ClassifierRunConfig};
use seqlab_training::inference::{evaluate, load, Evaluation};
use seqlab_training::tagger::{train_tagger, TaggerRunConfig};

use super::classifier::tiny_classifier;
use super::tagger::tiny_tagger;
use crate::common::*;

#[test]
fn a_training_file_of_the_users_needs_validation_data_named() {
    let embedded = "embedded:ner/valid";
    let err = validation("my.conll", None, None, 1, embedded).unwrap_err();
    assert!(err.contains("--train my.conll needs validation data"), "{err}");
    assert!(err.contains("--valid FILE") && err.contains("--valid-fraction 0.1"), "{err}");
    assert_eq!(validation("embedded:ner/train", None, None, 1, embedded), Ok(Validation::File(embedded.into())));
    assert_eq!(
        validation("my.conll", Some("dev.conll".into()), None, 1, embedded),
        Ok(Validation::File("dev.conll".into()))
    );
    assert_eq!(
        validation("my.conll", None, Some(0.1), 9, embedded),
        Ok(Validation::HeldOut(Holdout { fraction: 0.1, seed: 9 }))
    );
    let err = validation("my.conll", None, Some(1.5), 9, embedded).unwrap_err();
    assert!(err.starts_with("--valid-fraction 1.5: the share held out"), "{err}");
}

#[test]
fn a_tagger_validates_on_the_share_held_out_and_does_not_train_on_it() {
    let dir = scratch("holdout-tagger");
    let holdout = Holdout::new(0.2, 5).unwrap();
    let config = TaggerRunConfig { valid: Validation::HeldOut(holdout), test: None, ..tiny_tagger(&dir) };
    let device = Default::default();
    let report = train_tagger::<TestAutodiff>(&config, &device).unwrap();
    let (kept, held) = holdout.split_tagged(read_tagged(&config.train, &Default::default()).unwrap());
    assert!(held.sentences.len() > 60 && held.sentences.len() < 140, "{} of 500 held out", held.sentences.len());
    let corpus = EncodedCorpus::open(&dir.join("corpus").join("train")).unwrap();
    assert_eq!(corpus.len(), kept.sentences.len(), "only the rest is trained on");
    // The validation scores are the model's on exactly the sentences held out.
    let path = dir.join("held-out.conll");
    let lines: Vec<String> = held
        .sentences
        .iter()
        .map(|s| s.tokens.iter().zip(&s.tags).map(|(w, t)| format!("{w} {t}\n")).collect::<String>())
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let loaded = load::<TestBackend>(&dir, &device).unwrap();
    assert_eq!(evaluate(&loaded, path.to_str().unwrap(), &device).unwrap(), Evaluation::Tagger(report.valid));
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["valid"], serde_json::json!({ "fraction": 0.2, "seed": 5 }));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_classifier_holds_out_the_same_texts_in_every_pass() {
    let dir = scratch("holdout-classifier");
    let holdout = Holdout::new(0.25, 11).unwrap();
    let config = ClassifierRunConfig { valid: Validation::HeldOut(holdout), test: None, ..tiny_classifier(&dir) };
    let report = train_classifier::<TestAutodiff>(&config, &Default::default()).unwrap();
    let (kept, held) = holdout.split_labelled(read_labelled(&config.train, &ReadOptions::default()).unwrap());
    assert_eq!(report.valid.examples, held.examples.len());
    assert_eq!(EncodedCorpus::open(&dir.join("corpus").join("train")).unwrap().len(), kept.examples.len());
    assert!(held.examples.iter().all(|h| !kept.examples.iter().any(|k| k.text == h.text)), "no text on both sides");
    std::fs::remove_dir_all(dir).unwrap();
}

//! End to end on the embedded corpus with a tiny model: train one epoch, write the artifacts,
//! and reproduce the saved metrics from the saved files.

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use seqlab_datasets::batch::ClassificationItem;
use seqlab_datasets::text::Vocab;
use seqlab_datasets::Validation;
use seqlab_datasets::{read_corpus, Corpus, LabelMap, ReadOptions};
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_models::CellKind;
use seqlab_models::{Pooling, SequenceClassifierConfig};
use seqlab_training::classification_scores;
use seqlab_training::classifier::{train_classifier, ClassifierReport, ClassifierRunConfig};

use seqlab_training::inference::{classify, evaluate, load, Evaluation, Loaded};

use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::OptimConfig;

use crate::common::*;

/// A tiny GRU classifier on the embedded sentiment corpus: one epoch.
pub(crate) fn tiny_classifier(dir: &std::path::Path) -> ClassifierRunConfig {
    ClassifierRunConfig {
        train: "embedded:sentiment/valid".into(), // 1,000 examples keep the test short
        valid: Validation::File("embedded:sentiment/test".into()),
        test: Some("embedded:sentiment/test".into()),
        format: None,
        encoding: Default::default(),
        text_column: None,
        label_column: None,
        encoder: EncoderConfig::new().with_kind(EncoderKind::Recurrent(CellKind::Gru)).with_hidden(8),
        embedding_dim: 8,
        pooling: Pooling::Last,
        ffn_hidden: Vec::new(),
        dropout: 0.0,
        min_freq: 1,
        training: TrainingConfig {
            epochs: 1,
            batch_size: 64,
            optim: OptimConfig { learning_rate: 5e-3, ..Default::default() },
            seed: 7,
            ..Default::default()
        },
        artifacts: dir.to_path_buf(),
        tokenizer: None,
        lowercase: None,
        embeddings: None,
        freeze_embeddings: false,
    }
}

#[test]
fn train_save_and_reload_reproduces_the_metrics() {
    let dir = scratch("train-classifier");
    let config = tiny_classifier(&dir);
    let device = Default::default();
    let report = train_classifier::<TestAutodiff>(&config, &device).unwrap();
    let test = report.test.expect("test scores");
    assert_eq!(test.examples, 1000);
    assert!((0.0..=1.0).contains(&test.accuracy) && (0.0..=1.0).contains(&test.macro_f1));
    for file in ["run.json", "model.json", "vocab.json", "labels.json", "model.mpk", "metrics.json"] {
        assert!(dir.join(file).exists(), "{file} written");
    }
    let saved: ClassifierReport =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(saved.test, Some(test));

    // Rebuild the model from the artifacts alone and score the test split again.
    let model_config: SequenceClassifierConfig = burn::config::Config::load(dir.join("model.json")).unwrap();
    let vocab = Vocab::load(dir.join("vocab.json")).unwrap();
    let labels = LabelMap::load(dir.join("labels.json")).unwrap();
    let model = model_config
        .init::<TestBackend>(&device)
        .load_file(dir.join("model"), &NamedMpkFileRecorder::<FullPrecisionSettings>::new(), &device)
        .unwrap();
    let Corpus::Sentiment { file, tokens } =
        read_corpus("embedded:sentiment/test", &ReadOptions::default()).unwrap().corpus
    else {
        panic!("sentiment corpus")
    };
    let items: Vec<ClassificationItem> = file
        .examples
        .iter()
        .zip(&tokens)
        .map(|(e, t)| ClassificationItem { ids: vocab.encode(t), label: labels.get(&e.label).unwrap() })
        .collect();
    let gold: Vec<usize> = items.iter().map(|i| i.label).collect();
    let again = classification_scores(&best(&model, &items, 100, &device), &gold, labels.len());
    assert_eq!(again, test, "evaluating the saved model reproduces metrics.json");

    // The `evaluate` and `predict` paths agree with it.
    let loaded = load::<TestBackend>(&dir, &device).unwrap();
    assert_eq!(evaluate(&loaded, "embedded:sentiment/test", &device).unwrap(), Evaluation::Classifier(test));
    let Loaded::Classifier(c) = &loaded else { panic!("a classifier folder") };
    let texts: Vec<String> = file.examples.iter().take(40).map(|e| e.text.clone()).collect();
    let labels: Vec<String> = c.predict(&texts, &device).unwrap().into_iter().map(|p| p.label).collect();
    let expected: Vec<String> =
        best(&model, &items[..40], 40, &device).into_iter().map(|i| c.labels.name(i).to_string()).collect();
    assert_eq!(labels, expected, "predict gives the labels evaluation scores");
    let err = evaluate(&loaded, "embedded:ner/test", &device).err().unwrap().to_string();
    assert!(err.contains("embedded:ner/test"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn ptb_tokens_and_lower_case_are_detected_recorded_and_applied_to_raw_text() {
    assert_eq!(
        seqlab_datasets::text::Tokenizer::Ptb
            .tokenize("Wow... Loved this place! I didn't \"get\" it, can't you?", true),
        [
            "wow", "...", "loved", "this", "place", "!", "i", "did", "n't", "``", "get", "''", "it", ",", "ca", "n't",
            "you", "?"
        ]
    );
    // Text already in PTB form comes back as it is.
    let ptb = "it 's a `` great '' film , is n't it ... mr. smith 's 1,000 ( or so ) fans .";
    assert_eq!(seqlab_datasets::text::Tokenizer::Ptb.tokenize(ptb, false).join(" "), ptb);

    // A tiny GLUE-style corpus, lower-cased and PTB-tokenised like SST-2.
    let dir = scratch("ptb-classifier");
    let good =
        ["i loved this place .", "a great , warm film .", "it 's wonderful and fun .", "loved it , truly great ."];
    let bad = ["i hated this place .", "it did n't work at all .", "a dull , boring mess .", "it 's awful and dull ."];
    let mut text = String::from("sentence\tlabel\n");
    for i in 0..60 {
        text += &format!("{}\t1\n{}\t0\n", good[i % 4], bad[i % 4]);
    }
    std::fs::write(dir.join("train.tsv"), &text).unwrap();
    let config = ClassifierRunConfig {
        train: dir.join("train.tsv").display().to_string(),
        valid: Validation::File(dir.join("train.tsv").display().to_string()),
        test: None,
        training: TrainingConfig {
            epochs: 2,
            batch_size: 16,
            optim: OptimConfig { learning_rate: 1e-2, ..Default::default() },
            seed: 1,
            ..Default::default()
        },
        artifacts: dir.join("run"),
        ..tiny_classifier(&dir)
    };
    let device = Default::default();
    train_classifier::<TestAutodiff>(&config, &device).unwrap();
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/run.json")).unwrap()).unwrap();
    assert_eq!(
        (run["tokenizer"].as_str(), run["lowercase"].as_bool()),
        (Some("ptb"), Some(true)),
        "detected from the data"
    );
    let loaded = load::<TestBackend>(&dir.join("run"), &device).unwrap();
    let Loaded::Classifier(c) = &loaded else { panic!("a classifier folder") };
    let raw = c
        .predict(
            &["Loved this place.".to_string(), "loved this place .".to_string(), "It DIDN'T work!".to_string()],
            &device,
        )
        .unwrap();
    assert_eq!(raw[0].tokens, ["loved", "this", "place", "."]);
    assert_eq!(
        (&raw[0].tokens, &raw[0].probabilities),
        (&raw[1].tokens, &raw[1].probabilities),
        "raw and tokenised text read alike"
    );
    assert_eq!(raw[2].tokens, ["it", "did", "n't", "work", "!"]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The predicted class of every item, batched as evaluation batches them.
fn best<B: burn::tensor::backend::Backend>(
    model: &seqlab_models::SequenceClassifier<B>,
    items: &[ClassificationItem],
    batch_size: usize,
    device: &B::Device,
) -> Vec<usize> {
    classify(model, items, batch_size, device).into_iter().map(|a| a.best).collect()
}

//! The tagger end to end on the embedded NER corpus with a tiny model: one epoch, artifacts,
//! and the saved model re-scored from the artifacts alone reproduces metrics.json.

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use seqlab_datasets::encode::tagging_items;
use seqlab_datasets::ner::{convert, TagScheme};
use seqlab_datasets::text::Vocab;
use seqlab_datasets::{read_corpus, Corpus, LabelMap, ReadOptions};
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_models::TokenClassifierConfig;
use seqlab_training::entity::{entity_scores, EntityMode};
use seqlab_training::tagger::{tag_items, train_tagger, TaggerReport, TaggerRunConfig};

use seqlab_training::inference::{evaluate, load, predict_tags, Evaluation, Loaded};

use seqlab_training::artifacts::TrainingConfig;
use seqlab_training::optim::OptimConfig;

use crate::common::*;

#[test]
fn train_save_and_rescore_the_tagger() {
    let dir = scratch("train-tagger");
    let config = TaggerRunConfig {
        train: "embedded:ner/valid".into(), // 500 sentences keep the test short
        valid: "embedded:ner/test".into(),
        test: Some("embedded:ner/test".into()),
        tag_column: None,
        file_scheme: None,
        train_scheme: TagScheme::Iobes,
        encoder: EncoderConfig::new().with_kind(EncoderKind::Lstm).with_hidden(8).with_bidirectional(true),
        embedding_dim: 8,
        casing_dim: 4,
        char_filters: 6,
        lowercase: true,
        min_freq: 1,
        dropout: 0.0,
        word_dropout: 0.5,
        training: TrainingConfig {
            epochs: 1,
            batch_size: 32,
            optim: OptimConfig { learning_rate: 1e-2, ..Default::default() },
            seed: 3,
            ..Default::default()
        },
        artifacts: dir.clone(),
    };
    let device = Default::default();
    let report = train_tagger::<TestAutodiff>(&config, &device).unwrap();
    assert_eq!(report.file_scheme, TagScheme::Iob2, "the embedded corpus is IOB2");
    let test = report.test.clone().expect("test scores");
    // The dashboard's per-epoch entity F1 reached the log and picked the kept epoch.
    let log = std::fs::read_to_string(dir.join("log.csv")).unwrap();
    let row: Vec<&str> = log.lines().nth(1).unwrap().split(',').collect();
    let f1: f64 = row[5].parse().expect("valid_entity_f1 logged");
    assert!((0.0..=1.0).contains(&f1), "{log}");
    assert_eq!(report.training.best_epoch, 1);
    assert!((0.0..=1.0).contains(&test.f1) && test.strict_f1 <= 1.0);
    let saved: TaggerReport = serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(saved.test, report.test);

    // From the artifacts alone: config, vocabulary, tags, weights.
    let model_config: TokenClassifierConfig = burn::config::Config::load(dir.join("model.json")).unwrap();
    let vocab = Vocab::load(dir.join("vocab.json")).unwrap();
    let tags = LabelMap::load(dir.join("tags.json")).unwrap();
    assert_eq!(tags.names[0], "<pad>");
    let model = model_config
        .init::<TestBackend>(&device)
        .load_file(dir.join("model"), &NamedMpkFileRecorder::<FullPrecisionSettings>::new(), &device)
        .unwrap();
    let Corpus::Tagged(gold) = read_corpus("embedded:ner/test", &ReadOptions::default()).unwrap().corpus else { panic!("tagged") };
    let mut sentences = gold.sentences.clone();
    sentences.iter_mut().for_each(|s| s.tags = convert(&s.tags, TagScheme::Iobes));
    let chars = Vocab::load(dir.join("chars.json")).expect("the character vocabulary is saved");
    let items = tagging_items(&sentences, "test".as_ref(), &vocab, &tags, true, Some(&chars)).unwrap();
    assert_eq!(items[0].chars.len(), items[0].ids.len());
    let predicted: Vec<Vec<String>> = tag_items(&model, &items, 50, &device)
        .into_iter()
        .map(|ids| convert(&ids.iter().map(|&i| tags.name(i)).collect::<Vec<_>>(), TagScheme::Iob2))
        .collect();
    assert!(predicted.iter().flatten().all(|t| t != "<pad>"), "the padding tag is never predicted");
    let gold_tags: Vec<Vec<String>> = gold.sentences.iter().map(|s| s.tags.clone()).collect();
    let again = entity_scores(&gold_tags, &predicted, EntityMode::Default);
    assert_eq!((again.precision, again.recall, again.f1), (test.precision, test.recall, test.f1));

    // `evaluate` and `predict` from the folder agree with the saved metrics.
    let loaded = load::<TestBackend>(&dir, &device).unwrap();
    assert_eq!(evaluate(&loaded, "embedded:ner/test", &device).unwrap(), Evaluation::Tagger(test));
    let Loaded::Tagger(t) = &loaded else { panic!("a tagger folder") };
    let sentence: String = gold.sentences[0].tokens.join(" ");
    let p = predict_tags(t, &[sentence], &device).remove(0);
    assert_eq!(p.tags, predicted[0], "predict gives the tags evaluation scores");
    assert_eq!(p.entities, seqlab_datasets::ner::spans(&predicted[0]));
    std::fs::remove_dir_all(dir).unwrap();
}

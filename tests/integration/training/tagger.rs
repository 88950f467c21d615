//! The tagger end to end on the embedded NER corpus with a tiny model: one epoch, artifacts,
//! and the saved model re-scored from the artifacts alone reproduces metrics.json.

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use seqlab_datasets::batch::{TaggingBatcher, TaggingItem};
use seqlab_datasets::ids::tagging_items;
use seqlab_datasets::ner::{convert, TagScheme};
use seqlab_datasets::text::Vocab;
use seqlab_datasets::Validation;
use seqlab_datasets::{read_corpus, Corpus, LabelMap, ReadOptions};
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_models::CellKind;
use seqlab_models::{CrfConfig, TokenClassifierConfig};
use seqlab_training::tagger::{train_tagger, CharEncoder, Tagger, TaggerOutput, TaggerReport, TaggerRunConfig};
use seqlab_training::{entity_scores, EntityMode};

use seqlab_training::inference::{evaluate, load, tag, Evaluation, Loaded};

use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::OptimConfig;

use crate::common::*;

/// A tiny softmax tagger with a character CNN on the embedded NER corpus: one epoch.
pub(crate) fn tiny_tagger(dir: &std::path::Path) -> TaggerRunConfig {
    TaggerRunConfig {
        train: "embedded:ner/valid".into(), // 500 sentences keep the test short
        valid: Validation::File("embedded:ner/test".into()),
        test: Some("embedded:ner/test".into()),
        tag_column: None,
        tag_names: None,
        tokens_column: None,
        tags_column: None,
        encoding: Default::default(),
        file_scheme: None,
        train_scheme: TagScheme::Iobes,
        encoder: EncoderConfig::new()
            .with_kind(EncoderKind::Recurrent(CellKind::Lstm))
            .with_hidden(8)
            .with_bidirectional(true),
        embedding_dim: 8,
        casing_dim: 4,
        char_filters: 6,
        char_encoder: CharEncoder::Cnn,
        char_hidden: 25,
        output: TaggerOutput::Softmax,
        embeddings: None,
        freeze_embeddings: false,
        tokenizer: None,
        lowercase: true,
        min_freq: 1,
        dropout: 0.0,
        word_dropout: 0.5,
        loss_mean: seqlab_training::tagger::LossMean::Token,
        drop_vector_words: false,
        training: TrainingConfig {
            epochs: 1,
            batch_size: 32,
            optim: OptimConfig { learning_rate: 1e-2, ..Default::default() },
            seed: 3,
            ..Default::default()
        },
        artifacts: dir.to_path_buf(),
    }
}

#[test]
fn train_save_and_rescore_the_tagger() {
    let dir = scratch("train-tagger");
    let config = tiny_tagger(&dir);
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
    let saved: TaggerReport =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
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
    let Corpus::Tagged(gold) = read_corpus("embedded:ner/test", &ReadOptions::default()).unwrap().corpus else {
        panic!("tagged")
    };
    let mut sentences = gold.sentences.clone();
    sentences.iter_mut().for_each(|s| s.tags = convert(&s.tags, TagScheme::Iobes));
    let chars = Vocab::load(dir.join("chars.json")).expect("the character vocabulary is saved");
    let items = tagging_items(&sentences, "test".as_ref(), &vocab, &tags, true, Some(&chars)).unwrap();
    assert_eq!(items[0].chars.len(), items[0].ids.len());
    let predicted: Vec<Vec<String>> = tag(&model, &items, 50, &device)
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
    let p = t.predict(&[sentence], 0, &device).unwrap().remove(0);
    assert_eq!(p.tags, predicted[0], "predict gives the tags evaluation scores");
    assert_eq!(
        p.entities.iter().map(|e| e.span.clone()).collect::<Vec<_>>(),
        seqlab_datasets::ner::spans(&predicted[0])
    );
    assert!(p.entities.iter().all(|e| e.confidence > 0.0 && e.confidence <= 1.0));
    assert!(t.predict(&["a b".to_string()], 2, &device).is_err(), "--nbest needs a CRF");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A word-vector file for the tests: a few vectors of words of the embedded NER corpus (in
/// lower case, as GloVe), one word that only the test split has, and a word2vec header.
fn write_vectors(path: &std::path::Path, words: &[&str], dim: usize) {
    let mut text = format!("{} {dim}\n", words.len());
    for (i, w) in words.iter().enumerate() {
        let row: Vec<String> = (0..dim).map(|d| format!("{:.3}", ((i * 7 + d * 3) % 11) as f32 / 10.0 - 0.5)).collect();
        text += &format!("{w} {}\n", row.join(" "));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn crf_tagger_with_vectors_and_character_bilstm() {
    let dir = scratch("train-tagger-crf");
    let Corpus::Tagged(train) = read_corpus("embedded:ner/valid", &ReadOptions::default()).unwrap().corpus else {
        panic!("tagged")
    };
    let Corpus::Tagged(test) = read_corpus("embedded:ner/test", &ReadOptions::default()).unwrap().corpus else {
        panic!("tagged")
    };
    let train_words: std::collections::HashSet<String> =
        train.sentences.iter().flat_map(|s| s.tokens.iter().map(|t| t.to_lowercase())).collect();
    let test_only = test
        .sentences
        .iter()
        .flat_map(|s| &s.tokens)
        .map(|t| t.to_lowercase())
        .find(|t| !train_words.contains(t))
        .expect("a test word unseen in training");
    let known = train.sentences[0].tokens[0].to_lowercase();
    let vectors = dir.join("vectors.txt");
    write_vectors(&vectors, &[&known, &test_only, "zzz-not-in-the-corpus"], 6);
    let config = TaggerRunConfig {
        embedding_dim: 0, // from the vectors
        char_filters: 0,
        char_encoder: CharEncoder::Lstm,
        char_hidden: 5,
        output: TaggerOutput::Crf,
        embeddings: Some(vectors.clone()),
        freeze_embeddings: true,
        word_dropout: 0.0,
        training: TrainingConfig { epochs: 2, ..tiny_tagger(&dir).training },
        ..tiny_tagger(&dir.join("run"))
    };
    let device = Default::default();
    let report = train_tagger::<TestAutodiff>(&config, &device).unwrap();
    let run = dir.join("run");
    let test_scores = report.test.clone().unwrap();
    assert!(test_scores.f1 > 0.3, "two epochs of a CRF tagger learn something: {test_scores:?}");
    // One number per metric: the kept epoch's validation entity F1 is the same fraction in
    // log.csv, progress.json and metrics.json (a CRF's paths are well-formed, so counting over
    // a batch's joined sentences equals counting sentence by sentence).
    let log = std::fs::read_to_string(run.join("log.csv")).unwrap();
    let best = report.training.best_epoch;
    let row: Vec<String> = log.lines().nth(best).unwrap().split(',').map(String::from).collect();
    let logged: f64 = row[5].parse().unwrap();
    assert!((logged - report.valid.f1).abs() < 1e-6, "log.csv {logged} vs metrics.json {}", report.valid.f1);
    let progress = seqlab_training::epochs::Progress::load(&run).unwrap().unwrap();
    assert!(
        (progress.best_value.unwrap() - report.valid.f1).abs() < 1e-9,
        "progress.json {:?} vs {}",
        progress.best_value,
        report.valid.f1
    );

    // The vocabulary took the test-only word, whose frozen row is its vector exactly.
    let vocab = Vocab::load(run.join("vocab.json")).unwrap();
    let id = vocab.get(&test_only).expect("a test word with a vector joins the vocabulary");
    assert!(vocab.get("zzz-not-in-the-corpus").is_none(), "words of no split stay out");
    let report_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("embeddings.json")).unwrap()).unwrap();
    assert_eq!((report_json["dim"].as_u64(), report_json["added"].as_u64()), (Some(6), Some(1)));
    assert!(report_json["coverage"]["test"]["tokens"].as_f64().unwrap() > 0.0);
    let model_config: TokenClassifierConfig = burn::config::Config::load(run.join("model.json")).unwrap();
    assert_eq!(model_config.embedding_dim, 6, "the width comes from the file");
    let loaded = load::<TestBackend>(&run, &device).unwrap();
    let Loaded::Tagger(t) = &loaded else { panic!("a tagger folder") };
    let row: Vec<f32> =
        t.model.embedding.weight.val().slice([id..id + 1]).into_data().convert::<f32>().to_vec().unwrap();
    let expected: Vec<f32> =
        (0..6).map(|d| format!("{:.3}", ((7 + d * 3) % 11) as f32 / 10.0 - 0.5).parse().unwrap()).collect();
    assert_eq!(row, expected, "frozen pretrained row, saved and reloaded");

    // Decoded paths never break the scheme; evaluate reproduces the test scores.
    assert_eq!(evaluate(&loaded, "embedded:ner/test", &device).unwrap(), Evaluation::Tagger(test_scores));
    let sentences: Vec<String> = test.sentences.iter().take(20).map(|s| s.tokens.join(" ")).collect();
    let predictions = t.predict(&sentences, 3, &device).unwrap();
    for p in &predictions {
        assert!(seqlab_datasets::ner::validate(&p.tags, TagScheme::Iob2).is_empty(), "{:?}", p.tags);
        assert!(p.entities.iter().all(|e| e.confidence > 0.0 && e.confidence <= 1.0 + 1e-9));
        assert!(!p.alternatives.is_empty() && p.alternatives.len() <= 3);
        assert_eq!(p.alternatives[0].tags, p.tags, "the best alternative is the Viterbi path");
        assert!(p.alternatives.windows(2).all(|w| w[0].probability >= w[1].probability));
        assert!(p.alternatives.iter().map(|a| a.probability).sum::<f64>() <= 1.0 + 1e-9);
    }
    // An empty sentence gives an empty answer.
    let empty = t.predict(&[String::new()], 2, &device).unwrap().remove(0);
    assert!(empty.tags.is_empty() && empty.entities.is_empty());

    // An --embedding-dim that contradicts the file is an error naming both.
    let wrong = TaggerRunConfig { embedding_dim: 8, artifacts: dir.join("wrong"), ..config.clone() };
    let err = train_tagger::<TestAutodiff>(&wrong, &device).unwrap_err().to_string();
    assert!(err.contains("--embedding-dim 8") && err.contains("6-dimensional") && err.contains("vectors.txt"), "{err}");
    let no_hidden = TaggerRunConfig { char_hidden: 0, artifacts: dir.join("no-hidden"), ..config.clone() };
    let err = train_tagger::<TestAutodiff>(&no_hidden, &device).unwrap_err().to_string();
    assert!(err.contains("--char-hidden"), "{err}");
    let missing = TaggerRunConfig { embeddings: Some(dir.join("nope.txt")), artifacts: dir.join("missing"), ..config };
    let err = train_tagger::<TestAutodiff>(&missing, &device).unwrap_err().to_string();
    assert!(err.contains("nope.txt"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Folders written before the CRF, vectors and character BiLSTM existed still load, score
/// as they did (metrics.json) and predict as they did (tests/fixtures/artifacts-v0/README.md).
/// The reference values were computed on ndarray; an untrained model's near-ties can fall
/// the other way on another backend (seen on wgpu on an H200), so the test runs on ndarray.
#[test]
#[cfg(all(feature = "ndarray", not(feature = "wgpu")))]
fn artifacts_of_older_runs_still_load_and_answer_the_same() {
    let device = Default::default();
    let dir = std::path::PathBuf::from(fixture_path("artifacts-v0/tagger"));
    let loaded = load::<TestBackend>(&dir, &device).unwrap();
    let saved: TaggerReport =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let Evaluation::Tagger(now) = evaluate(&loaded, "embedded:ner/test", &device).unwrap() else { panic!("a tagger") };
    let then = saved.test.unwrap();
    // Token accuracy is counted in the training scheme now (IOBES here), as the epoch line
    // counts it; a token right in IOBES is right in the file's IOB2, so it can only be lower.
    assert_eq!(seqlab_training::tagger::TaggerScores { token_accuracy: then.token_accuracy, ..now.clone() }, then);
    assert!(now.token_accuracy <= then.token_accuracy, "{} > {}", now.token_accuracy, then.token_accuracy);
    let Loaded::Tagger(t) = &loaded else { panic!("a tagger folder") };
    assert!(t.model.crf.is_none() && t.model.char_lstm.is_none());
    let p = t.predict(&["John lives in Paris".to_string()], 0, &device).unwrap().remove(0);
    assert_eq!(p.tags, ["B-PER", "B-PER", "B-PER", "B-PER"]);

    let dir = std::path::PathBuf::from(fixture_path("artifacts-v0/classifier"));
    let loaded = load::<TestBackend>(&dir, &device).unwrap();
    let Loaded::Classifier(c) = &loaded else { panic!("a classifier folder") };
    let p = c.predict(&["a great film".to_string()], &device).unwrap().remove(0);
    assert_eq!(p.tokens, ["a", "great", "film"]);
    assert!(
        (p.probabilities[0].1 - 0.59553134).abs() < 1e-6 && (p.probabilities[1].1 - 0.40446863).abs() < 1e-6,
        "{:?}",
        p.probabilities
    );
}

#[test]
fn tagger_sizes_that_cannot_fit_are_refused_by_option() {
    let device = Default::default();
    let base = tiny_tagger(&scratch("tagger-sizes").join("never-written"));
    let cases = [
        (TaggerRunConfig { char_filters: 1_000_000_000, ..base.clone() }, "--char-filters: training would need about"),
        (TaggerRunConfig { encoder: base.encoder.clone().with_hidden(100_000_000), ..base.clone() }, "--hidden"),
        (TaggerRunConfig { embedding_dim: 100_000_000, ..base.clone() }, "--embedding-dim"),
    ];
    for (config, expected) in cases {
        let err = train_tagger::<TestAutodiff>(&config, &device).unwrap_err().to_string();
        assert!(err.contains(expected) && err.contains("more than this machine's"), "{expected}: {err}");
    }
}

/// A CRF tagger of seeded weights over 12 words and 5 tags, and a batch of a 1-token and a
/// 5-token sentence.
fn crf_tagger_and_items() -> (Tagger<TestAutodiff>, Vec<TaggingItem>) {
    let device = Default::default();
    seqlab_training::learner::seed::<TestAutodiff>(&device, 7);
    let net = TokenClassifierConfig::new(12, 5)
        .with_embedding_dim(6)
        .with_crf(Some(CrfConfig::new(5)))
        .init::<TestAutodiff>(&device);
    let items = vec![
        TaggingItem { ids: vec![3], features: vec![], chars: vec![], tags: vec![1] },
        TaggingItem { ids: vec![4, 5, 6, 7, 2], features: vec![], chars: vec![], tags: vec![1, 2, 2, 3, 4] },
    ];
    (Tagger { net, word_dropout: 0.0, rare_from: 12, kept_words: None, per_sentence: false }, items)
}

/// The loss and the terms it is a mean over, of `tagger` on `items`.
fn loss_of(tagger: &Tagger<TestAutodiff>, items: &[TaggingItem]) -> (f32, usize) {
    let batch = TaggingBatcher.batch(items.to_vec(), &Default::default());
    let terms = tagger.loss_terms(&batch);
    (tagger.forward_tagging(batch).loss.into_scalar(), terms)
}

#[test]
fn the_tagger_loss_is_a_mean_over_tokens_or_over_sentences() {
    let (tagger, items) = crf_tagger_and_items();
    let (by_token, tokens) = loss_of(&tagger, &items);
    // Cloned after the first forward pass drew the (lazily initialised) weights: the same ones.
    let (by_sentence, sentences) = loss_of(&Tagger { per_sentence: true, ..tagger.clone() }, &items);
    assert_eq!((tokens, sentences), (6, 2), "the terms each mean divides by");
    assert!(by_token > 0.0, "a negative log-likelihood: {by_token}");
    // The same summed negative log-likelihood, divided by 6 tokens or by 2 sentences.
    assert!((by_token * 6.0 - by_sentence * 2.0).abs() < 1e-4, "{by_token} × 6 against {by_sentence} × 2");
}

#[test]
fn word_dropout_keeps_the_words_that_have_pretrained_vectors() {
    let (tagger, items) = crf_tagger_and_items();
    let (whole, _) = loss_of(&tagger, &items);
    // Word dropout certain to drop every word from id 3 on (in training: an autodiff backend).
    let dropping = Tagger { word_dropout: 1.0, rare_from: 3, ..tagger.clone() };
    let (dropped, _) = loss_of(&dropping, &items);
    assert!((dropped - whole).abs() > 1e-4, "dropping the words changes the loss: {dropped} against {whole}");
    // Words 3…7 have vectors: none is dropped, the loss is the whole batch's.
    let device = Default::default();
    let found = [false, false, true, true, true, true, true, true, false, false, false, false];
    let kept = seqlab_training::tagger::model::kept_words::<TestAutodiff>(&found, &device);
    let (kept_loss, _) = loss_of(&Tagger { kept_words: Some(kept), ..dropping.clone() }, &items);
    assert_eq!(kept_loss, whole, "words with vectors are never dropped");
    // Only word 3 has one: the others drop, as without vectors (the same <unk> everywhere else).
    let found = [false, false, false, true, false, false, false, false, false, false, false, false];
    let kept = seqlab_training::tagger::model::kept_words::<TestAutodiff>(&found, &device);
    let (some, _) = loss_of(&Tagger { kept_words: Some(kept), ..dropping }, &items);
    assert!(some != whole && some != dropped, "one word kept: {some} (whole {whole}, all dropped {dropped})");
}

/// The numbers of an epoch agree: `log.csv`'s validation accuracy is `metrics.json`'s token
/// accuracy for the kept epoch (one definition: the training scheme's tags of the decoded
/// paths), and its learning rate is the mean over the epoch's steps (what the epoch's line
/// shows), here the first half of a cosine decay, lr · (1/2 + 1/π) to within the steps' grain.
#[test]
fn an_epochs_figures_agree_between_the_line_log_csv_and_metrics_json() {
    let dir = scratch("figures-agree");
    let base = tiny_tagger(&dir);
    let optim = OptimConfig { schedule: seqlab_training::optim::ScheduleKind::Cosine, ..base.training.optim.clone() };
    let training = TrainingConfig { epochs: 2, optim, ..base.training.clone() };
    let config = TaggerRunConfig { output: TaggerOutput::Crf, training, ..base };
    let report = train_tagger::<TestAutodiff>(&config, &Default::default()).unwrap();
    let log = std::fs::read_to_string(dir.join("log.csv")).unwrap();
    let rows: Vec<Vec<f64>> =
        log.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap_or(f64::NAN)).collect()).collect();
    let kept = &rows[report.training.best_epoch - 1];
    assert!(
        (kept[4] - report.valid.token_accuracy).abs() < 1e-6,
        "log.csv {} against metrics.json {}",
        kept[4],
        report.valid.token_accuracy
    );
    let lr = config.training.optim.learning_rate;
    let expected = lr * (0.5 + 1.0 / std::f64::consts::PI);
    assert!((rows[0][6] - expected).abs() < 0.03 * lr, "epoch 1's mean rate {} against {expected}", rows[0][6]);
    // The printed line is made from the same figures, in log.csv's units.
    let (train, valid) = (
        [("Accuracy".to_string(), 0.9065), ("Learning Rate".to_string(), 1.993e-3), ("Loss".to_string(), 3.2468)]
            .into(),
        [("Accuracy".to_string(), 0.954344), ("Entity F1".to_string(), 0.76119)].into(),
    );
    let line = seqlab_training::epochs::log::EpochLine {
        epoch: 1,
        train: &train,
        valid: &valid,
        rate: 1.993e-3,
        seconds: 9.25,
        examples: 14041,
    };
    assert_eq!(
        line.text(15),
        "epoch 1/15  train: Accuracy 0.9065, Learning Rate 1.993e-3, Loss 3.2468 | valid: Accuracy 0.9543, Entity F1 0.7612  (9.2 s)"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

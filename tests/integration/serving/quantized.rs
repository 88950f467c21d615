//! `quantize`: the int8 folder is a quarter of the size, loads like any other, and answers as
//! the f32 model wherever the f32 model's margin is wider than int8's rounding; a layer in int8
//! stays within a fixed distance of its f32 outputs for every cell kind; what cannot be done
//! is refused by name.

use burn::tensor::{Distribution, Tensor};
use seqlab_models::{CellKind, RecurrentConfig};
use seqlab_training::backend;
use seqlab_training::inference::Loaded;

use super::{classifier_dir, crf_tagger_dir};
use crate::common::embedded_text;
use crate::common::*;

/// Bytes of the files a model is loaded from.
fn model_bytes(dir: &std::path::Path) -> u64 {
    ["model.mpk", "model.int8.safetensors", "model.json", "vocab.json", "tags.json", "labels.json", "chars.json"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

#[test]
fn an_int8_tagger_folder_loads_and_tags_as_the_f32_one() {
    let device = Default::default();
    let source = crf_tagger_dir();
    let out = scratch("quantized-tagger").join("int8");
    let written = backend::quantize(&source, &out, &device).expect("quantize");
    // (This tiny model has no matrix large enough to be stored in int8, the default shapes'
    // sizes are checked below; its recurrent layers compute in int8 all the same.)
    assert_eq!(written.bytes_after, model_bytes(&out));
    assert!(out.join("manifest.json").exists());
    let config = std::fs::read_to_string(out.join("model.json")).unwrap();
    assert!(config.contains("\"precision\": \"int8\""), "model.json records the precision");
    assert!(!out.join("model.mpk").exists(), "no f32 weights in the int8 folder");

    let (f32_model, int8_model) = (backend::load(&source, &device).unwrap(), backend::load(&out, &device).unwrap());
    let (Loaded::Tagger(a), Loaded::Tagger(b)) = (&f32_model, &int8_model) else { panic!("taggers") };
    let sentences: Vec<String> = embedded_text("ner/test")
        .split("\n\n")
        .map(|s| s.lines().filter_map(|l| l.split_whitespace().next()).collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect();
    let (want, got) = (
        backend::predict_tags(a, &sentences, 0, &device).unwrap(),
        backend::predict_tags(b, &sentences, 0, &device).unwrap(),
    );
    let same = want.iter().zip(&got).filter(|(w, g)| w.tags == g.tags).count();
    assert!(same * 100 >= sentences.len() * 99, "{same} of {} sentences tagged alike", sentences.len());
    let scores = |l: &Loaded<backend::Inner>| match backend::evaluate(l, "embedded:ner/test", &device).unwrap() {
        seqlab_training::inference::Evaluation::Tagger(s) => s.f1,
        _ => panic!("a tagger's scores"),
    };
    let (f1_f32, f1_int8) = (scores(&f32_model), scores(&int8_model));
    assert!((f1_f32 - f1_int8).abs() <= 0.003, "entity F1 {f1_f32} in f32, {f1_int8} in int8");
}

/// The default tagger's and classifier's shapes (20,000 words): the int8 weights file is at
/// least 3 times smaller than their f32 values, and loads back within half a quantisation step
/// of every weight (at most `max|w| / 254`).
#[test]
fn int8_files_of_the_default_shapes_are_a_third_of_their_f32_size_or_less() {
    use burn::module::Module;
    use seqlab_models::heads::EncoderConfig;
    use seqlab_models::quantize::{int8_file, load_int8_file};
    use seqlab_models::{SequenceClassifierConfig, TokenClassifierConfig};

    let device = Default::default();
    let floats = |t: Tensor<TestBackend, 2>| t.into_data().to_vec::<f32>().unwrap();
    let check = |what: &str, f32_bytes: usize, file_bytes: usize, before: Vec<f32>, after: Vec<f32>| {
        assert!(3 * file_bytes <= f32_bytes, "{what}: {file_bytes} bytes in int8 against {f32_bytes} in f32");
        let largest = before.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        let worst = before.iter().zip(&after).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(
            worst > 0.0 && worst <= largest / 254.0 * 1.0001,
            "{what}: a weight moved by {worst} (largest {largest})"
        );
    };

    let tagger_config = TokenClassifierConfig::new(20_000, 18);
    let tagger = tagger_config.init::<TestBackend>(&device);
    let file = int8_file(&tagger);
    let back = load_int8_file(tagger_config.init::<TestBackend>(&device), &file).unwrap();
    let embedding = |m: &seqlab_models::TokenClassifier<TestBackend>| floats(m.embedding.weight.val());
    check("tagger embedding", 4 * tagger.num_params(), file.len(), embedding(&tagger), embedding(&back));

    let classifier_config =
        SequenceClassifierConfig::new(20_000, 2).with_encoder(EncoderConfig::new().with_hidden(256).with_layers(2));
    let classifier = classifier_config.init::<TestBackend>(&device);
    let file = int8_file(&classifier);
    let back = load_int8_file(classifier_config.init::<TestBackend>(&device), &file).unwrap();
    let w_hh = |m: &seqlab_models::SequenceClassifier<TestBackend>| {
        floats(m.encoder.recurrent.as_ref().unwrap().weights[1].weight_hh.val())
    };
    check("classifier W_hh", 4 * classifier.num_params(), file.len(), w_hh(&classifier), w_hh(&back));
}

#[test]
fn an_int8_classifier_labels_as_the_f32_one_where_its_margin_allows() {
    let device = Default::default();
    let out = scratch("quantized-classifier").join("int8");
    backend::quantize(&classifier_dir(), &out, &device).expect("quantize the v0 classifier");
    let (Loaded::Classifier(a), Loaded::Classifier(b)) =
        (backend::load(&classifier_dir(), &device).unwrap(), backend::load(&out, &device).unwrap())
    else {
        panic!("classifiers")
    };
    let texts: Vec<String> =
        embedded_text("sentiment/test").lines().skip(1).map(|l| l.split('\t').next().unwrap().to_string()).collect();
    let (want, got) =
        (backend::predict_labels(&a, &texts, &device).unwrap(), backend::predict_labels(&b, &texts, &device).unwrap());
    let mut worst = 0.0f32;
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        let margin = w.probabilities.iter().map(|(_, p)| (p - 0.5).abs()).fold(0.0, f32::max);
        for ((_, p), (_, q)) in w.probabilities.iter().zip(&g.probabilities) {
            worst = worst.max((p - q).abs());
        }
        if margin > 0.05 {
            assert_eq!(w.label, g.label, "text {i} (margin {margin}): {:?}", texts[i]);
        }
    }
    assert!(worst <= 0.05, "probabilities differ by up to {worst}");
}

/// Every cell kind, two bidirectional layers, a padded batch: the int8 layer's outputs and
/// final states lie within 0.05 of the f32 layer's (outputs of tanh-bounded cells; a gate
/// block in the wrong place or a wrong scale gives differences of order 1).
#[test]
fn int8_layers_stay_near_their_f32_outputs() {
    let device = Default::default();
    for cell in [CellKind::RnnTanh, CellKind::Lstm, CellKind::Gru] {
        let layer =
            RecurrentConfig::new(cell, 48, 40).with_num_layers(2).with_bidirectional(true).init::<TestBackend>(&device);
        let x = Tensor::<TestBackend, 3>::random([6, 9, 48], Distribution::Normal(0.0, 1.0), &device);
        let lengths = int_tensor::<TestBackend>(&[9, 3, 7, 1, 9, 5], &device);
        let want = layer.forward(x.clone(), Some(lengths.clone()), None);
        let got = layer.clone().quantize_int8().forward(x, Some(lengths), None);
        let diff = |a: Vec<f32>, b: Vec<f32>| a.iter().zip(&b).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        let output = diff(values(&want.output), values(&got.output));
        let hidden = diff(values(&want.state.hidden), values(&got.state.hidden));
        assert!(output <= 0.05 && hidden <= 0.05, "{cell:?}: outputs differ by {output}, final states by {hidden}");
        assert!(output > 0.0, "{cell:?}: the int8 path ran (its rounding shows)");
        // Padded positions stay exactly zero.
        let padded = values(&got.output);
        assert!(padded[(3 * 9 + 4) * 80..(3 * 9 + 5) * 80].iter().all(|&v| v == 0.0), "{cell:?}: padding");
    }
}

#[test]
fn quantize_refuses_an_existing_folder_and_an_int8_model() {
    let device = Default::default();
    let dir = scratch("quantize-refusals");
    let err = backend::quantize(&classifier_dir(), &dir, &device).unwrap_err().to_string();
    assert!(err.contains("exists") && err.contains("out"), "{err}");
    let once = dir.join("int8");
    backend::quantize(&classifier_dir(), &once, &device).unwrap();
    let err = backend::quantize(&once, &dir.join("again"), &device).unwrap_err().to_string();
    assert!(err.contains("already holds an int8 model"), "{err}");
    assert!(!dir.join("again").exists());
    // A damaged weights file: refused by the manifest's checksum, naming the file.
    let weights = once.join("model.int8.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&weights, bytes).unwrap();
    let err = backend::load(&once, &device).err().expect("a damaged file is refused").to_string();
    assert!(err.contains("model.int8.safetensors"), "{err}");
}

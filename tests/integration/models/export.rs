//! Exporting to PyTorch: every recurrent cell's tensors round-trip through a safetensors file
//! and `load_pytorch` bit for bit, and exported models computed by PyTorch
//! (tests/fixtures/export/make_fixture.py, scripts/pytorch_from_export.py) give seqlab's outputs.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use seqlab_models::export::safetensors_bytes;
use seqlab_models::import::SafeTensors;
use seqlab_models::{CellKind, RecurrentConfig};
use seqlab_training::export::Format;
use seqlab_training::inference::{load, Loaded};

use crate::common::*;

#[test]
fn recurrent_tensors_round_trip_through_safetensors_bit_for_bit() {
    let device = Default::default();
    for (cell, gates) in [(CellKind::Lstm, 4), (CellKind::Gru, 3), (CellKind::RnnTanh, 1)] {
        let config = RecurrentConfig::new(cell, 3, 4).with_num_layers(2).with_bidirectional(true);
        let layer = config.init::<TestBackend>(&device);
        let tensors = layer.pytorch_tensors("rnn.");
        assert_eq!(tensors["rnn.weight_ih_l0"].shape, vec![gates * 4, 3], "PyTorch's [gates·H, H_in]");
        assert_eq!(tensors["rnn.weight_ih_l1_reverse"].shape, vec![gates * 4, 8]);
        assert_eq!(tensors["rnn.bias_hh_l1_reverse"].shape, vec![gates * 4]);
        assert_eq!(tensors.len(), 16);
        let metadata = [("model".to_string(), "test".to_string())].into_iter().collect();
        let parsed = SafeTensors::parse(&safetensors_bytes(&tensors, &metadata)).unwrap();
        let fresh = config.init::<TestBackend>(&device).load_pytorch(&parsed, "rnn.").unwrap();
        let flat = |m: &seqlab_models::Recurrent<TestBackend>| -> Vec<Vec<u32>> {
            m.weights
                .iter()
                .flat_map(|w| {
                    let mut v = vec![values(&w.weight_ih.val()), values(&w.weight_hh.val())];
                    v.extend(w.bias_ih.iter().chain(&w.bias_hh).map(|b| values(&b.val())));
                    v
                })
                .map(|t| t.iter().map(|x| x.to_bits()).collect())
                .collect()
        };
        assert_eq!(flat(&layer), flat(&fresh), "{cell:?}: bit for bit");
    }
}

fn ints<const D: usize>(
    value: &serde_json::Value,
    shape: [usize; D],
    device: &burn::tensor::Device<TestBackend>,
) -> Tensor<TestBackend, D, Int> {
    fn flatten(v: &serde_json::Value, out: &mut Vec<i64>) {
        match v {
            serde_json::Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
            other => out.push(other.as_i64().unwrap()),
        }
    }
    let mut flat = Vec::new();
    flatten(value, &mut flat);
    Tensor::from_data(TensorData::new(flat, shape), device)
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    match value {
        serde_json::Value::Array(items) => items.iter().flat_map(floats).collect(),
        other => vec![other.as_f64().unwrap() as f32],
    }
}

#[test]
fn exported_models_give_seqlabs_outputs_in_pytorch() {
    let device = Default::default();
    let scratch_dir = scratch("export");
    for name in ["classifier", "tagger", "tagger-lstm"] {
        let folder = std::path::PathBuf::from(fixture_path(&format!("export/{name}")));
        // The committed file is what the exporter writes today.
        let out = scratch_dir.join(format!("{name}.safetensors"));
        seqlab_training::export::export::<TestBackend>(&folder, &out, Format::Safetensors, &device).unwrap();
        let committed = std::fs::read(fixture_path(&format!("export/{name}.safetensors"))).unwrap();
        assert!(
            std::fs::read(&out).unwrap() == committed,
            "{name}: the exporter's output changed; rerun make_fixture.py"
        );

        let read = |file: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(fixture_path(&format!("export/{file}"))).unwrap()).unwrap()
        };
        let inputs = read(&format!("inputs-{name}.json"));
        let expected = floats(&read(&format!("pytorch-{name}.json"))["outputs"]);
        let lengths_vec: Vec<usize> =
            inputs["lengths"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let (n, l) = (lengths_vec.len(), *lengths_vec.iter().max().unwrap());
        let tokens = ints(&inputs["tokens"], [n, l], &device);
        let lengths = int_tensor(&lengths_vec, &device);
        match load::<TestBackend>(&folder, &device).unwrap() {
            Loaded::Classifier(c) => {
                let logits = values(&c.model.forward(tokens, Some(lengths)));
                assert_close(&logits, &expected, 1e-5, &format!("{name} logits"));
            }
            Loaded::Tagger(t) => {
                let features: Vec<Tensor<TestBackend, 2, Int>> =
                    inputs["features"].as_array().unwrap().iter().map(|f| ints(f, [n, l], &device)).collect();
                let width = inputs["chars"][0][0].as_array().unwrap().len();
                let chars = ints(&inputs["chars"], [n, l, width], &device);
                let scores = t.model.forward(tokens, features, Some(chars), Some(lengths));
                let tags = scores.dims()[2];
                let got = values(&scores);
                // Compare the real positions only (PyTorch's rows past a length are zeros).
                let real = |v: &[f32]| -> Vec<f32> {
                    (0..n).flat_map(|i| v[i * l * tags..(i * l + lengths_vec[i]) * tags].to_vec()).collect()
                };
                assert_close(&real(&got), &real(&expected), 1e-5, &format!("{name} tag scores"));
                assert!(t.model.num_params() > 0);
            }
        }
    }
}

#[test]
fn export_replaces_only_regular_files_and_never_the_artifacts_own() {
    use std::os::unix::fs::FileTypeExt;
    let device = Default::default();
    let dir = scratch("export-targets");
    let fixture = std::path::PathBuf::from(fixture_path("export/classifier"));
    let expected = std::fs::read(fixture_path("export/classifier.safetensors")).unwrap();
    let export = |artifacts: &std::path::Path, out: &std::path::Path| {
        seqlab_training::export::export::<TestBackend>(artifacts, out, Format::Safetensors, &device)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    // A device is written into, never replaced by a regular file.
    export(&fixture, std::path::Path::new("/dev/null")).unwrap();
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    // A link is followed: its target gets the weights, the link stays a link.
    let target = dir.join("target.safetensors");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.join("link.safetensors");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    export(&fixture, &link).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), expected);
    // A named pipe receives the bytes.
    let fifo = dir.join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    export(&fixture, &fifo).unwrap();
    assert_eq!(reader.join().unwrap(), expected);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // A folder, a dangling link and the artifacts' own files are refused by option.
    let err = export(&fixture, &dir).unwrap_err();
    assert!(err.starts_with("--out: ") && err.contains("is a folder"), "{err}");
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
    assert!(export(&fixture, &dangling).unwrap_err().contains("link to a missing file"));
    let own = dir.join("own");
    std::fs::create_dir_all(&own).unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), own.join(entry.file_name())).unwrap();
    }
    let weights = std::fs::read(own.join("model.mpk")).unwrap();
    let err = export(&own, &own.join("model.mpk")).unwrap_err();
    assert!(err.contains("--out") && err.contains("artifacts' own"), "{err}");
    assert_eq!(std::fs::read(own.join("model.mpk")).unwrap(), weights, "the weights are untouched");
}

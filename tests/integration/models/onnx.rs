//! `export --format onnx`: which file a name and a format give, what the written graph declares
//! and holds, and what is refused. The graph's numbers are checked by onnxruntime against
//! PyTorch and against `predict` (bindings/python/tests/test_onnx.py, scripts/onnx-check.py).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::ModelProto;
use protobuf::Message;
use seqlab_training::backend;
use seqlab_training::export::{export, Format};
use seqlab_training::inference::{load, Loaded};

use crate::common::*;

fn written(artifacts: &Path, name: &str) -> ModelProto {
    let out = scratch("onnx-export").join(name);
    export::<TestBackend>(artifacts, &out, Format::Onnx, &Default::default()).expect("export");
    ModelProto::parse_from_bytes(&std::fs::read(&out).unwrap()).expect("a protobuf ModelProto")
}

fn names(values: &[onnx_protobuf::ValueInfoProto]) -> Vec<&str> {
    values.iter().map(|v| v.name.as_str()).collect()
}

#[test]
fn the_format_follows_the_file_name_and_a_contradiction_is_refused() {
    let resolve = |format, out: &str| Format::resolve(format, Path::new(out)).map_err(|e| e.to_string());
    assert_eq!(resolve(None, "model.onnx"), Ok(Format::Onnx));
    assert_eq!(resolve(None, "MODEL.ONNX"), Ok(Format::Onnx));
    assert_eq!(resolve(None, "model.safetensors"), Ok(Format::Safetensors));
    assert_eq!(resolve(None, "model.bin"), Ok(Format::Safetensors), "safetensors stays the default");
    assert_eq!(resolve(Some(Format::Onnx), "model.bin"), Ok(Format::Onnx));
    let err = resolve(Some(Format::Safetensors), "model.onnx").unwrap_err();
    assert_eq!(
        err,
        "--format: --format safetensors, but the name model.onnx says onnx; give one of the two, or make them agree"
    );
    assert!(resolve(Some(Format::Onnx), "weights.safetensors").is_err());
}

#[test]
fn each_model_is_one_graph_with_its_inputs_outputs_labels_and_every_weight_once() {
    let device = Default::default();
    let fixture = |name: &str| PathBuf::from(fixture_path(&format!("export/{name}")));
    let cases = [
        ("classifier", vec!["words", "lengths"], vec!["label", "probabilities"]),
        ("tagger", vec!["words", "casing", "chars", "lengths"], vec!["tags", "emissions"]),
        ("tagger-lstm", vec!["words", "casing", "chars", "lengths"], vec!["tags", "probabilities"]),
    ];
    for (name, inputs, outputs) in cases {
        let model = written(&fixture(name), &format!("{name}.onnx"));
        assert_eq!(model.opset_import.len(), 1);
        assert_eq!((model.opset_import[0].domain.as_str(), model.opset_import[0].version), ("", 17));
        let graph = model.graph.as_ref().expect("a graph");
        assert_eq!(names(&graph.input), inputs, "{name}");
        assert_eq!(names(&graph.output), outputs, "{name}");
        let meta: BTreeMap<&str, &str> =
            model.metadata_props.iter().map(|p| (p.key.as_str(), p.value.as_str())).collect();
        let labels: Vec<String> = serde_json::from_str(meta["labels"]).unwrap();
        let (params, label_file) = match load::<TestBackend>(&fixture(name), &device).unwrap() {
            Loaded::Classifier(c) => (c.model.num_params(), "labels.json"),
            Loaded::Tagger(t) => (t.model.num_params(), "tags.json"),
        };
        let names_file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture(name).join(label_file)).unwrap()).unwrap();
        assert_eq!(serde_json::to_value(&labels).unwrap(), names_file["names"], "{name}: labels by id");
        // Every parameter is a float (or, for the CRF, double) initializer, and nothing else is.
        let weights: usize = graph
            .initializer
            .iter()
            .filter(|t| [DataType::FLOAT as i32, DataType::DOUBLE as i32].contains(&t.data_type))
            .filter(|t| !t.dims.is_empty())
            .map(|t| t.dims.iter().product::<i64>() as usize)
            .sum();
        assert_eq!(weights, params, "{name}: every weight once");
    }
}

#[test]
fn a_crf_taggers_graph_decodes_with_viterbi_and_an_int8_model_is_refused() {
    let model = written(&PathBuf::from(fixture_path("export/tagger")), "tagger.onnx");
    let graph = model.graph.as_ref().unwrap();
    let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops.iter().filter(|&&op| op == "Scan").count(), 2, "forward pass and back-tracking");
    assert!(ops.contains(&"LSTM"));
    // Forbidden transitions are −∞ in the file, as in seqlab's decoding.
    let transitions = graph.initializer.iter().find(|t| t.name.ends_with("crf_transitions")).unwrap();
    let values: Vec<f64> = transitions.raw_data.chunks(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    assert!(values.contains(&f64::NEG_INFINITY) && values.iter().any(|v| v.is_finite()));

    let device = Default::default();
    let int8 = scratch("onnx-int8").join("int8");
    backend::quantize(&PathBuf::from(fixture_path("export/tagger")), &int8, &device).expect("quantize");
    let out = int8.with_extension("onnx");
    let err = export::<TestBackend>(&int8, &out, Format::Onnx, &device).unwrap_err().to_string();
    assert!(err.starts_with("--format: ") && err.contains("int8") && err.contains("quantized from"), "{err}");
    assert!(!out.exists(), "nothing written");
}

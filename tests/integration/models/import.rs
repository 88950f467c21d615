//! PyTorch import: clear errors for missing tensors, wrong shapes and broken files.

use seqlab_models::import::{ImportError, SafeTensors};
use seqlab_models::{CellKind, RecurrentConfig};

use crate::common::*;

#[test]
fn missing_tensor_is_named() {
    let f = pytorch_fixture("lstm_l1_uni_equal");
    let two_layers = RecurrentConfig::new(CellKind::Lstm, 4, 3).with_num_layers(2).init::<TestBackend>(&Default::default());
    let err = two_layers.load_pytorch(&f, "").unwrap_err();
    assert!(matches!(&err, ImportError::Missing { name, .. } if name == "weight_ih_l1"), "{err}");
    assert!(err.to_string().contains("weight_ih_l1"), "{err}");
}

#[test]
fn wrong_shape_is_reported_with_both_shapes() {
    let f = pytorch_fixture("gru_l1_uni_equal");
    let wider = RecurrentConfig::new(CellKind::Gru, 4, 5).init::<TestBackend>(&Default::default());
    let err = wider.load_pytorch(&f, "").unwrap_err().to_string();
    assert!(err.contains("weight_ih_l0") && err.contains("[9, 4]") && err.contains("[15, 4]"), "{err}");
}

#[test]
fn a_prefix_selects_a_submodule() {
    let f = pytorch_fixture("rnn_tanh_l1_uni_equal");
    let rnn = RecurrentConfig::new(CellKind::RnnTanh, 4, 3).init::<TestBackend>(&Default::default());
    let err = rnn.load_pytorch(&f, "encoder.").unwrap_err().to_string();
    assert!(err.contains("encoder.weight_ih_l0"), "{err}");
}

#[test]
fn broken_files_are_errors_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("seqlab-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.safetensors");
    std::fs::write(&path, [200u8, 0, 0, 0, 0, 0, 0, 0, b'{']).unwrap();
    let err = SafeTensors::read(&path).unwrap_err().to_string();
    assert!(err.contains("broken.safetensors") && err.contains("runs past the end"), "{err}");
    let err = SafeTensors::read(dir.join("absent.safetensors")).unwrap_err().to_string();
    assert!(err.contains("absent.safetensors"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

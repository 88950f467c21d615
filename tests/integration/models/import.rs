//! PyTorch import: clear errors for missing tensors, wrong shapes and broken files.

use burn::tensor::Tensor;
use seqlab_models::import::{ImportError, SafeTensors};
use seqlab_models::{CellKind, RecurrentConfig};

use crate::common::*;

#[test]
fn missing_tensor_is_named() {
    let f = pytorch_fixture("lstm_l1_uni_equal");
    let two_layers =
        RecurrentConfig::new(CellKind::Lstm, 4, 3).with_num_layers(2).init::<TestBackend>(&Default::default());
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

/// Imported weights are the PyTorch weights in Burn's layout: `σ(h W_hh + b_hh)` through Burn's
/// (possibly fused) kernels equals host arithmetic on the PyTorch values.
#[test]
fn imported_weights_are_right_inside_fused_kernels() {
    let device = Default::default();
    let f = pytorch_fixture("rnn_tanh_l1_uni_equal");
    let rnn = RecurrentConfig::new(CellKind::RnnTanh, 4, 3).init::<TestBackend>(&device).load_pytorch(&f, "").unwrap();
    let h = [0.3f32, -1.2, 0.7];
    let (w, b) = (f.get("weight_hh_l0").unwrap(), f.get("bias_hh_l0").unwrap()); // [3, 3], [3]
    let expected: Vec<f32> = (0..3)
        .map(|g| {
            let a = b.values[g] + (0..3).map(|i| w.values[g * 3 + i] * h[i]).sum::<f32>();
            1.0 / (1.0 + (-a).exp())
        })
        .collect();
    let weights = &rnn.weights[0];
    let pre = burn::tensor::module::linear(
        Tensor::<TestBackend, 2>::from_floats([h], &device),
        weights.weight_hh.val(),
        weights.bias_hh.as_ref().map(burn::module::Param::val),
    );
    assert_close(&values(&seqlab_models::activation::sigmoid(pre)), &expected, 1e-5, "σ(h W_hh + b_hh)");
}

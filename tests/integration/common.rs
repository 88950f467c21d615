//! Helpers shared by the integration tests.

use burn::tensor::{Int, Tensor, TensorData};
use seqlab_models::import::{RawTensor, SafeTensors};

use burn::tensor::backend::Backend;
pub use seqlab_training::backend::{Autodiff as TestAutodiff, Inner as TestBackend};

/// Path of a file under `tests/fixtures/`.
pub fn fixture_path(relative: &str) -> String {
    format!("{}/tests/fixtures/{relative}", env!("CARGO_MANIFEST_DIR"))
}

/// Loads a PyTorch parity fixture by case name.
pub fn pytorch_fixture(case: &str) -> SafeTensors {
    SafeTensors::read(fixture_path(&format!("pytorch/{case}.safetensors"))).expect("fixture readable")
}

/// An integer tensor from `usize` values.
pub fn int_tensor<B: Backend>(values: &[usize], device: &B::Device) -> Tensor<B, 1, Int> {
    let values: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    Tensor::from_data(
        {
            let n = values.len();
            TensorData::new(values, [n])
        },
        device,
    )
}

/// Largest absolute difference between a tensor and reference values of the same shape.
pub fn max_abs_diff<B: Backend, const D: usize>(actual: &Tensor<B, D>, expected: &RawTensor, what: &str) -> f32 {
    assert_eq!(actual.dims().to_vec(), expected.shape, "{what}: shape");
    let actual: Vec<f32> = actual.to_data().convert::<f32>().to_vec().unwrap();
    actual.iter().zip(&expected.values).map(|(a, e)| (a - e).abs()).fold(0.0, f32::max)
}

/// Values of a tensor as `f32`.
pub fn values<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Vec<f32> {
    t.to_data().convert::<f32>().to_vec().unwrap()
}

/// Asserts element-wise `|a − b| ≤ tol`.
pub fn assert_close(actual: &[f32], expected: &[f32], tol: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tol, "{what}[{i}]: {a} vs {e} (|Δ| = {:.3e} > {tol:e})", (a - e).abs());
    }
}

/// Asserts element-wise `|a − b| ≤ tol · max(1, |b|)`: an absolute tolerance for values up to
/// 1 and a relative one above (f32 sums of large gradients round in their last digits).
pub fn assert_close_scaled(actual: &[f32], expected: &[f32], tol: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let bound = tol * e.abs().max(1.0);
        assert!((a - e).abs() <= bound, "{what}[{i}]: {a} vs {e} (|Δ| = {:.3e} > {bound:e})", (a - e).abs());
    }
}

/// A file of the shared corpora under `$SEQLAB_DATA`, or `None` (with a printed reason) when
/// the variable is unset. Panics when it is set but the file is missing.
pub fn shared_data(relative: &str) -> Option<std::path::PathBuf> {
    let Some(dir) = std::env::var_os("SEQLAB_DATA") else {
        println!("skipped: SEQLAB_DATA is unset (set it to the shared data folder, e.g. ../shared/data)");
        return None;
    };
    let path = std::path::Path::new(&dir).join(relative);
    assert!(path.exists(), "SEQLAB_DATA is set but {} is missing", path.display());
    Some(path)
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("seqlab-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The CRC-32 of `bytes` (IEEE), bit by bit: a reference independent of crc32fast.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The embedded corpus `name` (`sentiment/test`, `ner/test`) as the text of a file.
pub fn embedded_text(name: &str) -> String {
    let path = format!("embedded:{name}");
    match seqlab_datasets::Source::parse(path.as_ref()) {
        Ok(seqlab_datasets::Source::Embedded(corpus)) => corpus.text(),
        other => panic!("{path}: not an embedded corpus ({other:?})"),
    }
}

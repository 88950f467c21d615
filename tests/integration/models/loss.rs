//! `seqlab_models::loss::cross_entropy`: the value by hand and against Burn's loss, and the
//! gradient `(softmax − onehot) / N` exactly.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Tensor, TensorData};
use seqlab_models::loss::cross_entropy;

use crate::common::*;

#[test]
fn cross_entropy_value_and_gradient_by_hand() {
    let device = Default::default();
    let rows = [[1.0f32, 2.0, 3.0], [0.5, -1.0, 0.0]];
    let targets = [2usize, 0];
    let logits = Tensor::<TestAutodiff, 2>::from_data(TensorData::new(rows.concat(), [2, 3]), &device).require_grad();
    let loss = cross_entropy(logits.clone(), int_tensor(&targets, &device));
    let softmax = |r: &[f32; 3]| {
        let z: f64 = r.iter().map(|&x| f64::from(x).exp()).sum();
        r.map(|x| f64::from(x).exp() / z)
    };
    let expected: f64 = rows.iter().zip(targets).map(|(r, t)| -softmax(r)[t].ln()).sum::<f64>() / 2.0;
    let value = f64::from(values(&loss.clone().inner())[0]);
    assert!((value - expected).abs() < 1e-6, "{value} vs {expected}");
    let burn =
        CrossEntropyLossConfig::new().init(&device).forward(logits.clone().inner(), int_tensor(&targets, &device));
    assert!((f64::from(values(&burn)[0]) - expected).abs() < 1e-6, "Burn's loss agrees");
    let grads = loss.backward();
    let grad = values(&logits.grad(&grads).unwrap());
    let mut want = Vec::new();
    for (r, t) in rows.iter().zip(targets) {
        want.extend(softmax(r).iter().enumerate().map(|(j, p)| ((p - if j == t { 1.0 } else { 0.0 }) / 2.0) as f32));
    }
    assert_close(&grad, &want, 1e-7, "∂L/∂z");
}

//! Activations and the course's feed-forward network, against hand-computed values.

use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use seqlab_models::{Activation, FfnConfig};

use crate::common::*;

fn apply(activation: Activation, x: &[f32]) -> Vec<f32> {
    let t = Tensor::<TestBackend, 1>::from_floats(x, &Default::default());
    values(&activation.forward(t))
}

#[test]
fn softmax_of_2_1_0_matches_the_course() {
    // e^2, e^1, e^0 = 7.389, 2.718, 1 → sum 11.107 → [0.665, 0.245, 0.090]
    assert_close(&apply(Activation::Softmax, &[2.0, 1.0, 0.0]), &[0.665241, 0.244728, 0.090031], 1e-5, "softmax");
}

#[test]
fn activations_match_their_definitions() {
    let x = [-1.0, 0.0, 1.0];
    assert_close(&apply(Activation::Identity, &x), &x, 0.0, "identity");
    // σ(±1) = 1/(1+e^∓1)
    assert_close(&apply(Activation::Sigmoid, &x), &[0.268941, 0.5, 0.731059], 1e-6, "sigmoid");
    assert_close(&apply(Activation::Tanh, &x), &[-0.761594, 0.0, 0.761594], 1e-6, "tanh");
    assert_close(&apply(Activation::Relu, &x), &[0.0, 0.0, 1.0], 0.0, "relu");
    // GELU(x) = x·Φ(x); Φ(1) = 0.841345
    assert_close(&apply(Activation::Gelu, &x), &[-0.158655, 0.0, 0.841345], 1e-5, "gelu");
}

/// The course's network with fixed weights:
///
/// ```text
/// W = [[0.5, −1], [1, 0.25]], b = [0.5, −0.5], U = [[1, −1], [2, 0], [0, 1]], x = [1, 2]
/// Wx + b = [0.5 − 2 + 0.5, 1 + 0.5 − 0.5] = [−1, 1]
/// h = σ([−1, 1]) = [0.268941, 0.731059]
/// z = Uh = [0.268941 − 0.731059, 0.537883, 0.731059] = [−0.462117, 0.537883, 0.731059]
/// y = softmax(z) = [0.142535, 0.387450, 0.470015]
/// ```
#[test]
fn ffn_matches_hand_computation() {
    let device = Default::default();
    let mut ffn = FfnConfig::new(2, vec![2], 3).with_output_bias(false).init::<TestBackend>(&device);
    // Burn stores weights [d_in, d_out]: the transposes of the course's W and U, written out.
    ffn.hidden[0].weight =
        Param::from_tensor(Tensor::from_data(TensorData::from([[0.5f32, 1.0], [-1.0, 0.25]]), &device));
    ffn.hidden[0].bias = Some(Param::from_tensor(Tensor::from_floats([0.5, -0.5], &device)));
    ffn.output.weight =
        Param::from_tensor(Tensor::from_data(TensorData::from([[1.0f32, 2.0, 0.0], [-1.0, 0.0, 1.0]]), &device));
    let x = Tensor::<TestBackend, 2>::from_floats([[1.0, 2.0]], &device);
    assert_close(&values(&ffn.forward(x.clone())), &[-0.462117, 0.537883, 0.731059], 1e-5, "z");
    let y = values(&ffn.probabilities(x));
    assert_close(&y, &[0.142535, 0.387450, 0.470015], 1e-5, "y");
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
}

/// seqlab's exp-based sigmoid and tanh saturate to exact limits, never NaN, and match the
/// definitions across the range.
#[test]
fn sigmoid_and_tanh_saturate_cleanly() {
    let x = [-1000.0, -100.0, -20.0, -3.0, -0.5, 0.0, 0.5, 3.0, 20.0, 100.0, 1000.0];
    let sigmoid: Vec<f32> = x.iter().map(|&v: &f32| 1.0 / (1.0 + f64::from(-v).exp()) as f32).collect();
    let tanh: Vec<f32> = x.iter().map(|&v: &f32| f64::from(v).tanh() as f32).collect();
    let s = apply(Activation::Sigmoid, &x);
    let t = apply(Activation::Tanh, &x);
    assert!(s.iter().chain(&t).all(|v| v.is_finite()), "{s:?} {t:?}");
    assert_close(&s, &sigmoid, 1e-7, "sigmoid");
    assert_close(&t, &tanh, 2e-7, "tanh");
    assert_eq!((s[10], t[0], t[10]), (1.0, -1.0, 1.0));
    assert!((0.0..2e-35).contains(&s[0]), "σ(−1000) = {}", s[0]);

    // Their gradients stay finite where e^{−x} would overflow (it was NaN without the clamp).
    let input = Tensor::<TestAutodiff, 1>::from_floats(x, &Default::default()).require_grad();
    let out =
        seqlab_models::activation::sigmoid(input.clone()).sum() + seqlab_models::activation::tanh(input.clone()).sum();
    let grad = values(&input.grad(&out.backward()).unwrap());
    assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
    let expected: Vec<f32> = x
        .iter()
        .map(|&v: &f32| {
            let s = 1.0 / (1.0 + f64::from(-v).exp());
            (s * (1.0 - s) + 1.0 - f64::from(v).tanh().powi(2)) as f32
        })
        .collect();
    assert_close(&grad, &expected, 1e-6, "σ′ + tanh′");
}

/// Worst relative error of `f32` values against `f64` references.
fn worst_relative(values: &[f32], reference: impl Fn(usize) -> f64) -> f64 {
    values.iter().enumerate().map(|(i, &v)| ((f64::from(v) - reference(i)) / reference(i)).abs()).fold(0.0, f64::max)
}

#[test]
fn sigmoid_is_accurate_on_large_tensors() {
    // burn-ndarray's `recip` of 32 or more f32 values is approximate (~3e-4); the sigmoid must
    // not inherit that.
    let x: Vec<f32> = (0..1024).map(|i| (i as f32 - 512.0) / 40.0).collect();
    let sigmoid = apply(Activation::Sigmoid, &x);
    let worst = worst_relative(&sigmoid, |i| 1.0 / (1.0 + (-f64::from(x[i])).exp()));
    assert!(worst < 1e-6, "sigmoid: worst relative error {worst:e}");
    let tanh = apply(Activation::Tanh, &x);
    let worst =
        tanh.iter().enumerate().map(|(i, &t)| (f64::from(t) - f64::from(x[i]).tanh()).abs()).fold(0.0, f64::max);
    assert!(worst < 2e-7, "tanh: worst absolute error {worst:e}");
}

#[test]
fn the_kernel_exp_is_accurate_over_the_float_range() {
    use seqlab_models::recurrent::kernel::Real;
    let x: Vec<f32> = (0..200_000).map(|i| -103.0 + i as f32 * 0.000_958).collect(); // −103 … 88.6
    let ours: Vec<f32> = x.iter().map(|&v| Real::exp(v)).collect();
    // Subnormal results (below 1.2e-38) carry fewer significant bits: compare them absolutely.
    let worst = x
        .iter()
        .zip(&ours)
        .map(|(&v, &e)| {
            let exact = f64::from(v).exp();
            if exact < 1.2e-38 {
                (f64::from(e) - exact).abs() / 1.2e-38
            } else {
                ((f64::from(e) - exact) / exact).abs()
            }
        })
        .fold(0.0, f64::max);
    assert!(worst < 3e-7, "worst relative error {worst:e}");
    // Without the range handling, where sigmoid calls it (|x| ≤ 80).
    let worst = x
        .iter()
        .filter(|v| v.abs() <= 80.0)
        .map(|&v| ((f64::from(Real::exp_moderate(v)) - f64::from(v).exp()) / f64::from(v).exp()).abs())
        .fold(0.0, f64::max);
    assert!(worst < 3e-7, "exp_moderate: worst relative error {worst:e}");
    assert!(Real::exp_moderate(f32::NAN).is_nan());
    assert_eq!(Real::exp(0.0f32), 1.0);
    assert_eq!(Real::exp(-200.0f32), 0.0);
    assert_eq!(Real::exp(89.0f32), f32::INFINITY);
    assert!(Real::exp(f32::NAN).is_nan());
    assert_eq!(Real::exp(1.0f64), std::f64::consts::E);
}

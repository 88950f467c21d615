//! `FusedAdam` against Burn's `Adam`: the same parameters after every step, bit for bit, with
//! and without weight decay and gradient clipping, on parameters large enough for the fused
//! loop to split them between threads; and the same state record type.

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::{Distribution, Tensor};
use seqlab_training::FusedAdamConfig;

use crate::common::*;

/// 300 × 500 weights: 150,000 values, more than one thread's share.
fn layer() -> Linear<TestAutodiff> {
    let device = Default::default();
    let mut linear = LinearConfig::new(300, 500).init::<TestAutodiff>(&device);
    // Fixed values (a fresh module's parameters are drawn lazily).
    linear.weight = Param::from_tensor(Tensor::random([300, 500], Distribution::Normal(0.0, 0.1), &device));
    linear.bias = Some(Param::from_tensor(Tensor::random([500], Distribution::Normal(0.0, 0.1), &device)));
    linear
}

fn loss(linear: &Linear<TestAutodiff>, x: &Tensor<TestAutodiff, 2>) -> Tensor<TestAutodiff, 1> {
    let y = linear.forward(x.clone());
    (y.clone() * y.sin()).sum()
}

fn check(decay: Option<f32>, clip: Option<f32>) {
    let device = Default::default();
    let start = layer();
    let x = Tensor::<TestAutodiff, 2>::random([16, 300], Distribution::Normal(0.0, 1.0), &device);
    let decay = decay.map(WeightDecayConfig::new);
    let clip = clip.map(GradientClippingConfig::Norm);
    let mut burn = AdamConfig::new().with_weight_decay(decay.clone()).with_grad_clipping(clip.clone()).init();
    let mut fused = FusedAdamConfig::new().with_weight_decay(decay).with_grad_clipping(clip).init();
    let (mut a, mut b) = (start.clone(), start);
    for step in 1..=4 {
        let grads = GradientsParams::from_grads(loss(&a, &x).backward(), &a);
        a = burn.step(2e-3, a, grads);
        let grads = GradientsParams::from_grads(loss(&b, &x).backward(), &b);
        b = fused.step(2e-3, b, grads);
        assert_eq!(values(&a.weight.val()), values(&b.weight.val()), "weights after step {step}");
        assert_eq!(
            values(&a.bias.as_ref().unwrap().val()),
            values(&b.bias.as_ref().unwrap().val()),
            "bias after step {step}"
        );
    }
    // The state is Burn's: a checkpoint of one optimiser loads into the other, and the next
    // step is the same.
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = recorder.record(fused.to_record(), ()).expect("record the fused optimiser");
    let mut burn = burn.load_record(recorder.load(bytes, &device).expect("load into Burn's Adam"));
    let grads = GradientsParams::from_grads(loss(&a, &x).backward(), &a);
    let a = burn.step(2e-3, a, grads);
    let grads = GradientsParams::from_grads(loss(&b, &x).backward(), &b);
    let b = fused.step(2e-3, b, grads);
    assert_eq!(values(&a.weight.val()), values(&b.weight.val()), "weights after a step from the loaded record");
}

#[test]
fn fused_adam_equals_burns_adam() {
    check(None, None);
}

#[test]
fn fused_adam_equals_burns_adam_with_weight_decay_and_clipping() {
    check(Some(0.01), Some(1.0));
}

/// An embedding whose rows no batch touches after the first step: Adam's first moment of those
/// rows decays as 0.9^t and is subnormal from about step 740 on. Burn's Adam (on a thread that
/// keeps subnormals, as the test harness's are) carries them; `FusedAdam` flushes them to zero
/// (`seqlab_models::subnormal`), and the weights come out the same bit for bit.
#[test]
fn untouched_rows_leave_no_subnormals_in_adam_and_the_same_weights() {
    use burn::optim::SimpleOptimizer;

    let device = Default::default();
    let (rows, dim, touched) = (400, 8, 4);
    let start = Tensor::<TestBackend, 2>::random([rows, dim], Distribution::Normal(0.0, 0.1), &device);
    let first = Tensor::<TestBackend, 2>::random([rows, dim], Distribution::Normal(0.0, 1e-3), &device);
    let later = Tensor::cat(vec![first.clone().slice([0..touched]), Tensor::zeros([rows - touched, dim], &device)], 0);
    let (burn, fused) = (AdamConfig::new().build(), FusedAdamConfig::new().build());
    let (mut a, mut a_state) = (start.clone(), None);
    let (mut b, mut b_state) = (start, None);
    for step in 1..=800 {
        let grad = if step == 1 { first.clone() } else { later.clone() };
        (a, a_state) = SimpleOptimizer::step(&burn, 1e-3, a, grad.clone(), a_state);
        (b, b_state) = SimpleOptimizer::step(&fused, 1e-3, b, grad, b_state);
    }
    assert_eq!(values(&a), values(&b), "the weights after 800 steps");
    let subnormals = |t: &Tensor<TestBackend, 2>| values(t).iter().filter(|v| v.is_subnormal()).count();
    let (a_state, b_state) = (a_state.unwrap(), b_state.unwrap());
    let kept = subnormals(&a_state.momentum.moment_1);
    assert!(kept >= (rows - touched) * dim / 2, "Burn's first moments: {kept} subnormals (the test makes them)");
    assert_eq!(subnormals(&b_state.momentum.moment_1), 0, "FusedAdam's first moments");
    assert_eq!(subnormals(&b_state.momentum.moment_2), 0, "FusedAdam's second moments");
}

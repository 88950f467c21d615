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
use seqlab_training::adam::FusedAdamConfig;

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

//! Clipping by the global norm (`GlobalNormClip`, `--clip-norm`): one factor for every
//! gradient, `max / (norm + 1e-6)` as PyTorch's `clip_grad_norm_`, against values worked out by
//! hand; and the two commands' recipe defaults for it.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Tensor, TensorData};
use seqlab_training::{clip_global_norm, GlobalNormClip};

use crate::common::*;

/// `y = x·W + b` with W = [[1], [2]], b = [0.5]; for x = [[3, 4]] the loss `y` has the gradients
/// dW = [[3], [4]], db = [1]: a global norm of √26, while each tensor alone has norm 5 and 1.
fn layer_and_grads() -> (Linear<TestAutodiff>, GradientsParams) {
    let device = Default::default();
    let mut linear = LinearConfig::new(2, 1).init::<TestAutodiff>(&device);
    linear.weight = Param::from_tensor(Tensor::from_data(TensorData::new(vec![1.0f32, 2.0], [2, 1]), &device));
    linear.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(vec![0.5f32], [1]), &device)));
    let x = Tensor::<TestAutodiff, 2>::from_data(TensorData::new(vec![3.0f32, 4.0], [1, 2]), &device);
    let grads = GradientsParams::from_grads(linear.forward(x).sum().backward(), &linear);
    (linear, grads)
}

/// One plain SGD step of rate 1 through `GlobalNormClip` at `max`: the parameters after it.
fn step(max: Option<f32>) -> (Vec<f32>, Vec<f32>) {
    let (linear, grads) = layer_and_grads();
    let mut optim = GlobalNormClip { inner: SgdConfig::new().init(), max_norm: max };
    let linear = optim.step(1.0, linear, grads);
    (values(&linear.weight.val()), values(&linear.bias.unwrap().val()))
}

#[test]
fn clipping_scales_every_gradient_by_one_factor_of_the_global_norm() {
    let (linear, mut grads) = layer_and_grads();
    let norm = clip_global_norm::<_, TestAutodiff>(&linear, &mut grads, 1.0);
    assert!((norm - 26f64.sqrt()).abs() < 1e-6, "the global norm before clipping: {norm}");
    let factor = (1.0 / (26f64.sqrt() + 1e-6)) as f32;
    let (w, b) = step(Some(1.0));
    let expected_w = [1.0 - 3.0 * factor, 2.0 - 4.0 * factor];
    for (got, want) in w.iter().zip(expected_w) {
        assert!((got - want).abs() < 1e-6, "weights {w:?}, expected {expected_w:?}");
    }
    assert!((b[0] - (0.5 - factor)).abs() < 1e-6, "bias {b:?}, expected {}", 0.5 - factor);
    // Burn's per-tensor clipping would have left the bias's gradient (norm 1) whole: 0.5 − 1.
    assert!((b[0] + 0.5).abs() > 0.3, "the bias's gradient was clipped with the others");
    // The step keeps its direction: the weights moved 3 : 4.
    let (dw0, dw1) = (1.0 - w[0], 2.0 - w[1]);
    assert!((dw0 / dw1 - 0.75).abs() < 1e-5, "direction {dw0} : {dw1}");
}

#[test]
fn gradients_within_the_limit_and_no_limit_are_left_alone() {
    let unclipped = ([1.0 - 3.0, 2.0 - 4.0], 0.5 - 1.0);
    for max in [None, Some(5.1), Some(100.0)] {
        let (w, b) = step(max);
        assert_eq!(w, unclipped.0, "weights with max {max:?}");
        assert_eq!(b, [unclipped.1], "bias with max {max:?}");
    }
    // Just below the norm, the factor is just below 1.
    let (w, _) = step(Some(5.09));
    assert!(w[1] > -2.0 && w[1] < -1.99, "weights {w:?}");
}

#[test]
fn each_command_has_its_recipe_and_clipping_can_be_turned_off() {
    use clap::Parser;
    use seqlab_bins::args::{train_classifier, train_tagger};
    let tagger = |extra: &[&str]| {
        let args = train_tagger::Args::try_parse_from([&["train-tagger"], extra].concat()).unwrap();
        (args.loss_mean, args.training.to_config(&train_tagger::RECIPE).unwrap().optim)
    };
    let (loss_mean, optim) = tagger(&[]);
    assert_eq!(loss_mean, seqlab_training::tagger::LossMean::Sentence);
    assert_eq!((optim.clip_norm, optim.adam_epsilon), (Some(5.0), 1e-8));
    let (loss_mean, optim) = tagger(&["--clip-norm", "0", "--adam-epsilon", "1e-5", "--loss-mean", "token"]);
    assert_eq!(loss_mean, seqlab_training::tagger::LossMean::Token);
    assert_eq!((optim.clip_norm, optim.adam_epsilon), (None, 1e-5));
    let args = train_classifier::Args::try_parse_from(["train-classifier"]).unwrap();
    let optim = args.training.to_config(&train_classifier::RECIPE).unwrap().optim;
    assert_eq!((optim.clip_norm, optim.adam_epsilon), (None, 1e-5));
    // A negative limit is not "off": the range check names it.
    let (_, optim) = tagger(&["--clip-norm=-1"]);
    let training = seqlab_training::learner::TrainingConfig { optim, ..Default::default() };
    let err = seqlab_training::validate::training(&training).unwrap_err().to_string();
    assert!(err.contains("clip-norm"), "{err}");
}

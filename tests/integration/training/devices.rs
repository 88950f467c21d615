//! `--devices`: a data-parallel step through burn-train's multi-device strategy gives the
//! parameters that one device gets from the combined batch. On ndarray both "devices" are the
//! CPU (two workers, two model copies, gradients summed and divided by two); the same code
//! path serves two GPUs on wgpu, which this machine cannot check.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use seqlab_datasets::Validation;
use seqlab_training::classifier::{train_classifier, ClassifierRunConfig};
use seqlab_training::inference::{load, Loaded};
use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::OptimConfig;

use crate::common::*;

/// Every float parameter's values, in visiting order.
struct Collect(Vec<f32>);

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.extend(values(&param.val()));
    }
}

fn weights(dir: &std::path::Path) -> Vec<f32> {
    let Loaded::Classifier(c) = load::<TestBackend>(dir, &Default::default()).unwrap() else { panic!("a classifier") };
    let mut collect = Collect(Vec::new());
    c.model.visit(&mut collect);
    collect.0
}

#[test]
fn a_step_on_two_devices_equals_one_device_with_both_batches() {
    let root = scratch("devices");
    // Eight examples: one batch of 8 on one device, or two batches of 4 side by side (one
    // optimiser step either way, whatever the shuffling).
    let words = ["good", "bad", "fine film", "awful plot", "great", "dull and long", "a joy", "weak"];
    let tsv: String = std::iter::once("sentence\tlabel".to_string())
        .chain(words.iter().enumerate().map(|(i, w)| format!("{w}\t{}", (i + 1) % 2)))
        .map(|l| l + "\n")
        .collect();
    let data = root.join("train.tsv");
    std::fs::write(&data, tsv).unwrap();
    let run = |name: &str, batch_size: usize, devices: Vec<u16>| {
        let dir = root.join(name);
        let config = ClassifierRunConfig {
            train: data.display().to_string(),
            valid: Validation::File(data.display().to_string()),
            test: None,
            training: TrainingConfig {
                epochs: 1,
                batch_size,
                optim: OptimConfig { learning_rate: 0.05, ..Default::default() },
                seed: 11,
                devices,
                ..Default::default()
            },
            ..super::classifier::tiny_classifier(&dir)
        };
        train_classifier::<TestAutodiff>(&config, &Default::default()).unwrap();
        weights(&dir)
    };
    let one = run("one", 8, Vec::new());
    let two = run("two", 4, vec![0, 0]);
    let again = run("again", 8, Vec::new()); // same seed: the same start, trained the same
    assert_eq!(one, again, "runs are repeatable");
    assert_eq!(one.len(), two.len());
    let moved = one.iter().zip(&two).filter(|(a, b)| a != b).count();
    let worst = one.iter().zip(&two).map(|(a, b)| (a - b).abs() / a.abs().max(1e-3)).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "largest relative difference {worst} ({moved} of {} values differ at all)", one.len());
    // The step did something: the embedding of "good" is not where a zero-gradient step leaves it.
    let halved = run("half", 4, Vec::new()); // one device, batch 4: two steps, another result
    assert!(one.iter().zip(&halved).any(|(a, b)| (a - b).abs() > 1e-3), "two steps of 4 differ from one step of 8");
}

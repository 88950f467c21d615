//! The vanishing-gradient lab (`grad-flow`): the probe gradients are `∂L/∂h_t` (checked by
//! float64 finite differences on the hidden states themselves), probes leave the forward pass
//! unchanged, and the course's claim holds on a fixed seed: a tanh RNN's gradient 20 steps
//! back is far smaller than an LSTM's with forget bias 1.

use burn::module::{AutodiffModule, Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorCreationOptions, TensorData};
use seqlab_datasets::longdep::FirstTokenTask;
use seqlab_gradlab::{decay_summary, gradient_norms, labels, one_hot, ProbeModel, ProbeModelConfig};
use seqlab_models::CellKind;

use crate::common::{TestAutodiff, TestBackend};

#[cfg(feature = "ndarray")]
mod f64_checks {
    use super::*;
    use burn::backend::{Autodiff, NdArray};

    type F64 = NdArray<f64>;
    type AdF64 = Autodiff<F64>;

    /// Turns every weight into an f64 leaf.
    struct ToF64;

    impl ModuleMapper<AdF64> for ToF64 {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<AdF64, D>>) -> Param<Tensor<AdF64, D>> {
            let (id, tensor, mapper) = param.consume();
            Param::from_mapped_value(id, Tensor::from_inner(tensor.inner().cast(DType::F64)).require_grad(), mapper)
        }
    }

    fn check(cell: CellKind) {
        const EPS: f64 = 1e-6;
        let device = Default::default();
        let task = FirstTokenTask::new(5);
        let examples = task.generate(2, 3);
        <AdF64 as Backend>::seed(&device, 11);
        let config = ProbeModelConfig { cell, hidden: 3, forget_bias: Some(1.0) };
        let model: ProbeModel<AdF64> = config.init::<AdF64>(&task, &device).map(&mut ToF64);
        assert_eq!(model.dtype(), DType::F64);
        let analytic = gradient_norms(&model, &examples, task.vocab_size());

        // Central differences of the loss with respect to every element of every h_t.
        let inner: ProbeModel<F64> = model.valid();
        let input = one_hot::<F64>(&examples, task.vocab_size(), DType::F64, &device);
        let targets = labels::<F64>(&examples, &device);
        let [batch, seq, hidden] = [2, 5, 3];
        let probes = |t: usize, b: usize, i: usize, delta: f64| -> Vec<Tensor<F64, 2>> {
            (0..seq)
                .map(|s| {
                    let mut v = vec![0.0f64; batch * hidden];
                    if s == t {
                        v[b * hidden + i] = delta;
                    }
                    Tensor::from_data(
                        TensorData::new(v, [batch, hidden]),
                        TensorCreationOptions::new(device).with_dtype(DType::F64),
                    )
                })
                .collect()
        };
        let loss =
            |p: Vec<Tensor<F64, 2>>| -> f64 { inner.probed_loss(input.clone(), targets.clone(), &p).into_scalar() };
        for (t, &a) in analytic.iter().enumerate() {
            let mut mean_norm = 0.0;
            for b in 0..batch {
                let squares: f64 = (0..hidden)
                    .map(|i| ((loss(probes(t, b, i, EPS)) - loss(probes(t, b, i, -EPS))) / (2.0 * EPS)).powi(2))
                    .sum();
                mean_norm += squares.sqrt() / batch as f64;
            }
            assert!(
                (a - mean_norm).abs() <= 1e-8 + 1e-6 * a.abs(),
                "{cell:?} t={t}: autodiff ‖∂L/∂h_t‖ {a} vs finite differences {mean_norm}"
            );
        }
        // The norms fall going back in time at initialisation (nothing else feeds h_1 but BPTT).
        assert!(analytic[0] < analytic[seq - 1], "{cell:?}: {analytic:?}");
    }

    #[test]
    fn probe_gradient_norms_match_finite_differences_rnn_tanh() {
        check(CellKind::RnnTanh);
    }

    #[test]
    fn probe_gradient_norms_match_finite_differences_rnn_relu() {
        check(CellKind::RnnRelu);
    }

    #[test]
    fn probe_gradient_norms_match_finite_differences_lstm() {
        check(CellKind::Lstm);
    }

    #[test]
    fn probe_gradient_norms_match_finite_differences_gru() {
        check(CellKind::Gru);
    }
}

#[test]
fn zero_probes_leave_the_forward_pass_unchanged() {
    let device = Default::default();
    let task = FirstTokenTask::new(6);
    let examples = task.generate(3, 5);
    <TestBackend as Backend>::seed(&device, 2);
    let model: ProbeModel<TestBackend> =
        ProbeModelConfig { cell: CellKind::Lstm, hidden: 4, forget_bias: None }.init(&task, &device);
    let input = one_hot::<TestBackend>(&examples, task.vocab_size(), model.dtype(), &device);
    let zeros: Vec<Tensor<TestBackend, 2>> = (0..6).map(|_| Tensor::zeros([3, 4], &device)).collect();
    let probed = model.recurrent.forward_probed(input.clone(), &zeros).output;
    let plain = model.recurrent.forward(input, None, None).output;
    // Equal to rounding: the probed loop is recorded step by step, while `forward` may run the
    // CPU kernel, whose exp and matrix products round differently.
    let diff: f32 = (probed - plain).abs().max().into_scalar();
    assert!(diff < 1e-6, "zero probes changed the outputs by {diff}");
}

/// ‖∂L/∂h_{T−20}‖ / ‖∂L/∂h_T‖ for a cell at initialisation.
fn decay_at_20(cell: CellKind, forget_bias: Option<f64>) -> f64 {
    let device = Default::default();
    let task = FirstTokenTask::new(40);
    <TestAutodiff as Backend>::seed(&device, 7);
    let model: ProbeModel<TestAutodiff> = ProbeModelConfig { cell, hidden: 32, forget_bias }.init(&task, &device);
    let norms = gradient_norms(&model, &task.generate(32, 7), task.vocab_size());
    assert!(norms.iter().all(|n| n.is_finite()), "{cell:?}: {norms:?}");
    norms[39 - 20] / norms[39]
}

#[test]
fn tanh_rnn_gradient_vanishes_far_faster_than_the_lstms() {
    let rnn = decay_at_20(CellKind::RnnTanh, None);
    let lstm = decay_at_20(CellKind::Lstm, Some(1.0));
    println!("‖∂L/∂h_(T−20)‖/‖∂L/∂h_T‖: rnn-tanh {rnn:.3e}, lstm (forget bias 1) {lstm:.3e}");
    assert!(rnn < lstm * 5e-2, "rnn-tanh {rnn:e} should be ≥ 20× below lstm {lstm:e}");
    assert!(lstm < 1.0, "the LSTM's gradient decays too at initialisation: {lstm}");
}

#[test]
fn decay_summary_reads_ratio_and_distance() {
    let s = decay_summary(&[1e-5, 1e-4, 1e-2, 1.0]);
    assert_eq!(s.first_over_last, 1e-5);
    assert_eq!(s.distance_below_1e_3, Some(2));
    assert_eq!(decay_summary(&[0.5, 1.0]).distance_below_1e_3, None);
}

#[test]
fn long_dependency_task_is_deterministic_for_a_seed() {
    let task = FirstTokenTask::new(50);
    assert_eq!(task.generate(64, 9), task.generate(64, 9));
    assert_ne!(task.generate(64, 9), task.generate(64, 10));
    assert!(task.generate(64, 9).iter().all(|e| e.tokens[0] == e.label && e.tokens.len() == 50));
}

/// The adding problem's generator: two markers, one in each half; the target is their values'
/// sum; the constant 1 scores 1/6; and the stream is the one scripts/torch_adding.py draws
/// (the values below are what its `generate(10, 2, 7)` gives).
#[test]
fn adding_task_generator() {
    use seqlab_datasets::longdep::{AddingTask, ADDING_BASELINE_MSE};
    let task = AddingTask { length: 10 };
    let examples = task.generate(2, 7);
    assert_eq!((examples[0].marked, examples[1].marked), ([3, 6], [3, 5]));
    assert_eq!(
        examples[0].inputs[..3].iter().map(|i| i[0]).collect::<Vec<_>>(),
        [0.389_829_7, 0.016_788_244, 0.900_760_65]
    );
    assert_eq!((examples[0].target, examples[1].target), (1.050_883_3, 0.874_648_7));
    let many = AddingTask { length: 51 }.generate(20_000, 3);
    for e in &many {
        assert!(e.marked[0] < 25 && (25..51).contains(&e.marked[1]), "{:?}", e.marked);
        assert_eq!(e.inputs.iter().filter(|i| i[1] == 1.0).count(), 2);
        assert_eq!(e.target, e.inputs[e.marked[0]][0] + e.inputs[e.marked[1]][0]);
        assert!(e.inputs.iter().all(|i| (0.0..1.0).contains(&i[0])));
    }
    let baseline = many.iter().map(|e| (f64::from(e.target) - 1.0).powi(2)).sum::<f64>() / many.len() as f64;
    assert!((baseline - ADDING_BASELINE_MSE).abs() < 0.005, "{baseline}");
}

/// A few Adam steps of every cell lower the adding problem's MSE on the training batch.
#[test]
fn a_few_steps_of_every_cell_lower_the_adding_loss() {
    use seqlab_datasets::longdep::AddingTask;
    use seqlab_gradlab::{adding_step_seed, AddingModel};
    let device = Default::default();
    let task = AddingTask { length: 12 };
    let batch = task.generate(64, adding_step_seed(1, 1));
    for cell in [CellKind::RnnTanh, CellKind::Lstm, CellKind::Gru] {
        <TestAutodiff as Backend>::seed(&device, 5);
        let mut model: AddingModel<TestAutodiff> =
            ProbeModelConfig { cell, hidden: 8, forget_bias: Some(1.0) }.init_adding(&device);
        let mut optim = burn::optim::AdamConfig::new().init();
        let before = burn::tensor::ElementConversion::elem::<f32>(model.mse(&batch).into_scalar());
        for _ in 0..30 {
            let loss = model.mse(&batch);
            let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
            model = burn::optim::Optimizer::step(&mut optim, 1e-2, model, grads);
        }
        let after = burn::tensor::ElementConversion::elem::<f32>(model.mse(&batch).into_scalar());
        assert!(after < 0.7 * before, "{cell:?}: {before} → {after}");
    }
}

/// The first-token generator's stream is the one scripts/torch_first_token.py draws (its
/// `generate(6, 3, 11)` gives these tokens), so the PyTorch twin trains on the same batches.
#[test]
fn first_token_generator_matches_the_pytorch_twin() {
    let examples = FirstTokenTask::new(6).generate(3, 11);
    let tokens: Vec<Vec<usize>> = examples.iter().map(|e| e.tokens.clone()).collect();
    assert_eq!(tokens, [[1, 8, 4, 4, 11, 11], [0, 6, 8, 10, 7, 8], [0, 6, 5, 11, 6, 4]]);
    assert_eq!(examples.iter().map(|e| e.label).collect::<Vec<_>>(), [1, 0, 0]);
}

/// Sizes whose memory cannot fit the machine are refused by option before anything is
/// allocated (before, `--length 1e8` allocated until the allocator aborted).
#[test]
fn lab_sizes_that_cannot_fit_are_refused_by_option() {
    use seqlab_gradlab::experiments::norms;
    use seqlab_gradlab::LabCells;
    let lab = |hidden| LabCells { cells: vec![CellKind::Lstm], hidden, forget_bias: None };
    let device = Default::default();
    let refused =
        |lab: LabCells, length| norms::<TestAutodiff>(&lab, length, 8, 0, 1, &device).unwrap_err().to_string();
    let err = refused(lab(100_000_000), 20);
    assert!(
        err.starts_with("--hidden: training would need about") && err.contains("more than this machine's"),
        "{err}"
    );
    let err = refused(lab(16), 100_000_000);
    assert!(err.starts_with("--length: training would need about"), "{err}");
    let err = refused(lab(0), 20);
    assert!(err.contains("--hidden: must be at least 1"), "{err}");
    // A size that fits still runs.
    assert_eq!(norms::<TestAutodiff>(&lab(4), 5, 2, 0, 1, &device).unwrap()[0].norms.len(), 5);
}

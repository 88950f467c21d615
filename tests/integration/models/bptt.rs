//! The CPU kernel with its one-node BPTT (`seqlab_models::recurrent::{kernel, engine}`) against
//! Burn's step-by-step autodiff graph of the same layer: outputs, final states and the
//! gradients with respect to the input, the initial states and every weight agree, for every
//! cell, two bidirectional layers, with and without padding and biases, and for a batch large
//! enough that the kernel splits it between threads; inference (no autodiff) gives the same
//! outputs. (PyTorch parity and finite differences run through the kernel too: see
//! `parity.rs` and `gradcheck.rs`.)

use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
use burn::backend::Autodiff;
use burn::module::Module;
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Tensor};
use seqlab_models::recurrent::engine::is_fused;
use seqlab_models::{CellKind, Recurrent, RecurrentConfig, RecurrentState};

use crate::common::*;

/// The same autodiff backend under another type, which the layers do not recognise: every time
/// step is recorded on Burn's tape.
type Recorded = Autodiff<TestBackend, BalancedCheckpointing>;

const LENGTHS: [usize; 3] = [5, 2, 4];
/// 20 sequences: with two or more cores a one-directional layer splits them between threads.
/// One is empty.
const MANY_LENGTHS: [usize; 20] = [5, 2, 4, 1, 5, 3, 0, 5, 4, 2, 5, 1, 3, 5, 4, 2, 5, 5, 3, 1];
const SEQ: usize = 5;
const INPUT: usize = 3;
const HIDDEN: usize = 4;

#[test]
fn the_training_backend_uses_one_node_bptt() {
    assert!(is_fused::<TestAutodiff>(), "the training backend records every step");
    assert!(!is_fused::<TestBackend>(), "an inference backend has no tape");
    assert!(!is_fused::<Recorded>());
}

/// Everything a run produces, as plain values: outputs, h_n, c_n, then the gradients of the
/// input, h_0, c_0 and every parameter.
fn run<B: AutodiffBackend>(
    rnn: Recurrent<B>,
    x: &Tensor<TestBackend, 3>,
    h0: &Tensor<TestBackend, 3>,
    lengths: Option<&[usize]>,
) -> Vec<(String, Vec<f32>)> {
    let device = Default::default();
    let lift = |t: &Tensor<TestBackend, 3>| Tensor::<B, 3>::from_data(t.to_data(), &device).require_grad();
    let (x, h0, c0) = (lift(x), lift(h0), lift(&h0.clone().mul_scalar(-0.5)));
    let lengths = lengths.map(|l| int_tensor::<B>(l, &device));
    let state = RecurrentState { hidden: h0.clone(), cell: (rnn.cell == CellKind::Lstm).then(|| c0.clone()) };
    let out = rnn.forward(x.clone(), lengths, Some(state));
    // A loss that weighs every output differently.
    let [b, s, w] = out.output.dims();
    let ramp = Tensor::<B, 1, burn::tensor::Int>::arange(0..(b * s * w) as i64, &device)
        .float()
        .reshape([b, s, w])
        .div_scalar(7.0)
        .sin();
    let mut loss = (out.output.clone() * ramp).sum() + out.state.hidden.clone().powi_scalar(2).sum();
    if let Some(c) = &out.state.cell {
        loss = loss + c.clone().sum().mul_scalar(0.3);
    }
    let grads = loss.backward();
    let mut all = vec![
        ("output".to_string(), values(&out.output)),
        ("h_n".to_string(), values(&out.state.hidden)),
        ("grad.input".to_string(), values(&x.grad(&grads).expect("input gradient"))),
        ("grad.h_0".to_string(), values(&h0.grad(&grads).expect("h_0 gradient"))),
    ];
    if let Some(c) = &out.state.cell {
        all.push(("c_n".to_string(), values(c)));
        all.push(("grad.c_0".to_string(), values(&c0.grad(&grads).expect("c_0 gradient"))));
    }
    for (i, w) in rnn.weights.iter().enumerate() {
        all.push((format!("grad.weight_ih[{i}]"), values(&w.weight_ih.grad(&grads).expect("gradient"))));
        all.push((format!("grad.weight_hh[{i}]"), values(&w.weight_hh.grad(&grads).expect("gradient"))));
        for (name, bias) in [("bias_ih", &w.bias_ih), ("bias_hh", &w.bias_hh)] {
            if let Some(bias) = bias {
                all.push((format!("grad.{name}[{i}]"), values(&bias.grad(&grads).expect("gradient"))));
            }
        }
    }
    all
}

/// The outputs of a run without autodiff: output, h_n (and c_n), in [`run`]'s order.
fn infer(
    rnn: Recurrent<TestBackend>,
    x: &Tensor<TestBackend, 3>,
    h0: &Tensor<TestBackend, 3>,
    lengths: Option<&[usize]>,
) -> Vec<Vec<f32>> {
    let device = Default::default();
    let state =
        RecurrentState { hidden: h0.clone(), cell: (rnn.cell == CellKind::Lstm).then(|| h0.clone().mul_scalar(-0.5)) };
    let out = rnn.forward(x.clone(), lengths.map(|l| int_tensor::<TestBackend>(l, &device)), Some(state));
    let mut all = vec![values(&out.output), values(&out.state.hidden)];
    all.extend(out.state.cell.as_ref().map(values));
    all
}

/// The weights of a layer stack as bytes. (Through bytes because parameters are initialised
/// lazily: a clone of a fresh module would draw its own random values.)
fn weights_of<B: Backend>(rnn: Recurrent<B>) -> Vec<u8> {
    BinBytesRecorder::<FullPrecisionSettings>::default().record(rnn.into_record(), ()).expect("record")
}

/// A layer stack on backend `B` with the given weights.
fn with_weights<B: Backend>(config: &RecurrentConfig, bytes: &[u8]) -> Recurrent<B> {
    let device = Default::default();
    let record = BinBytesRecorder::<FullPrecisionSettings>::default().load(bytes.to_vec(), &device).expect("load");
    config.init::<B>(&device).load_record(record)
}

fn check(cell: CellKind) {
    let device = Default::default();
    let cases: [(bool, Option<&[usize]>, bool); 4] = [
        (true, Some(&LENGTHS), true),
        (true, None, true),
        (true, Some(&LENGTHS), false),
        (false, Some(&MANY_LENGTHS), true),
    ];
    for (bidirectional, lengths, bias) in cases {
        let batch = lengths.map_or(LENGTHS.len(), <[usize]>::len);
        let directions = if bidirectional { 2 } else { 1 };
        let config = RecurrentConfig::new(cell, INPUT, HIDDEN)
            .with_num_layers(2)
            .with_bidirectional(bidirectional)
            .with_bias(bias);
        let weights = weights_of(config.init::<TestAutodiff>(&device));
        let x = Tensor::<TestBackend, 3>::random([batch, SEQ, INPUT], Distribution::Normal(0.0, 1.0), &device);
        let h0 =
            Tensor::<TestBackend, 3>::random([2 * directions, batch, HIDDEN], Distribution::Normal(0.0, 0.5), &device);
        let recorded = run(with_weights::<Recorded>(&config, &weights), &x, &h0, lengths);
        let fused = run(with_weights::<TestAutodiff>(&config, &weights), &x, &h0, lengths);
        let what =
            format!("{cell:?} bidirectional={bidirectional} batch={batch} padded={} bias={bias}", lengths.is_some());
        assert_eq!(fused.len(), recorded.len());
        for ((name, a), (_, b)) in fused.iter().zip(&recorded) {
            assert_close_scaled(a, b, 2e-5, &format!("{what}: {name}"));
        }
        let inferred = infer(with_weights::<TestBackend>(&config, &weights), &x, &h0, lengths);
        let names = ["output", "h_n", "c_n"];
        for (name, a) in names.iter().zip(&inferred) {
            let (_, b) = recorded.iter().find(|(n, _)| n == name).expect("recorded output");
            assert_close_scaled(a, b, 2e-5, &format!("{what}, inference: {name}"));
        }
    }
}

#[test]
fn one_node_bptt_matches_the_recorded_graph_rnn_tanh() {
    check(CellKind::RnnTanh);
}

#[test]
fn one_node_bptt_matches_the_recorded_graph_rnn_relu() {
    check(CellKind::RnnRelu);
}

#[test]
fn one_node_bptt_matches_the_recorded_graph_lstm() {
    check(CellKind::Lstm);
}

#[test]
fn one_node_bptt_matches_the_recorded_graph_gru() {
    check(CellKind::Gru);
}

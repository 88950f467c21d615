//! Padding invariance: every sequence of a right-padded batch gets exactly what it gets alone —
//! the same outputs at its real positions, zeros at its pads, the same final states — for every
//! cell, uni- and bidirectional, with 1 and 2 layers. Pads hold random values, not zeros.

use burn::tensor::{backend::Backend, Distribution, Tensor};
use seqlab_models::{CellKind, RecurrentConfig};

use crate::common::*;

const LENGTHS: [usize; 4] = [6, 2, 4, 1];
const SEQ: usize = 6;
const INPUT: usize = 3;
const HIDDEN: usize = 4;

fn check(cell: CellKind) {
    check_on::<TestBackend>(cell);
}

fn check_on<B: Backend>(cell: CellKind) {
    let device = Default::default();
    for layers in [1, 2] {
        for bidirectional in [false, true] {
            let what = format!("{cell:?} layers={layers} bi={bidirectional}");
            let rnn = RecurrentConfig::new(cell, INPUT, HIDDEN)
                .with_num_layers(layers)
                .with_bidirectional(bidirectional)
                .init::<B>(&device);
            let x = Tensor::<B, 3>::random([LENGTHS.len(), SEQ, INPUT], Distribution::Normal(0.0, 1.0), &device);
            let batched = rnn.forward(x.clone(), Some(int_tensor(&LENGTHS, &device)), None);
            let width = rnn.d_output();
            for (b, &len) in LENGTHS.iter().enumerate() {
                let alone = rnn.forward(x.clone().slice([b..b + 1, 0..len]), None, None);
                let real = batched.output.clone().slice([b..b + 1, 0..len]);
                assert_close(&values(&real), &values(&alone.output), 1e-5, &format!("{what}: outputs of sequence {b}"));
                if len < SEQ {
                    let pads = values(&batched.output.clone().slice([b..b + 1, len..SEQ]));
                    assert!(pads.iter().all(|&v| v == 0.0), "{what}: sequence {b} has non-zero outputs at pads");
                }
                assert_eq!(width, alone.output.dims()[2]);
                let state = |s: &Tensor<B, 3>, i: usize| values(&s.clone().slice([0..s.dims()[0], i..i + 1]));
                assert_close(
                    &state(&batched.state.hidden, b),
                    &state(&alone.state.hidden, 0),
                    1e-5,
                    &format!("{what}: h_n of {b}"),
                );
                if let (Some(c), Some(c_alone)) = (&batched.state.cell, &alone.state.cell) {
                    assert_close(&state(c, b), &state(c_alone, 0), 1e-5, &format!("{what}: c_n of {b}"));
                }
            }
        }
    }
}

#[test]
fn padding_invariance_rnn_tanh() {
    check(CellKind::RnnTanh);
}

#[test]
fn padding_invariance_rnn_relu() {
    check(CellKind::RnnRelu);
}

#[test]
fn padding_invariance_lstm() {
    check(CellKind::Lstm);
}

#[test]
fn padding_invariance_gru() {
    check(CellKind::Gru);
}

/// The same on Burn's Flex CPU backend, which no fast path recognises: the step-by-step
/// recorded path of `engine/recorded.rs` (what a backend without a kernel or BPTT node runs; on ndarray
/// the tests above go through the CPU kernel instead).
#[test]
fn padding_invariance_of_the_recorded_path() {
    for cell in [CellKind::RnnTanh, CellKind::RnnRelu, CellKind::Lstm, CellKind::Gru] {
        check_on::<burn::backend::Flex>(cell);
    }
}

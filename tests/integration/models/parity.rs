//! Parity with PyTorch: outputs, final states and gradients (w.r.t. the input and every weight)
//! of our recurrent layers equal PyTorch's within 1e-5 for the same weights. The fixtures come
//! from `tests/fixtures/pytorch/generate.py` (PyTorch in float64; packed sequences for the
//! variable-length cases) and are loaded through `Recurrent::load_pytorch`.

use burn::tensor::Tensor;
use seqlab_models::import::pytorch_name;
use seqlab_models::{CellKind, RecurrentConfig};

use crate::common::*;

const TOLERANCE: f32 = 1e-5;
const INPUT: usize = 4;
const HIDDEN: usize = 3;

/// Runs one fixture case and asserts every compared tensor; returns the largest error seen.
fn check(case: &str, cell: CellKind, layers: usize, bidirectional: bool, variable: bool) -> f32 {
    let device = Default::default();
    let f = pytorch_fixture(case);
    let rnn = RecurrentConfig::new(cell, INPUT, HIDDEN)
        .with_num_layers(layers)
        .with_bidirectional(bidirectional)
        .init::<TestAutodiff>(&device)
        .load_pytorch(&f, "")
        .expect("fixture holds every parameter");
    let input = f.get("input").unwrap().to_tensor::<TestAutodiff, 3>(&device).require_grad();
    let lengths = variable.then(|| {
        let lengths: Vec<usize> = f.get("lengths").unwrap().values.iter().map(|&v| v as usize).collect();
        int_tensor::<TestAutodiff>(&lengths, &device)
    });

    let out = rnn.forward(input.clone(), lengths, None);
    let weight = |name: &str| f.get(name).unwrap().to_tensor::<TestAutodiff, 3>(&device);
    let mut loss = (out.output.clone() * weight("r_output")).sum() + (out.state.hidden.clone() * weight("r_h_n")).sum();
    if let Some(c) = &out.state.cell {
        loss = loss + (c.clone() * weight("r_c_n")).sum();
    }
    let grads = loss.backward();

    let mut worst = 0f32;
    let mut compare = |what: &str, actual: f32| {
        assert!(actual <= TOLERANCE, "{case}: {what} differs from PyTorch by {actual:.3e}");
        worst = worst.max(actual);
    };
    compare("output", max_abs_diff(&out.output, f.get("output").unwrap(), "output"));
    compare("h_n", max_abs_diff(&out.state.hidden, f.get("h_n").unwrap(), "h_n"));
    match (&out.state.cell, cell) {
        (Some(c), CellKind::Lstm) => compare("c_n", max_abs_diff(c, f.get("c_n").unwrap(), "c_n")),
        (None, CellKind::Lstm) => panic!("LSTM returned no cell state"),
        (Some(_), _) => panic!("{cell:?} returned a cell state"),
        (None, _) => {}
    }
    let grad_input = input.grad(&grads).expect("input gradient");
    compare("grad.input", max_abs_diff(&grad_input, f.get("grad.input").unwrap(), "grad.input"));

    let dirs = if bidirectional { 2 } else { 1 };
    for (index, w) in rnn.weights.iter().enumerate() {
        let name = |kind| pytorch_name("grad.", kind, index / dirs, index % dirs == 1);
        let matrix =
            |p: &burn::module::Param<Tensor<TestAutodiff, 2>>| p.grad(&grads).expect("weight gradient").transpose();
        let (n_ih, n_hh) = (name("weight_ih"), name("weight_hh"));
        compare(&n_ih, max_abs_diff(&matrix(&w.weight_ih), f.get(&n_ih).unwrap(), &n_ih));
        compare(&n_hh, max_abs_diff(&matrix(&w.weight_hh), f.get(&n_hh).unwrap(), &n_hh));
        for (bias, kind) in [(&w.bias_ih, "bias_ih"), (&w.bias_hh, "bias_hh")] {
            let n = name(kind);
            let g = bias.as_ref().unwrap().grad(&grads).expect("bias gradient");
            compare(&n, max_abs_diff(&g, f.get(&n).unwrap(), &n));
        }
    }
    println!("parity {case}: max |Δ| = {worst:.3e}");
    worst
}

macro_rules! parity_cases {
    ($($case:ident: $cell:ident, $layers:literal, $bi:literal, $var:literal;)*) => {
        $(
            #[test]
            fn $case() {
                check(stringify!($case), CellKind::$cell, $layers, $bi, $var);
            }
        )*
    };
}

parity_cases! {
    rnn_tanh_l1_uni_equal: RnnTanh, 1, false, false;
    rnn_tanh_l1_uni_var: RnnTanh, 1, false, true;
    rnn_tanh_l1_bi_equal: RnnTanh, 1, true, false;
    rnn_tanh_l1_bi_var: RnnTanh, 1, true, true;
    rnn_tanh_l2_uni_equal: RnnTanh, 2, false, false;
    rnn_tanh_l2_uni_var: RnnTanh, 2, false, true;
    rnn_tanh_l2_bi_equal: RnnTanh, 2, true, false;
    rnn_tanh_l2_bi_var: RnnTanh, 2, true, true;
    rnn_relu_l1_uni_equal: RnnRelu, 1, false, false;
    rnn_relu_l1_uni_var: RnnRelu, 1, false, true;
    rnn_relu_l1_bi_equal: RnnRelu, 1, true, false;
    rnn_relu_l1_bi_var: RnnRelu, 1, true, true;
    rnn_relu_l2_uni_equal: RnnRelu, 2, false, false;
    rnn_relu_l2_uni_var: RnnRelu, 2, false, true;
    rnn_relu_l2_bi_equal: RnnRelu, 2, true, false;
    rnn_relu_l2_bi_var: RnnRelu, 2, true, true;
    lstm_l1_uni_equal: Lstm, 1, false, false;
    lstm_l1_uni_var: Lstm, 1, false, true;
    lstm_l1_bi_equal: Lstm, 1, true, false;
    lstm_l1_bi_var: Lstm, 1, true, true;
    lstm_l2_uni_equal: Lstm, 2, false, false;
    lstm_l2_uni_var: Lstm, 2, false, true;
    lstm_l2_bi_equal: Lstm, 2, true, false;
    lstm_l2_bi_var: Lstm, 2, true, true;
    gru_l1_uni_equal: Gru, 1, false, false;
    gru_l1_uni_var: Gru, 1, false, true;
    gru_l1_bi_equal: Gru, 1, true, false;
    gru_l1_bi_var: Gru, 1, true, true;
    gru_l2_uni_equal: Gru, 2, false, false;
    gru_l2_uni_var: Gru, 2, false, true;
    gru_l2_bi_equal: Gru, 2, true, false;
    gru_l2_bi_var: Gru, 2, true, true;
}

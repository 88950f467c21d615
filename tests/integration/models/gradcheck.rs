//! Finite-difference gradient checks (BPTT written out by autodiff vs central differences) for
//! every cell, in float64 on ndarray: a 2-layer bidirectional stack over a padded batch, the
//! gradient of a fixed random linear loss w.r.t. the input and every single weight.

use burn::backend::{Autodiff, NdArray};
use burn::module::{AutodiffModule, Param};
use burn::tensor::{backend::Backend, DType, Distribution, Int, Tensor, TensorCreationOptions, TensorData};
use seqlab_models::{CellKind, Recurrent, RecurrentConfig, RecurrentOutput};

use crate::common::int_tensor;

type F64 = NdArray<f64>;
type AdF64 = Autodiff<F64>;

const EPS: f64 = 1e-6;
const SHAPE: [usize; 3] = [2, 4, 3]; // [batch, seq, input]
const LENGTHS: [usize; 2] = [4, 2];
const HIDDEN: usize = 2;

/// The loss `Σ output ⊙ r_out + Σ h_n ⊙ r_h (+ Σ c_n ⊙ r_c)`.
fn loss<B: Backend>(out: RecurrentOutput<B>, r: &[Tensor<B, 3>; 3]) -> Tensor<B, 1> {
    let mut l = (out.output * r[0].clone()).sum() + (out.state.hidden * r[1].clone()).sum();
    if let Some(c) = out.state.cell {
        l = l + (c * r[2].clone()).sum();
    }
    l
}

fn scalar(t: Tensor<F64, 1>) -> f64 {
    t.into_scalar()
}

fn flat<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Vec<f64> {
    t.to_data().convert::<f64>().to_vec().unwrap()
}

// Explicit f64 everywhere: NdArray<f32> and NdArray<f64> share one device type, so the
// device's default float type in this test process may well be f32.
fn f64_options() -> TensorCreationOptions<F64> {
    TensorCreationOptions::new(Default::default()).with_dtype(DType::F64)
}

fn random<const D: usize>(shape: [usize; D]) -> Tensor<F64, D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), f64_options())
}

fn nudged<const D: usize>(t: &Tensor<F64, D>, i: usize, delta: f64) -> Tensor<F64, D> {
    let mut v = flat(t);
    v[i] += delta;
    Tensor::from_data(TensorData::new(v, t.shape()), f64_options())
}

/// The same model with every parameter as an f64 leaf.
fn to_f64(mut rnn: Recurrent<AdF64>) -> Recurrent<AdF64> {
    fn leaf<const D: usize>(p: Param<Tensor<AdF64, D>>) -> Param<Tensor<AdF64, D>> {
        p.map(|t| Tensor::from_inner(nudged(&t.inner(), 0, 0.0)).require_grad())
    }
    for w in rnn.weights.iter_mut() {
        w.weight_ih = leaf(w.weight_ih.clone());
        w.weight_hh = leaf(w.weight_hh.clone());
        w.bias_ih = w.bias_ih.clone().map(leaf);
        w.bias_hh = w.bias_hh.clone().map(leaf);
    }
    rnn
}

fn assert_fd(analytic: &[f64], numeric: impl Fn(usize) -> f64, what: &str) {
    for (i, &a) in analytic.iter().enumerate() {
        let n = numeric(i);
        assert!((a - n).abs() <= 1e-7 + 1e-6 * a.abs(), "{what}[{i}]: autodiff {a} vs finite differences {n}");
    }
}

fn check(cell: CellKind) {
    let device = Default::default();
    let rnn = to_f64(
        RecurrentConfig::new(cell, SHAPE[2], HIDDEN).with_num_layers(2).with_bidirectional(true).init::<AdF64>(&device),
    );
    let x = random(SHAPE);
    let lengths = || int_tensor::<F64>(&LENGTHS, &device);
    let state_shape = [4, SHAPE[0], HIDDEN];
    let r: [Tensor<F64, 3>; 3] = [random([SHAPE[0], SHAPE[1], 2 * HIDDEN]), random(state_shape), random(state_shape)];

    // Analytic gradients through autodiff.
    let x_ad = Tensor::<AdF64, 3>::from_inner(x.clone()).require_grad();
    let r_ad = r.clone().map(Tensor::<AdF64, 3>::from_inner);
    let lengths_ad: Tensor<AdF64, 1, Int> = Tensor::from_inner(lengths());
    let grads = loss(rnn.forward(x_ad.clone(), Some(lengths_ad), None), &r_ad).backward();

    // Numeric gradients on the same weights.
    let inner: Recurrent<F64> = rnn.valid();
    assert_eq!(inner.weights[0].weight_hh.val().dtype(), DType::F64);
    let eval = |model: &Recurrent<F64>, x: Tensor<F64, 3>| scalar(loss(model.forward(x, Some(lengths()), None), &r));
    let central = |plus: f64, minus: f64| (plus - minus) / (2.0 * EPS);

    assert_fd(
        &flat(&x_ad.grad(&grads).unwrap()),
        |i| central(eval(&inner, nudged(&x, i, EPS)), eval(&inner, nudged(&x, i, -EPS))),
        &format!("{cell:?} d/d input"),
    );

    fn check_param<const D: usize>(
        analytic: &Param<Tensor<AdF64, D>>,
        grads: &<AdF64 as burn::tensor::backend::AutodiffBackend>::Gradients,
        numeric_at: impl Fn(usize) -> f64,
        what: &str,
    ) {
        assert_fd(&flat(&analytic.grad(grads).unwrap()), numeric_at, what);
    }
    for k in 0..inner.weights.len() {
        let with = |edit: &dyn Fn(&mut Recurrent<F64>)| {
            let mut m = inner.clone();
            edit(&mut m);
            eval(&m, x.clone())
        };
        macro_rules! param {
            ($field:ident) => {{
                let numeric = |i: usize| {
                    let at = |delta: f64| {
                        with(&|m: &mut Recurrent<F64>| {
                            let p = m.weights[k].$field.clone();
                            m.weights[k].$field = p.map(|t| nudged(&t, i, delta));
                        })
                    };
                    central(at(EPS), at(-EPS))
                };
                check_param(
                    &rnn.weights[k].$field,
                    &grads,
                    numeric,
                    &format!("{cell:?} weights[{k}].{}", stringify!($field)),
                );
            }};
        }
        macro_rules! bias {
            ($field:ident) => {{
                let numeric = |i: usize| {
                    let at = |delta: f64| {
                        with(&|m: &mut Recurrent<F64>| {
                            let p = m.weights[k].$field.clone().unwrap();
                            m.weights[k].$field = Some(p.map(|t| nudged(&t, i, delta)));
                        })
                    };
                    central(at(EPS), at(-EPS))
                };
                let analytic = rnn.weights[k].$field.as_ref().unwrap();
                check_param(analytic, &grads, numeric, &format!("{cell:?} weights[{k}].{}", stringify!($field)));
            }};
        }
        param!(weight_ih);
        param!(weight_hh);
        bias!(bias_ih);
        bias!(bias_hh);
    }
}

#[test]
fn finite_differences_rnn_tanh() {
    check(CellKind::RnnTanh);
}

#[test]
fn finite_differences_rnn_relu() {
    check(CellKind::RnnRelu);
}

#[test]
fn finite_differences_lstm() {
    check(CellKind::Lstm);
}

#[test]
fn finite_differences_gru() {
    check(CellKind::Gru);
}

//! The fast embedding lookup, dropout mask, masked maximum and linear layer
//! (`seqlab_models::{embedding, dropout, masked_max, linear}`, issues 16 and 37) against Burn's
//! own modules and operations: the same values and gradients, on the test backend (ndarray: the
//! fast paths; wgpu: Burn's own ops, through the same functions).

use burn::module::AutodiffModule;
use burn::nn::{DropoutConfig, EmbeddingConfig, LinearConfig};
use burn::tensor::{Int, Tensor, TensorData};
use seqlab_models::{dropout, embedding, linear, masked_max};

use crate::common::*;

#[test]
fn embedding_lookup_equals_burns_with_its_gradient() {
    let device = Default::default();
    let table = EmbeddingConfig::new(7, 3).init::<TestAutodiff>(&device);
    // Repeated ids (their gradient rows add up), padding id 0, a [2, 4] batch.
    let ids =
        Tensor::<TestAutodiff, 2, Int>::from_data(TensorData::new(vec![3i64, 0, 3, 6, 1, 1, 1, 5], [2, 4]), &device);
    let weights = Tensor::<TestAutodiff, 3>::from_data(
        TensorData::new((0..24).map(|i| (i as f32 * 0.37).sin()).collect::<Vec<_>>(), [2, 4, 3]),
        &device,
    );
    let ours = embedding::lookup(&table, ids.clone());
    let burn = table.forward(ids.clone());
    assert_eq!(values(&ours.clone().inner()), values(&burn.clone().inner()), "the rows themselves");
    let g_ours = (ours * weights.clone()).sum().backward();
    let g_burn = (burn * weights).sum().backward();
    let (a, b) = (table.weight.grad(&g_ours).unwrap(), table.weight.grad(&g_burn).unwrap());
    assert_close(&values(&a), &values(&b), 1e-6, "∂L/∂table");
    // Row 1 collects three output rows, row 2 none.
    let a = values(&a);
    assert!(a[3..6].iter().any(|&v| v != 0.0) && a[6..9].iter().all(|&v| v == 0.0));
    // Without autodiff the same rows.
    let plain = embedding::lookup(&table.valid(), ids.inner());
    assert_eq!(
        values(&plain),
        values(&table.valid().forward(Tensor::<TestBackend, 2, Int>::from_data(
            TensorData::new(vec![3i64, 0, 3, 6, 1, 1, 1, 5], [2, 4]),
            &device
        )))
    );
}

/// A `[2, 3, 5]` input (and the same values as a transposed view, which is not contiguous)
/// through a 5 → 4 layer: the outputs and the gradients of the input, the weights and the bias
/// equal Burn's `Linear` to float rounding; without autodiff too.
#[test]
fn linear_equals_burns_with_its_gradients() {
    let device = Default::default();
    let layer = LinearConfig::new(5, 4).init::<TestAutodiff>(&device);
    let data = |n: usize, phase: f32| (0..n).map(|i| (i as f32 * 0.61 + phase).sin()).collect::<Vec<_>>();
    let weights = Tensor::<TestAutodiff, 3>::from_data(TensorData::new(data(24, 0.3), [2, 3, 4]), &device);
    for (name, swap) in [("contiguous", false), ("transposed", true)] {
        // Each implementation gets its own graph: a backward pass consumes the steps it walks.
        let input = || {
            let shape = if swap { [2, 5, 3] } else { [2, 3, 5] };
            let leaf =
                Tensor::<TestAutodiff, 3>::from_data(TensorData::new(data(30, 1.0), shape), &device).require_grad();
            let x = if swap { leaf.clone().swap_dims(1, 2) } else { leaf.clone() };
            (leaf, x)
        };
        let ((leaf_ours, x_ours), (leaf_burn, x_burn)) = (input(), input());
        let ours = linear::forward(&layer, x_ours.clone());
        let burn = layer.forward(x_burn.clone());
        assert_close(&values(&ours.clone().inner()), &values(&burn.clone().inner()), 1e-6, name);
        let g_ours = (ours * weights.clone()).sum().backward();
        let g_burn = (burn * weights.clone()).sum().backward();
        let grad = |g: &_, leaf: &Tensor<TestAutodiff, 3>, which: &str| {
            let grad = match which {
                "x" => leaf.grad(g).map(|t| values(&t)),
                "weight" => layer.weight.grad(g).map(|t| values(&t)),
                _ => layer.bias.as_ref().and_then(|b| b.grad(g)).map(|t| values(&t)),
            };
            grad.unwrap_or_else(|| panic!("{name}: no gradient for {which}"))
        };
        for which in ["x", "weight", "bias"] {
            let (a, b) = (grad(&g_ours, &leaf_ours, which), grad(&g_burn, &leaf_burn, which));
            assert!(a.iter().any(|&v| v != 0.0), "{name}: ∂L/∂{which} is not all zero");
            assert_close(&a, &b, 1e-5, &format!("{name}: ∂L/∂{which}"));
        }
        let plain = linear::forward(&layer.valid(), x_ours.clone().inner());
        assert_close(&values(&plain), &values(&layer.valid().forward(x_ours.inner())), 1e-6, name);
    }
}

#[test]
fn dropout_keeps_one_minus_p_scaled_and_is_repeatable() {
    let device = Default::default();
    let layer = DropoutConfig::new(0.3).init();
    let x = Tensor::<TestAutodiff, 2>::ones([200, 500], &device);
    let a = values(&dropout::dropout_with_key(&layer, x.clone(), 7).inner());
    let kept = a.iter().filter(|&&v| v != 0.0).count() as f64 / a.len() as f64;
    // 100,000 Bernoulli(0.7) draws: the share kept is within 5 standard deviations (0.0073).
    assert!((kept - 0.7).abs() < 0.0073, "kept {kept}");
    assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6), "kept values are scaled by 1/(1 − p)");
    assert_eq!(a, values(&dropout::dropout_with_key(&layer, x.clone(), 7).inner()), "the same key gives the same mask");
    let b = values(&dropout::dropout_with_key(&layer, x.clone(), 8).inner());
    let same = a.iter().zip(&b).filter(|(p, q)| (**p == 0.0) == (**q == 0.0)).count() as f64 / a.len() as f64;
    // Independent masks agree on 0.7² + 0.3² = 58 % of the elements.
    assert!((same - 0.58).abs() < 0.01, "masks of neighbouring keys agree on {same}");
    let c = values(&dropout::dropout(&layer, x.clone()).inner());
    assert_ne!(c, values(&dropout::dropout(&layer, x.clone()).inner()), "each call draws a new mask");
    // Rows and columns are not correlated: the first row's and first column's shares are near 0.7 too.
    let row = a[..500].iter().filter(|&&v| v != 0.0).count() as f64 / 500.0;
    let col = (0..200).filter(|&r| a[r * 500] != 0.0).count() as f64 / 200.0;
    assert!((row - 0.7).abs() < 0.11 && (col - 0.7).abs() < 0.17, "row {row}, column {col}");
    // Outside training (no autodiff) and with p = 0 the input is returned as it is.
    let inner = x.clone().inner();
    assert_eq!(values(&dropout::dropout(&layer, inner.clone())), values(&inner));
    assert_eq!(values(&dropout::dropout(&DropoutConfig::new(0.0).init(), x.clone()).inner()), values(&x.inner()));
}

#[test]
fn masked_max_equals_the_tensor_operations_bit_for_bit_with_its_gradient() {
    let device = Default::default();
    let (rows, len, d) = (4, 5, 3);
    // Row 0: all real, a tie between positions 1 and 3 in column 0 (the first must win);
    // row 1: two real positions, the padding holding the largest values; row 2: no real position;
    // row 3: one real position, all values negative.
    let mut x: Vec<f32> = (0..rows * len * d).map(|i| (i as f32 * 0.71).sin() * 3.0).collect();
    let at = |n: usize, c: usize, j: usize| (n * len + c) * d + j;
    x[at(0, 1, 0)] = 5.0;
    x[at(0, 3, 0)] = 5.0;
    for c in 2..len {
        x[at(1, c, 0)] = 100.0;
    }
    for c in 0..len {
        for j in 0..d {
            x[at(3, c, j)] = -1.0 - (c * d + j) as f32;
        }
    }
    let real: Vec<f32> = [[1.0; 5], [1.0, 1.0, 0.0, 0.0, 0.0], [0.0; 5], [1.0, 0.0, 0.0, 0.0, 0.0]].concat();
    let weights: Vec<f32> = (0..rows * d).map(|i| 1.0 + i as f32 * 0.5).collect();
    let input =
        || Tensor::<TestAutodiff, 3>::from_data(TensorData::new(x.clone(), [rows, len, d]), &device).require_grad();
    let mask = || Tensor::<TestAutodiff, 2>::from_data(TensorData::new(real.clone(), [rows, len]), &device);
    let weights = Tensor::<TestAutodiff, 2>::from_data(TensorData::new(weights, [rows, d]), &device);

    let (ours_in, burn_in) = (input(), input());
    let ours = masked_max::masked_max(ours_in.clone(), mask());
    let burn = masked_max::with_tensor_ops(burn_in.clone(), mask());
    let got = values(&ours.clone().inner());
    assert_eq!(got, values(&burn.clone().inner()), "the maxima");
    assert_eq!(got[0], 5.0);
    assert!(got[3] < 100.0, "padding never wins: {}", got[3]);
    assert_eq!(&got[6..9], &[0.0, 0.0, 0.0], "a row with no real position gives 0");
    assert_eq!(&got[9..12], &[-1.0, -2.0, -3.0], "a single real position is the maximum, negative or not");

    let g_ours = ours_in.grad(&(ours * weights.clone()).sum().backward()).unwrap();
    let g_burn = burn_in.grad(&(burn * weights).sum().backward()).unwrap();
    let g = values(&g_ours);
    assert_eq!(g, values(&g_burn), "∂L/∂x");
    assert_eq!((g[at(0, 1, 0)], g[at(0, 3, 0)]), (1.0, 0.0), "the first of tied maxima takes the gradient");
    assert!(g[at(2, 0, 0)..at(3, 0, 0)].iter().all(|&v| v == 0.0), "a row with no real position takes none");

    // Without autodiff, the same maxima.
    let plain = masked_max::masked_max(input().inner(), mask().inner());
    assert_eq!(values(&plain), got);
}

//! The mean cross-entropy of logits against class ids, with an exact, repeatable gradient.
//!
//! Burn 0.21's `CrossEntropyLoss` goes through `log`, whose backward multiplies by `recip(x)`;
//! burn-ndarray computes `recip` of f32 tensors with the CPU's approximate reciprocal
//! instruction (relative error up to ~3e-4) on the aligned middle of a buffer and exactly on its
//! ends. So the logits' gradient was off by up to 3e-4 of its size, and by an amount that
//! depended on where the allocator put the buffer: two runs with the same seed drifted apart
//! from the first step. Here the gradient `(softmax(z) − onehot(y)) / N` is computed in the
//! forward pass, with exact divisions, and attached to the logits as `Σ z·g − detach(Σ z·g) +
//! value`, whose backward is a multiplication by `g` — exact and the same in every run.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

/// The mean over rows of `−log softmax(logits)[target]`.
///
/// - `logits`: `[N, C]`.
/// - `targets`: `[N]` class ids in `0..C`.
/// - returns: `[1]`, whose gradient with respect to `logits` is `(softmax(logits) − onehot) / N`.
pub fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let [n, c] = logits.dims();
    let device = logits.device();
    let z = logits.clone().detach();
    let z_dtype = z.dtype();
    let shifted = z.clone() - z.max_dim(1);
    let exp = shifted.clone().exp();
    let sum = exp.clone().sum_dim(1); // [N, 1]
    let probabilities = exp.div(sum.clone());
    let picked = shifted.gather(1, targets.clone().reshape([n, 1]));
    let rows = n.max(1) as f64;
    let value = (sum.log() - picked).sum().div_scalar(rows);
    let classes = Tensor::<B, 1, Int>::arange(0..c as i64, &device).reshape([1, c]).expand([n, c]);
    let one_hot = targets.reshape([n, 1]).expand([n, c]).equal(classes).float().cast(z_dtype);
    let gradient = (probabilities - one_hot).div_scalar(rows);
    let linear = (logits * gradient).sum();
    linear.clone() - linear.detach() + value
}

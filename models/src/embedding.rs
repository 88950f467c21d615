//! Embedding lookup with a fast path on ndarray: the same function as
//! `burn::nn::Embedding::forward` (row `ids[n][t]` of the weight matrix for every id), with its
//! gradient (each output row's gradient added into its id's row).
//!
//! burn-ndarray 0.21 looks rows up with ndarray's `select`, which builds one view per id and
//! concatenates them, and its backward adds one row view at a time: in a CoNLL-2003 epoch the
//! two took 17 % of the time (perf, issue 16), most of it for the character CNN's ids. On
//! `NdArray<f32>` and `Autodiff<NdArray<f32>>` the rows are copied straight from the weights'
//! buffer, and on the latter the lookup is one autodiff node whose backward pass adds the rows
//! into one zeroed buffer; every other backend runs Burn's own embedding.

use burn::nn::Embedding;
use burn::tensor::{backend::Backend, Int, Tensor};

/// `embedding` applied to `ids`.
///
/// - `ids`: `[batch, seq]`, each below the embedding's number of rows.
/// - returns: `[batch, seq, dim]`.
pub fn lookup<B: Backend>(embedding: &Embedding<B>, ids: Tensor<B, 2, Int>) -> Tensor<B, 3> {
    #[cfg(feature = "ndarray")]
    {
        use crate::backends::{known, Known};
        let weight = embedding.weight.val();
        if weight.dtype() == burn::tensor::DType::F32 {
            match known::<B>() {
                Some(Known::AutodiffNdArrayF32) => {
                    return crate::flat::cast(fast::autodiff(crate::flat::cast(weight), crate::flat::cast(ids)));
                }
                Some(Known::NdArrayF32) => {
                    return crate::flat::cast(fast::plain(crate::flat::cast(weight), crate::flat::cast(ids)));
                }
                _ => {}
            }
        }
    }
    embedding.forward(ids)
}

#[cfg(feature = "ndarray")]
mod fast {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::{Int, Tensor, TensorPrimitive};

    use crate::flat;

    type X = NdArray<f32>;
    type Ad = Autodiff<X>;

    /// The ids as row numbers, checked against the number of rows.
    fn rows<B: burn::tensor::backend::Backend>(ids: Tensor<B, 2, Int>, vocab: usize) -> Vec<usize> {
        let ids: Vec<usize> = ids
            .into_data()
            .convert::<i64>()
            .into_vec::<i64>()
            .expect("integer ids")
            .into_iter()
            .map(|i| i as usize)
            .collect();
        if let Some(bad) = ids.iter().find(|&&i| i >= vocab) {
            panic!("embedding id {bad} out of range for {vocab} rows");
        }
        ids
    }

    /// The rows of `weight` (`[vocab, dim]`) at `ids`, one after another, read in place from
    /// the weights' buffer (copying the whole table first would cost more than the lookup).
    fn gather(weight: Tensor<X, 2>, ids: &[usize]) -> Vec<f32> {
        let dim = weight.dims()[1];
        let table = flat::values::<X, f32, 2>(weight);
        let mut out = Vec::with_capacity(ids.len() * dim);
        for &i in ids {
            out.extend_from_slice(&table[i * dim..(i + 1) * dim]);
        }
        out
    }

    pub(super) fn plain(weight: Tensor<X, 2>, ids: Tensor<X, 2, Int>) -> Tensor<X, 3> {
        let [batch, seq] = ids.dims();
        let [vocab, dim] = weight.dims();
        let device = weight.device();
        let ids = rows(ids, vocab);
        flat::from_vec::<X, f32, 3>(gather(weight, &ids), [batch, seq, dim], &device)
    }

    pub(super) fn autodiff(weight: Tensor<Ad, 2>, ids: Tensor<Ad, 2, Int>) -> Tensor<Ad, 3> {
        let [batch, seq] = ids.dims();
        let [vocab, dim] = weight.dims();
        let device = weight.device();
        let ids = rows(ids, vocab);
        let weight = weight.into_primitive().tensor();
        let inner: Tensor<X, 2> = Tensor::from_primitive(TensorPrimitive::Float(weight.primitive.clone()));
        let out =
            flat::from_vec::<X, f32, 3>(gather(inner, &ids), [batch, seq, dim], &device).into_primitive().tensor();
        let out = match Lookup.prepare::<NoCheckpointing>([weight.node.clone()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(LookupState { ids, vocab, dim, device }, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        };
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }

    /// The lookup's node: its one parent is the weight matrix.
    #[derive(Debug)]
    struct Lookup;

    #[derive(Debug, Clone)]
    struct LookupState {
        ids: Vec<usize>,
        vocab: usize,
        dim: usize,
        device: burn::backend::ndarray::NdArrayDevice,
    }

    impl Backward<X, 1> for Lookup {
        type State = LookupState;

        fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
            let grad: Tensor<X, 3> = Tensor::from_primitive(TensorPrimitive::Float(grads.consume::<X>(&ops.node)));
            let LookupState { ids, vocab, dim, device } = ops.state;
            let grad = flat::to_vec::<X, f32, 3>(grad);
            let mut table = vec![0.0f32; vocab * dim];
            for (row, &i) in grad.chunks_exact(dim).zip(&ids) {
                for (t, g) in table[i * dim..(i + 1) * dim].iter_mut().zip(row) {
                    *t += g;
                }
            }
            if let Some(node) = &ops.parents[0] {
                let value = flat::from_vec::<X, f32, 2>(table, [vocab, dim], &device);
                grads.register::<X>(node.id, value.into_primitive().tensor());
            }
        }
    }
}

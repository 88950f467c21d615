//! A cell's equations on Burn tensors: each gate block a `[batch, hidden]` tensor, one call per
//! time step (the recorded path and the wgpu node).

use burn::tensor::{backend::Backend, Tensor};

use super::math::{CacheBlocks, Cell, State};

/// The state a cell carries from one time step to the next, as tensors: `h_t` and (LSTM) `c_t`,
/// `[batch, hidden]` each.
pub type CellState<B> = State<Tensor<B, 2>>;

impl<B: Backend> CellState<B> {
    /// Per-row choice between `self` (mask 0) and `next` (mask 1):
    /// `self + mask ⊙ (next − self)`, with `mask: [batch, 1]`.
    ///
    /// This is how a padded position leaves a sequence's state untouched.
    pub fn advance_where(self, next: Self, mask: &Tensor<B, 2>) -> Self {
        let blend = |old: Tensor<B, 2>, new: Tensor<B, 2>| old.clone() + (new - old) * mask.clone();
        State {
            hidden: blend(self.hidden, next.hidden),
            cell: match (self.cell, next.cell) {
                (Some(old), Some(new)) => Some(blend(old, new)),
                _ => None,
            },
        }
    }
}

/// What a step keeps for its backward step: the cell's cache, `[batch, hidden]` per block, in
/// the order of its [`CacheBlocks`] (made and read only through [`forward`] and [`backward`]
/// with the same cell).
#[derive(Debug, Clone)]
pub struct StepCache<B: Backend>(Vec<Tensor<B, 2>>);

/// The gradients one step of BPTT sends back, as tensors (see [`super::StepGrads`]); the gate
/// blocks joined into `[batch, gates·hidden]`.
#[derive(Debug, Clone)]
pub struct TensorGrads<B: Backend> {
    /// `∂L/∂input_proj_t`: `[batch, gates·hidden]`.
    pub input_proj: Tensor<B, 2>,
    /// `∂L/∂hidden_proj_t` where it differs from `input_proj`.
    pub hidden_proj: Option<Tensor<B, 2>>,
    /// `∂L/∂h_{t-1}` through paths other than `hidden_proj`.
    pub hidden: Option<Tensor<B, 2>>,
    /// `∂L/∂c_{t-1}`.
    pub cell: Option<Tensor<B, 2>>,
}

/// One step of `cell` on `[batch, G·hidden]` projections.
pub fn forward<C: Cell<G, K>, B: Backend, const G: usize, const K: usize>(
    cell: C,
    input_proj: Tensor<B, 2>,
    hidden_proj: Tensor<B, 2>,
    prev: &CellState<B>,
) -> (CellState<B>, StepCache<B>) {
    let (next, cache) = cell.forward(blocks(input_proj), blocks(hidden_proj), prev.clone());
    (next, StepCache(cache.into_blocks().into()))
}

/// One step of BPTT of `cell` (see [`Cell::backward`]).
pub fn backward<C: Cell<G, K>, B: Backend, const G: usize, const K: usize>(
    cell: C,
    cache: &StepCache<B>,
    prev: &CellState<B>,
    grad: CellState<B>,
) -> TensorGrads<B> {
    let blocks: [Tensor<B, 2>; K] = cache.0.clone().try_into().expect("a step cache made by the same cell");
    let grads = cell.backward(C::Cache::from_blocks(blocks), prev.clone(), grad);
    TensorGrads {
        input_proj: join(grads.input_proj),
        hidden_proj: grads.hidden_proj.map(join),
        hidden: grads.hidden,
        cell: grads.cell,
    }
}

/// The `G` gate blocks `[batch, hidden]` of `[batch, G·hidden]`.
fn blocks<B: Backend, const G: usize>(projection: Tensor<B, 2>) -> [Tensor<B, 2>; G] {
    let blocks = if G == 1 { vec![projection] } else { projection.chunk(G, 1) };
    blocks.try_into().expect("the projection has G gate blocks")
}

/// `[batch, G·hidden]` from its `G` gate blocks.
fn join<B: Backend, const G: usize>(blocks: [Tensor<B, 2>; G]) -> Tensor<B, 2> {
    let mut blocks = Vec::from(blocks);
    match blocks.len() {
        1 => blocks.pop().expect("one block"),
        _ => Tensor::cat(blocks, 1),
    }
}

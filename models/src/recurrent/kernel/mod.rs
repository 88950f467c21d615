//! The recurrent time loop and its BPTT on flat CPU buffers: what the layers run on the
//! ndarray backend (`recurrent/engine/cpu.rs` wires it into Burn).
//!
//! Built from Burn tensor operations, one step of an LSTM is some forty small operations, each
//! allocating its result and each walking a strided `[batch, hidden]` view of the gate matrix;
//! on a CPU those costs, not the arithmetic, dominate. Here the input projection of all steps is
//! one matrix product (with int8 weights, one per block of up to 8 steps, each computed just
//! before the loop reaches it), and a step is one matrix product into a reused buffer (in f32
//! on AVX-512F against `W_hh` packed once for the pass, [`panels`]; else `gemm`,
//! single-threaded) and one pass over each batch row in which the cell
//! ([`CellKind::forward_row`]) computes all its gates, activations and the new state. The
//! backward pass is the BPTT of [`super::engine`] on the same buffers (its step product against
//! `W_hhᵀ`, packed or materialised once), followed by three products for `∂W_hh`, `∂W_ih` and
//! `∂input`. Time order and padding follow [`super::scan`].
//!
//! Parallelism: the work is split into *items* — a direction and a range of batch rows — that
//! are independent of each other (the directions of a layer, and the rows of a batch, never
//! meet inside the loop). Items run on their own threads, one per core: a bidirectional layer
//! runs its two directions side by side, a one-directional layer splits its batch in halves.
//! Every item flushes subnormals to zero while it runs ([`crate::subnormal`]).
//!
//! Layouts (row-major, batch-major like the layers' tensors): input `[batch, seq, d_input]`,
//! `W_ih` `[d_input, gates·hidden]`, `W_hh` `[hidden, gates·hidden]`, masks `[batch, seq]`
//! (1 real, 0 padding), states `[batch, hidden]`, and one flat *packed output* (see
//! [`Layer::packed_len`]): the outputs `[batch, seq, directions·hidden]`, then `h_n`, then
//! `c_n`, so that a layer's output is a view of it.

pub mod amx;
mod base;
pub mod gemm;
pub mod int8;
mod packed;
pub mod panels;
mod scratch;

use std::ops::Range;

use base::Base;
use gemm::{matmul, View};
pub use int8::Int8Direction;
use int8::QuantizedRows;
use packed::StepOutputs;
use panels::{Panels, Rows};

pub use super::cell::Real;
use super::cell::{BackwardRow, CellKind, ForwardRow};
use super::scan::{backward_order, forward_order};
use crate::flat::Values;
use crate::subnormal::FlushToZero;
use crate::threads::threads;

/// One direction of a layer: its weights (read where the model holds them, see
/// [`crate::flat::values`]) and initial state, as flat buffers.
#[derive(Debug, Clone)]
pub struct Direction<F> {
    /// `W_ih`: `[d_input, gates·hidden]`.
    pub weight_ih: Values<F>,
    /// `b_ih`: `[gates·hidden]`.
    pub bias_ih: Option<Vec<F>>,
    /// `W_hh`: `[hidden, gates·hidden]`.
    pub weight_hh: Values<F>,
    /// `b_hh`: `[gates·hidden]`.
    pub bias_hh: Option<Vec<F>>,
    /// `h_0`: `[batch, hidden]`.
    pub h0: Vec<F>,
    /// `c_0`: `[batch, hidden]`, for cells with memory.
    pub c0: Option<Vec<F>>,
    /// Whether the direction runs from the last step to the first.
    pub reverse: bool,
}

/// The two weight products of a direction's forward pass, written over `out` with a bias
/// (zeros when `None`) added: the input projection `b_ih + x W_ih` (all rows, and all steps or
/// a block of them, at once) and a step's `b_hh + h_{t-1} W_hh`.
trait Products<F> {
    /// Steps whose input projection is computed at once, just before the time loop reaches
    /// them, for an item of `rows` rows and gates `width` wide (`None`: all steps in one
    /// product, before the loop).
    fn steps_at_once(rows: usize, width: usize) -> Option<usize>;
    fn input(&mut self, out: &mut [F], x: &[F], rows: usize, bias: Option<&[F]>);
    fn hidden(&mut self, out: &mut [F], h: &[F], rows: usize, bias: Option<&[F]>);
}

/// In `F`, with `gemm`: the bias copied into every row, the product added to it.
struct FloatProducts<'a, F> {
    direction: &'a Direction<F>,
    d_input: usize,
    hidden: usize,
    width: usize,
}

impl<F: Real> FloatProducts<'_, F> {
    #[inline(always)]
    fn product(&self, out: &mut [F], x: &[F], rows: usize, k: usize, weight: &[F], bias: Option<&[F]>) {
        let width = self.width;
        if let Some(bias) = bias {
            out[..rows * width].chunks_exact_mut(width).for_each(|row| row.copy_from_slice(bias));
        }
        matmul(out, View::rows(rows, width), bias.is_some(), x, View::rows(rows, k), weight, View::rows(k, width));
    }
}

impl<F: Real> Products<F> for FloatProducts<'_, F> {
    /// One product: `gemm` is fastest on the most rows (in blocks of 8 steps the default
    /// classifier's f32 inference ran about 4 % slower).
    fn steps_at_once(_rows: usize, _width: usize) -> Option<usize> {
        None
    }

    #[inline(always)]
    fn input(&mut self, out: &mut [F], x: &[F], rows: usize, bias: Option<&[F]>) {
        self.product(out, x, rows, self.d_input, &self.direction.weight_ih, bias);
    }

    #[inline(always)]
    fn hidden(&mut self, out: &mut [F], h: &[F], rows: usize, bias: Option<&[F]>) {
        self.product(out, h, rows, self.hidden, &self.direction.weight_hh, bias);
    }
}

/// In f32 on AVX-512F: the input projection as [`FloatProducts`], the step's product on `W_hh`
/// packed once for the whole pass ([`panels`]), the bias added in its epilogue.
struct PanelProducts<'a> {
    float: FloatProducts<'a, f32>,
    weight_hh: Panels,
    biases: Biases,
}

/// Where a [`PanelProducts`] adds the biases.
enum Biases {
    /// Each product its own: the GRU, whose reset gate scales the hidden projection's `n` block.
    Apart,
    /// `b_ih + b_hh` (`None` without either) in the step product's epilogue, the input projection
    /// written without one: for the cells that only ever add the two projections. This saves
    /// copying the bias into every row of the input projection (megabytes per pass) and `gemm`
    /// reading them back.
    Summed(Option<Vec<f32>>),
}

impl Biases {
    fn of(cell: CellKind, direction: &Direction<f32>) -> Self {
        if cell.splits_hidden_grad() {
            return Self::Apart;
        }
        Self::Summed(match (&direction.bias_ih, &direction.bias_hh) {
            (Some(ih), Some(hh)) => Some(ih.iter().zip(hh).map(|(a, b)| a + b).collect()),
            (one, other) => one.clone().or_else(|| other.clone()),
        })
    }
}

impl Products<f32> for PanelProducts<'_> {
    fn steps_at_once(rows: usize, width: usize) -> Option<usize> {
        FloatProducts::<f32>::steps_at_once(rows, width)
    }

    fn input(&mut self, out: &mut [f32], x: &[f32], rows: usize, bias: Option<&[f32]>) {
        let bias = match &self.biases {
            Biases::Apart => bias,
            Biases::Summed(_) => None,
        };
        self.float.input(out, x, rows, bias);
    }

    fn hidden(&mut self, out: &mut [f32], h: &[f32], rows: usize, bias: Option<&[f32]>) {
        let width = self.float.width;
        let bias = match &self.biases {
            Biases::Apart => bias,
            Biases::Summed(summed) => summed.as_deref(),
        };
        let shape = Rows { rows, stride: self.float.hidden, out_stride: width };
        self.weight_hh.product(Base::of(bias, width), out, h, shape);
    }
}

/// BPTT's step product for one direction: `∂h_{t-1} += ∂hidden_proj_t W_hhᵀ`.
trait HiddenGrad<F> {
    /// `out += d W_hhᵀ` for `rows` rows of `d` (`gates·hidden` wide, row `r` at `r·stride`);
    /// `out` is `[rows, hidden]`.
    fn add_to(&self, out: &mut [F], d: &[F], rows: usize, stride: usize);
}

/// `W_hhᵀ` `[gates·hidden, hidden]` materialised for `gemm`: a transposed view would be packed
/// again by every step's product.
struct TransposedHh<F> {
    weight: Vec<F>,
    hidden: usize,
    width: usize,
}

impl<F: Real> TransposedHh<F> {
    fn of(direction: &Direction<F>, hidden: usize, width: usize) -> Self {
        let mut weight = vec![F::ZERO; width * hidden];
        for (i, row) in direction.weight_hh.chunks_exact(width).enumerate() {
            for (j, &w) in row.iter().enumerate() {
                weight[j * hidden + i] = w;
            }
        }
        Self { weight, hidden, width }
    }
}

impl<F: Real> HiddenGrad<F> for TransposedHh<F> {
    fn add_to(&self, out: &mut [F], d: &[F], rows: usize, stride: usize) {
        let (n, width) = (self.hidden, self.width);
        let d_view = View { rows, cols: width, row_stride: stride, col_stride: 1 };
        matmul(out, View::rows(rows, n), true, d, d_view, &self.weight, View::rows(width, n));
    }
}

/// In f32 on AVX-512F: `W_hhᵀ` packed once for the whole pass ([`panels`]).
impl HiddenGrad<f32> for Panels {
    fn add_to(&self, out: &mut [f32], d: &[f32], rows: usize, stride: usize) {
        self.product(Base::Out, out, d, Rows { rows, stride, out_stride: self.columns() });
    }
}

/// In int8 ([`int8`]): the bias added in the product's epilogue; each product keeps its own
/// quantised rows between calls.
struct Int8Products<'a> {
    weights: &'a Int8Direction,
    input_rows: QuantizedRows,
    hidden_rows: QuantizedRows,
}

impl Products<f32> for Int8Products<'_> {
    /// Few enough that a block's projection (`rows · steps · width` floats) takes at most half
    /// of a core's 2 MiB L2 and is still there when the cell reads it, and at most 8; enough
    /// that the product keeps its speed. The default tagger's int8 pass (32 rows, 8 steps) ran
    /// about a tenth faster than with all steps at once; the bench's classifier (64 rows, 4
    /// steps) a few percent faster than in blocks of 8.
    fn steps_at_once(rows: usize, width: usize) -> Option<usize> {
        const BYTES: usize = 1 << 20;
        Some((BYTES / (rows * width * size_of::<f32>()).max(1)).clamp(1, 8))
    }

    fn input(&mut self, out: &mut [f32], x: &[f32], rows: usize, bias: Option<&[f32]>) {
        self.weights.weight_ih.matmul_bias(out, x, rows, bias, &mut self.input_rows);
    }

    fn hidden(&mut self, out: &mut [f32], h: &[f32], rows: usize, bias: Option<&[f32]>) {
        self.weights.weight_hh.matmul_bias(out, h, rows, bias, &mut self.hidden_rows);
    }
}

/// One layer (all its directions) over a batch.
#[derive(Debug, Clone)]
pub struct Layer<F> {
    pub batch: usize,
    pub seq: usize,
    pub d_input: usize,
    pub hidden: usize,
    /// The layer's input, batch-major: `[batch, seq, d_input]`.
    pub input: Vec<F>,
    /// `[batch, seq]`: 1 at real positions, 0 at padding; `None` when all are real.
    pub masks: Option<Vec<F>>,
    pub directions: Vec<Direction<F>>,
}

/// What the forward pass keeps for BPTT, per item.
#[derive(Debug, Clone)]
pub struct Tape<F: Send + 'static> {
    items: Vec<(Item, ItemTape<F>)>,
}

#[derive(Debug, Clone)]
struct ItemTape<F: Send + 'static> {
    /// `[rows, seq, hidden]`: the state before each step (the layout of `∂hidden_proj`, for
    /// `∂W_hh`).
    h_prev: Vec<F>,
    /// `[seq, rows, hidden]`.
    c_prev: Vec<F>,
    /// `[seq, rows, cache_blocks·hidden]`.
    cache: Vec<F>,
}

/// A tape's buffers go back to [`scratch`] for the next forward pass.
impl<F: Send + 'static> Drop for ItemTape<F> {
    fn drop(&mut self) {
        for buffer in [&mut self.h_prev, &mut self.c_prev, &mut self.cache] {
            scratch::give_back(std::mem::take(buffer));
        }
    }
}

/// The gradients of one layer.
#[derive(Debug, Clone)]
pub struct LayerGrads<F> {
    /// `∂L/∂input`: `[batch, seq, d_input]`, summed over the directions.
    pub input: Vec<F>,
    pub directions: Vec<DirectionGrads<F>>,
}

/// The gradients of one direction's weights and initial state (shapes as in [`Direction`]).
#[derive(Debug, Clone)]
pub struct DirectionGrads<F> {
    pub weight_ih: Vec<F>,
    pub bias_ih: Vec<F>,
    pub weight_hh: Vec<F>,
    pub bias_hh: Vec<F>,
    pub h0: Vec<F>,
    /// Empty without memory.
    pub c0: Vec<F>,
}

/// A direction and a range of batch rows: the unit of parallel work.
#[derive(Debug, Clone)]
struct Item {
    direction: usize,
    rows: Range<usize>,
}

/// Fewest batch rows worth a thread of their own.
const MIN_ROWS_PER_ITEM: usize = 8;

/// Runs the jobs, one per thread when there are enough cores, else all on this thread.
fn run_all<T: Send>(jobs: Vec<Box<dyn FnOnce() -> T + Send + '_>>) -> Vec<T> {
    if jobs.len() <= 1 || jobs.len() > threads() {
        return jobs.into_iter().map(|job| job()).collect();
    }
    std::thread::scope(|scope| {
        let mut jobs = jobs.into_iter();
        let first = jobs.next().expect("at least one job");
        let others: Vec<_> = jobs.map(|job| scope.spawn(job)).collect();
        let mut results = vec![first()];
        results.extend(others.into_iter().map(|h| h.join().expect("a recurrent kernel thread panicked")));
        results
    })
}

/// Column sums of row-major `[rows, width]` (inlined into the items' passes, which are
/// compiled for the CPU's widest vectors).
#[inline(always)]
fn column_sums<F: Real>(matrix: &[F], width: usize) -> Vec<F> {
    let mut sums = vec![F::ZERO; width];
    for row in matrix.chunks_exact(width) {
        add(&mut sums, row);
    }
    sums
}

impl<F: Real> Layer<F> {
    /// Length of the packed output: the outputs `[batch, seq, directions·hidden]` (directions
    /// side by side, zero at padding), then `h_n` `[directions, batch, hidden]`, then (with
    /// memory) `c_n` `[directions, batch, hidden]`.
    pub fn packed_len(&self, memory: bool) -> usize {
        let directions = self.directions.len();
        self.batch * self.seq * directions * self.hidden
            + (1 + usize::from(memory)) * directions * self.batch * self.hidden
    }

    fn width(&self, cell: CellKind) -> usize {
        cell.gates() * self.hidden
    }

    fn is_real(&self, b: usize, t: usize) -> bool {
        self.masks.as_ref().is_none_or(|m| m[b * self.seq + t] != F::ZERO)
    }

    /// How the work is split: per direction, the batch in as many row ranges as there are
    /// cores per direction (at least [`MIN_ROWS_PER_ITEM`] rows each).
    fn items(&self) -> Vec<Item> {
        let directions = self.directions.len();
        let chunks = (threads() / directions).max(1).min((self.batch / MIN_ROWS_PER_ITEM).max(1));
        (0..directions)
            .flat_map(|direction| {
                (0..chunks)
                    .map(move |c| Item { direction, rows: c * self.batch / chunks..(c + 1) * self.batch / chunks })
            })
            .collect()
    }

    /// Runs every direction over every step. Returns the packed output (see
    /// [`Layer::packed_len`]) and, with `record`, the tape for [`Layer::backward`].
    pub fn forward(&self, cell: CellKind, record: bool) -> (Vec<F>, Option<Tape<F>>) {
        let (d_input, hidden, width) = (self.d_input, self.hidden, self.width(cell));
        self.forward_with(cell, record, |d| FloatProducts { direction: &self.directions[d], d_input, hidden, width })
    }

    /// The forward pass, direction `d`'s products computed by `products(d)`.
    fn forward_with<P: Products<F>>(
        &self,
        cell: CellKind,
        record: bool,
        products: impl Fn(usize) -> P + Sync,
    ) -> (Vec<F>, Option<Tape<F>>) {
        let items = self.items();
        let (seq, batch, n) = (self.seq, self.batch, self.hidden);
        let memory = cell.has_memory();
        let directions = self.directions.len();
        // Zeros where no item writes: the outputs at padded steps.
        let mut packed = vec![F::ZERO; self.packed_len(memory)];
        let (outputs, finals) = packed.split_at_mut(batch * seq * directions * n);
        let outputs = StepOutputs::new(outputs);
        let (products, outputs) = (&products, &outputs);
        let jobs = items
            .iter()
            .map(|item| {
                Box::new(move || {
                    let mut products = products(item.direction);
                    self.forward_item_dispatch(cell, item, record, &mut products, outputs)
                }) as Box<dyn FnOnce() -> _ + Send>
            })
            .collect();
        let results: Vec<ItemForward<F>> = run_all(jobs);

        let (final_h, final_c) = finals.split_at_mut(directions * batch * n);
        let mut tapes = Vec::with_capacity(items.len());
        for (item, result) in items.into_iter().zip(results) {
            let states = (item.direction * batch + item.rows.start) * n..(item.direction * batch + item.rows.end) * n;
            final_h[states.clone()].copy_from_slice(&result.h);
            if memory {
                final_c[states].copy_from_slice(&result.c);
            }
            if let Some(tape) = result.tape {
                tapes.push((item, tape));
            }
        }
        (packed, record.then_some(Tape { items: tapes }))
    }

    /// BPTT from the gradient of the packed output. Needs the forward pass's tape.
    pub fn backward(&self, cell: CellKind, tape: &Tape<F>, grad: &[F]) -> LayerGrads<F> {
        let (hidden, width) = (self.hidden, self.width(cell));
        self.backward_with(cell, tape, grad, |d| TransposedHh::of(&self.directions[d], hidden, width))
    }

    /// BPTT, direction `d`'s step products computed by `hidden_grad(d)`.
    fn backward_with<S: HiddenGrad<F>>(
        &self,
        cell: CellKind,
        tape: &Tape<F>,
        grad: &[F],
        hidden_grad: impl Fn(usize) -> S + Sync,
    ) -> LayerGrads<F> {
        let memory = cell.has_memory();
        let (seq, batch, n, d_in) = (self.seq, self.batch, self.hidden, self.d_input);
        assert_eq!(grad.len(), self.packed_len(memory), "packed gradient size");
        let hidden_grad = &hidden_grad;
        let jobs = tape
            .items
            .iter()
            .map(|(item, item_tape)| {
                Box::new(move || {
                    let step = hidden_grad(item.direction);
                    self.backward_item_dispatch(cell, item, item_tape, grad, &step)
                }) as Box<dyn FnOnce() -> _ + Send>
            })
            .collect();
        let results: Vec<ItemGrads<F>> = run_all(jobs);

        let mut input = vec![F::ZERO; batch * seq * d_in];
        let mut directions: Vec<Option<DirectionGrads<F>>> = vec![None; self.directions.len()];
        for ((item, _), result) in tape.items.iter().zip(results) {
            let block = item.rows.start * seq * d_in..item.rows.end * seq * d_in;
            add(&mut input[block], &result.input);
            scratch::give_back(result.input);
            // A direction's first item's weight gradients become the direction's; the others'
            // are added to them.
            let slot = match &mut directions[item.direction] {
                Some(slot) => {
                    for (sum, part) in [
                        (&mut slot.weight_ih, result.weight_ih),
                        (&mut slot.bias_ih, result.bias_ih),
                        (&mut slot.weight_hh, result.weight_hh),
                        (&mut slot.bias_hh, result.bias_hh),
                    ] {
                        add(sum, &part);
                        scratch::give_back(part);
                    }
                    slot
                }
                empty => empty.insert(DirectionGrads {
                    weight_ih: result.weight_ih,
                    bias_ih: result.bias_ih,
                    weight_hh: result.weight_hh,
                    bias_hh: result.bias_hh,
                    h0: vec![F::ZERO; batch * n],
                    c0: vec![F::ZERO; if memory { batch * n } else { 0 }],
                }),
            };
            let states = item.rows.start * n..item.rows.end * n;
            slot.h0[states.clone()].copy_from_slice(&result.h0);
            if memory {
                slot.c0[states].copy_from_slice(&result.c0);
            }
        }
        LayerGrads {
            input,
            directions: directions.into_iter().map(|g| g.expect("every direction has items")).collect(),
        }
    }

    fn forward_item_dispatch<P: Products<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        record: bool,
        products: &mut P,
        outputs: &StepOutputs<'_, F>,
    ) -> ItemForward<F> {
        let _flush = FlushToZero::new();
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { self.forward_item_avx512(cell, item, record, products, outputs) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { self.forward_item_avx2(cell, item, record, products, outputs) };
        }
        self.forward_item(cell, item, record, products, outputs)
    }

    fn backward_item_dispatch<S: HiddenGrad<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        tape: &ItemTape<F>,
        grad: &[F],
        step: &S,
    ) -> ItemGrads<F> {
        let _flush = FlushToZero::new();
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { self.backward_item_avx512(cell, item, tape, grad, step) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { self.backward_item_avx2(cell, item, tape, grad, step) };
        }
        self.backward_item(cell, item, tape, grad, step)
    }

    /// [`Layer::forward_item`] compiled for AVX2 and FMA, so that the cells' loops run 8 floats
    /// wide and their exponentials' multiply-adds are fused (AVX-512F implies FMA).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_item_avx2<P: Products<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        record: bool,
        products: &mut P,
        outputs: &StepOutputs<'_, F>,
    ) -> ItemForward<F> {
        self.forward_item(cell, item, record, products, outputs)
    }

    /// [`Layer::backward_item`] compiled for AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn backward_item_avx2<S: HiddenGrad<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        tape: &ItemTape<F>,
        grad: &[F],
        step: &S,
    ) -> ItemGrads<F> {
        self.backward_item(cell, item, tape, grad, step)
    }

    /// [`Layer::forward_item`] compiled for AVX-512, 16 floats wide.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn forward_item_avx512<P: Products<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        record: bool,
        products: &mut P,
        outputs: &StepOutputs<'_, F>,
    ) -> ItemForward<F> {
        self.forward_item(cell, item, record, products, outputs)
    }

    /// [`Layer::backward_item`] compiled for AVX-512.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn backward_item_avx512<S: HiddenGrad<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        tape: &ItemTape<F>,
        grad: &[F],
        step: &S,
    ) -> ItemGrads<F> {
        self.backward_item(cell, item, tape, grad, step)
    }

    /// One item: the time loop, each block of [`Products::steps_at_once`] steps preceded by its
    /// input projection (one product over all its rows and those steps).
    #[inline(always)]
    fn forward_item<P: Products<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        record: bool,
        products: &mut P,
        outputs: &StepOutputs<'_, F>,
    ) -> ItemForward<F> {
        let direction = &self.directions[item.direction];
        let (seq, n, d_in) = (self.seq, self.hidden, self.d_input);
        let (width, memory, cache_width) = (self.width(cell), cell.has_memory(), cell.cache_blocks() * n);
        let rows = item.rows.len();
        let row_width = self.directions.len() * n;
        let state_len = rows * n;

        // A block's input_proj = x W_ih + b_ih: `[rows, steps, gates·hidden]`, from the block's
        // inputs `[rows, steps, d_input]`.
        let x = &self.input[item.rows.start * seq * d_in..item.rows.end * seq * d_in];
        let block_steps = P::steps_at_once(rows, width).map_or(seq, |steps| steps.min(seq)).max(1);
        // The block's inputs gathered from each row's steps (all steps: `x` itself).
        let mut block_x = vec![F::ZERO; if block_steps < seq { rows * block_steps * d_in } else { 0 }];
        // Written whole by each block's input product before the block reads it.
        let mut input_proj = scratch::overwritten(rows * block_steps * width);

        let states = |v: &[F]| v[item.rows.start * n..item.rows.end * n].to_vec();
        let mut h = states(&direction.h0);
        let mut c = match (&direction.c0, memory) {
            (Some(c0), true) => states(c0),
            _ => Vec::new(),
        };
        let mut next_h = vec![F::ZERO; state_len];
        let mut next_c = vec![F::ZERO; c.len()];
        let mut hidden_proj = vec![F::ZERO; rows * width];
        // Written whole: every step writes each row's state before it and each row's cache.
        let mut tape = record.then(|| ItemTape {
            h_prev: scratch::overwritten(seq * state_len),
            c_prev: scratch::overwritten(if memory { seq * state_len } else { 0 }),
            cache: scratch::overwritten(seq * rows * cache_width),
        });
        let mut no_cache: [F; 0] = [];
        let c_row = |r: usize| if memory { r * n..(r + 1) * n } else { 0..0 };
        // Row `r`, step `t` of a `[rows, seq, ·]` buffer of rows `len` wide.
        let at = |r: usize, t: usize, len: usize| (r * seq + t) * len..(r * seq + t + 1) * len;

        let order: Vec<usize> = forward_order(seq, direction.reverse).collect();
        for block in order.chunks(block_steps) {
            let first = block.iter().copied().min().expect("a block has steps");
            let steps = block.len();
            let inputs = if steps == seq {
                x
            } else {
                for r in 0..rows {
                    let from = (r * seq + first) * d_in..(r * seq + first + steps) * d_in;
                    block_x[r * steps * d_in..(r + 1) * steps * d_in].copy_from_slice(&x[from]);
                }
                &block_x[..rows * steps * d_in]
            };
            products.input(&mut input_proj, inputs, rows * steps, direction.bias_ih.as_deref());
            for &t in block {
                if let Some(tape) = tape.as_mut() {
                    for r in 0..rows {
                        tape.h_prev[at(r, t, n)].copy_from_slice(&h[r * n..(r + 1) * n]);
                    }
                    if memory {
                        tape.c_prev[t * state_len..(t + 1) * state_len].copy_from_slice(&c);
                    }
                }
                // hidden_proj = b_hh + h_{t-1} W_hh
                products.hidden(&mut hidden_proj, &h, rows, direction.bias_hh.as_deref());
                let cache = match tape.as_mut() {
                    Some(tape) => &mut tape.cache[t * rows * cache_width..(t + 1) * rows * cache_width],
                    None => &mut no_cache[..],
                };
                for r in 0..rows {
                    let (cr, wr) = (c_row(r), r * width..(r + 1) * width);
                    cell.forward_row(
                        n,
                        ForwardRow {
                            input_proj: &input_proj[(r * steps + t - first) * width..][..width],
                            hidden_proj: &hidden_proj[wr],
                            h_prev: &h[r * n..(r + 1) * n],
                            c_prev: &c[cr.clone()],
                            h: &mut next_h[r * n..(r + 1) * n],
                            c: &mut next_c[cr],
                            cache: if record { &mut cache[r * cache_width..(r + 1) * cache_width] } else { &mut [] },
                        },
                    );
                }
                // A padded position leaves the state as it was and outputs zeros (the packed
                // output's own).
                for (r, b) in item.rows.clone().enumerate() {
                    if self.is_real(b, t) {
                        let to = (b * seq + t) * row_width + item.direction * n;
                        // SAFETY: row `b`'s step `t` of this item's direction is this item's own.
                        unsafe { outputs.write(to, &next_h[r * n..(r + 1) * n]) };
                    }
                }
                if self.masks.is_none() {
                    std::mem::swap(&mut h, &mut next_h);
                    std::mem::swap(&mut c, &mut next_c);
                } else {
                    for (r, b) in item.rows.clone().enumerate() {
                        if self.is_real(b, t) {
                            let hr = r * n..(r + 1) * n;
                            h[hr.clone()].copy_from_slice(&next_h[hr.clone()]);
                            if memory {
                                c[hr.clone()].copy_from_slice(&next_c[hr]);
                            }
                        }
                    }
                }
            }
        }
        scratch::give_back(input_proj);
        ItemForward { h, c, tape }
    }

    /// BPTT of one item, its steps in the reverse of the forward order, then the gradients of
    /// its input projection.
    #[inline(always)]
    fn backward_item<S: HiddenGrad<F>>(
        &self,
        cell: CellKind,
        item: &Item,
        tape: &ItemTape<F>,
        grad: &[F],
        step: &S,
    ) -> ItemGrads<F> {
        let direction = &self.directions[item.direction];
        let (seq, batch, n, d_in) = (self.seq, self.batch, self.hidden, self.d_input);
        let (width, memory, cache_width) = (self.width(cell), cell.has_memory(), cell.cache_blocks() * n);
        let split = cell.splits_hidden_grad();
        let rows = item.rows.len();
        let state_len = rows * n;
        let directions = self.directions.len();
        let row_width = directions * n;
        // ∂L/∂(packed output): the output at step `t` of batch row `b`, and the final states.
        let d_output = |b: usize, t: usize| {
            let at = (b * seq + t) * row_width + item.direction * n;
            &grad[at..at + n]
        };
        let finals = |which: usize| {
            let at = batch * seq * row_width + ((which * directions + item.direction) * batch + item.rows.start) * n;
            grad[at..at + state_len].to_vec()
        };
        let mut carry_h = finals(0);
        let mut carry_c = if memory { finals(1) } else { Vec::new() };
        // Written whole: each real step's by the cell, each padded step's zeroed below.
        let mut d_input_proj = scratch::overwritten(rows * seq * width);
        let mut d_hidden_proj = scratch::zeroed(if split { rows * seq * width } else { 0 });
        let mut dh = vec![F::ZERO; n];
        let mut direct = vec![F::ZERO; state_len];
        let mut dc_prev = vec![F::ZERO; carry_c.len()];
        let c_row = |r: usize| if memory { r * n..(r + 1) * n } else { 0..0 };
        let at = |r: usize, t: usize, len: usize| (r * seq + t) * len..(r * seq + t + 1) * len;
        for t in backward_order(seq, direction.reverse) {
            for (r, b) in item.rows.clone().enumerate() {
                let hr = r * n..(r + 1) * n;
                if !self.is_real(b, t) {
                    // A padded step did not change the state: its gradient passes through, and
                    // the step's own projections get none.
                    d_input_proj[at(r, t, width)].fill(F::ZERO);
                    direct[hr.clone()].copy_from_slice(&carry_h[hr.clone()]);
                    if memory {
                        dc_prev[hr.clone()].copy_from_slice(&carry_c[hr]);
                    }
                    continue;
                }
                for ((d, carried), out) in dh.iter_mut().zip(&carry_h[hr.clone()]).zip(d_output(b, t)) {
                    *d = *carried + *out;
                }
                cell.backward_row(
                    n,
                    BackwardRow {
                        cache: &tape.cache[(t * rows + r) * cache_width..(t * rows + r + 1) * cache_width],
                        h_prev: &tape.h_prev[at(r, t, n)],
                        c_prev: if memory {
                            &tape.c_prev[t * state_len + r * n..t * state_len + (r + 1) * n]
                        } else {
                            &[]
                        },
                        dh: &dh,
                        dc: &carry_c[c_row(r)],
                        d_input_proj: &mut d_input_proj[at(r, t, width)],
                        d_hidden_proj: if split { &mut d_hidden_proj[at(r, t, width)] } else { &mut [] },
                        dh_prev: &mut direct[hr],
                        dc_prev: &mut dc_prev[c_row(r)],
                    },
                );
            }
            // ∂h_{t-1} = direct + ∂hidden_proj_t W_hhᵀ (step t's rows: stride seq·width)
            std::mem::swap(&mut carry_h, &mut direct);
            std::mem::swap(&mut carry_c, &mut dc_prev);
            let d_hp = if split { &d_hidden_proj } else { &d_input_proj };
            step.add_to(&mut carry_h, &d_hp[t * width..], rows, seq * width);
        }

        // Products over all rows and steps at once:
        // ∂W_hh = Σ h_{t-1}ᵀ ∂hidden_proj_t, ∂W_ih = Σ x_tᵀ ∂input_proj_t, ∂x = ∂input_proj W_ihᵀ.
        let d_hp_all = if split { &d_hidden_proj } else { &d_input_proj };
        let steps = rows * seq;
        // The three products write their results whole.
        let mut weight_hh = scratch::overwritten(n * width);
        let (all_h, all_w) = (View::rows(steps, n), View::rows(steps, width));
        matmul(&mut weight_hh, View::rows(n, width), false, &tape.h_prev, all_h.t(), d_hp_all, all_w);
        let x = &self.input[item.rows.start * seq * d_in..item.rows.end * seq * d_in];
        let mut weight_ih = scratch::overwritten(d_in * width);
        matmul(&mut weight_ih, View::rows(d_in, width), false, x, View::rows(steps, d_in).t(), &d_input_proj, all_w);
        let mut input = scratch::overwritten(steps * d_in);
        matmul(
            &mut input,
            View::rows(steps, d_in),
            false,
            &d_input_proj,
            all_w,
            &direction.weight_ih,
            View::rows(d_in, width).t(),
        );
        let grads = ItemGrads {
            input,
            weight_ih,
            bias_ih: column_sums(&d_input_proj, width),
            weight_hh,
            bias_hh: column_sums(d_hp_all, width),
            h0: carry_h,
            c0: carry_c,
        };
        scratch::give_back(d_input_proj);
        scratch::give_back(d_hidden_proj);
        grads
    }
}

impl Layer<f32> {
    /// [`Layer::forward`] with each direction's `W_hh` packed once for all its steps
    /// ([`panels`]) where the CPU runs that kernel (AVX-512F); elsewhere `forward` itself.
    pub fn forward_packed(&self, cell: CellKind, record: bool) -> (Vec<f32>, Option<Tape<f32>>) {
        if !Panels::runs_here() {
            return self.forward(cell, record);
        }
        let (d_input, hidden, width) = (self.d_input, self.hidden, self.width(cell));
        self.forward_with(cell, record, |d| {
            let direction = &self.directions[d];
            PanelProducts {
                float: FloatProducts { direction, d_input, hidden, width },
                weight_hh: Panels::pack(&direction.weight_hh, hidden, width),
                biases: Biases::of(cell, direction),
            }
        })
    }

    /// [`Layer::backward`] with each direction's `W_hhᵀ` packed once for all its steps
    /// ([`panels`]) where the CPU runs that kernel; elsewhere `backward` itself.
    pub fn backward_packed(&self, cell: CellKind, tape: &Tape<f32>, grad: &[f32]) -> LayerGrads<f32> {
        if !Panels::runs_here() {
            return self.backward(cell, tape, grad);
        }
        let (hidden, width) = (self.hidden, self.width(cell));
        self.backward_with(cell, tape, grad, |d| Panels::pack_transposed(&self.directions[d].weight_hh, width, hidden))
    }

    /// The forward pass with int8 weights, `weights[d]` for direction `d` (inference only): the
    /// packed output of [`Layer::forward`], the products computed as [`int8`] says.
    ///
    /// # Panics
    /// If `weights` does not have one entry per direction.
    pub fn forward_int8(&self, cell: CellKind, weights: &[Int8Direction]) -> Vec<f32> {
        assert_eq!(weights.len(), self.directions.len(), "forward_int8: one int8 direction per direction");
        self.forward_with(cell, false, |d| Int8Products {
            weights: &weights[d],
            input_rows: QuantizedRows::default(),
            hidden_rows: QuantizedRows::default(),
        })
        .0
    }
}

/// `into += from`, element-wise.
fn add<F: Real>(into: &mut [F], from: &[F]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += *b;
    }
}

/// What an item's forward pass returns; its outputs it wrote into the packed output.
struct ItemForward<F: Send + 'static> {
    /// Final states `[rows, hidden]`.
    h: Vec<F>,
    c: Vec<F>,
    tape: Option<ItemTape<F>>,
}

struct ItemGrads<F> {
    /// `[rows, seq, d_input]`.
    input: Vec<F>,
    weight_ih: Vec<F>,
    bias_ih: Vec<F>,
    weight_hh: Vec<F>,
    bias_hh: Vec<F>,
    h0: Vec<F>,
    c0: Vec<F>,
}

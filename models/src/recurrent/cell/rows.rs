//! A cell's equations on one batch row of the CPU kernel's flat buffers: a loop over the
//! `hidden` elements that calls the cell once per element with plain floats, which the
//! compiler inlines and vectorises.

use super::math::{CacheBlocks, Cell, State};
use super::real::Real;

/// One row of a step's forward pass, as a cell sees it; every slice belongs to one batch row.
pub struct ForwardRow<'a, F> {
    /// `x_t W_ih + b_ih`: `[gates·hidden]`.
    pub input_proj: &'a [F],
    /// `h_{t-1} W_hh + b_hh`: `[gates·hidden]`.
    pub hidden_proj: &'a [F],
    /// `h_{t-1}`: `[hidden]`.
    pub h_prev: &'a [F],
    /// `c_{t-1}`: `[hidden]` (empty for cells without memory).
    pub c_prev: &'a [F],
    /// Receives `h_t`: `[hidden]`.
    pub h: &'a mut [F],
    /// Receives `c_t`: `[hidden]` (empty for cells without memory).
    pub c: &'a mut [F],
    /// Receives what the backward pass needs: `[cache_blocks·hidden]`; empty when nothing is
    /// kept (inference).
    pub cache: &'a mut [F],
}

/// One row of a step's backward pass, as a cell sees it.
pub struct BackwardRow<'a, F> {
    /// What [`forward`] cached.
    pub cache: &'a [F],
    /// `h_{t-1}`, `c_{t-1}` (the latter empty without memory).
    pub h_prev: &'a [F],
    pub c_prev: &'a [F],
    /// `∂L/∂h_t`, `∂L/∂c_t` (the latter empty without memory).
    pub dh: &'a [F],
    pub dc: &'a [F],
    /// Receives `∂L/∂input_proj_t`: `[gates·hidden]`.
    pub d_input_proj: &'a mut [F],
    /// Receives `∂L/∂hidden_proj_t` when the cell splits it from `∂L/∂input_proj_t` (else empty).
    pub d_hidden_proj: &'a mut [F],
    /// Receives `∂L/∂h_{t-1}` through paths other than `hidden_proj` (zeros when none).
    pub dh_prev: &'a mut [F],
    /// Receives `∂L/∂c_{t-1}` (empty without memory).
    pub dc_prev: &'a mut [F],
}

/// `h_t` (and `c_t`) of one row, `n = hidden` elements, and the row's cache (when it has room
/// for one: inference keeps none).
#[inline(always)]
pub fn forward<C: Cell<G, K>, F: Real, const G: usize, const K: usize>(cell: C, n: usize, mut row: ForwardRow<'_, F>) {
    let keep = !row.cache.is_empty();
    for (start, len) in windows(n) {
        if keep {
            forward_keeping::<C, F, G, K, true>(cell, n, start, len, &mut row);
        } else {
            forward_keeping::<C, F, G, K, false>(cell, n, start, len, &mut row);
        }
    }
}

/// Elements a row's loop computes at once: one vector iteration of AVX-512 in f32.
const LANES: usize = 16;

/// `0..n` as windows `(start, len)` whose lengths are multiples of [`LANES`], the last window
/// overlapping the one before it rather than leaving a scalar remainder: the vectorised loop
/// then covers every element (a step writes only its own elements, from inputs it does not
/// write, so an element computed twice gets the same values twice). Rows shorter than
/// [`LANES`], or multiples of it, are one window.
fn windows(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let (whole, rest) = (n / LANES * LANES, n % LANES);
    let split = n > LANES && rest > 0;
    let first = if split { whole } else { n };
    std::iter::once((0, first)).chain(split.then(|| (n - LANES, LANES)))
}

/// [`forward`], writing the cache when `KEEP` (a constant, so that each form is a loop of its
/// own that the compiler vectorises).
#[inline(always)]
fn forward_keeping<C: Cell<G, K>, F: Real, const G: usize, const K: usize, const KEEP: bool>(
    cell: C,
    n: usize,
    start: usize,
    m: usize,
    row: &mut ForwardRow<'_, F>,
) {
    let window = start..start + m;
    let (x, hp) = (blocks::<F, G>(row.input_proj, n), blocks::<F, G>(row.hidden_proj, n));
    let (x, hp) = (x.map(|b| &b[window.clone()]), hp.map(|b| &b[window.clone()]));
    let (h_prev, h) = (&row.h_prev[window.clone()], &mut row.h[window.clone()]);
    let (c_prev, c) =
        if C::MEMORY { (&row.c_prev[window.clone()], &mut row.c[window.clone()]) } else { (&[][..], &mut [][..]) };
    let kept = if KEEP { n } else { 0 };
    let cache: [&mut [F]; K] = split_blocks(&mut row.cache[..K * kept], kept);
    let mut cache = cache.map(|b| if KEEP { &mut b[window.clone()] } else { b });
    for j in 0..m {
        let prev = State { hidden: h_prev[j], cell: C::MEMORY.then(|| c_prev[j]) };
        let (next, step_cache) = cell.forward(x.map(|b| b[j]), hp.map(|b| b[j]), prev);
        h[j] = next.hidden;
        if let Some(value) = next.cell {
            c[j] = value;
        }
        if KEEP {
            for (block, value) in cache.iter_mut().zip(step_cache.into_blocks()) {
                block[j] = value;
            }
        }
    }
}

/// The local derivatives of one row's step (see [`Cell::backward`]), window by window as
/// [`forward`].
#[inline(always)]
pub fn backward<C: Cell<G, K>, F: Real, const G: usize, const K: usize>(
    cell: C,
    n: usize,
    mut row: BackwardRow<'_, F>,
) {
    for (start, len) in windows(n) {
        backward_window::<C, F, G, K>(cell, n, start, len, &mut row);
    }
}

/// [`backward`] on elements `start..start + m`.
#[inline(always)]
fn backward_window<C: Cell<G, K>, F: Real, const G: usize, const K: usize>(
    cell: C,
    n: usize,
    start: usize,
    m: usize,
    row: &mut BackwardRow<'_, F>,
) {
    let window = start..start + m;
    let cache = blocks::<F, K>(row.cache, n).map(|b| &b[window.clone()]);
    let (h_prev, dh, dh_prev) =
        (&row.h_prev[window.clone()], &row.dh[window.clone()], &mut row.dh_prev[window.clone()]);
    let (c_prev, dc, dc_prev) = if C::MEMORY {
        (&row.c_prev[window.clone()], &row.dc[window.clone()], &mut row.dc_prev[window.clone()])
    } else {
        (&[][..], &[][..], &mut [][..])
    };
    let d_input: [&mut [F]; G] = split_blocks(&mut row.d_input_proj[..G * n], n);
    let mut d_input = d_input.map(|b| &mut b[window.clone()]);
    // Empty blocks when the cell does not split the two gradients (the buffer is empty then).
    let split = if C::SPLITS_HIDDEN_GRAD { n } else { 0 };
    let d_hidden: [&mut [F]; G] = split_blocks(&mut row.d_hidden_proj[..G * split], split);
    let mut d_hidden = d_hidden.map(|b| if C::SPLITS_HIDDEN_GRAD { &mut b[window.clone()] } else { b });
    for j in 0..m {
        let prev = State { hidden: h_prev[j], cell: C::MEMORY.then(|| c_prev[j]) };
        let grad = State { hidden: dh[j], cell: C::MEMORY.then(|| dc[j]) };
        let grads = cell.backward(C::Cache::from_blocks(cache.map(|b| b[j])), prev, grad);
        for (block, value) in d_input.iter_mut().zip(grads.input_proj) {
            block[j] = value;
        }
        if let Some(values) = grads.hidden_proj {
            for (block, value) in d_hidden.iter_mut().zip(values) {
                block[j] = value;
            }
        }
        dh_prev[j] = grads.hidden.unwrap_or(F::ZERO);
        if let Some(value) = grads.cell {
            dc_prev[j] = value;
        }
    }
}

/// The first `K·n` elements of `slice` as `K` consecutive blocks of length `n`.
#[inline(always)]
fn blocks<F, const K: usize>(slice: &[F], n: usize) -> [&[F]; K] {
    std::array::from_fn(|k| &slice[k * n..][..n])
}

/// `slice` (at least `K·n` long) as `K` consecutive blocks of length `n`.
#[inline(always)]
fn split_blocks<F, const K: usize>(slice: &mut [F], n: usize) -> [&mut [F]; K] {
    let mut rest = slice;
    std::array::from_fn(|_| {
        let (block, tail) = std::mem::take(&mut rest).split_at_mut(n);
        rest = tail;
        block
    })
}

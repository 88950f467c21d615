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
    let mut cache =
        Columns::new(cache.map(|b| if KEEP { &mut b[window.clone()] } else { b }), if KEEP { m } else { 0 });
    for j in 0..m {
        let prev = State { hidden: h_prev[j], cell: C::MEMORY.then(|| c_prev[j]) };
        let (next, step_cache) = cell.forward(x.map(|b| b[j]), hp.map(|b| b[j]), prev);
        h[j] = next.hidden;
        if let Some(value) = next.cell {
            c[j] = value;
        }
        if KEEP {
            // SAFETY: j < m, the blocks' length when KEEP.
            unsafe { cache.set(j, step_cache.into_blocks()) };
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
    let mut d_input = Columns::new(d_input.map(|b| &mut b[window.clone()]), m);
    // Empty blocks when the cell does not split the two gradients (the buffer is empty then).
    let split = if C::SPLITS_HIDDEN_GRAD { n } else { 0 };
    let d_hidden: [&mut [F]; G] = split_blocks(&mut row.d_hidden_proj[..G * split], split);
    let d_hidden = d_hidden.map(|b| if C::SPLITS_HIDDEN_GRAD { &mut b[window.clone()] } else { b });
    let mut d_hidden = Columns::new(d_hidden, if C::SPLITS_HIDDEN_GRAD { m } else { 0 });
    for j in 0..m {
        let prev = State { hidden: h_prev[j], cell: C::MEMORY.then(|| c_prev[j]) };
        let grad = State { hidden: dh[j], cell: C::MEMORY.then(|| dc[j]) };
        let grads = cell.backward(C::Cache::from_blocks(cache.map(|b| b[j])), prev, grad);
        // SAFETY (both): j < m, the blocks' length (`d_hidden`'s where the cell splits the
        // gradients, the only cells that give `hidden_proj`).
        unsafe { d_input.set(j, grads.input_proj) };
        if let Some(values) = grads.hidden_proj.filter(|_| C::SPLITS_HIDDEN_GRAD) {
            unsafe { d_hidden.set(j, values) };
        }
        dh_prev[j] = grads.hidden.unwrap_or(F::ZERO);
        if let Some(value) = grads.cell {
            dc_prev[j] = value;
        }
    }
}

/// `K` blocks of one length, written one index of all of them at a time: the loops above write
/// a value of each gate or cache block per element, and a bounds check per write (the compiler
/// cannot tell that the blocks of an array are as long as the loop) kept the training forward
/// pass's loop in scalar code, 16 times narrower. The lengths are checked once, here.
struct Columns<'a, F, const K: usize> {
    blocks: [&'a mut [F]; K],
    len: usize,
}

impl<'a, F: Copy, const K: usize> Columns<'a, F, K> {
    /// # Panics
    /// If a block is not `len` long.
    #[inline(always)]
    fn new(blocks: [&'a mut [F]; K], len: usize) -> Self {
        assert!(blocks.iter().all(|b| b.len() == len), "Columns: blocks of {len} values");
        Self { blocks, len }
    }

    /// Element `j` of block `k` ← `values[k]`.
    ///
    /// # Safety
    /// `j` is below the blocks' length.
    #[inline(always)]
    unsafe fn set(&mut self, j: usize, values: [F; K]) {
        debug_assert!(j < self.len, "Columns::set: index {j} of {}", self.len);
        for (block, value) in self.blocks.iter_mut().zip(values) {
            // SAFETY: every block is `len` long (checked in `new`), and `j < len` (the caller's).
            unsafe { *block.get_unchecked_mut(j) = value };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows of multiples of `LANES` elements (one for a shorter row), the last overlapping
    /// the one before it, covering every element.
    #[test]
    fn windows_cover_a_row_in_lanes() {
        let of = |n| windows(n).collect::<Vec<_>>();
        assert_eq!(of(5), [(0, 5)]);
        assert_eq!(of(16), [(0, 16)]);
        assert_eq!(of(64), [(0, 64)]);
        assert_eq!(of(200), [(0, 192), (184, 16)]);
        for n in 1..100 {
            let mut covered = vec![false; n];
            windows(n).for_each(|(start, len)| covered[start..start + len].fill(true));
            assert!(covered.iter().all(|&c| c), "{n}");
        }
    }
}

//! An f32 weight packed once for the many small products of a time loop, and the AVX-512
//! kernel over it: the recurrent step's `b_hh + h_{t-1} W_hh` (a few dozen rows against
//! `[hidden, gates·hidden]`) and BPTT's `∂h_{t-1} += ∂gates_t W_hhᵀ`.
//!
//! `gemm` packs its right-hand operand on every call, which for these shapes costs as much as
//! a fifth of the product; here `W` is packed once per layer and pass, in *panels* of
//! [`PANEL`] columns, each panel `[k, PANEL]` (zero-padded past the last column), so the kernel
//! reads a panel from start to end for every block of rows. A block is 8 rows × 32 columns:
//! 16 accumulators, two panel loads and eight broadcasts of the rows' values per `k`.
//! `Panels::product_reference` is its scalar twin.

use super::base::Base;

/// Columns of a panel (two AVX-512 registers of f32).
pub const PANEL: usize = 32;

/// Rows of the kernel's main block.
const BLOCK_ROWS: usize = 8;

/// A `[k, n]` f32 matrix packed in panels of [`PANEL`] columns (see the module docs).
#[derive(Debug, Clone)]
pub struct Panels {
    k: usize,
    n: usize,
    /// Panel `p` at `p·k·PANEL`, its row `i` at `+ i·PANEL`.
    packed: Vec<f32>,
}

/// The rows of a product's left operand `a` (`rows × k`, row `r` at `r·stride`) and where its
/// result goes (`rows × n` of `out`, row `r` at `r·out_stride`).
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    pub rows: usize,
    pub stride: usize,
    pub out_stride: usize,
}

impl Panels {
    /// Whether this CPU runs the kernel (AVX-512F); elsewhere use `gemm`, which is faster than
    /// the scalar twin.
    pub fn runs_here() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// Packs row-major `w` `[k, n]`.
    ///
    /// # Panics
    /// If `w` is not `k·n` long.
    pub fn pack(w: &[f32], k: usize, n: usize) -> Self {
        assert_eq!(w.len(), k * n, "Panels::pack: a [k, n] matrix");
        Self::packed_from(k, n, |i, j| w[i * n + j])
    }

    /// Packs `wᵀ` `[k, n]` from row-major `w` `[n, k]`.
    ///
    /// # Panics
    /// If `w` is not `n·k` long.
    pub fn pack_transposed(w: &[f32], k: usize, n: usize) -> Self {
        assert_eq!(w.len(), k * n, "Panels::pack_transposed: an [n, k] matrix");
        Self::packed_from(k, n, |i, j| w[j * k + i])
    }

    /// `n`: the columns of the matrix, and of the products' results.
    pub fn columns(&self) -> usize {
        self.n
    }

    fn packed_from(k: usize, n: usize, value: impl Fn(usize, usize) -> f32) -> Self {
        let panels = n.div_ceil(PANEL);
        let mut packed = vec![0.0; panels * k * PANEL];
        for (p, panel) in packed.chunks_exact_mut(k * PANEL).enumerate() {
            let columns = p * PANEL..((p + 1) * PANEL).min(n);
            for (i, row) in panel.chunks_exact_mut(PANEL).enumerate() {
                for (slot, j) in row.iter_mut().zip(columns.clone()) {
                    *slot = value(i, j);
                }
            }
        }
        Self { k, n, packed }
    }

    /// `out = bias + a W` (`out = a W` without a bias) for `rows` contiguous rows of `a`
    /// (`[rows, k]`) into `out` (`[rows, n]`).
    ///
    /// # Panics
    /// If `a` or `out` is too short, or `bias` is not `n` long.
    pub fn matmul_bias(&self, out: &mut [f32], a: &[f32], rows: usize, bias: Option<&[f32]>) {
        self.product(Base::of(bias, self.n), out, a, Rows { rows, stride: self.k, out_stride: self.n });
    }

    /// `out = base + a W` over `shape`'s rows: the AVX-512 kernel, or its scalar twin where the
    /// CPU lacks the instructions.
    ///
    /// # Panics
    /// If a row of `a` or `out` reaches outside its slice, or a bias is not `n` long.
    pub(super) fn product(&self, base: Base<'_>, out: &mut [f32], a: &[f32], shape: Rows) {
        if !Self::runs_here() {
            return self.product_reference(base, out, a, shape);
        }
        self.check(base, out, a, shape);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F (checked), and every row of `a` and `out` lies inside
        // its slice (checked), `out` borrowed mutably.
        unsafe {
            self.product_avx512(base, out, a, shape);
        }
    }

    /// [`Panels::product`] in scalar code, one column at a time: the kernel's twin.
    pub(super) fn product_reference(&self, base: Base<'_>, out: &mut [f32], a: &[f32], shape: Rows) {
        self.check(base, out, a, shape);
        for r in 0..shape.rows {
            let a = &a[r * shape.stride..r * shape.stride + self.k];
            for j in 0..self.n {
                let panel = &self.packed[(j / PANEL) * self.k * PANEL..];
                let sum = a.iter().enumerate().fold(0.0, |sum, (i, &x)| x.mul_add(panel[i * PANEL + j % PANEL], sum));
                let at = r * shape.out_stride + j;
                out[at] = base.value(out[at], j) + sum;
            }
        }
    }

    fn check(&self, base: Base<'_>, out: &[f32], a: &[f32], shape: Rows) {
        let fits =
            |len: usize, stride: usize, width: usize| shape.rows == 0 || (shape.rows - 1) * stride + width <= len;
        assert!(
            fits(a.len(), shape.stride, self.k) && fits(out.len(), shape.out_stride, self.n),
            "Panels::product: a row outside its slice ({shape:?}, k {}, n {})",
            self.k,
            self.n
        );
        if let Base::Bias(bias) = base {
            assert_eq!(bias.len(), self.n, "Panels::product: one bias per column");
        }
    }

    /// # Safety
    /// AVX-512F; the rows of `a` and `out` inside their slices.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn product_avx512(&self, base: Base<'_>, out: &mut [f32], a: &[f32], shape: Rows) {
        for p in 0..self.n.div_ceil(PANEL) {
            let columns = (self.n - p * PANEL).min(PANEL);
            let mut r = 0;
            // SAFETY (all three): rows r.. of the block are rows of the product (the caller's
            // checks cover them) and panel p exists.
            while r + BLOCK_ROWS <= shape.rows {
                unsafe { self.block::<BLOCK_ROWS>(base, out, a, shape, r, p, columns) };
                r += BLOCK_ROWS;
            }
            while r + 4 <= shape.rows {
                unsafe { self.block::<4>(base, out, a, shape, r, p, columns) };
                r += 4;
            }
            while r < shape.rows {
                unsafe { self.block::<1>(base, out, a, shape, r, p, columns) };
                r += 1;
            }
        }
    }

    /// Rows `r..r + R` of panel `p` (`columns` of its columns are the matrix's).
    ///
    /// # Safety
    /// AVX-512F; rows `r..r + R` of `a` and `out` inside their slices; panel `p` exists.
    // The accumulators are a register block `acc[row][half]`, indexed as such.
    #[allow(clippy::needless_range_loop, clippy::too_many_arguments)]
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn block<const R: usize>(
        &self,
        base: Base<'_>,
        out: &mut [f32],
        a: &[f32],
        shape: Rows,
        r: usize,
        p: usize,
        columns: usize,
    ) {
        use std::arch::x86_64::*;
        let panel = self.packed[p * self.k * PANEL..(p + 1) * self.k * PANEL].as_ptr();
        let rows: [*const f32; R] = std::array::from_fn(|i| a[(r + i) * shape.stride..][..self.k].as_ptr());
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for i in 0..self.k {
            // SAFETY: the panel holds k rows of PANEL values, each row of `a` k values.
            let (w0, w1) =
                unsafe { (_mm512_loadu_ps(panel.add(i * PANEL)), _mm512_loadu_ps(panel.add(i * PANEL + 16))) };
            for row in 0..R {
                let x = _mm512_set1_ps(unsafe { *rows[row].add(i) });
                acc[row][0] = _mm512_fmadd_ps(x, w0, acc[row][0]);
                acc[row][1] = _mm512_fmadd_ps(x, w1, acc[row][1]);
            }
        }
        let j = p * PANEL;
        let masks = [0, 16].map(|from: usize| ((1u32 << columns.saturating_sub(from).min(16)) - 1) as u16);
        for row in 0..R {
            let dst = out[(r + row) * shape.out_stride + j..][..columns].as_mut_ptr();
            for half in 0..2 {
                let (mask, at) = (masks[half], half * 16);
                // SAFETY: `mask` keeps the lanes of this half's columns of the row, which lie in
                // `out` (and in a bias of n values).
                unsafe {
                    let onto = match base {
                        Base::Out => _mm512_maskz_loadu_ps(mask, dst.add(at)),
                        Base::Bias(bias) => _mm512_maskz_loadu_ps(mask, bias.as_ptr().add(j + at)),
                        Base::Zero => _mm512_setzero_ps(),
                    };
                    _mm512_mask_storeu_ps(dst.add(at), mask, _mm512_add_ps(onto, acc[row][half]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic spread of values in (−1, 1).
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5 - 1.0).collect()
    }

    /// `out = base + a W` in f64, from the unpacked matrix.
    fn expected(base: &[f64], a: &[f32], w: &[f32], k: usize, n: usize, shape: Rows) -> Vec<f64> {
        let mut out = base.to_vec();
        for r in 0..shape.rows {
            for j in 0..n {
                let sum: f64 = (0..k).map(|i| f64::from(a[r * shape.stride + i]) * f64::from(w[i * n + j])).sum();
                out[r * shape.out_stride + j] += sum;
            }
        }
        out
    }

    /// Every shape a block and a panel can end on, every base, strides wider than the rows:
    /// the kernel (where this CPU runs it) and its scalar twin against the f64 product, and
    /// the padding between rows of `out` untouched.
    #[test]
    fn products_match_the_f64_product() {
        for (rows, k, n) in [(1, 1, 1), (3, 7, 15), (8, 33, 16), (13, 20, 31), (17, 9, 33), (32, 40, 70), (12, 5, 64)] {
            let shape = Rows { rows, stride: k + 3, out_stride: n + 2 };
            let (a, w, bias) = (values(rows * shape.stride, 1), values(k * n, 2), values(n, 3));
            let before = values(rows * shape.out_stride, 4);
            let panels = Panels::pack(&w, k, n);
            for base in [Base::Out, Base::Bias(&bias), Base::Zero] {
                let start: Vec<f64> = before
                    .iter()
                    .enumerate()
                    .map(|(at, &v)| match base {
                        Base::Out => f64::from(v),
                        Base::Bias(b) => b.get(at % shape.out_stride).map_or(0.0, |&v| f64::from(v)),
                        Base::Zero => 0.0,
                    })
                    .collect();
                let want = expected(&start, &a, &w, k, n, shape);
                let mut runs: Vec<(&str, Vec<f32>)> = Vec::new();
                let mut reference = before.clone();
                panels.product_reference(base, &mut reference, &a, shape);
                runs.push(("scalar", reference));
                if Panels::runs_here() {
                    let mut kernel = before.clone();
                    panels.product(base, &mut kernel, &a, shape);
                    runs.push(("avx512", kernel));
                }
                for (name, got) in runs {
                    for (at, (&g, &w)) in got.iter().zip(&want).enumerate() {
                        let (r, j) = (at / shape.out_stride, at % shape.out_stride);
                        let want = if j < n { w } else { f64::from(before[at]) };
                        let tolerance = 1e-6 * (k as f64 + 1.0);
                        assert!(
                            (f64::from(g) - want).abs() <= tolerance,
                            "{name} {rows}×{k}×{n} {base:?}: out[{r}][{j}] = {g}, want {want}"
                        );
                    }
                }
            }
        }
    }

    /// `pack_transposed` of `w` packs what `pack` of `wᵀ` packs.
    #[test]
    fn transposed_packing_is_packing_the_transpose() {
        let (k, n) = (19, 37);
        let w = values(n * k, 5);
        let transpose: Vec<f32> = (0..k * n).map(|at| w[(at % n) * k + at / n]).collect();
        assert_eq!(Panels::pack_transposed(&w, k, n).packed, Panels::pack(&transpose, k, n).packed);
    }
}

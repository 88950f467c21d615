//! Matrix products with int8 weights and int8 activations, for quantised inference.
//!
//! A weight matrix `W` `[k, n]` (row-major, Burn's `[d_in, out]` layout) is stored as `i8` with
//! one scale per output column `j` (symmetric: `W[·, j] ≈ s_j · q[·, j]`, `s_j = max|W[·, j]| /
//! 127`). Each row of an activation `x` `[rows, k]` is quantised when the product runs, to `u8`
//! with a scale and a zero point of its own (asymmetric: `x ≈ s_x · (x_q − z_x)`, the row's
//! range stretched over 0…255, zero exact). The product is then integer:
//!
//! ```text
//! Σ_k x_k W_kj ≈ s_x · s_j · (Σ_k x_q,k · q_kj − z_x · Σ_k q_kj)
//! ```
//!
//! This is PyTorch's dynamic quantisation (`quantize_dynamic`: weights per channel, activations
//! per batch when each product runs), with activations per row rather than per tensor, so that a
//! sentence's answer does not depend on the sentences batched with it.
//!
//! The integer sums run on the fastest [`Int8Kernel`] the CPU has: Intel AMX's tiles
//! ([`super::amx`]: 16 × 16 × 64 products a instruction), else AVX-512 VNNI (`vpdpbusd`: 64
//! `u8 × i8` products summed into 16 `i32` lanes per instruction, without the intermediate
//! saturation of the older `vpmaddubsw`), else a scalar twin
//! ([`Int8Matrix::matmul_add_reference`]). All three give the same sums and results.

use super::amx::{self, TILE_QUADS, TILE_ROWS};
use super::base::Base;

/// Columns per panel of the packed weights: one 512-bit register of `i32` lanes, one AMX tile.
const PANEL: usize = amx::TILE_COLUMNS;

/// Fewest rows for which AMX beats VNNI (fewer rows fill its 16-row tiles with padding).
const AMX_MIN_ROWS: usize = 8;

/// What computes the integer sums of an int8 product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Kernel {
    /// Intel AMX tiles (with AVX-512 for quantising and the epilogue).
    Amx,
    /// AVX-512 VNNI.
    Vnni,
    /// One product at a time: the reference.
    Scalar,
}

impl Int8Kernel {
    /// The fastest kernel this CPU runs.
    pub fn best() -> Self {
        if !vnni() {
            Self::Scalar
        } else if amx::available() {
            Self::Amx
        } else {
            Self::Vnni
        }
    }

    /// Whether this CPU runs it.
    pub fn runs_here(self) -> bool {
        match self {
            Self::Amx => vnni() && amx::available(),
            Self::Vnni => vnni(),
            Self::Scalar => true,
        }
    }

    /// Its name, as messages and the bench print it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Amx => "AMX",
            Self::Vnni => "AVX-512 VNNI",
            Self::Scalar => "scalar",
        }
    }
}

/// A weight matrix `[k, n]` quantised to `i8` per output column (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Matrix {
    k: usize,
    n: usize,
    /// The quantised weights as panels of [`PANEL`] columns: `[n_pad / 16][panel_quads][16]`,
    /// each `i32` holding the `i8` weights of 4 consecutive rows `4q … 4q+3` of one column (zeros
    /// past `k` and `n`), the layout `vpdpbusd` and AMX's `tdpbusd` multiply; `panel_quads` is
    /// `⌈k / 4⌉` rounded up to whole AMX tiles.
    packed: Vec<i32>,
    /// `s_j`: `[n]`.
    scales: Vec<f32>,
    /// `Σ_k q_kj`: `[n]`, for the zero points of the activations.
    column_sums: Vec<i32>,
}

/// The int8 weights of one direction, for quantised inference (the module docs); its biases and
/// initial state stay those of the kernel's `Direction` (f32).
#[derive(Debug, Clone)]
pub struct Int8Direction {
    /// `W_ih` `[d_input, gates·hidden]`.
    pub weight_ih: Int8Matrix,
    /// `W_hh` `[hidden, gates·hidden]`.
    pub weight_hh: Int8Matrix,
}

impl Int8Direction {
    /// Quantises a direction's weights.
    pub fn quantize(weight_ih: &[f32], weight_hh: &[f32], d_input: usize, hidden: usize, width: usize) -> Self {
        Self {
            weight_ih: Int8Matrix::quantize(weight_ih, d_input, width),
            weight_hh: Int8Matrix::quantize(weight_hh, hidden, width),
        }
    }
}

/// Activation rows quantised to `u8` for [`Int8Matrix::matmul_add`] and
/// [`Int8Matrix::matmul_bias`]: reused between calls.
#[derive(Debug, Clone, Default)]
pub struct QuantizedRows {
    /// `[rows, stride]`, each row's quads of 4 consecutive values what `vpdpbusd` multiplies
    /// with a quad of weights. Past `k` a row holds zeros or an earlier product's values, which
    /// meet the weights' zero padding; AMX multiplies whole tiles of 16 rows, and the sums of
    /// rows past the product's are never stored.
    values: Vec<u8>,
    /// Bytes per row of `values`: `⌈k / 4⌉ · 4`, or whole AMX tiles of 64.
    stride: usize,
    /// `s_x` per row.
    scales: Vec<f32>,
    /// `z_x` per row.
    zeros: Vec<i32>,
}

fn quads(k: usize) -> usize {
    k.div_ceil(4)
}

/// Quads a packed panel holds: whole AMX tiles.
fn panel_quads(k: usize) -> usize {
    quads(k).next_multiple_of(TILE_QUADS)
}

impl Int8Matrix {
    /// Quantises row-major `w` `[k, n]`, one scale per column.
    ///
    /// # Panics
    /// If `w.len() != k · n`.
    pub fn quantize(w: &[f32], k: usize, n: usize) -> Self {
        assert_eq!(w.len(), k * n, "Int8Matrix::quantize: a [{k}, {n}] matrix");
        let mut scales = vec![0.0f32; n];
        for row in w.chunks_exact(n) {
            for (s, &v) in scales.iter_mut().zip(row) {
                *s = s.max(v.abs());
            }
        }
        for s in &mut scales {
            // An all-zero column keeps a scale of 1 (its weights quantise to 0 either way).
            *s = if *s > 0.0 { *s / 127.0 } else { 1.0 };
        }
        let q = |i: usize, j: usize| -> i8 { (w[i * n + j] / scales[j]).round_ties_even().clamp(-127.0, 127.0) as i8 };
        let (k_quads, panels) = (panel_quads(k), n.div_ceil(PANEL));
        let mut packed = vec![0i32; panels * k_quads * PANEL];
        let mut column_sums = vec![0i32; n];
        for (j, sum) in column_sums.iter_mut().enumerate() {
            let (panel, lane) = (j / PANEL, j % PANEL);
            for i in 0..k {
                let value = q(i, j);
                *sum += i32::from(value);
                let word = &mut packed[(panel * k_quads + i / 4) * PANEL + lane];
                let shift = 8 * (i % 4);
                *word |= i32::from(value as u8) << shift;
            }
        }
        Self { k, n, packed, scales, column_sums }
    }

    /// Rows `k` (the input size).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns `n` (the output size).
    pub fn n(&self) -> usize {
        self.n
    }

    /// The per-column scales `s_j`.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// The weight `q_ij` (an `i8`).
    pub fn quantized(&self, i: usize, j: usize) -> i8 {
        let word = self.packed[((j / PANEL) * panel_quads(self.k) + i / 4) * PANEL + j % PANEL];
        (word >> (8 * (i % 4))) as i8
    }

    /// The matrix the quantised weights stand for, `s_j · q_ij`, row-major `[k, n]`.
    pub fn dequantized(&self) -> Vec<f32> {
        let mut w = vec![0.0; self.k * self.n];
        for i in 0..self.k {
            for j in 0..self.n {
                w[i * self.n + j] = f32::from(self.quantized(i, j)) * self.scales[j];
            }
        }
        w
    }

    /// Bytes the quantised matrix takes (weights and scales), as stored.
    pub fn stored_bytes(&self) -> usize {
        self.k * self.n + 4 * self.n
    }

    /// `out[r, j] += Σ_k x[r, k] · W[k, j]` for `rows` rows of `x` (row-major `[rows, k]`) into
    /// `out` (row-major `[rows, n]`), both quantised (see the module docs). `scratch` holds the
    /// quantised rows between calls. Runs on [`Int8Kernel::best`] (VNNI rather than AMX for
    /// fewer than 8 rows).
    ///
    /// # Panics
    /// If `x` or `out` is shorter than `rows` rows.
    pub fn matmul_add(&self, out: &mut [f32], x: &[f32], rows: usize, scratch: &mut QuantizedRows) {
        self.product(fastest(rows), Base::Out, out, x, rows, scratch);
    }

    /// `out[r, j] = bias[j] + Σ_k x[r, k] · W[k, j]` (no bias: the product alone), overwriting
    /// `out`: [`Int8Matrix::matmul_add`] without reading `out` first. The sums are the same, so
    /// the result equals `matmul_add` onto rows that hold the bias, bit for bit.
    ///
    /// # Panics
    /// If `x` or `out` is shorter than `rows` rows, or `bias` is not `n` long.
    pub fn matmul_bias(
        &self,
        out: &mut [f32],
        x: &[f32],
        rows: usize,
        bias: Option<&[f32]>,
        scratch: &mut QuantizedRows,
    ) {
        self.product(fastest(rows), Base::of(bias, self.n), out, x, rows, scratch);
    }

    /// [`Int8Matrix::matmul_add`] with the integer sums computed one product at a time: the
    /// reference the fast kernels are tested against (same quantisation, same sums, same results).
    pub fn matmul_add_reference(&self, out: &mut [f32], x: &[f32], rows: usize, scratch: &mut QuantizedRows) {
        self.product(Int8Kernel::Scalar, Base::Out, out, x, rows, scratch);
    }

    /// [`Int8Matrix::matmul_add`] on the kernel given.
    ///
    /// # Panics
    /// If `x` or `out` is shorter than `rows` rows, or this CPU does not run `kernel`.
    pub fn matmul_add_with(
        &self,
        kernel: Int8Kernel,
        out: &mut [f32],
        x: &[f32],
        rows: usize,
        scratch: &mut QuantizedRows,
    ) {
        self.product(kernel, Base::Out, out, x, rows, scratch);
    }

    /// [`Int8Matrix::matmul_bias`] on the kernel given.
    ///
    /// # Panics
    /// As [`Int8Matrix::matmul_bias`], or if this CPU does not run `kernel`.
    pub fn matmul_bias_with(
        &self,
        kernel: Int8Kernel,
        out: &mut [f32],
        x: &[f32],
        rows: usize,
        bias: Option<&[f32]>,
        scratch: &mut QuantizedRows,
    ) {
        self.product(kernel, Base::of(bias, self.n), out, x, rows, scratch);
    }

    /// `out = base + x W` on `kernel`.
    fn product(
        &self,
        kernel: Int8Kernel,
        base: Base<'_>,
        out: &mut [f32],
        x: &[f32],
        rows: usize,
        scratch: &mut QuantizedRows,
    ) {
        assert!(x.len() >= rows * self.k && out.len() >= rows * self.n, "Int8Matrix: product sizes");
        assert!(kernel.runs_here(), "Int8Matrix: this CPU does not run the {} kernel", kernel.name());
        match kernel {
            // SAFETY (both): the CPU runs the kernel (checked), and the sizes were checked.
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::Amx => unsafe {
                let padded = rows.next_multiple_of(TILE_ROWS);
                scratch.quantize_avx512(x, rows, self.k, panel_quads(self.k) * 4, padded);
                self.accumulate_amx(base, out, scratch, rows);
            },
            #[cfg(target_arch = "x86_64")]
            Int8Kernel::Vnni => unsafe {
                scratch.quantize_avx512(x, rows, self.k, quads(self.k) * 4, rows);
                self.accumulate_vnni(base, out, scratch, rows);
            },
            _ => {
                scratch.quantize_rows(x, rows, self.k, quads(self.k) * 4, rows);
                self.accumulate_reference(base, out, scratch, rows);
            }
        }
    }

    /// `s_x · s_j · (sum − z_x · Σ_k q_kj)` for row `r`, column `j`: the one epilogue of both
    /// kernels.
    #[inline(always)]
    fn dequantize_sum(&self, q: &QuantizedRows, r: usize, j: usize, sum: i32) -> f32 {
        (sum - q.zeros[r] * self.column_sums[j]) as f32 * (q.scales[r] * self.scales[j])
    }

    fn accumulate_reference(&self, base: Base<'_>, out: &mut [f32], q: &QuantizedRows, rows: usize) {
        let k_quads = quads(self.k);
        for r in 0..rows {
            let x = &q.values[r * q.stride..r * q.stride + k_quads * 4];
            for j in 0..self.n {
                let panel = &self.packed[(j / PANEL) * panel_quads(self.k) * PANEL..];
                let mut sum = 0i32;
                for (quad, xs) in x.chunks_exact(4).enumerate() {
                    let ws = panel[quad * PANEL + j % PANEL];
                    for (byte, &xv) in xs.iter().enumerate() {
                        let wv = i32::from((ws >> (8 * byte)) as i8);
                        sum += i32::from(xv) * wv;
                    }
                }
                let at = r * self.n + j;
                out[at] = base.value(out[at], j) + self.dequantize_sum(q, r, j, sum);
            }
        }
    }

    /// The AMX kernel ([`amx::multiply`]), each tile of sums through [`Int8Matrix::store_row`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn accumulate_amx(&self, base: Base<'_>, out: &mut [f32], q: &QuantizedRows, rows: usize) {
        use std::arch::x86_64::_mm512_loadu_si512;
        let operands = amx::Operands {
            a: &q.values,
            stride: q.stride,
            row_tiles: rows.div_ceil(TILE_ROWS),
            b: &self.packed,
            panels: self.n.div_ceil(PANEL),
            chunks: panel_quads(self.k) / TILE_QUADS,
        };
        // SAFETY: the caller's (AMX available); the operands hold what they say: `q` was
        // quantised with AMX's stride and padded rows, `packed` has whole tiles.
        unsafe {
            amx::multiply(&operands, |row_tile, panel, sums| {
                for (i, lanes) in sums.iter().enumerate().take(rows - row_tile * TILE_ROWS) {
                    let sums = _mm512_loadu_si512(lanes.as_ptr().cast());
                    self.store_row(base, out, q, row_tile * TILE_ROWS + i, panel, sums);
                }
            });
        }
    }

    /// The VNNI kernel: blocks of up to 4 rows by 4 panels (64 columns), 16 accumulators.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn accumulate_vnni(&self, base: Base<'_>, out: &mut [f32], q: &QuantizedRows, rows: usize) {
        let panels = self.n.div_ceil(PANEL);
        let mut r = 0;
        while r < rows {
            let block = (rows - r).min(4);
            let mut p = 0;
            while p < panels {
                let width = (panels - p).min(4);
                // SAFETY: rows r..r+block and panels p..p+width exist (the loops' bounds).
                unsafe {
                    match (block, width) {
                        (4, 4) => self.block::<4, 4>(base, out, q, r, p),
                        (4, w) => (0..w).for_each(|i| self.block::<4, 1>(base, out, q, r, p + i)),
                        (b, 4) => (0..b).for_each(|i| self.block::<1, 4>(base, out, q, r + i, p)),
                        (b, w) => {
                            for (i, c) in (0..b).flat_map(|i| (0..w).map(move |c| (i, c))) {
                                self.block::<1, 1>(base, out, q, r + i, p + c);
                            }
                        }
                    }
                }
                p += width;
            }
            r += block;
        }
    }

    /// `R` rows from `r`, `C` panels from `p`.
    // The accumulators are a register block `acc[row][panel]`, indexed as such.
    #[allow(clippy::needless_range_loop)]
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn block<const R: usize, const C: usize>(
        &self,
        base: Base<'_>,
        out: &mut [f32],
        q: &QuantizedRows,
        r: usize,
        p: usize,
    ) {
        use std::arch::x86_64::*;
        let (k_quads, stride) = (quads(self.k), panel_quads(self.k) * PANEL);
        let mut acc = [[_mm512_setzero_si512(); C]; R];
        let panel = |c: usize| self.packed[(p + c) * stride..(p + c + 1) * stride].as_ptr();
        let weights: [*const i32; C] = std::array::from_fn(panel);
        let xs: [&[u8]; R] = std::array::from_fn(|i| &q.values[(r + i) * q.stride..(r + i) * q.stride + k_quads * 4]);
        for quad in 0..k_quads {
            // SAFETY: each panel holds k_quads · 16 words.
            let w: [__m512i; C] =
                std::array::from_fn(|c| unsafe { _mm512_loadu_si512(weights[c].add(quad * PANEL).cast()) });
            for i in 0..R {
                let x =
                    _mm512_set1_epi32(i32::from_le_bytes(xs[i][quad * 4..quad * 4 + 4].try_into().expect("a quad")));
                for c in 0..C {
                    acc[i][c] = _mm512_dpbusd_epi32(acc[i][c], x, w[c]);
                }
            }
        }
        for i in 0..R {
            for c in 0..C {
                // SAFETY: row r + i and panel p + c exist (the caller's).
                unsafe { self.store_row(base, out, q, r + i, p + c, acc[i][c]) };
            }
        }
    }

    /// Writes row `row`'s integer sums of panel `p` (16 lanes), dequantised and added to `base`,
    /// into `out`: the epilogue of the AMX and VNNI kernels ([`Int8Matrix::dequantize_sum`], 16
    /// at a time).
    ///
    /// # Safety
    /// AVX-512F; `row` is one of the quantised rows and `p` one of the panels.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    unsafe fn store_row(
        &self,
        base: Base<'_>,
        out: &mut [f32],
        q: &QuantizedRows,
        row: usize,
        p: usize,
        acc: std::arch::x86_64::__m512i,
    ) {
        use std::arch::x86_64::*;
        let zero = _mm512_set1_epi32(q.zeros[row]);
        let row_scale = _mm512_set1_ps(q.scales[row]);
        let j = p * PANEL;
        let lanes = (self.n - j).min(PANEL);
        let mask: __mmask16 = if lanes == PANEL { 0xFFFF } else { (1u16 << lanes) - 1 };
        // SAFETY: the masked loads and stores touch lanes j..j+lanes < n of this row.
        unsafe {
            let sums = _mm512_maskz_loadu_epi32(mask, self.column_sums.as_ptr().add(j).cast());
            let scales = _mm512_maskz_loadu_ps(mask, self.scales.as_ptr().add(j));
            let corrected = _mm512_sub_epi32(acc, _mm512_mullo_epi32(zero, sums));
            let value = _mm512_mul_ps(_mm512_cvtepi32_ps(corrected), _mm512_mul_ps(row_scale, scales));
            let dst = out.as_mut_ptr().add(row * self.n + j);
            let onto = match base {
                Base::Out => _mm512_maskz_loadu_ps(mask, dst),
                Base::Bias(bias) => _mm512_maskz_loadu_ps(mask, bias.as_ptr().add(j)),
                Base::Zero => _mm512_setzero_ps(),
            };
            let sum = _mm512_add_ps(onto, value);
            _mm512_mask_storeu_ps(dst, mask, sum);
        }
    }
}

/// The kernel for a product of `rows` rows: [`Int8Kernel::best`], VNNI rather than AMX below
/// [`AMX_MIN_ROWS`].
fn fastest(rows: usize) -> Int8Kernel {
    match Int8Kernel::best() {
        Int8Kernel::Amx if rows < AMX_MIN_ROWS => Int8Kernel::Vnni,
        best => best,
    }
}

impl QuantizedRows {
    /// [`QuantizedRows::quantize_rows`] in AVX-512 instructions, 16 values at a time: the same
    /// bytes (multiply, then add, then clamp, then round to nearest even).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn quantize_avx512(&mut self, x: &[f32], rows: usize, k: usize, stride: usize, padded_rows: usize) {
        use std::arch::x86_64::*;
        self.prepare(stride, padded_rows);
        let (floor, top) = (_mm512_setzero_ps(), _mm512_set1_ps(255.0));
        for (row, bytes) in x.chunks_exact(k).take(rows).zip(self.values.chunks_exact_mut(stride)) {
            let (scale, zero) = row_scale(row);
            let (inverse, zero_point) = (_mm512_set1_ps(1.0 / scale), _mm512_set1_ps(zero));
            for (values, out) in row.chunks(16).zip(bytes.chunks_mut(16)) {
                let mask: __mmask16 = if values.len() == 16 { 0xFFFF } else { (1u16 << values.len()) - 1 };
                // SAFETY: the masked load and store touch `values.len()` lanes of both chunks.
                unsafe {
                    let v = _mm512_maskz_loadu_ps(mask, values.as_ptr());
                    let shifted = _mm512_add_ps(_mm512_mul_ps(v, inverse), zero_point);
                    // max(NaN, 0) is 0, as NaN `as u8` is; the conversion rounds to nearest even.
                    let clamped = _mm512_min_ps(_mm512_max_ps(shifted, floor), top);
                    _mm512_mask_cvtepi32_storeu_epi8(out.as_mut_ptr().cast(), mask, _mm512_cvtps_epi32(clamped));
                }
            }
            self.scales.push(scale);
            self.zeros.push(zero as i32);
        }
    }

    /// Quantises `rows` rows of `k` values of `x`, each with its own scale and zero point, into
    /// rows of `stride` bytes, with room for `padded_rows` rows (see [`QuantizedRows::prepare`]).
    fn quantize_rows(&mut self, x: &[f32], rows: usize, k: usize, stride: usize, padded_rows: usize) {
        self.prepare(stride, padded_rows);
        for (row, bytes) in x.chunks_exact(k).take(rows).zip(self.values.chunks_exact_mut(stride)) {
            let (scale, zero) = row_scale(row);
            let inverse = 1.0 / scale;
            for (b, &v) in bytes.iter_mut().zip(row) {
                *b = round((v * inverse + zero).clamp(0.0, 255.0)) as u8;
            }
            self.scales.push(scale);
            self.zeros.push(zero as i32);
        }
    }

    /// Room for `padded_rows` rows of `stride` bytes, no scales yet. The quantisers write the
    /// first `k` bytes of each row; the bytes past `k`, zeros or an earlier product's values, add
    /// nothing, as they multiply the packed weights' zero rows past `k` (so a product per time
    /// step does not zero the buffer every step).
    fn prepare(&mut self, stride: usize, padded_rows: usize) {
        self.stride = stride;
        if self.values.len() < padded_rows * stride {
            self.values.resize(padded_rows * stride, 0);
        }
        self.scales.clear();
        self.zeros.clear();
    }
}

/// A row's scale and zero point: its range (with 0) stretched over 0…255.
#[inline(always)]
fn row_scale(row: &[f32]) -> (f32, f32) {
    let (lo, hi) = range(row);
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    (scale, round(-lo / scale).clamp(0.0, 255.0))
}

/// The smallest and largest value of `row` and 0, in 16 lanes that the compiler vectorises,
/// folded in halves (8, 4, 2, 1) at the end.
#[inline(always)]
fn range(row: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = ([0.0f32; 16], [0.0f32; 16]);
    let mut chunks = row.chunks_exact(16);
    for chunk in &mut chunks {
        for i in 0..16 {
            lo[i] = if chunk[i] < lo[i] { chunk[i] } else { lo[i] };
            hi[i] = if chunk[i] > hi[i] { chunk[i] } else { hi[i] };
        }
    }
    for (i, &v) in chunks.remainder().iter().enumerate() {
        lo[i] = if v < lo[i] { v } else { lo[i] };
        hi[i] = if v > hi[i] { v } else { hi[i] };
    }
    let mut width = 8;
    while width > 0 {
        for i in 0..width {
            lo[i] = if lo[i + width] < lo[i] { lo[i + width] } else { lo[i] };
            hi[i] = if hi[i + width] > hi[i] { hi[i + width] } else { hi[i] };
        }
        width /= 2;
    }
    (lo[0], hi[0])
}

/// `v` rounded to the nearest integer, ties to even, for `|v| < 2^22`: adding and subtracting
/// 1.5·2^23 leaves the rounded value (one add and one subtract, which vectorise, where
/// `round_ties_even` calls the library).
#[inline(always)]
fn round(v: f32) -> f32 {
    const SHIFTER: f32 = 12_582_912.0;
    (v + SHIFTER) - SHIFTER
}

/// Whether this CPU runs the VNNI kernel (AVX-512F, BW and VNNI).
pub fn vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from a fixed generator in `[-scale, scale)`.
    fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    fn exact(w: &[f32], x: &[f32], rows: usize, k: usize, n: usize) -> Vec<f64> {
        let mut out = vec![0.0f64; rows * n];
        for r in 0..rows {
            for j in 0..n {
                out[r * n + j] = (0..k).map(|i| f64::from(x[r * k + i]) * f64::from(w[i * n + j])).sum();
            }
        }
        out
    }

    #[test]
    fn weights_round_trip_within_half_a_step() {
        let (k, n) = (37, 21);
        let w = values(k * n, 1, 0.3);
        let m = Int8Matrix::quantize(&w, k, n);
        let back = m.dequantized();
        for i in 0..k {
            for j in 0..n {
                let err = (back[i * n + j] - w[i * n + j]).abs();
                assert!(err <= m.scales()[j] * 0.5 * 1.0001, "w[{i},{j}]: {err}");
            }
        }
        // Each column's largest weight is ±127 steps exactly.
        for j in 0..n {
            assert_eq!((0..k).map(|i| m.quantized(i, j).unsigned_abs()).max(), Some(127));
        }
    }

    /// Every shape class: rows not a multiple of 4 or 16 (and more than one block of 32), columns
    /// not a multiple of 16 or 64 (an odd number of panels), k not a multiple of 4 or 64; the
    /// results of every kernel this CPU runs (VNNI, AMX) equal the reference's bit for bit, and
    /// all are within the quantisation's error bound of the exact product.
    #[test]
    fn every_kernel_equals_the_reference_and_all_are_within_the_bound() {
        let shapes = [(1, 1, 1), (3, 5, 17), (4, 8, 64), (7, 13, 70), (32, 200, 800), (9, 100, 129), (53, 70, 40)];
        let kernels: Vec<Int8Kernel> =
            [Int8Kernel::Vnni, Int8Kernel::Amx].into_iter().filter(|kernel| kernel.runs_here()).collect();
        if kernels.len() < 2 {
            eprintln!("int8 kernels: only the reference and {kernels:?} compared: this CPU runs no others");
        }
        for &(rows, k, n) in &shapes {
            let w = values(k * n, 2, 0.2);
            let mut x = values(rows * k, 3, 1.5);
            x.iter_mut().step_by(5).for_each(|v| *v = v.abs() * 3.0);
            let m = Int8Matrix::quantize(&w, k, n);
            let start = values(rows * n, 4, 1.0);
            let mut scratch = QuantizedRows::default();
            let mut slow = start.clone();
            m.matmul_add_reference(&mut slow, &x, rows, &mut scratch);
            // Written over `out` from a bias (or from nothing): the same values as added to rows
            // that hold the bias (or zeros), bit for bit, whatever `out` held before.
            let bias = values(n, 5, 0.5);
            let mut onto_bias: Vec<f32> = bias.iter().copied().cycle().take(rows * n).collect();
            m.matmul_add_reference(&mut onto_bias, &x, rows, &mut scratch);
            let mut onto_zeros = vec![0.0f32; rows * n];
            m.matmul_add_reference(&mut onto_zeros, &x, rows, &mut scratch);
            for &kernel in kernels.iter().chain([Int8Kernel::Scalar].iter()) {
                let mut fast = start.clone();
                m.matmul_add_with(kernel, &mut fast, &x, rows, &mut scratch);
                assert_eq!(fast, slow, "[{rows}×{k}]·[{k}×{n}]: {} against the reference", kernel.name());
                let mut written = start.clone();
                m.matmul_bias_with(kernel, &mut written, &x, rows, Some(&bias), &mut scratch);
                assert_eq!(written, onto_bias, "[{rows}×{k}]·[{k}×{n}] + bias: {}", kernel.name());
                m.matmul_bias_with(kernel, &mut written, &x, rows, None, &mut scratch);
                assert_eq!(written, onto_zeros, "[{rows}×{k}]·[{k}×{n}] alone: {}", kernel.name());
            }
            let fast = slow;
            let want = exact(&w, &x, rows, k, n);
            for r in 0..rows {
                let row = &x[r * k..(r + 1) * k];
                let lo = row.iter().fold(0.0f32, |a, &v| a.min(v));
                let hi = row.iter().fold(0.0f32, |a, &v| a.max(v));
                let sx = f64::from((hi - lo) / 255.0);
                for j in 0..n {
                    let sw = f64::from(m.scales()[j]);
                    let (sum_w, sum_x): (f64, f64) = (
                        (0..k).map(|i| f64::from(w[i * n + j]).abs()).sum(),
                        row.iter().map(|&v| f64::from(v).abs()).sum(),
                    );
                    // |x − x̂| ≤ s_x/2 (and ≤ s_x at the zero point's rounding), |w − ŵ| ≤ s_w/2.
                    let bound = sx * sum_w + 0.5 * sw * (sum_x + k as f64 * sx) + 1e-5;
                    let got = f64::from(fast[r * n + j] - start[r * n + j]);
                    let err = (got - want[r * n + j]).abs();
                    assert!(err <= bound, "[{rows}×{k}]·[{k}×{n}] at ({r},{j}): error {err} over {bound}");
                }
            }
        }
    }

    /// Quantised rows kept between products (as the time loop keeps them): fewer rows after
    /// more, and another `k` in between, give what a fresh buffer gives.
    #[test]
    fn reused_rows_give_what_fresh_rows_give() {
        let (k, n, other_k) = (70, 40, 65);
        let m = Int8Matrix::quantize(&values(k * n, 6, 0.3), k, n);
        let other = Int8Matrix::quantize(&values(other_k * n, 7, 0.3), other_k, n);
        for kernel in [Int8Kernel::Scalar, Int8Kernel::Vnni, Int8Kernel::Amx].into_iter().filter(|k| k.runs_here()) {
            let mut kept = QuantizedRows::default();
            for (rows, seed) in [(37, 8), (5, 9), (20, 10)] {
                let x = values(rows * k, seed, 2.0);
                let mut fresh = vec![0.0f32; rows * n];
                m.matmul_bias_with(kernel, &mut fresh, &x, rows, None, &mut QuantizedRows::default());
                let mut reused = vec![0.0f32; rows * n];
                m.matmul_bias_with(kernel, &mut reused, &x, rows, None, &mut kept);
                assert_eq!(reused, fresh, "{}: {rows} rows after others", kernel.name());
                let y = values(3 * other_k, seed + 1, 2.0);
                let mut fresh = vec![0.0f32; 3 * n];
                other.matmul_bias_with(kernel, &mut fresh, &y, 3, None, &mut QuantizedRows::default());
                let mut reused = vec![0.0f32; 3 * n];
                other.matmul_bias_with(kernel, &mut reused, &y, 3, None, &mut kept);
                assert_eq!(reused, fresh, "{}: k = {other_k} after k = {k}", kernel.name());
            }
        }
    }

    #[test]
    fn zero_rows_and_columns_give_zero() {
        let (k, n) = (6, 18);
        let mut w = values(k * n, 5, 0.5);
        (0..k).for_each(|i| w[i * n + 3] = 0.0);
        let m = Int8Matrix::quantize(&w, k, n);
        let x = vec![0.0f32; 2 * k];
        let mut out = vec![0.0f32; 2 * n];
        m.matmul_add(&mut out, &x, 2, &mut QuantizedRows::default());
        assert!(out.iter().all(|&v| v == 0.0), "{out:?}");
    }
}

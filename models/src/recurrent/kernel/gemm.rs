//! A checked, single-threaded matrix product on row-major slices (the `gemm` crate underneath).

use super::Real;

/// A matrix in a slice: `rows × cols`, element `(i, j)` at `i·row_stride + j·col_stride`.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl View {
    /// A contiguous row-major `rows × cols` matrix.
    pub fn rows(rows: usize, cols: usize) -> Self {
        Self { rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose of this view (the same elements).
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride }
    }

    /// Whether every element lies inside a slice of `len` elements.
    fn fits(&self, len: usize) -> bool {
        self.rows == 0 || self.cols == 0 || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < len
    }
}

/// `dst ← [dst +] lhs × rhs` (`dst` is kept and added to when `accumulate`).
///
/// # Panics
/// If the shapes do not chain or a view reaches outside its slice.
pub fn matmul<F: Real>(dst: &mut [F], d: View, accumulate: bool, lhs: &[F], l: View, rhs: &[F], r: View) {
    assert!(l.cols == r.rows && d.rows == l.rows && d.cols == r.cols, "matmul: shapes {d:?} = {l:?} × {r:?}");
    assert!(d.fits(dst.len()) && l.fits(lhs.len()) && r.fits(rhs.len()), "matmul: a view leaves its slice");
    if d.rows == 0 || d.cols == 0 {
        return;
    }
    if l.cols == 0 {
        if !accumulate {
            for i in 0..d.rows {
                for j in 0..d.cols {
                    dst[i * d.row_stride + j * d.col_stride] = F::ZERO;
                }
            }
        }
        return;
    }
    let stride = |s: usize| s as isize;
    // SAFETY: the assertions above keep every access of the three views inside its slice, and
    // `dst` is borrowed mutably, so it aliases neither operand.
    unsafe {
        gemm::gemm(
            d.rows,
            d.cols,
            l.cols,
            dst.as_mut_ptr(),
            stride(d.col_stride),
            stride(d.row_stride),
            accumulate,
            lhs.as_ptr(),
            stride(l.col_stride),
            stride(l.row_stride),
            rhs.as_ptr(),
            stride(r.col_stride),
            stride(r.row_stride),
            F::ONE,
            F::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

//! The float types the CPU kernel computes in, and the activations it needs, written so that
//! the compiler vectorises them (no branches, no library calls in f32).

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

use super::math::Arith;

/// `f32` or `f64`.
pub trait Real:
    Arith
    + Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// `e^x`. In f32 a branch-free polynomial (relative error of a few ulp, subnormal results included,
    /// 0 below −103.9, ∞ above 88.72, NaN in, NaN out); in f64 the library's.
    fn exp(self) -> Self;
    /// `e^x` for `−87 ≤ x ≤ 88` (NaN in, NaN out), where `e^x` and its power of two are normal
    /// floats: [`Real::exp`] without its range handling, for [`sigmoid`]'s clamped input.
    fn exp_moderate(self) -> Self;
    /// The value in this type.
    fn from_f64(value: f64) -> Self;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn exp_moderate(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    /// Cephes' `expf` (see [`exp_parts`]), the result's power of two built in two halves so that
    /// subnormal results come out right.
    #[inline(always)]
    fn exp(self) -> Self {
        // Outside this range the result is 0 or ∞ (selected at the end).
        let (e_r, n) = exp_parts(self.clamp(-103.9, 88.72));
        // −150 ≤ n ≤ 128: 2^n as 2^a · 2^(n−a), a = ⌊n/2⌋, so that both factors are normal.
        let half = n >> 1;
        let result = e_r * power_of_two(half) * power_of_two(n - half);
        // NaN compares false everywhere above and must come out as NaN.
        if self.is_nan() {
            self
        } else if self > 88.72 {
            f32::INFINITY
        } else if self < -103.9 {
            0.0
        } else {
            result
        }
    }
    #[inline(always)]
    fn exp_moderate(self) -> Self {
        let (e_r, n) = exp_parts(self);
        e_r * power_of_two(n)
    }
    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

/// Cephes' `expf` of `x` (within −103.9 … 88.72) as `(e^r, n)`, `e^x = e^r · 2^n`, with
/// `n = round(x / ln 2)`, `|r| ≤ ln 2 / 2` and `e^r` by a degree-7 polynomial, in fused
/// multiply-adds (one instruction each where the kernel's passes are compiled, AVX-512F or
/// AVX2 with FMA; elsewhere the library's `fmaf`, as exact and slower). `n` is rounded by adding
/// `1.5·2^23` (no `round` call, which SSE2 lacks).
#[inline(always)]
fn exp_parts(x: f32) -> (f32, i32) {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2^23
    const SHIFTER: f32 = 12_582_912.0;
    let shifted = x.mul_add(LOG2E, SHIFTER);
    let n = shifted - SHIFTER;
    let r = n.mul_add(-LN2_LO, n.mul_add(-LN2_HI, x));
    let p = 1.987_569_1e-4_f32.mul_add(r, 1.398_199_9e-3);
    let p = p.mul_add(r, 8.333_452e-3);
    let p = p.mul_add(r, 4.166_579_6e-2);
    let p = p.mul_add(r, 1.666_666_5e-1);
    let p = p.mul_add(r, 5e-1);
    let e_r = p.mul_add(r * r, r) + 1.0;
    // The low mantissa bits of `shifted` hold n (two's complement).
    let n_bits = (shifted.to_bits() as i32).wrapping_sub(SHIFTER.to_bits() as i32);
    (e_r, n_bits)
}

/// `2^e` for `−126 ≤ e ≤ 127`, built in the exponent bits.
#[inline(always)]
fn power_of_two(e: i32) -> f32 {
    f32::from_bits((e.wrapping_add(127) << 23) as u32)
}

/// `σ(x) = 1 / (1 + e^{−x})`, the input clamped to `[−80, 80]` as [`crate::activation::sigmoid`].
#[inline(always)]
pub fn sigmoid<F: Real>(x: F) -> F {
    let limit = F::from_f64(80.0);
    let x = if x < -limit {
        -limit
    } else if x > limit {
        limit
    } else {
        x
    };
    F::ONE / (F::ONE + (-x).exp_moderate())
}

/// `tanh(x) = 2σ(2x) − 1`, as [`crate::activation::tanh`].
#[inline(always)]
pub fn tanh<F: Real>(x: F) -> F {
    let two = F::from_f64(2.0);
    two * sigmoid(two * x) - F::ONE
}

macro_rules! arith_for_real {
    ($($float:ty),*) => {$(
        impl Arith for $float {
            #[inline(always)]
            fn sigmoid(self) -> Self {
                sigmoid(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                tanh(self)
            }
            #[inline(always)]
            fn relu(self) -> Self {
                if self > 0.0 { self } else { 0.0 }
            }
            #[inline(always)]
            fn positive(self) -> Self {
                if self > 0.0 { 1.0 } else { 0.0 }
            }
            #[inline(always)]
            fn one_minus(self) -> Self {
                <$float as Real>::ONE - self
            }
        }
    )*};
}
arith_for_real!(f32, f64);

//! What a product's values are added to: the one epilogue choice of the kernels' products
//! ([`super::int8`], [`super::panels`]).

/// What a product's values are added to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Base<'a> {
    /// What `out` holds: the product is added to it.
    Out,
    /// A bias, the same for every row (`[n]`).
    Bias(&'a [f32]),
    /// Nothing: `out` is overwritten with the product.
    Zero,
}

impl<'a> Base<'a> {
    /// The base of a product `out = bias + x W`, or of `out = x W` without one.
    ///
    /// # Panics
    /// If `bias` is not `n` long.
    pub(super) fn of(bias: Option<&'a [f32]>, n: usize) -> Self {
        match bias {
            Some(bias) => {
                assert_eq!(bias.len(), n, "a product: one bias per column");
                Self::Bias(bias)
            }
            None => Self::Zero,
        }
    }

    /// The base of column `j` where `out` holds `current`.
    #[inline(always)]
    pub(super) fn value(self, current: f32, j: usize) -> f32 {
        match self {
            Self::Out => current,
            Self::Bias(bias) => bias[j],
            Self::Zero => 0.0,
        }
    }
}

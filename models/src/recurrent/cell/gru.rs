//! The GRU cell (Cho et al., 2014), in PyTorch's form: gates `r, z, n`, reset applied after the
//! hidden matmul.

use super::math::{sigmoid_slope, tanh_slope, Arith, CacheBlocks, Cell, State, StepGrads};

/// GRU cell. With input blocks `x_r, x_z, x_n` (`W_ih x_t + b_ih`) and hidden blocks
/// `h_r, h_z, h_n` (`W_hh h_{t-1} + b_hh`):
///
/// ```text
/// r_t = σ(x_r + h_r)   z_t = σ(x_z + h_z)
/// n_t = tanh(x_n + r_t ⊙ h_n)
/// h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
/// ```
#[derive(Debug, Clone, Copy)]
pub struct GruCell;

/// What the GRU's backward step needs: the gates, `n_t`, and the hidden projection's `n` block.
#[derive(Debug, Clone)]
pub struct GruCache<T> {
    pub r: T,
    pub z: T,
    pub n: T,
    pub h_n: T,
}

impl<T> CacheBlocks<T, 4> for GruCache<T> {
    fn into_blocks(self) -> [T; 4] {
        [self.r, self.z, self.n, self.h_n]
    }
    fn from_blocks([r, z, n, h_n]: [T; 4]) -> Self {
        Self { r, z, n, h_n }
    }
}

impl Cell<3, 4> for GruCell {
    type Cache<T> = GruCache<T>;
    const SPLITS_HIDDEN_GRAD: bool = true;

    #[inline(always)]
    fn forward<T: Arith>(&self, x: [T; 3], h: [T; 3], prev: State<T>) -> (State<T>, GruCache<T>) {
        let [x_r, x_z, x_n] = x;
        let [h_r, h_z, h_n] = h;
        let r = (x_r + h_r).sigmoid();
        let z = (x_z + h_z).sigmoid();
        let n = (x_n + r.clone() * h_n.clone()).tanh();
        // (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
        let hidden = n.clone() + z.clone() * (prev.hidden - n.clone());
        (State { hidden, cell: None }, GruCache { r, z, n, h_n })
    }

    /// ```text
    /// ∂z = ∂h_t ⊙ (h_{t-1} − n)      ∂n = ∂h_t ⊙ (1 − z)        ∂h_{t-1} ⊇ ∂h_t ⊙ z
    /// ∂a_n = ∂n ⊙ (1 − n²)           (input block; the hidden block h_n gets ∂a_n ⊙ r)
    /// ∂a_r = ∂a_n ⊙ h_n ⊙ r(1 − r)   ∂a_z = ∂z ⊙ z(1 − z)
    /// ```
    #[inline(always)]
    fn backward<T: Arith>(&self, cache: GruCache<T>, prev: State<T>, grad: State<T>) -> StepGrads<T, 3> {
        let GruCache { r, z, n, h_n } = cache;
        let d_hidden = grad.hidden;
        let d_z = d_hidden.clone() * (prev.hidden - n.clone()) * sigmoid_slope(z.clone());
        let d_n = (d_hidden.clone() - d_hidden.clone() * z.clone()) * tanh_slope(n);
        let d_r = d_n.clone() * h_n * sigmoid_slope(r.clone());
        StepGrads {
            input_proj: [d_r.clone(), d_z.clone(), d_n.clone()],
            hidden_proj: Some([d_r, d_z, d_n * r]),
            hidden: Some(d_hidden * z),
            cell: None,
        }
    }
}

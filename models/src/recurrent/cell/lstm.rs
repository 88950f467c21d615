//! The LSTM cell (Hochreiter & Schmidhuber, 1997), with PyTorch's gate order `i, f, g, o`.

use super::math::{sigmoid_slope, tanh_slope, Arith, CacheBlocks, Cell, State, StepGrads};

/// LSTM cell. With `a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh` split into four blocks:
///
/// ```text
/// i_t = σ(a_i)   f_t = σ(a_f)   g_t = tanh(a_g)   o_t = σ(a_o)
/// c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
/// h_t = o_t ⊙ tanh(c_t)
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LstmCell;

/// What the LSTM's backward step needs: the four gates and `tanh(c_t)`.
#[derive(Debug, Clone)]
pub struct LstmCache<T> {
    pub i: T,
    pub f: T,
    pub g: T,
    pub o: T,
    pub tanh_c: T,
}

impl<T> CacheBlocks<T, 5> for LstmCache<T> {
    fn into_blocks(self) -> [T; 5] {
        [self.i, self.f, self.g, self.o, self.tanh_c]
    }
    fn from_blocks([i, f, g, o, tanh_c]: [T; 5]) -> Self {
        Self { i, f, g, o, tanh_c }
    }
}

impl Cell<4, 5> for LstmCell {
    type Cache<T> = LstmCache<T>;
    const MEMORY: bool = true;

    #[inline(always)]
    fn forward<T: Arith>(&self, x: [T; 4], h: [T; 4], prev: State<T>) -> (State<T>, LstmCache<T>) {
        let [x_i, x_f, x_g, x_o] = x;
        let [h_i, h_f, h_g, h_o] = h;
        let (i, f, g, o) = ((x_i + h_i).sigmoid(), (x_f + h_f).sigmoid(), (x_g + h_g).tanh(), (x_o + h_o).sigmoid());
        let c_prev = prev.cell.expect("an LSTM state has a memory cell");
        let cell = f.clone() * c_prev + i.clone() * g.clone();
        let tanh_c = cell.clone().tanh();
        let hidden = o.clone() * tanh_c.clone();
        (State { hidden, cell: Some(cell) }, LstmCache { i, f, g, o, tanh_c })
    }

    /// ```text
    /// ∂c_t = ∂L/∂c_t + ∂L/∂h_t ⊙ o ⊙ (1 − tanh² c_t)        (all paths into c_t)
    /// ∂a_i = ∂c_t ⊙ g ⊙ i(1 − i)     ∂a_f = ∂c_t ⊙ c_{t-1} ⊙ f(1 − f)
    /// ∂a_g = ∂c_t ⊙ i ⊙ (1 − g²)     ∂a_o = ∂L/∂h_t ⊙ tanh c_t ⊙ o(1 − o)
    /// ∂c_{t-1} = ∂c_t ⊙ f
    /// ```
    #[inline(always)]
    fn backward<T: Arith>(&self, cache: LstmCache<T>, prev: State<T>, grad: State<T>) -> StepGrads<T, 4> {
        let LstmCache { i, f, g, o, tanh_c } = cache;
        let c_prev = prev.cell.expect("an LSTM state has a memory cell");
        let d_hidden = grad.hidden;
        let d_cell = grad.cell.expect("an LSTM gradient has a memory cell")
            + d_hidden.clone() * o.clone() * tanh_slope(tanh_c.clone());
        let d_i = d_cell.clone() * g.clone() * sigmoid_slope(i.clone());
        let d_f = d_cell.clone() * c_prev * sigmoid_slope(f.clone());
        let d_g = d_cell.clone() * i * tanh_slope(g);
        let d_o = d_hidden * tanh_c * sigmoid_slope(o);
        StepGrads { input_proj: [d_i, d_f, d_g, d_o], hidden_proj: None, hidden: None, cell: Some(d_cell * f) }
    }
}

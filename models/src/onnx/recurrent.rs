//! A [`Recurrent`] stack as ONNX's `LSTM`, `GRU` or `RNN` nodes, one per layer.
//!
//! ONNX orders the gates differently from PyTorch (and seqlab, which keeps PyTorch's order):
//! LSTM `i, o, f, c` against `i, f, g, o`; GRU `z, r, h` against `r, z, n`, with
//! `linear_before_reset = 1` for PyTorch's GRU. ONNX's weights are `[directions, gates·H, in]`
//! and its bias one `[directions, 2·gates·H]` row per direction (`W_b` then `R_b`).

use burn::tensor::backend::Backend;

use super::graph::{Attr, Graph};
use crate::import::pytorch_name;
use crate::{CellKind, Recurrent};

/// What a recurrent stack computed, time-major.
pub(super) struct Encoded {
    /// The last layer's outputs, `[seq, batch, directions·hidden]`; zero past each length.
    pub outputs: String,
    /// The last layer's final hidden states, `[batch, directions·hidden]`: forward then
    /// backward, as [`crate::heads::Encoder::last_state`].
    pub last: String,
}

/// Which PyTorch gate block each ONNX gate block is.
fn onnx_gate_order(cell: CellKind) -> &'static [usize] {
    match cell {
        CellKind::Lstm => &[0, 3, 1, 2],
        CellKind::Gru => &[1, 0, 2],
        CellKind::RnnTanh | CellKind::RnnRelu => &[0],
    }
}

/// PyTorch's `[gates·H, cols]` rows regrouped into ONNX's gate order.
fn reordered(values: &[f32], hidden: usize, cols: usize, order: &[usize]) -> Vec<f32> {
    let block = hidden * cols;
    order.iter().flat_map(|&g| values[g * block..(g + 1) * block].iter().copied()).collect()
}

/// Runs `rnn` over `x: [seq, batch, d_input]` with the real lengths `lengths: [batch]`
/// (`int32`, each at least 1).
pub(super) fn recurrent<B: Backend>(g: &mut Graph, rnn: &Recurrent<B>, x: &str, lengths: &str) -> Encoded {
    let tensors = rnn.pytorch_tensors("");
    let dirs = rnn.directions();
    let hidden = rnn.d_hidden;
    let gates = rnn.cell.gates();
    let order = onnx_gate_order(rnn.cell);
    let (op, mut attrs) = match rnn.cell {
        CellKind::Lstm => ("LSTM", Vec::new()),
        CellKind::Gru => ("GRU", vec![("linear_before_reset", Attr::Int(1))]),
        CellKind::RnnTanh => ("RNN", Vec::new()),
        CellKind::RnnRelu => ("RNN", vec![("activations", Attr::Strings(vec!["Relu"; dirs]))]),
    };
    attrs.push(("hidden_size", Attr::Int(hidden as i64)));
    attrs.push(("direction", Attr::String(if dirs == 2 { "bidirectional" } else { "forward" })));
    let mut input = x.to_string();
    let mut last = String::new();
    for layer in 0..rnn.num_layers {
        let d_in = if layer == 0 { rnn.d_input } else { dirs * hidden };
        let (mut w, mut r, mut b) = (Vec::new(), Vec::new(), Vec::new());
        for dir in 0..dirs {
            let name = |kind| pytorch_name("", kind, layer, dir == 1);
            w.extend(reordered(&tensors[&name("weight_ih")].values, hidden, d_in, order));
            r.extend(reordered(&tensors[&name("weight_hh")].values, hidden, hidden, order));
            for kind in ["bias_ih", "bias_hh"] {
                match tensors.get(&name(kind)) {
                    Some(bias) => b.extend(reordered(&bias.values, hidden, 1, order)),
                    None => b.extend(std::iter::repeat_n(0.0, gates * hidden)),
                }
            }
        }
        let w = g.f32("W", &[dirs, gates * hidden, d_in], w);
        let r = g.f32("R", &[dirs, gates * hidden, hidden], r);
        let b = g.f32("B", &[dirs, 2 * gates * hidden], b);
        let attrs = attrs.clone();
        let [y, y_h] = <[String; 2]>::try_from(g.ops(op, &[&input, &w, &r, &b, lengths], 2, attrs)).expect("Y, Y_h");
        // Y: [seq, dirs, batch, hidden] → [seq, batch, dirs·hidden].
        let y = g.op("Transpose", &[&y], vec![("perm", Attr::Ints(vec![0, 2, 1, 3]))]);
        let shape = g.i64("shape", &[3], vec![0, 0, -1]);
        input = g.op("Reshape", &[&y, &shape], vec![]);
        last = y_h;
    }
    // Y_h: [dirs, batch, hidden] → [batch, dirs·hidden].
    let last = g.op("Transpose", &[&last], vec![("perm", Attr::Ints(vec![1, 0, 2]))]);
    let shape = g.i64("shape", &[2], vec![0, -1]);
    let last = g.op("Reshape", &[&last, &shape], vec![]);
    Encoded { outputs: input, last }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_blocks_move_to_onnx_order() {
        // Two rows per gate, one column: PyTorch's blocks numbered by gate.
        let pytorch: Vec<f32> = [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0].to_vec();
        // LSTM i, f, g, o → i, o, f, c.
        assert_eq!(
            reordered(&pytorch, 2, 1, onnx_gate_order(CellKind::Lstm)),
            [0.0, 0.0, 3.0, 3.0, 1.0, 1.0, 2.0, 2.0]
        );
        // GRU r, z, n → z, r, h.
        assert_eq!(reordered(&pytorch[..6], 2, 1, onnx_gate_order(CellKind::Gru)), [1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
        // Blocks keep their rows whole: [gates·H, cols] with H = 1, cols = 2.
        assert_eq!(reordered(&[0.0, 0.5, 1.0, 1.5, 2.0, 2.5], 1, 2, &[1, 0, 2]), [1.0, 1.5, 0.0, 0.5, 2.0, 2.5]);
    }
}

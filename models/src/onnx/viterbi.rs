//! The CRF's Viterbi decoding inside the graph: two `Scan`s over the batch's emissions, in
//! `double` as [`crate::crf::Potentials::viterbi`] computes on the host, so that the file's
//! tags are seqlab's.
//!
//! The forward scan keeps `δ[b, j]`, the best score of a prefix ending in tag `j`, and writes
//! the back pointers; past a sequence's length it leaves `δ` as it was and writes the identity,
//! so that the back-tracking scan (run backwards, `GatherElements` on the pointers) starts every
//! sequence from its own last tag. Forbidden transitions score `−∞`; ties go to the lower tag id
//! (`ArgMax` keeps the first maximum), as on the host.

use super::graph::{Attr, Elem, Graph};
use crate::crf::Potentials;

/// The best tag path of each sequence: `[batch, seq]` `int64` tag ids, `−1` past each length.
///
/// - `emissions`: `[batch, seq, tags]` `float`.
/// - `lengths`: `[batch]` `int64`.
/// - `real`: `[batch, seq]` `bool`, true before each length.
pub(super) fn viterbi(g: &mut Graph, potentials: &Potentials, emissions: &str, lengths: &str, real: &str) -> String {
    let k = potentials.tags;
    let transitions = g.f64("crf_transitions", &[k, k], potentials.transitions.clone());
    let start = g.f64("crf_start", &[1, k], potentials.start.clone());
    let end = g.f64("crf_end", &[1, k], potentials.end.clone());
    let identity = g.i64("identity", &[1, k], (0..k as i64).collect());
    let one = g.scalar(1);
    let axis1 = g.i64("axes", &[1], vec![1]);
    let axis2 = g.i64("axes", &[1], vec![2]);

    let e = g.op("Cast", &[emissions], vec![("to", Attr::Int(Elem::F64.code()))]);
    let e = g.op("Transpose", &[&e], vec![("perm", Attr::Ints(vec![1, 0, 2]))]); // [seq, batch, K]
    let zero = g.scalar(0);
    let first = g.op("Gather", &[&e, &zero], vec![("axis", Attr::Int(0))]); // [batch, K]
    let delta = g.op("Add", &[&start, &first], vec![]);
    let shape = g.op("Shape", &[&e], vec![]);
    let seq = g.op("Gather", &[&shape, &zero], vec![]);
    let steps = g.op("Range", &[&zero, &seq, &one], vec![]);

    let mut body = Graph::new("viterbi_forward_");
    let delta_in = body.body_input("delta", Elem::F64);
    let e_t = body.body_input("emissions", Elem::F64);
    let t = body.body_input("t", Elem::I64);
    let scores = body.op("Unsqueeze", &[&delta_in, &axis2], vec![]);
    let scores = body.op("Add", &[&scores, &transitions], vec![]); // [batch, from, to]
    let best = body.op("ReduceMax", &[&scores], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))]);
    let arg = body.op("ArgMax", &[&scores], vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))]);
    let next = body.op("Add", &[&best, &e_t], vec![]);
    let started = body.op("GreaterOrEqual", &[&t, &one], vec![]);
    let inside = body.op("Less", &[&t, lengths], vec![]);
    let active = body.op("And", &[&started, &inside], vec![]);
    let active = body.op("Unsqueeze", &[&active, &axis1], vec![]); // [batch, 1]
    let delta_out = body.op("Where", &[&active, &next, &delta_in], vec![]);
    let back = body.op("Where", &[&active, &arg, &identity], vec![]);
    body.body_output(&delta_out, Elem::F64);
    body.body_output(&back, Elem::I64);
    let forward = body.finish("viterbi_forward", "one step of Viterbi: best scores and back pointers");
    let [delta, back] = <[String; 2]>::try_from(g.ops(
        "Scan",
        &[&delta, &e, &steps],
        2,
        vec![("body", Attr::Graph(Box::new(forward))), ("num_scan_inputs", Attr::Int(2))],
    ))
    .expect("final scores, back pointers");

    let last = g.op("Add", &[&delta, &end], vec![]);
    let last = g.op("ArgMax", &[&last], vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))]); // [batch]

    let mut body = Graph::new("viterbi_back_");
    let tag = body.body_input("tag", Elem::I64);
    let back_t = body.body_input("back", Elem::I64);
    let here = body.op("Identity", &[&tag], vec![]);
    let index = body.op("Unsqueeze", &[&tag, &axis1], vec![]);
    let previous = body.op("GatherElements", &[&back_t, &index], vec![("axis", Attr::Int(1))]);
    let previous = body.op("Squeeze", &[&previous, &axis1], vec![]);
    body.body_output(&previous, Elem::I64);
    body.body_output(&here, Elem::I64);
    let backward = body.finish("viterbi_back", "one step of back-tracking, last position first");
    let [_, tags] = <[String; 2]>::try_from(g.ops(
        "Scan",
        &[&last, &back],
        2,
        vec![
            ("body", Attr::Graph(Box::new(backward))),
            ("num_scan_inputs", Attr::Int(1)),
            ("scan_input_directions", Attr::Ints(vec![1])),
            ("scan_output_directions", Attr::Ints(vec![1])),
        ],
    ))
    .expect("first tags, path");
    let tags = g.op("Transpose", &[&tags], vec![("perm", Attr::Ints(vec![1, 0]))]); // [batch, seq]
    let padding = g.scalar(-1);
    g.op("Where", &[real, &tags, &padding], vec![])
}

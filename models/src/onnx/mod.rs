//! Whole models as single ONNX files: [`crate::TokenClassifier::to_onnx`] and
//! [`crate::SequenceClassifier::to_onnx`] write every layer, the weights inside the graph, and
//! for a CRF tagger the Viterbi decoding, so that onnxruntime (or any ONNX runtime with
//! opset [`OPSET`]) gives seqlab's answers from the ids alone.
//!
//! | seqlab | ONNX |
//! | --- | --- |
//! | word, feature and character embeddings | `Gather` on the table |
//! | character CNN | `Pad`, `Slice` windows, `Gather`, `MatMul`, masked `ReduceMax` |
//! | character BiLSTM | a bidirectional `LSTM` over each word, its final states |
//! | recurrent encoder (LSTM, GRU, RNN; stacked, bidirectional) | one `LSTM`/`GRU`/`RNN` node per layer with `sequence_lens` (see `recurrent.rs` for the gate orders) |
//! | linear layers | `MatMul` + `Add` |
//! | pooling (last, mean, max) | the final states `Y_h`, or `ReduceSum`/`ReduceMax` over the real tokens |
//! | CRF decoding | two `Scan`s in `double` (see `viterbi.rs`) |
//!
//! The protobuf messages are the `onnx-protobuf` crate's.

mod graph;
mod heads;
mod recurrent;
mod viterbi;

pub use graph::{Model, IR_VERSION, OPSET};

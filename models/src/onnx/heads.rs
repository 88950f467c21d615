//! The two task heads as whole ONNX graphs: embeddings, character encoder, recurrent encoder,
//! pooling or per-token output layer and, for a CRF tagger, Viterbi decoding.

use burn::nn::{Embedding, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use super::graph::{Attr, Dim, Elem, Graph, Model};
use super::recurrent::{recurrent, Encoded};
use super::viterbi::viterbi;
use crate::heads::{CharCnn, CharLstm, Encoder};
use crate::{Activation, Pooling, SequenceClassifier, TokenClassifier};

const BATCH: Dim = Dim::Named("batch");
const SEQ: Dim = Dim::Named("seq");

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().expect("float weights")
}

/// `x · W + b` for Burn's `[in, out]` weight.
fn linear<B: Backend>(g: &mut Graph, x: &str, layer: &Linear<B>) -> String {
    let weight = layer.weight.val();
    let dims = weight.dims();
    let w = g.f32("weight", &dims, values(weight));
    let y = g.op("MatMul", &[x, &w], vec![]);
    match &layer.bias {
        Some(bias) => {
            let b = g.f32("bias", &[dims[1]], values(bias.val()));
            g.op("Add", &[&y, &b], vec![])
        }
        None => y,
    }
}

/// The rows of `layer`'s table for the ids `ids`.
fn embedding<B: Backend>(g: &mut Graph, ids: &str, layer: &Embedding<B>) -> String {
    let weight = layer.weight.val();
    let table = g.f32("embedding", &weight.dims(), values(weight));
    g.op("Gather", &[&table, ids], vec![("axis", Attr::Int(0))])
}

/// `1.0` where `ids` is not padding (0), `0.0` where it is, as `elem`.
fn not_padding(g: &mut Graph, ids: &str, elem: Elem) -> String {
    let zero = g.scalar(0);
    let padding = g.op("Equal", &[ids, &zero], vec![]);
    let real = g.op("Not", &[&padding], vec![]);
    g.op("Cast", &[&real], vec![("to", Attr::Int(elem.code()))])
}

/// `[batch, seq]` `bool`, true before each sequence's length.
fn length_mask(g: &mut Graph, words: &str, lengths: &str) -> String {
    let shape = g.op("Shape", &[words], vec![]);
    let one = g.scalar(1);
    let seq = g.op("Gather", &[&shape, &one], vec![]);
    let zero = g.scalar(0);
    let positions = g.op("Range", &[&zero, &seq, &one], vec![]);
    let axis0 = g.i64("axes", &[1], vec![0]);
    let axis1 = g.i64("axes", &[1], vec![1]);
    let positions = g.op("Unsqueeze", &[&positions, &axis0], vec![]);
    let lengths = g.op("Unsqueeze", &[lengths, &axis1], vec![]);
    g.op("Less", &[&positions, &lengths], vec![])
}

/// `x: [batch·seq, width]` reshaped to `[batch, seq, width]`, the first two from `words`.
fn per_word(g: &mut Graph, x: &str, words: &str, width: usize) -> String {
    let batch_seq = g.op("Shape", &[words], vec![]);
    let width = g.i64("width", &[1], vec![width as i64]);
    let shape = g.op("Concat", &[&batch_seq, &width], vec![("axis", Attr::Int(0))]);
    g.op("Reshape", &[x, &shape], vec![])
}

/// The recurrent encoder over `x: [batch, seq, d]`, batch-major again; `None` for the bag.
fn encode<B: Backend>(g: &mut Graph, encoder: &Encoder<B>, x: &str, lengths: &str) -> Option<Encoded> {
    let rnn = encoder.recurrent.as_ref()?;
    let one = g.scalar(1);
    let lengths = g.op("Max", &[lengths, &one], vec![]);
    let lengths = g.op("Cast", &[&lengths], vec![("to", Attr::Int(Elem::I32.code()))]);
    let x = g.op("Transpose", &[x], vec![("perm", Attr::Ints(vec![1, 0, 2]))]);
    let out = recurrent(g, rnn, &x, &lengths);
    let outputs = g.op("Transpose", &[&out.outputs], vec![("perm", Attr::Ints(vec![1, 0, 2]))]);
    Some(Encoded { outputs, last: out.last })
}

/// [`CharCnn::words`]: each word's characters in windows of `width`, a linear map, the
/// maximum over the word's real characters.
fn char_cnn<B: Backend>(g: &mut Graph, cnn: &CharCnn<B>, chars: &str, words: &str) -> String {
    let flat = g.op("Flatten", &[chars], vec![("axis", Attr::Int(2))]); // [n, chars]
    let half = cnn.width / 2;
    let padded = if half == 0 {
        flat.clone()
    } else {
        let pads = g.i64("pads", &[4], vec![0, half as i64, 0, half as i64]);
        g.op("Pad", &[&flat, &pads], vec![])
    };
    let axis1 = g.i64("axes", &[1], vec![1]);
    let axis2 = g.i64("axes", &[1], vec![2]);
    let windows: Vec<String> = (0..cnn.width)
        .map(|k| {
            // Window k: padded[k .. k + chars], i.e. up to 2·half − k from the end.
            let start = g.i64("starts", &[1], vec![k as i64]);
            let from_end = (2 * half - k) as i64;
            let end = g.i64("ends", &[1], vec![if from_end == 0 { i64::MAX } else { -from_end }]);
            let window = g.op("Slice", &[&padded, &start, &end, &axis1], vec![]);
            g.op("Unsqueeze", &[&window, &axis2], vec![])
        })
        .collect();
    let windows: Vec<&str> = windows.iter().map(String::as_str).collect();
    let ids = g.op("Concat", &windows, vec![("axis", Attr::Int(2))]); // [n, chars, width]
    let ids = g.op("Flatten", &[&ids], vec![("axis", Attr::Int(1))]); // [n, chars·width]
    let in_word = not_padding(g, &ids, Elem::F32);
    let in_word = g.op("Unsqueeze", &[&in_word, &axis2], vec![]);
    let x = embedding(g, &ids, &cnn.embedding);
    let x = g.op("Mul", &[&x, &in_word], vec![]);
    let dim = cnn.embedding.weight.dims()[1];
    let shape = g.i64("shape", &[3], vec![0, -1, (cnn.width * dim) as i64]);
    let x = g.op("Reshape", &[&x, &shape], vec![]); // [n, chars, width·dim]
    let h = linear(g, &x, &cnn.conv); // [n, chars, filters]
                                      // crate::masked_max: padding pushed 10⁴ below, the maximum, times "the word has a character".
    let real = not_padding(g, &flat, Elem::F32);
    let one = g.f32("one", &[], vec![1.0]);
    let penalty = g.f32("penalty", &[], vec![1e4]);
    let pushed = g.op("Sub", &[&real, &one], vec![]);
    let pushed = g.op("Mul", &[&pushed, &penalty], vec![]);
    let pushed = g.op("Unsqueeze", &[&pushed, &axis2], vec![]);
    let h = g.op("Add", &[&h, &pushed], vec![]);
    let max = g.op("ReduceMax", &[&h], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))]);
    let any = g.op("ReduceMax", &[&real], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))]);
    let pooled = g.op("Mul", &[&max, &any], vec![]);
    per_word(g, &pooled, words, cnn.conv.weight.dims()[1])
}

/// [`CharLstm::forward`]: each word's final forward and backward states.
fn char_lstm<B: Backend>(g: &mut Graph, lstm: &CharLstm<B>, chars: &str, words: &str) -> String {
    let flat = g.op("Flatten", &[chars], vec![("axis", Attr::Int(2))]); // [n, chars]
    let lengths = not_padding(g, &flat, Elem::I64);
    let axis1 = axis_constant(g, 1);
    let lengths = g.op("ReduceSum", &[&lengths, &axis1], vec![("keepdims", Attr::Int(0))]);
    let one = g.scalar(1);
    let lengths = g.op("Max", &[&lengths, &one], vec![]); // padding words: any state, never read
    let lengths = g.op("Cast", &[&lengths], vec![("to", Attr::Int(Elem::I32.code()))]);
    let x = embedding(g, &flat, &lstm.embedding);
    let x = g.op("Transpose", &[&x], vec![("perm", Attr::Ints(vec![1, 0, 2]))]);
    let out = recurrent(g, &lstm.lstm, &x, &lengths);
    per_word(g, &out.last, words, lstm.lstm.d_output())
}

/// A one-element `int64` constant naming `axis`, as `Unsqueeze`, `Slice` and `ReduceSum` take it.
fn axis_constant(g: &mut Graph, axis: i64) -> String {
    g.i64("axes", &[1], vec![axis])
}

/// The activation of a feed-forward layer.
fn activation(g: &mut Graph, x: &str, activation: Activation) -> String {
    match activation {
        Activation::Identity => x.to_string(),
        Activation::Sigmoid => g.op("Sigmoid", &[x], vec![]),
        Activation::Tanh => g.op("Tanh", &[x], vec![]),
        Activation::Relu => g.op("Relu", &[x], vec![]),
        Activation::Softmax => g.op("Softmax", &[x], vec![("axis", Attr::Int(-1))]),
        Activation::Gelu => {
            // x · ½ · (1 + erf(x / √2)), the exact form.
            let sqrt2 = g.f32("sqrt2", &[], vec![std::f32::consts::SQRT_2]);
            let half = g.f32("half", &[], vec![0.5]);
            let one = g.f32("one", &[], vec![1.0]);
            let erf = g.op("Div", &[x, &sqrt2], vec![]);
            let erf = g.op("Erf", &[&erf], vec![]);
            let erf = g.op("Add", &[&erf, &one], vec![]);
            let y = g.op("Mul", &[x, &half], vec![]);
            g.op("Mul", &[&y, &erf], vec![])
        }
    }
}

/// [`crate::bag::pool`] over the real positions of `x: [batch, seq, d]`.
fn pool(g: &mut Graph, x: &str, real: &str, pooling: Pooling) -> String {
    let axis2 = axis_constant(g, 2);
    match pooling {
        Pooling::Max => {
            let real = g.op("Unsqueeze", &[real, &axis2], vec![]);
            let minus_inf = g.f32("minus_inf", &[], vec![f32::NEG_INFINITY]);
            let x = g.op("Where", &[&real, x, &minus_inf], vec![]);
            let max = g.op("ReduceMax", &[&x], vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))]);
            let empty = g.op("Equal", &[&max, &minus_inf], vec![]);
            let zero = g.f32("zero", &[], vec![0.0]);
            g.op("Where", &[&empty, &zero, &max], vec![])
        }
        Pooling::Last | Pooling::Mean => {
            let mask = g.op("Cast", &[real], vec![("to", Attr::Int(Elem::F32.code()))]);
            let axis1 = axis_constant(g, 1);
            let count = g.op("ReduceSum", &[&mask, &axis1], vec![("keepdims", Attr::Int(1))]);
            let one = g.f32("one", &[], vec![1.0]);
            let count = g.op("Max", &[&count, &one], vec![]);
            let mask = g.op("Unsqueeze", &[&mask, &axis2], vec![]);
            let x = g.op("Mul", &[x, &mask], vec![]);
            let sum = g.op("ReduceSum", &[&x, &axis1], vec![("keepdims", Attr::Int(0))]);
            let inverse = g.op("Reciprocal", &[&count], vec![]);
            g.op("Mul", &[&sum, &inverse], vec![])
        }
    }
}

const WORDS: &str = "word ids `[batch, seq]` int64: vocab.json's index of each token (lower-cased first when \
                     the vocabulary says so), 1 for unknown words, 0 for padding";
const LENGTHS: &str = "the number of real tokens of each sequence `[batch]` int64";

impl<B: Backend> TokenClassifier<B> {
    /// The tagger as one ONNX graph (opset [`super::OPSET`]).
    ///
    /// Inputs: `words` `[batch, seq]`, one `[batch, seq]` id tensor per feature embedding,
    /// named and described by `features` (the tagger's: `casing`), `chars`
    /// `[batch, seq, chars]` when the model reads characters, and `lengths` `[batch]`, all
    /// `int64`, padded with 0.
    ///
    /// Outputs: `tags` `[batch, seq]` `int64` (the CRF's Viterbi path, or each token's best
    /// tag but the padding tag 0; −1 past each length) and `emissions` `[batch, seq, tags]`
    /// (the CRF's input scores) or `probabilities` (each token's softmax).
    ///
    /// # Panics
    /// If `features` does not name every feature embedding.
    pub fn to_onnx(&self, features: &[(&str, &str)]) -> Model {
        assert_eq!(features.len(), self.features.len(), "one name per feature embedding");
        let mut g = Graph::new("");
        let words = g.input("words", Elem::I64, &[BATCH, SEQ], WORDS);
        let feature_ids: Vec<String> =
            features.iter().map(|(name, doc)| g.input(name, Elem::I64, &[BATCH, SEQ], doc)).collect();
        let chars = (self.chars.is_some() || self.char_lstm.is_some()).then(|| {
            g.input(
                "chars",
                Elem::I64,
                &[BATCH, SEQ, Dim::Named("chars")],
                "character ids `[batch, seq, chars]` int64: chars.json's index of each of a token's first 24 \
                 characters (1 for unknown ones), 0 for padding",
            )
        });
        let lengths = g.input("lengths", Elem::I64, &[BATCH], LENGTHS);

        let mut parts = vec![embedding(&mut g, &words, &self.embedding)];
        for (layer, ids) in self.features.iter().zip(&feature_ids) {
            parts.push(embedding(&mut g, ids, layer));
        }
        if let (Some(cnn), Some(chars)) = (&self.chars, &chars) {
            parts.push(char_cnn(&mut g, cnn, chars, &words));
        }
        if let (Some(lstm), Some(chars)) = (&self.char_lstm, &chars) {
            parts.push(char_lstm(&mut g, lstm, chars, &words));
        }
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let x =
            if parts.len() == 1 { parts[0].to_string() } else { g.op("Concat", &parts, vec![("axis", Attr::Int(2))]) };
        let x = encode(&mut g, &self.encoder, &x, &lengths).map_or(x, |e| e.outputs);
        let scores = linear(&mut g, &x, &self.output);
        let real = length_mask(&mut g, &words, &lengths);
        let k = self.output.weight.dims()[1];
        let score_dims = [BATCH, SEQ, Dim::Fixed(k)];
        match &self.crf {
            Some(crf) => {
                let tags = viterbi(&mut g, &crf.potentials(), &scores, &lengths, &real);
                g.output(&tags, "tags", Elem::I64, &[BATCH, SEQ], "the Viterbi path's tag ids; -1 past each length");
                g.output(&scores, "emissions", Elem::F32, &score_dims, "the CRF's per-token tag scores");
            }
            None => {
                let probabilities = g.op("Softmax", &[&scores], vec![("axis", Attr::Int(-1))]);
                // The best tag but the padding tag 0 (see the host's `first_max_after_padding`).
                let skip = usize::from(k > 1);
                let start = g.i64("starts", &[1], vec![skip as i64]);
                let end = g.i64("ends", &[1], vec![i64::MAX]);
                let axis2 = axis_constant(&mut g, 2);
                let candidates = g.op("Slice", &[&scores, &start, &end, &axis2], vec![]);
                let best = g.op("ArgMax", &[&candidates], vec![("axis", Attr::Int(2)), ("keepdims", Attr::Int(0))]);
                let offset = g.scalar(skip as i64);
                let best = g.op("Add", &[&best, &offset], vec![]);
                let padding = g.scalar(-1);
                let tags = g.op("Where", &[&real, &best, &padding], vec![]);
                g.output(&tags, "tags", Elem::I64, &[BATCH, SEQ], "each token's best tag id; -1 past each length");
                g.output(&probabilities, "probabilities", Elem::F32, &score_dims, "each token's tag probabilities");
            }
        }
        Model::new(g.finish("seqlab_tagger", "a seqlab token classifier"))
    }
}

impl<B: Backend> SequenceClassifier<B> {
    /// The classifier as one ONNX graph (opset [`super::OPSET`]).
    ///
    /// Inputs: `words` `[batch, seq]` and `lengths` `[batch]`, `int64`, padded with 0.
    /// Outputs: `label` `[batch]` `int64` (the best class) and `probabilities`
    /// `[batch, classes]`.
    pub fn to_onnx(&self) -> Model {
        let mut g = Graph::new("");
        let words = g.input("words", Elem::I64, &[BATCH, SEQ], WORDS);
        let lengths = g.input("lengths", Elem::I64, &[BATCH], LENGTHS);
        let x = embedding(&mut g, &words, &self.embedding);
        let real = length_mask(&mut g, &words, &lengths);
        let pooled = match encode(&mut g, &self.encoder, &x, &lengths) {
            Some(out) if self.pooling == Pooling::Last => out.last,
            Some(out) => pool(&mut g, &out.outputs, &real, self.pooling),
            None => pool(&mut g, &x, &real, self.pooling),
        };
        let mut h = pooled;
        for layer in &self.ffn.hidden {
            let z = linear(&mut g, &h, layer);
            h = activation(&mut g, &z, self.ffn.activation);
        }
        let logits = linear(&mut g, &h, &self.ffn.output);
        let classes = self.ffn.output.weight.dims()[1];
        let probabilities = g.op("Softmax", &[&logits], vec![("axis", Attr::Int(-1))]);
        let label = g.op("ArgMax", &[&logits], vec![("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))]);
        g.output(&label, "label", Elem::I64, &[BATCH], "the best class's id");
        g.output(&probabilities, "probabilities", Elem::F32, &[BATCH, Dim::Fixed(classes)], "each class's probability");
        Model::new(g.finish("seqlab_classifier", "a seqlab sequence classifier"))
    }
}

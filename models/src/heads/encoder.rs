//! The contextual encoder inside both heads: nothing (bag of embeddings) or a recurrent stack.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};

use crate::{CellKind, Recurrent, RecurrentConfig, RecurrentOutput};

/// Which encoder reads the embeddings: none (a bag of embeddings) or a recurrent stack of
/// one [`CellKind`].
///
/// Command-line names (`str::parse`): `ffn` (or `bag`), and every [`CellKind`] name (`rnn`,
/// `rnn-relu`, `lstm`, `gru`). In `model.json` as `"Bag"`, `"RnnTanh"`, `"RnnRelu"`, `"Lstm"`,
/// `"Gru"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "CellOrBag", from = "CellOrBag")]
pub enum EncoderKind {
    /// No recurrence: embeddings are used as they are (pooled for sequences, per token for tags).
    Bag,
    /// A recurrent stack of this cell.
    Recurrent(CellKind),
}

impl EncoderKind {
    /// The command-line names, in the order help lists them.
    pub const NAMES: &'static [&'static str] = &["ffn", "rnn", "rnn-relu", "lstm", "gru"];

    /// The recurrent cell, or `None` for the bag of embeddings.
    pub fn cell(&self) -> Option<CellKind> {
        match self {
            Self::Bag => None,
            Self::Recurrent(cell) => Some(*cell),
        }
    }
}

impl std::str::FromStr for EncoderKind {
    type Err = strum::ParseError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.eq_ignore_ascii_case("ffn") || name.eq_ignore_ascii_case("bag") {
            Ok(Self::Bag)
        } else {
            name.parse().map(Self::Recurrent)
        }
    }
}

impl strum::VariantNames for EncoderKind {
    const VARIANTS: &'static [&'static str] = Self::NAMES;
}

/// How `model.json` has always written an [`EncoderKind`]: one flat name per variant.
#[derive(serde::Serialize, serde::Deserialize)]
enum CellOrBag {
    Bag,
    RnnTanh,
    RnnRelu,
    Lstm,
    Gru,
}

impl From<EncoderKind> for CellOrBag {
    fn from(kind: EncoderKind) -> Self {
        match kind.cell() {
            None => Self::Bag,
            Some(CellKind::RnnTanh) => Self::RnnTanh,
            Some(CellKind::RnnRelu) => Self::RnnRelu,
            Some(CellKind::Lstm) => Self::Lstm,
            Some(CellKind::Gru) => Self::Gru,
        }
    }
}

impl From<CellOrBag> for EncoderKind {
    fn from(name: CellOrBag) -> Self {
        match name {
            CellOrBag::Bag => Self::Bag,
            CellOrBag::RnnTanh => Self::Recurrent(CellKind::RnnTanh),
            CellOrBag::RnnRelu => Self::Recurrent(CellKind::RnnRelu),
            CellOrBag::Lstm => Self::Recurrent(CellKind::Lstm),
            CellOrBag::Gru => Self::Recurrent(CellKind::Gru),
        }
    }
}

/// Configuration of an [`Encoder`].
#[derive(Config, Debug)]
pub struct EncoderConfig {
    /// The encoder.
    #[config(default = "EncoderKind::Recurrent(CellKind::Lstm)")]
    pub kind: EncoderKind,
    /// Hidden size per direction (ignored by `Bag`).
    #[config(default = 128)]
    pub hidden: usize,
    /// Number of stacked recurrent layers.
    #[config(default = 1)]
    pub layers: usize,
    /// Whether the recurrent layers are bidirectional.
    #[config(default = false)]
    pub bidirectional: bool,
    /// Dropout between recurrent layers.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// LSTM forget-gate bias initialisation (see [`RecurrentConfig::forget_bias`]).
    #[config(default = "None")]
    pub forget_bias: Option<f64>,
}

/// A bag of embeddings (no parameters) or a [`Recurrent`] stack.
#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    /// The recurrent stack; `None` for the bag of embeddings.
    pub recurrent: Option<Recurrent<B>>,
    /// Width of the per-token outputs.
    pub d_output: usize,
}

impl EncoderConfig {
    /// Initialises an encoder reading `d_input`-wide vectors.
    pub fn init<B: Backend>(&self, d_input: usize, device: &B::Device) -> Encoder<B> {
        let recurrent = self.kind.cell().map(|cell| {
            RecurrentConfig::new(cell, d_input, self.hidden)
                .with_num_layers(self.layers)
                .with_bidirectional(self.bidirectional)
                .with_dropout(self.dropout)
                .with_forget_bias(self.forget_bias)
                .init(device)
        });
        let d_output = recurrent.as_ref().map_or(d_input, |r| r.d_output());
        Encoder { recurrent, d_output }
    }
}

impl<B: Backend> Encoder<B> {
    /// Encodes `x: [batch, seq, d_input]`; returns the recurrent output (or `x` itself, with
    /// padding zeroed, for the bag) and, for recurrent encoders, the final states.
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        lengths: Option<Tensor<B, 1, Int>>,
    ) -> (Tensor<B, 3>, Option<RecurrentOutput<B>>) {
        match &self.recurrent {
            None => (x, None),
            Some(rnn) => {
                let out = rnn.forward(x, lengths, None);
                (out.output.clone(), Some(out))
            }
        }
    }

    /// The final hidden state of the last layer, `[batch, directions·hidden]`: for a
    /// bidirectional encoder the final forward state (last real token) concatenated with the
    /// final backward state (first token).
    pub fn last_state(&self, out: &RecurrentOutput<B>) -> Tensor<B, 2> {
        let rnn = self.recurrent.as_ref().expect("a recurrent encoder");
        let dirs = rnn.directions();
        let [_, batch, hidden] = out.state.hidden.dims();
        let first = (rnn.num_layers - 1) * dirs;
        out.state.hidden.clone().slice([first..first + dirs]).swap_dims(0, 1).reshape([batch, dirs * hidden])
    }
}

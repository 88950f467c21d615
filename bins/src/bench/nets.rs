//! The models timed: seqlab's heads (the [`Net`] trait gives each its logits and loss) and
//! twins of the same shapes built from Burn's built-in RNN modules.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{
    BiLstm, BiLstmConfig, Embedding, EmbeddingConfig, Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig, Rnn,
    RnnConfig,
};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use seqlab_datasets::ner::{allowed_transition, TagScheme};
use seqlab_models::crf::Allowed;
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_models::CellKind;
use seqlab_models::{CrfConfig, SequenceClassifier, SequenceClassifierConfig, TokenClassifier, TokenClassifierConfig};

use super::inputs::{iobes_tags, Inputs};
use super::VOCAB;

/// A model that maps token ids to logits `[rows, classes]` (rows = tokens for the tagger).
pub trait Net<B: Backend>: Module<B> {
    /// The logits of `tokens` (`[batch, length]`) with optional `lengths`.
    fn logits(&self, tokens: Tensor<B, 2, Int>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2>;

    /// The training loss: cross-entropy of the logits' rows.
    fn loss(&self, data: &Inputs<B>) -> Tensor<B, 1> {
        cross_entropy(self.logits(data.tokens.clone(), data.lengths.clone()), data.targets.clone())
    }
}

/// Burn's cross-entropy, the same for every implementation timed.
pub fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    CrossEntropyLossConfig::new().init(&logits.device()).forward(logits, targets)
}

impl<B: Backend> Net<B> for TokenClassifier<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let out = self.forward(tokens, Vec::new(), None, lengths);
        let [b, t, c] = out.dims();
        out.reshape([b * t, c])
    }

    /// With a CRF: its negative log-likelihood per token, as `train-tagger` computes it.
    fn loss(&self, data: &Inputs<B>) -> Tensor<B, 1> {
        let Some(crf) = &self.crf else {
            return cross_entropy(self.logits(data.tokens.clone(), data.lengths.clone()), data.targets.clone());
        };
        let [batch, length] = data.tokens.dims();
        let lengths = data.lengths.clone().unwrap_or_else(|| {
            Tensor::from_data(TensorData::new(vec![length as i64; batch], [batch]), &data.tokens.device())
        });
        let emissions = self.forward(data.tokens.clone(), Vec::new(), None, Some(lengths.clone()));
        crf.log_likelihood(emissions, data.targets.clone().reshape([batch, length]), lengths)
            .sum()
            .neg()
            .div_scalar((batch * length) as f64)
    }
}

impl<B: Backend> Net<B> for SequenceClassifier<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        self.forward(tokens, lengths)
    }
}

/// Burn's built-in BiLstm tagger.
#[derive(Module, Debug)]
pub struct BurnTagger<B: Backend> {
    embedding: Embedding<B>,
    rnn: BiLstm<B>,
    output: Linear<B>,
}

impl<B: Backend> Net<B> for BurnTagger<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, _: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let (h, _) = self.rnn.forward(self.embedding.forward(tokens), None);
        let out = self.output.forward(h);
        let [b, t, c] = out.dims();
        out.reshape([b * t, c])
    }
}

/// Burn's built-in layers, stacked by hand (they have no `num_layers`).
#[derive(Module, Debug)]
pub enum BurnStack<B: Backend> {
    Lstm(Vec<Lstm<B>>),
    Gru(Vec<Gru<B>>),
    Rnn(Vec<Rnn<B>>),
}

/// Burn's built-in layers under an embedding and a linear read-out of the last step.
#[derive(Module, Debug)]
pub struct BurnClassifier<B: Backend> {
    embedding: Embedding<B>,
    stack: BurnStack<B>,
    output: Linear<B>,
}

impl<B: Backend> Net<B> for BurnClassifier<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, _: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let mut x = self.embedding.forward(tokens);
        match &self.stack {
            BurnStack::Lstm(layers) => layers.iter().for_each(|l| x = l.forward(x.clone(), None).0),
            BurnStack::Gru(layers) => layers.iter().for_each(|l| x = l.forward(x.clone(), None)),
            BurnStack::Rnn(layers) => layers.iter().for_each(|l| x = l.forward(x.clone(), None).0),
        }
        let [b, t, h] = x.dims();
        self.output.forward(x.slice([0..b, t - 1..t]).reshape([b, h]))
    }
}

/// The default tagger's shapes: a BiLSTM 2 × 200 over 100-wide embeddings, `tags` tags.
fn tagger_config(tags: usize) -> TokenClassifierConfig {
    let encoder = EncoderConfig::new()
        .with_kind(EncoderKind::Recurrent(CellKind::Lstm))
        .with_hidden(200)
        .with_bidirectional(true);
    TokenClassifierConfig::new(VOCAB, tags).with_embedding_dim(100).with_encoder(encoder)
}

/// The default tagger's shapes with 9 tags.
pub fn seqlab_tagger<B: Backend>(device: &B::Device) -> TokenClassifier<B> {
    tagger_config(9).init(device)
}

/// [`seqlab_tagger`] with a CRF over IOBES tags, its transitions restricted to IOBES's.
pub fn seqlab_tagger_crf<B: Backend>(device: &B::Device) -> TokenClassifier<B> {
    let tags = iobes_tags();
    let allowed = Allowed::from_rule(tags.len(), |from, to| {
        allowed_transition(TagScheme::Iobes, from.map(|i| tags[i].as_str()), to.map(|j| tags[j].as_str()))
    });
    tagger_config(tags.len()).with_crf(Some(CrfConfig::new(tags.len()).with_allowed(Some(allowed)))).init(device)
}

/// A two-layer classifier of `kind` (256 wide over 128-wide embeddings).
pub fn seqlab_classifier<B: Backend>(kind: EncoderKind, device: &B::Device) -> SequenceClassifier<B> {
    SequenceClassifierConfig::new(VOCAB, 2)
        .with_embedding_dim(128)
        .with_encoder(EncoderConfig::new().with_kind(kind).with_hidden(256).with_layers(2))
        .init(device)
}

/// [`seqlab_tagger`]'s twin from Burn's built-in modules.
pub fn burn_tagger<B: Backend>(device: &B::Device) -> BurnTagger<B> {
    BurnTagger {
        embedding: EmbeddingConfig::new(VOCAB, 100).init(device),
        rnn: BiLstmConfig::new(100, 200, true).init(device),
        output: LinearConfig::new(400, 9).init(device),
    }
}

/// [`seqlab_classifier`]'s twin from Burn's built-in modules.
pub fn burn_classifier<B: Backend>(kind: EncoderKind, device: &B::Device) -> BurnClassifier<B> {
    let stack = match kind {
        EncoderKind::Recurrent(CellKind::Lstm) => BurnStack::Lstm(vec![
            LstmConfig::new(128, 256, true).init(device),
            LstmConfig::new(256, 256, true).init(device),
        ]),
        EncoderKind::Recurrent(CellKind::Gru) => BurnStack::Gru(vec![
            GruConfig::new(128, 256, true).init(device),
            GruConfig::new(256, 256, true).init(device),
        ]),
        _ => BurnStack::Rnn(vec![
            RnnConfig::new(128, 256, true).init(device),
            RnnConfig::new(256, 256, true).init(device),
        ]),
    };
    BurnClassifier {
        embedding: EmbeddingConfig::new(VOCAB, 128).init(device),
        stack,
        output: LinearConfig::new(256, 2).init(device),
    }
}

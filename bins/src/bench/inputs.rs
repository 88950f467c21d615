//! The workloads' inputs: random token ids and targets from the backend's generator, and fixed
//! sequences (variable lengths, valid IOBES tag paths) from one small generator of our own.

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Int, Tensor, TensorData};

use super::{Kind, Workload, VOCAB};

/// IOBES tags for 4 entity types, `<pad>` first, as `train-tagger` builds them for CoNLL-2003.
pub fn iobes_tags() -> Vec<String> {
    let mut tags = vec!["<pad>".to_string(), "O".to_string()];
    tags.extend(["LOC", "MISC", "ORG", "PER"].iter().flat_map(|t| ["B", "I", "E", "S"].map(|p| format!("{p}-{t}"))));
    tags
}

/// Knuth's MMIX linear congruential generator: the same numbers on every machine.
struct Lcg(u64);

impl Lcg {
    /// A number in `0..m` (from the state's high bits).
    fn below(&mut self, m: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % m
    }
}

/// `n` tag ids of valid IOBES sentences of `length` tokens (about one token in three inside
/// an entity), from a fixed generator.
fn iobes_paths(n: usize, length: usize) -> Vec<i64> {
    let tags = iobes_tags();
    let id = |t: &str| tags.iter().position(|x| x == t).unwrap() as i64;
    let mut lcg = Lcg(2016);
    let mut next = |m: u64| lcg.below(m);
    let mut out = Vec::with_capacity(n * length);
    for _ in 0..n {
        let mut t = 0;
        while t < length {
            let kind = ["LOC", "MISC", "ORG", "PER"][next(4) as usize];
            let span = (1 + next(3) as usize).min(length - t);
            match (next(3), span) {
                (0, 1) => out.push(id(&format!("S-{kind}"))),
                (0, _) => {
                    out.push(id(&format!("B-{kind}")));
                    (0..span - 2).for_each(|_| out.push(id(&format!("I-{kind}"))));
                    out.push(id(&format!("E-{kind}")));
                }
                _ => (0..span).for_each(|_| out.push(id("O"))),
            }
            t += span;
        }
    }
    out
}

/// Inputs of one workload: ids, optional lengths, targets.
pub struct Inputs<B: Backend> {
    /// Token ids `[batch, length]`.
    pub tokens: Tensor<B, 2, Int>,
    /// Lengths `[batch]` of a variable-length workload.
    pub lengths: Option<Tensor<B, 1, Int>>,
    /// Targets: a tag per token, or a class per sequence.
    pub targets: Tensor<B, 1, Int>,
}

/// The inputs of workload `w`, the same in every run.
pub fn inputs<B: Backend>(w: &Workload, device: &B::Device) -> Inputs<B> {
    let ids = Tensor::<B, 2>::random([w.batch, w.length], Distribution::Uniform(2.0, VOCAB as f64), device).int();
    let targets = match w.kind {
        Kind::Tagger => Tensor::<B, 1>::random([w.batch * w.length], Distribution::Uniform(0.0, 9.0), device).int(),
        Kind::TaggerCrf => {
            Tensor::from_data(TensorData::new(iobes_paths(w.batch, w.length), [w.batch * w.length]), device)
        }
        Kind::Classifier(_) => Tensor::<B, 1>::random([w.batch], Distribution::Uniform(0.0, 2.0), device).int(),
    };
    let lengths = w.variable.then(|| {
        // Lengths uniform in [5, length], fixed by a simple generator so every run is the same.
        let mut lcg = Lcg(12345);
        let lens: Vec<i64> = (0..w.batch).map(|_| 5 + lcg.below(w.length as u64 - 4) as i64).collect();
        Tensor::from_data(TensorData::new(lens, [w.batch]), device)
    });
    Inputs { tokens: ids, lengths, targets }
}

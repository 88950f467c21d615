//! The long-dependency task of the vanishing-gradient lab: *first-token classification*.
//!
//! A sequence of length `T` starts with one of `classes` signal tokens, followed by `T − 1`
//! distractor tokens drawn uniformly from `distractors` others; the label is the first token.
//! Nothing after step 1 carries information, so a model must keep the signal in its state for
//! `T − 1` steps, and the training signal must travel back as far through BPTT. Chance
//! accuracy is `1 / classes`.
//!
//! Token ids: `0..classes` are the signals, `classes..classes + distractors` the distractors.

use crate::embedded::Rng;

/// The first-token classification task at one sequence length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FirstTokenTask {
    /// Number of classes (signal tokens).
    pub classes: usize,
    /// Number of distractor tokens.
    pub distractors: usize,
    /// Sequence length `T`, signal included.
    pub length: usize,
}

/// One example: `tokens` (length `T`) and its label (the first token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstTokenExample {
    /// Token ids.
    pub tokens: Vec<usize>,
    /// The class, equal to `tokens[0]`.
    pub label: usize,
}

impl FirstTokenTask {
    /// A task with 4 classes and 8 distractors at length `length`.
    pub fn new(length: usize) -> Self {
        Self { classes: 4, distractors: 8, length }
    }

    /// Number of distinct token ids.
    pub fn vocab_size(&self) -> usize {
        self.classes + self.distractors
    }

    /// `count` examples, the same for the same `seed` (a SplitMix64 stream, independent of any
    /// dependency's random generator).
    pub fn generate(&self, count: usize, seed: u64) -> Vec<FirstTokenExample> {
        assert!(self.classes > 0 && self.distractors > 0 && self.length > 0, "empty task {self:?}");
        let mut rng = Rng::new(seed ^ (self.length as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        (0..count)
            .map(|_| {
                let label = rng.below(self.classes);
                let mut tokens = Vec::with_capacity(self.length);
                tokens.push(label);
                tokens.extend((1..self.length).map(|_| self.classes + rng.below(self.distractors)));
                FirstTokenExample { tokens, label }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_examples_and_labels_are_first_tokens() {
        let task = FirstTokenTask::new(25);
        let a = task.generate(100, 7);
        assert_eq!(a, task.generate(100, 7));
        assert_ne!(a, task.generate(100, 8));
        for e in &a {
            assert_eq!(e.tokens.len(), 25);
            assert_eq!(e.tokens[0], e.label);
            assert!(e.label < task.classes);
            assert!(e.tokens[1..].iter().all(|&t| (task.classes..task.vocab_size()).contains(&t)));
        }
        let mut counts = [0; 4];
        a.iter().for_each(|e| counts[e.label] += 1);
        assert!(counts.iter().all(|&c| c > 10), "labels roughly balanced: {counts:?}");
    }
}

/// The adding problem (Hochreiter & Schmidhuber, 1997, experiment 4; in the form of Le, Jaitly
/// & Hinton, 2015, and Arjovsky, Shah & Bengio, 2016): each of `T` steps carries two inputs, a
/// value uniform in `[0, 1)` and a marker; exactly two steps are marked, one in the first half
/// (`0..T/2`) and one in the second (`T/2..T`); the target is the sum of the two marked values.
/// Predicting the constant 1 gives a mean squared error of 1/6 ≈ 0.167.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddingTask {
    /// Sequence length `T` (at least 2).
    pub length: usize,
}

/// One sequence of the adding problem.
#[derive(Debug, Clone, PartialEq)]
pub struct AddingExample {
    /// `[T][2]`: value, marker (0 or 1).
    pub inputs: Vec<[f32; 2]>,
    /// The two marked steps.
    pub marked: [usize; 2],
    /// The sum of the two marked values.
    pub target: f32,
}

/// The MSE of always predicting 1, the baseline of every adding-problem plot.
pub const ADDING_BASELINE_MSE: f64 = 1.0 / 6.0;

impl AddingTask {
    /// `count` sequences, the same for the same `seed`: a SplitMix64 stream, also written out in
    /// `scripts/torch_adding.py`, so that PyTorch trains on the very same batches. Values are
    /// `(next_u64() >> 40) / 2^24` (exact in f32), positions `next_u64() % (T/2)` (and `+ T/2`).
    pub fn generate(&self, count: usize, seed: u64) -> Vec<AddingExample> {
        assert!(self.length >= 2, "the adding problem needs T ≥ 2, got {}", self.length);
        let mut rng = Rng::new(seed);
        let half = self.length / 2;
        (0..count)
            .map(|_| {
                let values: Vec<f32> =
                    (0..self.length).map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32).collect();
                let first = rng.below(half);
                let second = half + rng.below(self.length - half);
                let inputs = values
                    .iter()
                    .enumerate()
                    .map(|(t, &v)| [v, f32::from(u8::from(t == first || t == second))])
                    .collect();
                AddingExample { inputs, marked: [first, second], target: values[first] + values[second] }
            })
            .collect()
    }
}

//! The blocks of a step's gradients that hold something other than zeros. A step's word
//! embedding gradient is zero outside the rows of the words its batch holds (most of a
//! classifier's gradient, and of a tagger's), so the ranks first agree on the blocks any of them
//! filled ([`Blocks::nonzero`], combined with a bitwise or) and then sum only those, packed
//! together ([`Blocks::pack`], [`Blocks::unpack`]). A block that is zero on every rank sums to
//! zero, which it already holds, so the result is the dense all-reduce's, bit for bit.
//!
//! The gradients are segments (one per parameter), each cut into blocks of [`BLOCK`] values
//! from its start; the bits of all the segments' blocks follow each other.

use std::ops::Range;

/// Values in a block.
const BLOCK: usize = 32;

/// One bit per block of the segments: set where the block is to be summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Blocks {
    /// The bits, block `b` (counted over all the segments) at bit `b % 64` of word `b / 64`.
    pub words: Vec<u64>,
    /// Each segment's length and its first block.
    segments: Vec<(usize, usize)>,
}

impl Blocks {
    /// The blocks of the segments `values` that hold a value whose bits are not all zero (`-0.0` and NaN
    /// count as non-zero, so that packing never changes a sum's bits).
    pub fn nonzero(values: &[&[f32]]) -> Self {
        let mut blocks = 0;
        let segments: Vec<(usize, usize)> = values
            .iter()
            .map(|s| {
                let first = blocks;
                blocks += s.len().div_ceil(BLOCK);
                (s.len(), first)
            })
            .collect();
        let mut words = vec![0u64; blocks.div_ceil(64)];
        let chunks = values.iter().flat_map(|segment| segment.chunks(BLOCK));
        for (block, chunk) in chunks.enumerate() {
            if chunk.iter().fold(0u32, |bits, v| bits | v.to_bits()) != 0 {
                words[block / 64] |= 1 << (block % 64);
            }
        }
        Self { words, segments }
    }

    /// How many values the set blocks hold.
    pub fn values(&self) -> usize {
        (0..self.segments.len()).flat_map(|s| self.runs(s)).map(|run| run.len()).sum()
    }

    /// Appends the set blocks' values, times `weight`, to `packed`, one after the other.
    pub fn pack(&self, segments: &[&[f32]], weight: f32, packed: &mut Vec<f32>) {
        packed.reserve(self.values());
        for (s, segment) in segments.iter().enumerate() {
            for run in self.runs(s) {
                packed.extend(segment[run].iter().map(|v| v * weight));
            }
        }
    }

    /// Writes `packed` (as [`Blocks::pack`] lays it out), divided by `total`, into the set
    /// blocks of `segments`; the other blocks are left as they are.
    pub fn unpack(&self, packed: &[f32], total: f32, segments: &mut [&mut [f32]]) {
        let mut values = packed.iter();
        for (s, segment) in segments.iter_mut().enumerate() {
            for run in self.runs(s) {
                for (out, sum) in segment[run].iter_mut().zip(&mut values) {
                    *out = sum / total;
                }
            }
        }
    }

    /// The ranges of segment `s`'s values that its consecutive set blocks cover, in order.
    fn runs(&self, s: usize) -> impl Iterator<Item = Range<usize>> + '_ {
        let (len, first) = self.segments[s];
        let blocks = len.div_ceil(BLOCK);
        let set = move |b: usize| self.words[(first + b) / 64] >> ((first + b) % 64) & 1 == 1;
        let mut block = 0;
        std::iter::from_fn(move || {
            while block < blocks && !set(block) {
                block += 1;
            }
            if block == blocks {
                return None;
            }
            let start = block;
            while block < blocks && set(block) {
                block += 1;
            }
            Some(start * BLOCK..(block * BLOCK).min(len))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonzero_blocks_count_negative_zero_nan_and_each_segments_last_partial_block() {
        let mut first = vec![0f32; 2 * BLOCK + 3];
        first[BLOCK + 7] = -0.0;
        first[2 * BLOCK + 2] = f32::NAN;
        let mut second = vec![0f32; 3 * BLOCK];
        second[BLOCK] = 2.5;
        let blocks = Blocks::nonzero(&[&first, &second]);
        // first: blocks 0, 1, 2 (partial); second: blocks 3, 4, 5.
        assert_eq!(blocks.words, vec![0b010110]);
        assert_eq!(blocks.values(), BLOCK + 3 + BLOCK);
    }

    #[test]
    fn pack_then_unpack_restores_the_set_blocks_scaled_and_keeps_the_others() {
        let first: Vec<f32> = (0..3 * BLOCK + 5).map(|i| i as f32 + 1.0).collect();
        let second: Vec<f32> = (0..200 * BLOCK).map(|i| if i % 7 == 0 { i as f32 } else { 0.0 }).collect();
        let mut blocks = Blocks::nonzero(&[&first, &second]);
        assert_eq!(blocks.values(), first.len() + second.len());
        // Keep first's blocks 1 and 3 (partial), and second's blocks 70, 71 and 199.
        blocks.words.iter_mut().for_each(|w| *w = 0);
        for b in [1, 3, 4 + 70, 4 + 71, 4 + 199] {
            blocks.words[b / 64] |= 1 << (b % 64);
        }
        let mut packed = vec![9.0];
        blocks.pack(&[&first, &second], 2.0, &mut packed);
        let times2 = |values: &[f32]| values.iter().map(|v| 2.0 * v).collect::<Vec<f32>>();
        let expected = [
            vec![9.0],
            times2(&first[BLOCK..2 * BLOCK]),
            times2(&first[3 * BLOCK..]),
            times2(&second[70 * BLOCK..72 * BLOCK]),
            times2(&second[199 * BLOCK..]),
        ]
        .concat();
        assert_eq!(packed, expected);
        let (mut a, mut b) = (vec![-1f32; first.len()], vec![-1f32; second.len()]);
        blocks.unpack(&packed[1..], 4.0, &mut [&mut a, &mut b]);
        for (i, &v) in a.iter().enumerate() {
            let kept = matches!(i / BLOCK, 1 | 3);
            assert_eq!(v, if kept { first[i] / 2.0 } else { -1.0 }, "first[{i}]");
        }
        for (i, &v) in b.iter().enumerate() {
            let kept = matches!(i / BLOCK, 70 | 71 | 199);
            assert_eq!(v, if kept { second[i] / 2.0 } else { -1.0 }, "second[{i}]");
        }
    }

    #[test]
    fn no_segments_no_blocks() {
        let blocks = Blocks::nonzero(&[]);
        assert!(blocks.words.is_empty());
        assert_eq!(blocks.values(), 0);
        let mut packed = Vec::new();
        blocks.pack(&[], 1.0, &mut packed);
        assert!(packed.is_empty());
    }
}

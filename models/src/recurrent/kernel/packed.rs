//! The step outputs of the packed output (see [`super::Layer::packed_len`]), written by the
//! items of a layer side by side.
//!
//! An item writes the `hidden` values of its own direction at its own batch rows, so no value
//! is written by two items, but the values of the two directions of a row interleave: safe
//! Rust cannot split the buffer into one `&mut` part per item. [`StepOutputs`] lets every
//! item hold it at once and write only through [`StepOutputs::write`], whose caller promises
//! that the range is its own.

use std::marker::PhantomData;
use std::ops::Range;

/// The outputs `[batch, seq, directions·hidden]`, writable by several threads at once in
/// ranges that no two of them share.
pub(super) struct StepOutputs<'a, F> {
    start: *mut F,
    len: usize,
    /// Borrows the buffer mutably for as long as this lives.
    _buffer: PhantomData<&'a mut [F]>,
}

// SAFETY: a `StepOutputs` is a `&mut [F]` whose writes `write`'s callers keep apart.
unsafe impl<F: Send> Sync for StepOutputs<'_, F> {}
// SAFETY: as above.
unsafe impl<F: Send> Send for StepOutputs<'_, F> {}

impl<'a, F: Copy> StepOutputs<'a, F> {
    pub(super) fn new(buffer: &'a mut [F]) -> Self {
        Self { start: buffer.as_mut_ptr(), len: buffer.len(), _buffer: PhantomData }
    }

    /// Copies `values` to `at..at + values.len()`.
    ///
    /// # Safety
    /// No other thread reads or writes that range while this `StepOutputs` lives.
    ///
    /// # Panics
    /// If the range is outside the buffer.
    pub(super) unsafe fn write(&self, at: usize, values: &[F]) {
        let range: Range<usize> = at..at + values.len();
        assert!(range.end <= self.len, "StepOutputs: {range:?} is outside {} values", self.len);
        // SAFETY: in bounds (checked above); the caller owns the range, and `values` is a
        // shared borrow, so it cannot be this buffer's range being written.
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), self.start.add(at), values.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::StepOutputs;

    /// Two threads write the interleaved halves of every row, as a bidirectional layer's two
    /// items do; every value lands where its writer put it.
    #[test]
    fn interleaved_writers_fill_their_own_ranges() {
        let (rows, half) = (5, 3);
        let mut buffer = vec![0.0f32; rows * 2 * half];
        let outputs = StepOutputs::new(&mut buffer);
        std::thread::scope(|scope| {
            for direction in 0..2 {
                let outputs = &outputs;
                scope.spawn(move || {
                    for row in 0..rows {
                        let values: Vec<f32> = (0..half).map(|i| (100 * direction + 10 * row + i) as f32).collect();
                        // SAFETY: this thread's direction's half of each row is its own.
                        unsafe { outputs.write(row * 2 * half + direction * half, &values) };
                    }
                });
            }
        });
        let expected: Vec<f32> = (0..rows)
            .flat_map(|row| (0..2).flat_map(move |d| (0..half).map(move |i| (100 * d + 10 * row + i) as f32)))
            .collect();
        assert_eq!(buffer, expected);
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn a_write_past_the_end_panics() {
        let mut buffer = vec![0.0f32; 4];
        let outputs = StepOutputs::new(&mut buffer);
        // SAFETY: one thread; the range is checked (and refused) before anything is written.
        unsafe { outputs.write(2, &[1.0, 2.0, 3.0]) };
    }
}

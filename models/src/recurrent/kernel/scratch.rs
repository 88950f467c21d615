//! Buffers the kernel's passes give back for the next pass to take. A training step's tape,
//! projections and gradients are tens of megabytes per layer; freshly allocated, each would be
//! handed out zeroed — a write of every byte before the pass writes it again — on every step.
//!
//! [`overwritten`] hands out a buffer whose values are what an earlier pass left in it: only
//! for a buffer the caller writes whole before it reads any of it. [`zeroed`] is for the
//! others. Buffers of every float type share one [`Pool`]; it keeps at most [`KEPT`], freeing
//! the smallest beyond that. When none is large enough (the batches' lengths vary), the largest
//! of the type is freed as a new one is made: the pool holds about one buffer per buffer a step
//! uses, not one per size it has seen.

use std::any::Any;
use std::sync::{Mutex, PoisonError};

/// Buffers a pool keeps at most.
pub const KEPT: usize = 32;

/// Buffers given back, each with its size in bytes.
pub struct Pool {
    buffers: Mutex<Vec<(usize, Box<dyn Any + Send>)>>,
}

/// The kernel's pool.
static POOL: Pool = Pool::new();

impl Pool {
    const fn new() -> Self {
        Self { buffers: Mutex::new(Vec::new()) }
    }

    /// The smallest buffer of `F` with room for `len` values, at length `len`: its values
    /// what they were, defaults past them; else a new one of defaults, the largest buffer of
    /// `F` (too small) freed.
    fn take<F: Copy + Default + Send + 'static>(&self, len: usize) -> Vec<F> {
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        let capacity = |b: &dyn Any| b.downcast_ref::<Vec<F>>().map(Vec::capacity);
        let fits = (0..buffers.len()).filter_map(|i| capacity(&*buffers[i].1).filter(|&c| c >= len).map(|c| (c, i)));
        let taken = match fits.min() {
            Some((_, i)) => Some(buffers.swap_remove(i).1),
            None => {
                let largest = (0..buffers.len()).filter_map(|i| capacity(&*buffers[i].1).map(|c| (c, i))).max();
                if let Some((_, i)) = largest {
                    buffers.swap_remove(i);
                }
                None
            }
        };
        drop(buffers);
        match taken.map(|b| b.downcast::<Vec<F>>()) {
            Some(Ok(buffer)) => {
                let mut buffer = *buffer;
                buffer.resize(len, F::default());
                buffer
            }
            _ => vec![F::default(); len],
        }
    }

    /// Keeps `buffer` (an empty one is dropped); beyond [`KEPT`], frees the smallest.
    fn give<F: Send + 'static>(&self, buffer: Vec<F>) {
        let bytes = buffer.capacity() * size_of::<F>();
        if bytes == 0 {
            return;
        }
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        buffers.push((bytes, Box::new(buffer)));
        if buffers.len() > KEPT {
            let smallest = (0..buffers.len()).min_by_key(|&i| buffers[i].0).expect("the pool is not empty");
            buffers.swap_remove(smallest);
        }
    }
}

/// A buffer of `len` values, each what an earlier pass left (or the default): the caller
/// overwrites every value before reading any.
pub fn overwritten<F: Copy + Default + Send + 'static>(len: usize) -> Vec<F> {
    POOL.take(len)
}

/// A buffer of `len` default values (zeros).
pub fn zeroed<F: Copy + Default + Send + 'static>(len: usize) -> Vec<F> {
    let mut buffer = POOL.take(len);
    buffer.fill(F::default());
    buffer
}

/// Gives `buffer` back for a later pass.
pub fn give_back<F: Send + 'static>(buffer: Vec<F>) {
    POOL.give(buffer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buffer given back is handed out again, the smallest that fits, at the length asked
    /// for, with its values and defaults past them; a buffer of another type is not; beyond
    /// `KEPT` the smallest goes.
    #[test]
    fn buffers_come_back_with_their_values() {
        let pool = Pool::new();
        pool.give(vec![7.5f64; 100]);
        pool.give(vec![2.5f64; 50]);
        pool.give(vec![1.0f32; 80]);
        let shorter: Vec<f64> = pool.take(40);
        assert_eq!(shorter, vec![2.5; 40]);
        let longer: Vec<f64> = pool.take(90);
        assert_eq!((longer.len(), longer[0], longer[89]), (90, 7.5, 7.5));
        pool.give(shorter);
        let grown: Vec<f64> = pool.take(45);
        assert_eq!((grown[39], grown[40], grown[44]), (2.5, 0.0, 0.0), "values past the length given back are new");
        let fresh: Vec<f64> = pool.take(60);
        assert_eq!(fresh, vec![0.0; 60], "no f64 buffer left; the f32 one is not one");
        pool.give(vec![3.0f64; 10]);
        pool.give(vec![4.0f64; 20]);
        let _: Vec<f64> = pool.take(30);
        let left: Vec<f64> = pool.take(5);
        assert_eq!(left, vec![3.0; 5], "none fitted 30: the largest, 20, was freed");
        for size in 1..=KEPT + 1 {
            pool.give(vec![0u8; size]);
        }
        let kept = pool.buffers.lock().unwrap();
        assert_eq!(kept.len(), KEPT);
        assert!(kept.iter().all(|(bytes, _)| *bytes != 1), "the smallest was freed");
    }
}

//! Subnormal floats flushed to zero on the threads that compute.
//!
//! A float below `f32::MIN_POSITIVE` (1.2e-38) is *subnormal*. x86 CPUs compute with them
//! through microcode assists, tens to hundreds of times slower than with normal floats, and
//! training makes many: Adam's first moment of an embedding row that no batch touches decays as
//! `0.9^t` and is subnormal after some 800 steps; every later dense Adam step over the embedding
//! then multiplies thousands of subnormals. Nothing a model computes needs them: their effect on
//! a weight is far below its rounding (a weight of 0.1 moves by at most 1e-38 · lr).
//!
//! So every thread that computes sets *flush-to-zero* (results that would be subnormal are 0)
//! and *denormals-are-zero* (subnormal inputs read as 0): on x86-64 the FTZ and DAZ bits of
//! MXCSR, on aarch64 FPCR.FZ (which does both). Two ways:
//! - [`flush_this_thread`] for good: a binary's `main` before its first thread, thread pools'
//!   start handlers, long-lived workers. On Linux a thread inherits the setting of the thread
//!   that starts it.
//! - [`FlushToZero`], a guard that sets it for the scope of a computation and restores the
//!   caller's setting after: the recurrent kernel and the fused Adam take it, so that a library
//!   user (a test harness, Python) gets the same speed without its own threads being changed.
//!
//! Results equal those computed with subnormals wherever no subnormal arises, and differ from
//! them by less than 1.2e-38 elsewhere.
//!
//! `SEQLAB_SUBNORMALS=keep` in the environment turns all of this off, to measure what it saves.

use std::sync::OnceLock;

/// The floating-point control state of one thread (MXCSR or FPCR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Control(u64);

/// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
#[cfg(target_arch = "x86_64")]
const FLUSH_BITS: u64 = (1 << 15) | (1 << 6);
/// FPCR.FZ (bit 24): subnormal inputs and results are zero.
#[cfg(target_arch = "aarch64")]
const FLUSH_BITS: u64 = 1 << 24;
/// Nothing to set on other architectures.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const FLUSH_BITS: u64 = 0;

impl Control {
    #[cfg(target_arch = "x86_64")]
    fn read() -> Self {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores the 32-bit MXCSR into the local, which outlives the asm.
        unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &raw mut csr, options(nostack, preserves_flags)) };
        Self(u64::from(csr))
    }

    #[cfg(target_arch = "x86_64")]
    fn write(self) {
        let csr = self.0 as u32;
        // SAFETY: `ldmxcsr` loads a value read from MXCSR with only the FTZ/DAZ bits changed,
        // which are defined and writable on every x86-64 CPU with SSE2.
        unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &raw const csr, options(nostack, preserves_flags, readonly)) };
    }

    #[cfg(target_arch = "aarch64")]
    fn read() -> Self {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effects.
        unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        Self(fpcr)
    }

    #[cfg(target_arch = "aarch64")]
    fn write(self) {
        // SAFETY: the value is FPCR as read, with only FZ changed.
        unsafe { std::arch::asm!("msr fpcr, {}", in(reg) self.0, options(nomem, nostack, preserves_flags)) };
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    fn read() -> Self {
        Self(0)
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    fn write(self) {}

    fn flushing(self) -> Self {
        Self(self.0 | FLUSH_BITS)
    }
}

/// Whether subnormals are flushed to zero on this thread.
pub fn flushed() -> bool {
    let control = Control::read();
    control == control.flushing()
}

/// Whether `SEQLAB_SUBNORMALS=keep` asks to compute with subnormals (read once).
fn kept() -> bool {
    static KEEP: OnceLock<bool> = OnceLock::new();
    *KEEP.get_or_init(|| std::env::var("SEQLAB_SUBNORMALS").is_ok_and(|v| v.trim().eq_ignore_ascii_case("keep")))
}

/// Flushes subnormals to zero on this thread from now on (see the module docs).
pub fn flush_this_thread() {
    let control = Control::read();
    if !kept() && control != control.flushing() {
        control.flushing().write();
    }
}

/// Flushes subnormals to zero on this thread until dropped, then restores what was set before.
#[derive(Debug)]
#[must_use = "the setting is restored when the guard is dropped"]
pub struct FlushToZero {
    before: Control,
}

impl FlushToZero {
    /// Sets flush-to-zero on this thread (a no-op when already set).
    pub fn new() -> Self {
        let before = Control::read();
        if !kept() && before != before.flushing() {
            before.flushing().write();
        }
        Self { before }
    }
}

impl Default for FlushToZero {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FlushToZero {
    fn drop(&mut self) {
        if Control::read() != self.before {
            self.before.write();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed at run time so the compiler cannot fold the product.
    fn tiny_product(a: f32) -> f32 {
        std::hint::black_box(a) * std::hint::black_box(0.5)
    }

    #[test]
    fn the_guard_flushes_and_restores() {
        let smallest_normal = f32::MIN_POSITIVE;
        let before = flushed();
        assert!(tiny_product(smallest_normal) > 0.0 || before, "subnormals exist by default");
        {
            let _flush = FlushToZero::new();
            assert!(flushed());
            assert_eq!(tiny_product(smallest_normal), 0.0, "a subnormal result is zero");
            // Denormals-are-zero: a subnormal input reads as zero.
            let subnormal = f32::from_bits(1);
            assert_eq!(std::hint::black_box(subnormal) * std::hint::black_box(2.0f32), 0.0);
            assert_eq!(tiny_product(1.0), 0.5, "normal arithmetic is unchanged");
        }
        assert_eq!(flushed(), before, "the caller's setting is back");
    }

    #[test]
    fn a_thread_started_by_a_flushing_thread_flushes_too() {
        std::thread::spawn(|| {
            flush_this_thread();
            let child = std::thread::spawn(flushed).join().unwrap();
            assert!(flushed());
            // Linux copies the floating-point state into a new thread; other systems may not,
            // which is why pools also set it in their start handlers.
            if cfg!(target_os = "linux") {
                assert!(child, "the new thread inherits flush-to-zero");
            }
        })
        .join()
        .unwrap();
    }
}

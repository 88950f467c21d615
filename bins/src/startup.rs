//! What every tool does first in `main`, before any thread starts: lines written so that a lost
//! standard output ends no work ([`seqlab_training::console`]), bound the thread count and
//! tune the allocator ([`crate::malloc`]), and flush subnormal floats to zero on this thread and
//! on every thread of rayon's global pool, where Burn's ndarray backend computes
//! ([`seqlab_models::subnormal`] says why).

use seqlab_models::subnormal::flush_this_thread;

/// Prepares the process for tensor work. Call it first in `main`.
pub fn prepare_process() {
    seqlab_training::console::write_directly();
    crate::malloc::tune_for_tensors();
    flush_this_thread();
    // Threads started from here inherit the setting on Linux; the start handler makes it so
    // everywhere. The pool is built once: an error means it already exists, with its threads.
    let _ = rayon::ThreadPoolBuilder::new().start_handler(|_| flush_this_thread()).build_global();
}

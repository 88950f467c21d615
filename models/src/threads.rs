//! How many threads the CPU paths use.

use std::sync::OnceLock;

/// The number of threads the recurrent CPU kernel (and the training crate's fused Adam) uses:
/// `RAYON_NUM_THREADS` when set to a positive number (the variable that also limits Burn's
/// ndarray backend), else the cores this process may run on.
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

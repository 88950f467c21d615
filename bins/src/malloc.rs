//! Allocator settings for tensor workloads.
//!
//! A training step allocates and frees many tensors of 0.1–10 MiB. glibc's `malloc` serves
//! blocks above its mmap threshold with fresh `mmap`s and returns freed heap tops to the
//! kernel, so every step pays page faults and zeroing for memory it just gave back (perf: a
//! sixth of the tagger's step in `exc_page_fault`). Raising the mmap threshold to glibc's
//! maximum (32 MiB) and the trim threshold to 1 GiB keeps that memory in the process; the
//! tagger's train step runs about a quarter faster (BENCHMARKS.md). The same effect can be had
//! with `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` in the environment, which win
//! over these settings when set.

/// Applies the settings (glibc on Linux only; elsewhere it does nothing). Call it first in
/// `main`, before tensors are allocated.
pub fn tune_for_tensors() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set_by_user = |name: &str| std::env::var_os(name).is_some();
        // SAFETY: mallopt only changes allocator parameters; called before other threads run.
        unsafe {
            if !set_by_user("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            }
            if !set_by_user("MALLOC_TRIM_THRESHOLD_") {
                libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            }
        }
    }
}

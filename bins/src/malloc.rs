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

/// Threads per core above which `RAYON_NUM_THREADS` is lowered: more only queue for the cores
/// (and 100,000 threads take minutes to start, each with its own stack).
use seqlab_training::note;

const MAX_THREADS_PER_CORE: usize = 4;

/// Lowers `RAYON_NUM_THREADS` to `MAX_THREADS_PER_CORE` threads per core, saying so, and refuses
/// a value that is not a number. Call it first in `main`, before any thread pool starts.
pub fn bound_threads() {
    let Some(value) = std::env::var_os("RAYON_NUM_THREADS") else {
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    match thread_bound(value.to_str(), cores) {
        Ok(None) => {}
        Ok(Some((asked, most))) => {
            note!("warning: RAYON_NUM_THREADS={asked} is more than {MAX_THREADS_PER_CORE} per core; using {most}");
            // SAFETY: called first in `main`, before any other thread exists.
            unsafe { std::env::set_var("RAYON_NUM_THREADS", most.to_string()) };
        }
        Err(message) => {
            note!("error: {message}");
            std::process::exit(2);
        }
    }
}

/// For a `RAYON_NUM_THREADS` of `value` (`None`: not UTF-8) on `cores` cores: `None` when it may stand, the value
/// asked and the bound when it is lowered, an error when it is not a number.
pub fn thread_bound(value: Option<&str>, cores: usize) -> Result<Option<(usize, usize)>, String> {
    let most = cores * MAX_THREADS_PER_CORE;
    match value.and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(threads) if threads <= most => Ok(None),
        Some(threads) => Ok(Some((threads, most))),
        None => Err(format!(
            "RAYON_NUM_THREADS={} is not a number of threads",
            value.map_or_else(|| "(not UTF-8)".to_string(), |v| format!("{v:?}"))
        )),
    }
}

/// Applies the settings (glibc on Linux only; elsewhere it does nothing) after
/// [`bound_threads`]. Call it first in `main`, before tensors are allocated.
pub fn tune_for_tensors() {
    bound_threads();
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

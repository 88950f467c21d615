//! A rank of a job ends at the first SIGTERM or SIGINT, with one line: it cannot finish its step
//! alone as a lone run does (the other ranks wait for it), and mpirun, which sends SIGTERM to
//! every rank when one ends, sends SIGKILL a second later (and SIGTERM again when a second rank
//! exits, which would end a lone run's handler at once, without a word). So the handler itself
//! writes the line, with only what a signal handler may call (`write`, `_exit`), from text made
//! before: which rank, which step, and that the last complete checkpoint is kept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::ClusterConfig;

/// The step whose all-reduce this rank is in or was last in (0: before the first).
static STEP: AtomicUsize = AtomicUsize::new(0);

/// `error: rank R of N: `, made when the rank joins.
static PREFIX: OnceLock<Vec<u8>> = OnceLock::new();

/// Records that this rank is at `step` (called before each step's all-reduce).
pub(super) fn at_step(step: usize) {
    STEP.store(step, Ordering::Relaxed);
}

/// Installs the handlers for this process (once; after [`crate::interrupt::install`], they run
/// on its first signal, before a lone run's handling would wait for the end of the step).
/// Without `interrupt::install` (a library user) signals keep their default meaning as well.
pub(super) fn end_rank_on_signal(config: &ClusterConfig) {
    if PREFIX.set(format!("error: {}: ", config.name()).into_bytes()).is_err() {
        return;
    }
    #[cfg(unix)]
    for (signal, name) in [(signal_hook::consts::SIGTERM, "SIGTERM"), (signal_hook::consts::SIGINT, "SIGINT")] {
        // SAFETY: the action only reads statics made before, formats on the stack and calls
        // `write` and `_exit`, which are async-signal-safe.
        let registered = unsafe { signal_hook::low_level::register(signal, move || say_and_exit(name)) };
        if let Err(e) = registered {
            crate::note!("warning: cannot handle {name} ({e}): a signal may end this rank without a word");
        }
    }
}

/// Writes the rank's line to standard error and ends the process with status 1.
#[cfg(unix)]
fn say_and_exit(signal: &str) {
    let mut line = [0u8; 512];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        let n = bytes.len().min(line.len() - at);
        line[at..at + n].copy_from_slice(&bytes[..n]);
        at += n;
    };
    put(PREFIX.get().map_or(&b"error: "[..], Vec::as_slice));
    let step = STEP.load(Ordering::Relaxed);
    if step == 0 {
        put(b"before the first step");
    } else {
        put(b"the all-reduce of step ");
        let mut digits = [0u8; 20];
        let mut d = digits.len();
        let mut n = step;
        while n > 0 || d == digits.len() {
            d -= 1;
            digits[d] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        put(&digits[d..]);
    }
    put(b": stopped by ");
    put(signal.as_bytes());
    put(b" (mpirun stops every rank when one ends); the last complete checkpoint is kept (continue with --resume)\n");
    // SAFETY: `line[..at]` is initialised; write and _exit are async-signal-safe.
    unsafe {
        libc::write(2, line.as_ptr().cast(), at);
        libc::_exit(1);
    }
}

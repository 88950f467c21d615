//! Stopping a training run from outside. After [`install`], the first SIGINT or SIGTERM (Ctrl-C,
//! `kill`, a container runtime stopping the run) asks burn-train to stop after the batch in
//! flight: the run keeps its completed epochs, records why it stopped (`"stopped"` in
//! `progress.json` and `metrics.json`), releases its lock and gives the terminal back. A second
//! signal ends the process at once with 128 + the signal (130, 143), losing only the epoch in
//! flight, as `kill -9` would; the kernel's lock goes with the process.
//!
//! The dashboard puts the terminal in raw mode, where Ctrl-C is a key rather than a signal; while
//! a run is watched the terminal's signal keys are switched back on, so Ctrl-C stops it too.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use burn::train::Interrupter;

/// The signal received first (0: none).
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// Set by the first signal; the second, finding it set, ends the process.
fn pending() -> &'static Arc<AtomicBool> {
    static PENDING: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    PENDING.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Installs the handlers of SIGINT and SIGTERM for this process (once; later calls do nothing).
/// Without it (a library user, the tests), signals keep their default meaning.
pub fn install() -> std::io::Result<()> {
    static INSTALLED: OnceLock<std::io::Result<()>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        #[cfg(unix)]
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Order matters: the shutdown hook sees the flag as the previous signal left it.
            signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, pending().clone())?;
            signal_hook::flag::register(signal, pending().clone())?;
            // SAFETY: the action only stores to an atomic, which is async-signal-safe.
            unsafe {
                signal_hook::low_level::register(signal, move || {
                    let _ = RECEIVED.compare_exchange(0, signal as usize, Ordering::SeqCst, Ordering::SeqCst);
                })?;
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
    }
}

/// The signal that asked this process to stop, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal as i32),
    }
}

/// The name of `signal` for messages (`SIGINT`).
pub fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT (Ctrl-C)".into(),
        15 => "SIGTERM".into(),
        other => format!("signal {other}"),
    }
}

/// Relays a received signal to a running training's [`Interrupter`] until dropped.
pub(crate) struct Watch {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    /// Watches for signals on behalf of `interrupter`; `dashboard`: the terminal is in raw mode.
    pub(crate) fn start(interrupter: Interrupter, dashboard: bool) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                if let Some(signal) = received() {
                    interrupter.stop(Some(&format!("stopped by {}", signal_name(signal))));
                    return;
                }
                if dashboard {
                    signal_keys_on();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self { done, thread: Some(thread) }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Turns the terminal's signal keys (Ctrl-C → SIGINT) back on where raw mode turned them off.
fn signal_keys_on() {
    #[cfg(unix)]
    // SAFETY: termios is plain data, filled by tcgetattr before it is read.
    unsafe {
        let mut termios: libc::termios = std::mem::zeroed();
        if libc::isatty(libc::STDIN_FILENO) == 1
            && libc::tcgetattr(libc::STDIN_FILENO, &mut termios) == 0
            && termios.c_lflag & libc::ISIG == 0
        {
            termios.c_lflag |= libc::ISIG;
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &termios);
        }
    }
}

/// Why the run was interrupted, if it was: a signal's message, or the dashboard's `q`, `s`.
/// The dashboard resets the interrupter when training ends, so a stop is also known by its
/// message (every stop but a bare `stop(None)` leaves one).
pub fn stop_reason(interrupter: &Interrupter) -> Option<String> {
    /// The message of burn-train's dashboard when `q`, `s` stops the training.
    const DASHBOARD: &str = "Stopping training from user input.";
    match interrupter.get_message() {
        Some(message) if message == DASHBOARD => Some("stopped from the dashboard (q, s)".into()),
        Some(message) => Some(message),
        None => interrupter.should_stop().then(|| "interrupted".into()),
    }
}

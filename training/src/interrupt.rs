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
                    interrupter.stop(Some(&Interruption::Signal(signal).to_string()));
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

/// Why a training run stopped before its last epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// A signal this process's handlers received ([`install`]): SIGINT, SIGTERM.
    Signal(i32),
    /// The dashboard's `q`, `s`.
    Dashboard,
    /// A stop asked through the [`Interrupter`] with a message (a library user's).
    Asked(String),
    /// A stop without a message.
    Unexplained,
}

impl std::fmt::Display for Interruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Signal(signal) => write!(f, "stopped by {}", signal_name(*signal)),
            Self::Dashboard => f.write_str("stopped from the dashboard (q, s)"),
            Self::Asked(message) => f.write_str(message),
            Self::Unexplained => f.write_str("interrupted"),
        }
    }
}

/// Why the run watched by `interrupter` was interrupted, if it was; `dashboard`: the run showed
/// burn-train's dashboard. A signal is known by [`received`]. burn-train's dashboard stops with a
/// message and resets the interrupter when training ends, so any other stop with a message while
/// the dashboard was shown is the dashboard's.
pub fn interruption(interrupter: &Interrupter, dashboard: bool) -> Option<Interruption> {
    classify(received(), interrupter.get_message(), interrupter.should_stop(), dashboard)
}

/// [`interruption`] from its inputs: the signal received, the interrupter's message and flag.
fn classify(signal: Option<i32>, message: Option<String>, stopped: bool, dashboard: bool) -> Option<Interruption> {
    match (signal, message) {
        (Some(signal), _) => Some(Interruption::Signal(signal)),
        (None, Some(_)) if dashboard => Some(Interruption::Dashboard),
        (None, Some(message)) => Some(Interruption::Asked(message)),
        (None, None) => stopped.then_some(Interruption::Unexplained),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_known_by_its_cause_after_the_dashboard_resets_it() {
        let running = Interrupter::new();
        assert_eq!(interruption(&running, true), None);
        // burn-train's dashboard: `q` then `s` stops with a message, and the renderer resets the
        // interrupter when training ends (before, `metrics.json` then said `"stopped": null`).
        let dashboard = Interrupter::new();
        dashboard.stop(Some("Stopping training from user input."));
        dashboard.reset();
        assert_eq!(interruption(&dashboard, true), Some(Interruption::Dashboard));
        assert_eq!(
            interruption(&dashboard, false),
            Some(Interruption::Asked("Stopping training from user input.".into()))
        );
        assert_eq!(classify(Some(15), Some("stopped by SIGTERM".into()), true, true), Some(Interruption::Signal(15)));
        assert_eq!(Interruption::Signal(15).to_string(), "stopped by SIGTERM");
        assert_eq!(Interruption::Signal(2).to_string(), "stopped by SIGINT (Ctrl-C)");
        assert_eq!(Interruption::Dashboard.to_string(), "stopped from the dashboard (q, s)");
        let bare = Interrupter::new();
        bare.stop(None);
        assert_eq!(interruption(&bare, false), Some(Interruption::Unexplained));
        assert_eq!(Interruption::Unexplained.to_string(), "interrupted");
    }
}

//! The server's open connections, at most a cap: when a new connection would pass it, the oldest
//! connection that has not yet sent a whole request head is closed to make room. Silent
//! connections (a client that opened one and sent nothing, or half a head) then cannot hold every
//! descriptor and leave a well-formed client waiting for the header timeout to free one.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::task::AbortHandle;

/// The cap when none is given: the process's descriptor limit less a reserve for the model
/// files, logs and the listener (at least 16).
pub fn default_cap() -> usize {
    const RESERVE: u64 = 64;
    descriptor_limit().saturating_sub(RESERVE).max(16) as usize
}

/// The soft limit on open descriptors (`ulimit -n`; 1024 where it cannot be read).
fn descriptor_limit() -> u64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes the struct it is given and reads nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            return limit.rlim_cur;
        }
    }
    1024
}

/// One open connection: whether a whole request head has arrived on it, and its task.
struct Open {
    head_seen: Arc<AtomicBool>,
    task: AbortHandle,
}

/// The open connections, oldest first.
pub struct Connections {
    cap: usize,
    open: VecDeque<Open>,
}

impl Connections {
    /// At most `cap` connections (at least 1).
    pub fn new(cap: usize) -> Self {
        Self { cap: cap.max(1), open: VecDeque::new() }
    }

    /// Makes room for one more connection: forgets those that ended and, at the cap, closes the
    /// oldest that has not sent a whole request head (if every one has, none is closed).
    pub fn make_room(&mut self) {
        self.open.retain(|c| !c.task.is_finished());
        if self.open.len() < self.cap {
            return;
        }
        let silent = self.open.iter().position(|c| !c.head_seen.load(Ordering::Acquire));
        if let Some(silent) = silent.and_then(|i| self.open.remove(i)) {
            silent.task.abort();
        }
    }

    /// Records a connection: `head_seen` is set once its first request head has arrived.
    pub fn add(&mut self, head_seen: Arc<AtomicBool>, task: AbortHandle) {
        self.open.push_back(Open { head_seen, task });
    }
}

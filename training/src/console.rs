//! What the tools write for a person: lines on standard output ([`say!`](crate::say)) and notes
//! on standard error ([`note!`](crate::note)).
//!
//! In a binary (after [`write_directly`]) these never panic, unlike `println!`. A stream that
//! goes away (`train-tagger | head -4`, a closed descriptor) or fills up (`> /dev/full`) stops
//! being written to; the work goes on, and [`stdout_lost`] tells the binary at its end, which
//! decides what that means for its exit status: a training run keeps its result and says where
//! it is, a command whose output is its result ends as `cat` would ([`Lost::exit`]). Elsewhere
//! (the library under a test harness) they are `println!` and `eprintln!`, whose output a test
//! captures.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Why a stream stopped being written to: the first error it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The error's kind (`BrokenPipe` for a reader that went away).
    pub kind: io::ErrorKind,
    /// The error as the system words it.
    pub message: String,
}

impl Lost {
    /// The exit status and the error line of a command whose output was its result: a reader
    /// that went away ends it quietly with 141 (128 + SIGPIPE, as `cat` ends), anything else is
    /// an error and 1.
    pub fn exit(&self) -> (u8, Option<String>) {
        match self.kind {
            io::ErrorKind::BrokenPipe => (141, None),
            _ => (1, Some(format!("error: standard output: {}", self.message))),
        }
    }
}

/// A stream written line by line until its first error, which it keeps.
#[derive(Debug, Default)]
pub struct Stream {
    lost: OnceLock<Lost>,
}

impl Stream {
    /// A stream not lost yet.
    pub const fn new() -> Self {
        Self { lost: OnceLock::new() }
    }

    /// Writes `args` and a line break to `to`, unless the stream was lost before; an error
    /// loses it.
    pub fn line(&self, to: &mut dyn Write, args: fmt::Arguments) {
        if self.lost.get().is_some() {
            return;
        }
        let written = to.write_fmt(args).and_then(|()| to.write_all(b"\n")).and_then(|()| to.flush());
        if let Err(e) = written {
            let _ = self.lost.set(Lost { kind: e.kind(), message: e.to_string() });
        }
    }

    /// Why the stream stopped being written to, if it did.
    pub fn lost(&self) -> Option<&Lost> {
        self.lost.get()
    }
}

static STDOUT: Stream = Stream::new();
static STDERR: Stream = Stream::new();
static DIRECT: AtomicBool = AtomicBool::new(false);

/// From now on, [`say!`](crate::say) and [`note!`](crate::note) write to the process's streams
/// themselves and never panic. A binary's first step (and the Python module's). A stream the
/// process was started without (`>&-`) is lost from the start (`started_closed`).
pub fn write_directly() {
    DIRECT.store(true, Ordering::Relaxed);
    for (fd, stream) in [(1, &STDOUT), (2, &STDERR)] {
        if started_closed(fd) {
            let message =
                format!("{} (the command was started with it closed)", io::Error::from_raw_os_error(libc::EBADF));
            let _ = stream.lost.set(Lost { kind: io::ErrorKind::Other, message });
        }
    }
}

/// Whether the process was started with `fd` closed. Rust's runtime opens `/dev/null` read-write
/// on a closed standard descriptor before `main`, so that every write to it vanishes without an
/// error; a shell's `> /dev/null` opens it write-only. So: `/dev/null`, opened read-write.
fn started_closed(fd: i32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(null) = std::fs::metadata("/dev/null") else { return false };
    // SAFETY: fstat fills a zeroed struct this function owns; fcntl(F_GETFL) reads the
    // descriptor's flags and nothing else.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut stat) } != 0 {
        return false;
    }
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    let is_null = stat.st_mode & libc::S_IFMT == libc::S_IFCHR && stat.st_rdev == null.rdev();
    is_null && flags != -1 && flags & libc::O_ACCMODE == libc::O_RDWR
}

/// Writes one line to standard output, unless it was lost before (see the module docs).
pub fn out(args: fmt::Arguments) {
    if DIRECT.load(Ordering::Relaxed) {
        STDOUT.line(&mut io::stdout().lock(), args);
    } else {
        println!("{args}");
    }
}

/// Writes one line to standard error, unless it was lost before.
pub fn err(args: fmt::Arguments) {
    if DIRECT.load(Ordering::Relaxed) {
        STDERR.line(&mut io::stderr().lock(), args);
    } else {
        eprintln!("{args}");
    }
}

/// Why standard output stopped being written to, if it did.
pub fn stdout_lost() -> Option<Lost> {
    STDOUT.lost().cloned()
}

/// `println!` that never panics (see [`crate::console`]).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::out(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics (see [`crate::console`]).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::console::err(format_args!($($arg)*))
    };
}

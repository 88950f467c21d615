//! One training run per artifacts folder: an advisory lock held by the kernel for the whole run,
//! and no silent overwriting of a finished run.
//!
//! The lock is `flock(2)` on `ARTIFACTS/.lock` (through `std::fs::File::try_lock`): the kernel
//! drops it when the holding process ends in any way (exit, panic, `kill -9`), whatever PID
//! namespace the process lives in, so two containers sharing a volume exclude each other and a
//! killed run never leaves a lock that must be deleted by hand. The file's text (host, PID, start
//! time) only names the holder in the message; it decides nothing.

use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use crate::artifacts::Artifacts;
use crate::error::RunError;
use crate::learner::TrainingConfig;

/// The lock file's name in the artifacts folder.
pub const LOCK_FILE: &str = Artifacts::LOCK;

/// The files and folders a training run writes, removed by `--overwrite`.
const RUN_FILES: [&str; 18] = Artifacts::RUN_FILES;

/// Holds an artifacts folder for one training run; dropping it releases the folder.
#[derive(Debug)]
pub struct ArtifactsLock {
    path: PathBuf,
    /// The open, locked lock file: closing it releases the kernel's lock.
    file: File,
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// This machine's name for the lock's message, `unknown host` when it cannot be read.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown host".into())
}

/// Whether `file` is still the file at `path`: a releasing run removes the lock file, and a run
/// that opened it just before must not lock the removed file.
fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

impl ArtifactsLock {
    /// Takes `dir` (creating it) for a training run with `training`'s `resume` and `overwrite`:
    /// fails at once, naming the holder's host, PID and start time, while another process holds
    /// the kernel's lock on `dir/.lock`; refuses a folder that already holds a run unless `resume`
    /// (continue it) or `overwrite` (remove it first) is given.
    pub fn acquire(dir: &Path, training: &TrainingConfig) -> Result<Self, RunError> {
        if training.resume && training.overwrite {
            return Err(RunError::invalid("resume", "--resume and --overwrite exclude each other"));
        }
        crate::artifacts::create_folder(dir)?;
        let path = dir.join(LOCK_FILE);
        for _ in 0..8 {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| RunError::io_while(&path, "cannot open the lock file", &e))?;
            match file.try_lock() {
                Ok(()) if still_at(&file, &path) => {
                    let lock = Self { path, file };
                    lock.write_holder()?;
                    lock.prepare(dir, training)?;
                    return Ok(lock);
                }
                Ok(()) => continue,
                Err(std::fs::TryLockError::WouldBlock) => return Err(Self::in_use(dir, &path)),
                Err(std::fs::TryLockError::Error(e)) => return Err(RunError::io_while(&path, "cannot lock", &e)),
            }
        }
        Err(RunError::Other(format!("{}: could not take the lock", path.display())))
    }

    /// The error for a folder another run holds, naming it from the lock file's text.
    fn in_use(dir: &Path, path: &Path) -> RunError {
        let holder = std::fs::read_to_string(path).unwrap_or_default();
        let field = |key: &str| holder.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim().to_string());
        let who = match (field("pid "), field("host ")) {
            (Some(pid), Some(host)) => format!("process {pid} on {host}"),
            (Some(pid), None) => format!("process {pid}"),
            _ => "a process that has not yet written its name".into(),
        };
        let since = field("started ").unwrap_or_else(|| "an unknown time".into());
        RunError::Taken {
            path: dir.into(),
            message: format!(
                "is in use by another training run ({who}, started {since}); wait for it, or use another --artifacts folder"
            ),
        }
    }

    /// Writes this process's host, PID and start time into the (locked) lock file.
    fn write_holder(&self) -> Result<(), RunError> {
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let content = format!("pid {}\nhost {}\nstarted {}\n", std::process::id(), host(), utc(started));
        let mut file = &self.file;
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(content.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| RunError::write_failed(&self.path, &e, "the run has not started"))
    }

    fn prepare(&self, dir: &Path, training: &TrainingConfig) -> Result<(), RunError> {
        if training.resume {
            return Ok(());
        }
        let held: Vec<&str> = RUN_FILES.iter().copied().filter(|f| dir.join(f).exists()).collect();
        let finished = [Artifacts::RUN, Artifacts::PROGRESS, Artifacts::WEIGHTS, Artifacts::METRICS]
            .iter()
            .any(|f| held.contains(f));
        let epochs = crate::epochs::Progress::load(dir).ok().flatten().map_or(0, |p| p.last_epoch);
        // A run stopped before its first epoch ended has nothing to continue: it starts over.
        let never_trained = epochs == 0 && !held.contains(&Artifacts::WEIGHTS) && !held.contains(&Artifacts::METRICS);
        if finished && never_trained && !training.overwrite {
            crate::note!("{}: the run there never completed an epoch; starting it again", dir.display());
        }
        if finished && !never_trained && !training.overwrite {
            let progress = format!(", {epochs} epochs completed");
            return Err(RunError::Taken {
                path: dir.into(),
                message: format!(
                    "already holds a training run ({}{progress}); continue it with --resume, replace it with --overwrite, or use another --artifacts folder",
                    held.join(", ")
                ),
            });
        }
        for name in held {
            let path = dir.join(name);
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(|e| RunError::io_while(&path, "cannot remove for --overwrite", &e))?;
        }
        Ok(())
    }
}

impl Drop for ArtifactsLock {
    /// Removes the lock file while still holding it, then closes it (releasing the kernel's lock).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

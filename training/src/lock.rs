//! One training run per artifacts folder: a lock file held for the whole run, and no silent
//! overwriting of a finished run.

use std::io::Write;
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

/// Whether process `pid` is alive; `true` when this system cannot tell.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

impl ArtifactsLock {
    /// Takes `dir` (creating it) for a training run with `training`'s `resume` and `overwrite`:
    /// fails at once, naming the holder's PID and start time, while another live process holds
    /// it; takes over a lock left by a process that died; refuses a folder that already holds a
    /// run unless `resume` (continue it) or `overwrite` (remove it first) is given.
    pub fn acquire(dir: &Path, training: &TrainingConfig) -> Result<Self, RunError> {
        if training.resume && training.overwrite {
            return Err(RunError::Other("--resume and --overwrite exclude each other".into()));
        }
        std::fs::create_dir_all(dir).map_err(|e| RunError::Other(format!("{}: cannot create: {e}", dir.display())))?;
        let path = dir.join(LOCK_FILE);
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let content = format!("pid {}\nstarted {}\n", std::process::id(), utc(started));
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    file.write_all(content.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| RunError::Other(format!("{}: {e}", path.display())))?;
                    let lock = Self { path };
                    lock.prepare(dir, training)?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid =
                        holder.lines().find_map(|l| l.strip_prefix("pid ")).and_then(|p| p.trim().parse::<u32>().ok());
                    let since = holder.lines().find_map(|l| l.strip_prefix("started ")).unwrap_or("an unknown time");
                    match pid {
                        Some(pid) if pid != std::process::id() && !alive(pid) => {
                            eprintln!("{}: taking over the lock of process {pid} (started {since}), which is no longer running", path.display());
                            let _ = std::fs::remove_file(&path);
                        }
                        _ => {
                            return Err(RunError::Other(format!(
                                "{} is in use by another training run (process {}, started {since}); wait for it, or use another --artifacts folder (if that process is gone, delete {})",
                                dir.display(),
                                pid.map_or("unknown".to_string(), |p| p.to_string()),
                                path.display()
                            )))
                        }
                    }
                }
                Err(e) => return Err(RunError::Other(format!("{}: cannot create the lock file: {e}", path.display()))),
            }
        }
        Err(RunError::Other(format!("{}: could not take the lock", path.display())))
    }

    fn prepare(&self, dir: &Path, training: &TrainingConfig) -> Result<(), RunError> {
        if training.resume {
            return Ok(());
        }
        let held: Vec<&str> = RUN_FILES.iter().copied().filter(|f| dir.join(f).exists()).collect();
        let finished = [Artifacts::RUN, Artifacts::PROGRESS, Artifacts::WEIGHTS, Artifacts::METRICS]
            .iter()
            .any(|f| held.contains(f));
        if finished && !training.overwrite {
            let progress = crate::epochs::Progress::load(dir)
                .ok()
                .flatten()
                .map_or(String::new(), |p| format!(", {} epochs completed", p.last_epoch));
            return Err(RunError::Other(format!(
                "{} already holds a training run ({}{progress}); continue it with --resume, replace it with --overwrite, or use another --artifacts folder",
                dir.display(),
                held.join(", ")
            )));
        }
        for name in held {
            let path = dir.join(name);
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(|e| RunError::Other(format!("{}: cannot remove for --overwrite: {e}", path.display())))?;
        }
        Ok(())
    }
}

impl Drop for ArtifactsLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

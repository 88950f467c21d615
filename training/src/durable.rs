//! Writing the files of an artifacts folder durably: a temporary file, flushed to the disk,
//! renamed over the target, and the folder flushed, so that a kill, a power cut or a full disk
//! leaves either the old file or the new one, never a torn one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder, RecorderError};
use burn::tensor::backend::Backend;

use crate::error::RunError;

/// Writes a file of the artifacts durably: a temporary file, flushed to the disk, renamed over
/// `path`, and the folder flushed (see [`commit`]). A kill, a power cut or a full disk leaves
/// either the old file or the new one, never a torn one; the error names the file.
pub fn write(path: &Path, text: String) -> Result<(), RunError> {
    write_bytes(path, text.into_bytes())
}

/// [`fn@write`] for bytes.
pub fn write_bytes(path: &Path, bytes: Vec<u8>) -> Result<(), RunError> {
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    std::fs::write(&partial, bytes)
        .map_err(|e| RunError::write_failed(path, &e, KEPT))
        .and_then(|()| commit(&partial, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
        })
}

/// Flushes the finished temporary file `partial` to the disk, renames it to `target` and
/// flushes the folder, so that the rename itself survives a power cut.
pub fn commit(partial: &Path, target: &Path) -> Result<(), RunError> {
    let fail = |e: std::io::Error| RunError::write_failed(target, &e, KEPT);
    std::fs::File::open(partial).and_then(|f| f.sync_all()).map_err(fail)?;
    std::fs::rename(partial, target).map_err(fail)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Folders cannot be opened for syncing on every platform; where they can, a failure is real.
        if let Ok(folder) = std::fs::File::open(dir) {
            folder.sync_all().map_err(fail)?;
        }
    }
    Ok(())
}

/// What a failed [`fn@write`] leaves (its message says so when the disk is full).
pub const KEPT: &str = "the file's earlier version, if any, is kept";

/// What a failed checkpoint of a training run leaves.
pub const CHECKPOINT_KEPT: &str = "the last complete checkpoint is kept";

/// Writes `bytes` to a path a user named for an output (`export --out`), as [`OutputFile`]
/// writes one.
pub fn write_output(option: &str, path: &Path, bytes: Vec<u8>, protected: &[Protected]) -> Result<(), RunError> {
    let mut out = OutputFile::create(option, path, protected)?;
    out.write_all(&bytes)?;
    out.finish()
}

/// The `*.partial` file of the [`OutputFile`] being written now, as a C string that is never
/// freed, so that a signal handler may remove it ([`remove_partial_on_signal`]).
static WRITING: AtomicPtr<std::ffi::c_char> = AtomicPtr::new(std::ptr::null_mut());

/// Makes SIGINT, SIGTERM and SIGHUP remove the partial file of the output being written before
/// the process ends (with status 128 + the signal), as `cp` or `curl -o` leave nothing behind:
/// otherwise a kill mid-write leaves `FILE.partial` beside the intact `FILE`. For commands that
/// write an [`OutputFile`] and have no other use for these signals (`dataset-stats`).
pub fn remove_partial_on_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        // SAFETY: the action calls only unlink and _exit, which are async-signal-safe, on a path
        // that is never freed.
        unsafe {
            signal_hook::low_level::register(signal, move || {
                let path = WRITING.load(Ordering::SeqCst);
                if !path.is_null() {
                    libc::unlink(path);
                }
                libc::_exit(128 + signal);
            })?;
        }
    }
    Ok(())
}

/// Records `partial` as the file being written (for [`remove_partial_on_signal`]).
fn writing(partial: &Path) {
    #[cfg(unix)]
    if let Ok(path) = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(partial.as_os_str())) {
        // Never freed: a handler may read it at any moment (a few bytes per output file).
        WRITING.store(path.into_raw(), Ordering::SeqCst);
    }
}

/// Records that no partial file is being written.
fn written() {
    WRITING.store(std::ptr::null_mut(), Ordering::SeqCst);
}

/// A file a user named for an output (`export --out`, `dataset-stats --write`), written part by
/// part: a regular file or a new name is written beside as `*.partial` and renamed over it by
/// [`OutputFile::finish`] (durably, as `commit`), so that an error, a full disk or a kill keeps
/// its earlier version, and an `OutputFile` dropped unfinished removes its partial file; a link
/// is followed and its target written (the link stays a link); a pipe, terminal or device
/// (`/dev/stdout`, a FIFO) is written into, never replaced; a folder, a dangling link, or an
/// existing file among `protected` (the artifacts' own files, a command's inputs) is refused,
/// naming `option` (without dashes).
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    /// The `*.partial` file being written, or `None` for a pipe or device written into.
    partial: Option<PathBuf>,
    out: std::io::BufWriter<std::fs::File>,
}

impl OutputFile {
    /// Opens `path` for writing (see the type's docs for what each kind of path gets).
    pub fn create(option: &str, path: &Path, protected: &[Protected]) -> Result<Self, RunError> {
        let refuse = |why: String| RunError::invalid(option, format!("{}: {why}", path.display()));
        let target = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Err(refuse("is a folder; name a file".into())),
            Ok(meta) if !meta.is_file() => {
                let sink = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| RunError::io(path, &e))?;
                return Ok(Self { target: path.into(), partial: None, out: std::io::BufWriter::new(sink) });
            }
            Ok(_) => {
                if let Some(own) = protected.iter().find(|p| same_file(&p.path, path)) {
                    return Err(refuse(format!("is {} {}; choose another file", own.role, own.path.display())));
                }
                std::fs::canonicalize(path).map_err(|e| RunError::io(path, &e))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(path).is_ok() {
                    return Err(refuse("is a link to a missing file; name the file itself".into()));
                }
                path.to_path_buf()
            }
            Err(e) => return Err(RunError::io(path, &e)),
        };
        let partial = PathBuf::from(format!("{}.partial", target.display()));
        let file = std::fs::File::create(&partial).map_err(|e| RunError::write_failed(&target, &e, KEPT))?;
        writing(&partial);
        Ok(Self { target, partial: Some(partial), out: std::io::BufWriter::new(file) })
    }

    fn failed(&self, e: &std::io::Error) -> RunError {
        let kept = if self.partial.is_some() {
            "the file's earlier version, if any, is kept"
        } else {
            "nothing else was written"
        };
        RunError::write_failed(&self.target, e, kept)
    }

    /// Writes `bytes` on.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), RunError> {
        use std::io::Write;
        self.out.write_all(bytes).map_err(|e| self.failed(&e))
    }

    /// Flushes what was written and puts the file in place.
    pub fn finish(mut self) -> Result<(), RunError> {
        use std::io::Write;
        self.out.flush().map_err(|e| self.failed(&e))?;
        match self.partial.take() {
            None => Ok(()),
            Some(partial) => {
                let committed = commit(&partial, &self.target).inspect_err(|_| {
                    let _ = std::fs::remove_file(&partial);
                });
                written();
                committed
            }
        }
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(partial) = &self.partial {
            let _ = std::fs::remove_file(partial);
            written();
        }
    }
}

/// A file an output must not replace, and what it is to the command (`the artifacts' own`,
/// `the input`), for the refusal's message.
#[derive(Debug, Clone)]
pub struct Protected {
    /// What the file is to the command.
    pub role: &'static str,
    /// The file.
    pub path: PathBuf,
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        matches!((std::fs::metadata(a), std::fs::metadata(b)), (Ok(x), Ok(y)) if x.dev() == y.dev() && x.ino() == y.ino())
    }
    #[cfg(not(unix))]
    {
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// Named MessagePack at full precision, written durably: to `*.partial.mpk`, flushed to the
/// disk, renamed, and the folder flushed, so that a kill or a power cut never leaves a torn
/// checkpoint under its final name. Every completed or failed save is reported to its
/// [`SaveLog`] (shared by clones), which `crate::epochs::AfterEpoch` waits on before it records the epoch.
#[derive(Debug, Default, Clone)]
pub struct AtomicRecorder {
    inner: NamedMpkFileRecorder<FullPrecisionSettings>,
    saves: SaveLog,
}

impl AtomicRecorder {
    /// The log of this recorder's (and its clones') saves.
    pub fn saves(&self) -> SaveLog {
        self.saves.clone()
    }
}

impl<B: Backend> Recorder<B> for AtomicRecorder {
    type Settings = FullPrecisionSettings;
    type RecordArgs = PathBuf;
    type RecordOutput = ();
    type LoadArgs = PathBuf;

    fn save_item<I: serde::Serialize>(&self, item: I, file: PathBuf) -> Result<(), RecorderError> {
        let target = file.with_extension("mpk");
        let partial = PathBuf::from(format!("{}.partial.mpk", file.with_extension("").display()));
        // The bytes of Burn's NamedMpkFileRecorder (`write_named`), encoded in memory so that a
        // failed write reports the file system's own error ("No space left on device").
        let written = rmp_serde::encode::to_vec_named(&item)
            .map_err(|e| format!("{}: cannot encode: {e}", target.display()))
            .and_then(|bytes| {
                std::fs::write(&partial, bytes)
                    .map_err(|e| RunError::write_failed(&target, &e, CHECKPOINT_KEPT).to_string())
            })
            .and_then(|()| commit(&partial, &target).map_err(|e| e.to_string()));
        match written {
            Ok(()) => {
                self.saves.record(Ok(target));
                Ok(())
            }
            Err(message) => {
                let _ = std::fs::remove_file(&partial);
                self.saves.record(Err(message.clone()));
                Err(RecorderError::Unknown(message))
            }
        }
    }

    fn load_item<I: serde::de::DeserializeOwned>(&self, file: &mut PathBuf) -> Result<I, RecorderError> {
        <NamedMpkFileRecorder<FullPrecisionSettings> as Recorder<B>>::load_item(&self.inner, file)
    }
}

impl<B: Backend> burn::record::FileRecorder<B> for AtomicRecorder {
    fn file_extension() -> &'static str {
        "mpk"
    }
}

/// The files saved by an [`AtomicRecorder`] and its clones, and the first failure.
#[derive(Debug, Default, Clone)]
pub struct SaveLog(Arc<(Mutex<SaveState>, Condvar)>);

#[derive(Debug, Default)]
struct SaveState {
    saved: std::collections::HashSet<PathBuf>,
    failed: Option<String>,
}

impl SaveLog {
    fn record(&self, result: Result<PathBuf, String>) {
        let (state, changed) = &*self.0;
        let mut state = state.lock().unwrap();
        match result {
            Ok(path) => {
                state.saved.insert(path);
            }
            Err(message) => {
                state.failed.get_or_insert(message);
            }
        }
        changed.notify_all();
    }

    /// Waits until every one of `paths` has been saved; the first failed save (of any file)
    /// is returned as the error. Gives up after ten minutes.
    pub fn wait_for(&self, paths: &[PathBuf]) -> Result<(), String> {
        let (state, changed) = &*self.0;
        let deadline = Instant::now() + std::time::Duration::from_secs(600);
        let mut state = state.lock().unwrap();
        loop {
            if let Some(message) = &state.failed {
                return Err(message.clone());
            }
            if paths.iter().all(|p| state.saved.contains(p)) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("{}: not saved after ten minutes", paths[0].display()));
            }
            state = changed.wait_timeout(state, left).unwrap().0;
        }
    }

    /// The first failed save, if any.
    pub fn failure(&self) -> Option<String> {
        self.0 .0.lock().unwrap().failed.clone()
    }
}

//! Inputs that can be read only once (a named pipe, `<(…)`, `/dev/stdin`): the training and
//! scoring pipelines read a file more than once (its format from its first bytes, then its
//! records; the training split counted, then encoded), so such an input is copied once into a
//! temporary folder, which is removed when the [`Spool`] is dropped.

use seqlab_training::note;
use std::path::{Path, PathBuf};

/// The temporary copies of one process's read-once inputs.
#[derive(Debug, Default)]
pub struct Spool {
    dir: Option<PathBuf>,
}

impl Spool {
    /// `path` itself when it can be read again (a file, a folder, an `embedded:` corpus, a path
    /// that does not exist, whose error comes later); otherwise a copy of its bytes, saying so on
    /// stderr. `option` names it in messages (`--train`).
    pub fn readable_again(&mut self, option: &str, path: String) -> Result<String, String> {
        let Ok(meta) = std::fs::metadata(&path) else {
            return Ok(path);
        };
        if meta.is_file() || meta.is_dir() {
            return Ok(path);
        }
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => {
                let dir = std::env::temp_dir().join(format!("seqlab-input-{}", std::process::id()));
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
                self.dir = Some(dir.clone());
                dir
            }
        };
        let name = Path::new(&path).file_name().map_or("input".into(), |n| n.to_string_lossy().into_owned());
        let copy = dir.join(format!("{}-{name}", option.trim_start_matches('-')));
        let mut source = std::fs::File::open(&path).map_err(|e| format!("{option} {path}: cannot read: {e}"))?;
        let mut target = std::fs::File::create(&copy).map_err(|e| format!("{}: cannot write: {e}", copy.display()))?;
        let bytes = std::io::copy(&mut source, &mut target).map_err(|e| format!("{option} {path}: {e}"))?;
        note!(
            "{option} {path} is not a file that can be read twice (a pipe or a device): read once into {} ({bytes} bytes); errors name that copy",
            copy.display()
        );
        Ok(copy.display().to_string())
    }
}

impl Spool {
    /// [`Self::readable_again`] for each option's path, in place (`None`s left alone).
    pub fn replace(&mut self, inputs: &mut [(&str, Option<&mut String>)]) -> Result<(), String> {
        for (option, slot) in inputs.iter_mut() {
            if let Some(path) = slot {
                **path = self.readable_again(option, std::mem::take(*path))?;
            }
        }
        Ok(())
    }

    /// [`Self::replace`] for a training command's `--train`, `--valid` and `--test`.
    pub fn training_inputs(
        &mut self,
        train: &mut String,
        valid: Option<&mut String>,
        test: Option<&mut String>,
    ) -> Result<(), String> {
        self.replace(&mut [("--train", Some(train)), ("--valid", valid), ("--test", test)])
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

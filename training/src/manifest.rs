//! `manifest.json`: a checksum of every file a trained model is rebuilt from, written when the
//! run is set up and again with the weights, and checked on loading, so that an edited,
//! shuffled or swapped `vocab.json`, or another run's `model.mpk` (of the same shapes, which no
//! shape check can see), is an error instead of silently wrong predictions. Folders written
//! before the manifest existed load without the check.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::RunError;

/// The files covered, when present.
const FILES: [&str; 6] = ["model.json", "vocab.json", "labels.json", "tags.json", "chars.json", "model.mpk"];

/// The manifest's name in the artifacts folder.
pub const MANIFEST: &str = "manifest.json";

/// File name → checksum (`fnv1a64:` and 16 hex digits).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// The checksums.
    pub files: BTreeMap<String, String>,
}

/// The 64-bit FNV-1a hash of `bytes`, as the manifest writes it.
pub fn checksum(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("fnv1a64:{hash:016x}")
}

fn read(path: &Path) -> Result<Vec<u8>, RunError> {
    std::fs::read(path).map_err(|e| RunError::Other(format!("{}: {e}", path.display())))
}

impl Manifest {
    /// Records the checksums of the folder's files (those of [`FILES`] that exist).
    pub fn write(dir: &Path) -> Result<(), RunError> {
        let mut files = BTreeMap::new();
        for name in FILES {
            let path = dir.join(name);
            if path.exists() {
                files.insert(name.to_string(), checksum(&read(&path)?));
            }
        }
        crate::durable::write(&dir.join(MANIFEST), serde_json::to_string_pretty(&Self { files }).unwrap())
    }

    /// Checks the folder's files against its manifest; a folder without one passes.
    pub fn check(dir: &Path) -> Result<(), RunError> {
        let path = dir.join(MANIFEST);
        if !path.exists() {
            return Ok(());
        }
        let manifest: Self = serde_json::from_slice(&read(&path)?)
            .map_err(|e| RunError::Other(format!("{}: not a manifest: {e}", path.display())))?;
        for (name, expected) in &manifest.files {
            let file = dir.join(name);
            if !file.exists() {
                return Err(RunError::Other(format!("{}: missing (manifest.json lists it)", file.display())));
            }
            let found = checksum(&read(&file)?);
            if &found != expected {
                return Err(RunError::Other(format!(
                    "{}: changed since training (checksum {found}, manifest.json recorded {expected}); the weights were trained with the original file",
                    file.display()
                )));
            }
        }
        Ok(())
    }
}

//! Folder corpora (IMDB): `DIR/<label>/<name>.txt`, one example per file. Hidden entries, files
//! directly in `DIR`, files not ending in `.txt` (a `readme.md`), empty files, and IMDB's
//! unlabelled `unsup/` folder are skipped and counted.

use std::path::Path;

use super::{Origin, SentimentFile, TextExample};
use crate::error::DataError;
use crate::text::{read_text, Encoding};

fn sorted_entries(path: &Path) -> Result<Vec<std::fs::DirEntry>, DataError> {
    let mut entries: Vec<_> = std::fs::read_dir(path)
        .map_err(|e| DataError::io(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| DataError::io(path, e))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    Ok(entries)
}

fn hidden(entry: &std::fs::DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}

pub(super) fn read(path: &Path, encoding: Encoding) -> Result<SentimentFile, DataError> {
    if !path.is_dir() {
        return Err(DataError::file(path, "not a folder (a folder corpus has one sub-folder per label)"));
    }
    let mut file = SentimentFile::default();
    for entry in sorted_entries(path)? {
        let label = entry.file_name().to_string_lossy().to_string();
        if hidden(&entry) {
            file.skip("hidden entries");
            continue;
        }
        if !entry.path().is_dir() {
            file.skip("files outside label folders");
            continue;
        }
        if label == "unsup" {
            file.skip("unsup/ folder (unlabelled)");
            continue;
        }
        for item in sorted_entries(&entry.path())? {
            if hidden(&item) || !item.path().is_file() {
                file.skip("hidden entries or sub-folders in label folders");
                continue;
            }
            if item.path().extension().is_none_or(|e| !e.eq_ignore_ascii_case("txt")) {
                file.skip("files not ending in .txt");
                continue;
            }
            let text = read_text(&item.path(), encoding)?;
            if text.trim().is_empty() {
                file.skip("empty files");
                continue;
            }
            file.examples.push(TextExample {
                text: text.trim().to_string(),
                label: label.clone(),
                origin: Origin { path: item.path(), line: 0 },
            });
        }
    }
    Ok(file)
}

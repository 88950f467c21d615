//! GLUE TSV (SST-2): a header naming the `sentence` and `label` columns, then one
//! `sentence<TAB>label` row per example. GLUE leaves a space before the tab; it is trimmed.
//! The header is split on tabs, or on runs of whitespace if it has no tab (one public copy of
//! the labelled SST-2 test set separates it with four spaces).

use std::path::Path;

use super::{Origin, SentimentFile, TextExample};
use crate::error::{excerpt, DataError};
use crate::text::{read_text, Encoding};

pub(super) fn read(path: &Path, encoding: Encoding) -> Result<SentimentFile, DataError> {
    parse(&read_text(path, encoding)?, path)
}

/// Parses GLUE TSV text; `path` names the source in errors.
pub fn parse(text: &str, path: &Path) -> Result<SentimentFile, DataError> {
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(DataError::file(path, "empty file (a GLUE file starts with a header: sentence<TAB>label)"));
    };
    let names: Vec<String> = if header.contains('\t') {
        header.split('\t').map(|s| s.trim().to_lowercase()).collect()
    } else {
        header.split_whitespace().map(str::to_lowercase).collect()
    };
    let find = |name: &str| names.iter().position(|n| n == name);
    let (Some(text_col), Some(label_col)) = (find("sentence"), find("label")) else {
        return Err(DataError::line(
            path,
            1,
            format!("a GLUE header must name `sentence` and `label` columns, found {}", excerpt(header)),
        ));
    };
    let mut file = SentimentFile { header: true, ..SentimentFile::default() };
    for (index, line) in lines {
        let number = index + 1;
        if line.trim().is_empty() {
            file.skip("blank lines");
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != names.len() {
            return Err(DataError::line(
                path,
                number,
                format!(
                    "{} tab-separated fields where the header has {}: {}",
                    fields.len(),
                    names.len(),
                    excerpt(line)
                ),
            ));
        }
        let label = fields[label_col].trim();
        if label.is_empty() {
            return Err(DataError::line(path, number, format!("empty label: {}", excerpt(line))));
        }
        if label.parse::<i64>().is_err() {
            return Err(DataError::line(
                path,
                number,
                format!(
                    "label {label:?} is not an integer (GLUE labels are class numbers, 0/1 for SST-2): {}",
                    excerpt(line)
                ),
            ));
        }
        file.examples.push(TextExample {
            text: fields[text_col].trim().to_string(),
            label: label.to_string(),
            origin: Origin { path: path.to_owned(), line: number },
        });
    }
    Ok(file)
}

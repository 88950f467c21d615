//! Delimited files: CSV with quoting (RFC 4180, through the `csv` crate) or TSV, with or
//! without a header, text and label columns chosen by name or index.

use std::path::Path;

use super::{Origin, SentimentFile, TextExample};
use crate::error::{excerpt, DataError};
use crate::text::{read_text, Encoding};

/// A column, by header name (case-insensitive) or 0-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// By header name.
    Name(String),
    /// By position.
    Index(usize),
}

impl Column {
    /// `3` is an index, anything else a name.
    pub fn parse(s: &str) -> Self {
        s.parse().map(Column::Index).unwrap_or_else(|_| Column::Name(s.to_string()))
    }
}

/// Whether the first row is a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Header {
    /// Decide from the data: a header if columns are chosen by name, or if the first row's label
    /// occurs in no other row (a header `label` over rows labelled `0`/`1`).
    #[default]
    Auto,
    /// The first row is a header.
    Yes,
    /// There is no header.
    No,
}

/// How to read a delimited file.
#[derive(Debug, Clone)]
pub struct DelimitedOptions {
    /// Field separator: `b','` for CSV, `b'\t'` for TSV.
    pub delimiter: u8,
    /// Whether `"` quotes fields (CSV yes; TSV usually not).
    pub quoting: bool,
    /// Header handling.
    pub header: Header,
    /// The text column; `None`: a column named `sentence`, `text`, `review` or `content`, else 0.
    pub text: Option<Column>,
    /// The label column; `None`: a column named `label`, `sentiment`, `class` or `polarity`, else the last.
    pub label: Option<Column>,
}

impl DelimitedOptions {
    /// CSV with quoting and automatic header detection.
    pub fn csv() -> Self {
        Self { delimiter: b',', quoting: true, header: Header::Auto, text: None, label: None }
    }

    /// TSV without quoting and automatic header detection.
    pub fn tsv() -> Self {
        Self { delimiter: b'\t', quoting: false, header: Header::Auto, text: None, label: None }
    }
}

const TEXT_NAMES: [&str; 4] = ["sentence", "text", "review", "content"];
const LABEL_NAMES: [&str; 5] = ["label", "labels", "sentiment", "class", "polarity"];

pub(super) fn read(path: &Path, options: &DelimitedOptions, encoding: Encoding) -> Result<SentimentFile, DataError> {
    parse(&read_text(path, encoding)?, path, options)
}

/// Parses the text of a file (or of a run of its whole rows); `path` names it in errors.
pub(super) fn parse(text: &str, path: &Path, options: &DelimitedOptions) -> Result<SentimentFile, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .quoting(options.quoting)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    // Lines from the records' byte offsets: the csv reader's own line count leaves out the
    // blank lines it skips.
    let mut lines = LineCounter::default();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(1, |p| lines.line_at(text, p.byte() as usize));
            DataError::line(path, line, format!("malformed row: {e}"))
        })?;
        let line = record.position().map_or(0, |p| lines.line_at(text, p.byte() as usize));
        rows.push((line, record.iter().map(String::from).collect()));
    }
    let Some((_, first)) = rows.first().cloned() else {
        return Err(DataError::file(path, "empty file"));
    };
    let by_name = |c: &Option<Column>| matches!(c, Some(Column::Name(_)));
    let lower: Vec<String> = first.iter().map(|s| s.trim().to_lowercase()).collect();
    let named = |names: &[&str]| lower.iter().position(|n| names.contains(&n.as_str()));
    let resolve =
        |column: &Option<Column>, defaults: &[&str], fallback: usize, has_header: bool| -> Result<usize, DataError> {
            match column {
                Some(Column::Index(i)) => Ok(*i),
                Some(Column::Name(name)) => lower.iter().position(|n| *n == name.to_lowercase()).ok_or_else(|| {
                    DataError::line(path, 1, format!("no column named {name:?} in the header ({})", first.join(", ")))
                }),
                None => Ok(if has_header { named(defaults).unwrap_or(fallback) } else { fallback }),
            }
        };
    let header = match options.header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto if by_name(&options.text) || by_name(&options.label) => true,
        Header::Auto => {
            let label_col = resolve(&options.label, LABEL_NAMES.as_slice(), first.len() - 1, false)?;
            let candidate = first.get(label_col).map(|s| s.trim());
            // A first row naming a known label column is a header, even with nothing under it.
            let names_a_label = candidate.is_some_and(|c| LABEL_NAMES.contains(&c.to_lowercase().as_str()));
            names_a_label
                || (rows.len() > 1 && !rows[1..].iter().any(|(_, r)| r.get(label_col).map(|s| s.trim()) == candidate))
        }
    };
    let text_col = resolve(&options.text, TEXT_NAMES.as_slice(), 0, header)?;
    let label_col = resolve(&options.label, LABEL_NAMES.as_slice(), first.len() - 1, header)?;
    let columns = first.len();
    let mut file = SentimentFile { header, ..SentimentFile::default() };
    for (line, row) in rows.into_iter().skip(usize::from(header)) {
        if row.iter().all(|f| f.trim().is_empty()) {
            file.skip("blank lines");
            continue;
        }
        if row.len() != columns {
            let message = match row.iter().find(|f| f.contains('\n')) {
                // The csv reader runs a field with an unclosed quote on to the end of the file.
                Some(field) if options.quoting => format!(
                    "a quoted field opened here is never closed (it runs on over {} more lines): {}",
                    field.matches('\n').count(),
                    excerpt(field.lines().next().unwrap_or(""))
                ),
                _ => format!("{} fields where the first row has {columns}: {}", row.len(), excerpt(&row.join(","))),
            };
            return Err(DataError::line(path, line, message));
        }
        let (Some(text), Some(label)) = (row.get(text_col), row.get(label_col)) else {
            return Err(DataError::line(
                path,
                line,
                format!("no column {} in a row of {columns}", text_col.max(label_col)),
            ));
        };
        if label.trim().is_empty() {
            return Err(DataError::line(path, line, format!("empty label: {}", excerpt(&row.join(",")))));
        }
        file.examples.push(TextExample {
            text: text.trim().to_string(),
            label: label.trim().to_string(),
            origin: Origin { path: path.to_owned(), line },
        });
    }
    Ok(file)
}

/// The 1-based lines of records by their byte offsets into a text, asked in increasing order.
#[derive(Default)]
struct LineCounter {
    byte: usize,
    newlines: usize,
}

impl LineCounter {
    /// The line of the record at `byte` (the csv reader puts the start of a record before
    /// the blank lines it skipped).
    fn line_at(&mut self, text: &str, byte: usize) -> usize {
        let bytes = text.as_bytes();
        let mut byte = byte.min(text.len());
        while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
            byte += 1;
        }
        if byte >= self.byte {
            self.newlines += text.as_bytes()[self.byte..byte].iter().filter(|&&b| b == b'\n').count();
            self.byte = byte;
        }
        self.newlines + 1
    }
}

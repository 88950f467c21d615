//! Sentiment (sequence classification) data: one text and one label per example.
//!
//! | format | layout |
//! | --- | --- |
//! | GLUE (SST-2) | header naming `sentence` and `label` (tab- or space-separated), then `sentence<TAB>label` |
//! | delimited | CSV (quoted fields) or TSV, with or without a header; text and label columns by name or index |
//! | JSON Lines | one object per line with a text and a label field |
//! | folders (IMDB) | `DIR/<label>/<any file>`: one example per file, the folder names the label |

mod delimited;
mod folders;
pub mod glue;
mod jsonl;

pub use delimited::{Column, DelimitedOptions, Header};
pub use jsonl::JsonlOptions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::text::Encoding;

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextExample {
    /// The text, as in the file (surrounding whitespace trimmed).
    pub text: String,
    /// The label, as written in the file.
    pub label: String,
    /// Where it came from: `file:line`, or the file of a folder corpus.
    pub origin: Origin,
}

/// The place an example was read from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// File.
    pub path: PathBuf,
    /// 1-based line (0 for a whole-file example).
    pub line: usize,
}

/// How a sentiment file is laid out.
#[derive(Debug, Clone)]
pub enum SentimentFormat {
    /// GLUE TSV (SST-2).
    Glue,
    /// CSV or TSV.
    Delimited(DelimitedOptions),
    /// JSON Lines.
    Jsonl(JsonlOptions),
    /// One sub-folder per label, one file per example (IMDB).
    Folders,
}

/// The examples of a file, and what was skipped on purpose (never silently).
#[derive(Debug, Clone, Default)]
pub struct SentimentFile {
    /// The examples in file order (folders: sorted by label folder, then file name).
    pub examples: Vec<TextExample>,
    /// Skipped items by reason (e.g. `"blank lines"`), with counts.
    pub skipped: BTreeMap<String, usize>,
    /// Whether the first row was read as a header (GLUE always; CSV/TSV as given or detected).
    pub header: bool,
}

impl SentimentFile {
    /// Adds the examples of the part of the file that follows this one.
    pub fn append(&mut self, later: SentimentFile) {
        self.examples.extend(later.examples);
        for (reason, n) in later.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
    }

    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }
}

/// Reads a sentiment file or folder.
pub fn read_sentiment(
    path: impl AsRef<Path>,
    format: &SentimentFormat,
    encoding: Encoding,
) -> Result<SentimentFile, DataError> {
    let path = path.as_ref();
    let file = match format {
        SentimentFormat::Glue => glue::read(path, encoding)?,
        SentimentFormat::Delimited(options) => delimited::read(path, options, encoding)?,
        SentimentFormat::Jsonl(options) => jsonl::read(path, options, encoding)?,
        SentimentFormat::Folders => folders::read(path, encoding)?,
    };
    if file.examples.is_empty() {
        return Err(DataError::file(path, "no examples (the file is empty or has only a header)"));
    }
    check_texts(&file.examples)?;
    check_label_kinds(&file.examples)?;
    Ok(file)
}

/// Refuses an example whose text is empty or only white space, at its line: there is nothing to
/// classify (`predict` refuses such a text too), and training or scoring one would count it.
pub fn check_texts(examples: &[TextExample]) -> Result<(), DataError> {
    match examples.iter().find(|e| e.text.trim().is_empty()) {
        None => Ok(()),
        Some(e) if e.origin.line == 0 => {
            Err(DataError::file(&e.origin.path, format!("an example labelled {:?} has no text", e.label)))
        }
        Some(e) => Err(DataError::line(&e.origin.path, e.origin.line, "the text is empty or only white space")),
    }
}

/// Parses the text of a GLUE, CSV/TSV or JSON Lines file, or of a run of its whole rows (with
/// the header in front, for a format that has one); `path` names it in errors. Folders are not
/// text: an error.
pub fn parse_sentiment(text: &str, path: &Path, format: &SentimentFormat) -> Result<SentimentFile, DataError> {
    let file = match format {
        SentimentFormat::Glue => glue::parse(text, path),
        SentimentFormat::Delimited(options) => delimited::parse(text, path, options),
        SentimentFormat::Jsonl(options) => jsonl::parse(text, path, options),
        SentimentFormat::Folders => Err(DataError::file(path, "a folder corpus is not one text")),
    }?;
    check_texts(&file.examples)?;
    Ok(file)
}

/// Whether a label is written as an integer (`0`, `1`, `-1`).
fn integer(label: &str) -> bool {
    label.parse::<i64>().is_ok()
}

/// Labels are all integers or none is: a file of `0`/`1` labels with one `positive`, or a
/// `3.5`, has a broken line, not a third class. The error names the first label of the
/// minority kind.
pub fn check_label_kinds(examples: &[TextExample]) -> Result<(), DataError> {
    let mut kinds = LabelKinds::default();
    examples.iter().for_each(|e| kinds.add(e));
    kinds.check()
}

/// What [`check_label_kinds`] needs from a corpus read part by part: how many labels are
/// integers and how many not, and the first example of each kind.
#[derive(Debug, Clone, Default)]
pub struct LabelKinds {
    /// Labels that are integers, and the others.
    counts: [usize; 2],
    /// The first example of each kind: its label and origin.
    first: [Option<(String, Origin)>; 2],
}

impl LabelKinds {
    /// Counts one example.
    pub fn add(&mut self, example: &TextExample) {
        let kind = usize::from(!integer(&example.label));
        self.counts[kind] += 1;
        self.first[kind].get_or_insert_with(|| (example.label.clone(), example.origin.clone()));
    }

    /// Adds the kinds of examples that come after these.
    pub fn merge(&mut self, later: LabelKinds) {
        for kind in 0..2 {
            self.counts[kind] += later.counts[kind];
            if self.first[kind].is_none() {
                self.first[kind] = later.first[kind].clone();
            }
        }
    }

    /// The error of [`check_label_kinds`], if the labels are of mixed kinds.
    pub fn check(&self) -> Result<(), DataError> {
        let [integers, names] = self.counts;
        if integers == 0 || names == 0 {
            return Ok(());
        }
        let total = integers + names;
        let minority_is_integer = integers * 2 < total;
        let (label, origin) =
            self.first[usize::from(!minority_is_integer)].clone().expect("a mixed file has both kinds");
        let (majority, kind) = if minority_is_integer { (names, "names") } else { (integers, "integers") };
        let message = format!(
            "label {label:?}, where {majority} of the {total} labels are {kind}; a broken line or a wrong label column?"
        );
        Err(if origin.line == 0 {
            DataError::file(&origin.path, message)
        } else {
            DataError::line(&origin.path, origin.line, message)
        })
    }
}

//! One entry point for reading any supported corpus: format given or inferred, sentiment or
//! NER, tokenised.

use std::path::Path;

use crate::error::DataError;
use crate::format::{infer_format, Format};
use crate::ner::{ConllFile, ConllOptions};
use crate::sentiment::TextExample;
use crate::source::Source;
use crate::stream::stream_corpus;

use crate::read::{Corpus, ReadCorpus, ReadOptions};

/// Reads a corpus file or folder, or an embedded corpus (`embedded:sentiment/train`), whole:
/// the parts [`stream_corpus`] reads, collected.
pub fn read_corpus(path: impl AsRef<Path>, options: &ReadOptions) -> Result<ReadCorpus, DataError> {
    let path = path.as_ref();
    let mut whole: Option<Corpus> = None;
    let streamed = stream_corpus(
        path,
        options,
        |_, part| Ok(part),
        |part| {
            match &mut whole {
                Some(corpus) => corpus.append(part),
                None => whole = Some(part),
            }
            Ok(())
        },
    )?;
    let corpus = whole.ok_or_else(|| DataError::file(path, "no rows"))?;
    Ok(ReadCorpus { corpus, format: streamed.format, inferred: streamed.inferred })
}

/// Labelled texts as read: the examples, their tokens (by the format's tokenizer,
/// [`tokenizer_for`]) and the format.
#[derive(Debug, Clone)]
pub struct LabelledTexts {
    /// The examples in file order.
    pub examples: Vec<TextExample>,
    /// Tokens of each example.
    pub tokens: Vec<Vec<String>>,
    /// The format read.
    pub format: Format,
    /// Why the format was inferred as it was (`None` when it was given).
    pub inferred: Option<String>,
}

impl LabelledTexts {
    /// No texts, of the same format.
    pub fn empty(&self) -> Self {
        Self { examples: Vec::new(), tokens: Vec::new(), format: self.format, inferred: self.inferred.clone() }
    }
}

/// Reads labelled texts (any sentiment format, or `embedded:sentiment/SPLIT`); a tagged corpus
/// is an error saying so.
pub fn read_labelled(path: impl AsRef<Path>, options: &ReadOptions) -> Result<LabelledTexts, DataError> {
    let path = path.as_ref();
    let read = read_corpus(path, options)?;
    match read.corpus {
        Corpus::Sentiment { file, tokens } => {
            Ok(LabelledTexts { examples: file.examples, tokens, format: read.format, inferred: read.inferred })
        }
        Corpus::Tagged(_) => Err(DataError::file(path, "a tagged (CoNLL) corpus; a classifier needs labelled texts")),
    }
}

/// Reads tagged sentences: a CoNLL file, or `embedded:ner/SPLIT`.
pub fn read_tagged(path: impl AsRef<Path>, options: &ConllOptions) -> Result<ConllFile, DataError> {
    let path = path.as_ref();
    if path.is_dir() {
        return Err(DataError::file(path, "a folder, not a conll file"));
    }
    let conll = ReadOptions {
        format: Some(Format::Conll),
        tag_column: options.tag_column,
        encoding: options.encoding,
        ..ReadOptions::default()
    };
    match read_corpus(path, &conll) {
        Ok(ReadCorpus { corpus: Corpus::Tagged(file), .. }) => Ok(file),
        Ok(_) => Err(DataError::file(path, "labelled texts, not a tagged corpus; use embedded:ner/SPLIT")),
        Err(e) if Source::is_embedded(path) => Err(e),
        Err(e) => Err(not_conll(path, e)),
    }
}

/// `err`, an error from reading the file at `path` as CoNLL columns, or, when the file's content
/// says it is another format (GLUE or TSV labelled texts, JSON Lines), an error saying so, with
/// the formats a tagger reads and `err` after them.
pub fn not_conll(path: &Path, err: DataError) -> DataError {
    match infer_format(path) {
        Ok((format, why)) if format != Format::Conll => {
            let what = if format == Format::Jsonl { "JSON Lines" } else { "labelled texts" };
            DataError::file(
                path,
                format!(
                    "{what} ({}: {why}), not a tagged corpus; a tagger reads CoNLL columns (token … tag), or \
                     tagged records in a .jsonl or .parquet file (reading it as CoNLL: {err})",
                    format.name()
                ),
            )
        }
        _ => err,
    }
}

/// Reads tagged sentences from a CoNLL file, `embedded:ner/SPLIT`, or records: a `.parquet`
/// file, or a `.jsonl` file of `{"tokens": [...], "ner_tags": [...]}` lines (fields and tag
/// names from `options`). A file of labelled texts is an error.
pub fn read_tagged_any(path: impl AsRef<Path>, options: &ReadOptions) -> Result<ConllFile, DataError> {
    let path = path.as_ref();
    match tagged_format(path) {
        Format::Conll => {
            read_tagged(path, &ConllOptions { tag_column: options.tag_column, encoding: options.encoding })
        }
        format => match read_corpus(path, &ReadOptions { format: Some(format), ..options.clone() })?.corpus {
            Corpus::Tagged(file) => Ok(file),
            Corpus::Sentiment { .. } => Err(DataError::file(
                path,
                "labelled texts, not tagged records (a tagged file has a list of tokens: --text-column names it)",
            )),
        },
    }
}

/// The format a tagger reads a file in: Parquet and JSON Lines by their extension, else CoNLL.
pub fn tagged_format(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("parquet") => Format::Parquet,
        Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
        _ => Format::Conll,
    }
}

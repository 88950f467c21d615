//! One entry point for reading any supported corpus: format given or inferred, sentiment or
//! NER, tokenised.

use std::path::Path;

use crate::error::DataError;
use crate::format::{infer_format, Format};
use crate::ner::records::{holds_tagged_records, parse_tagged_jsonl};
use crate::ner::{parse_conll, read_conll, ConllFile, ConllOptions};
use crate::parquet::read_parquet;
use crate::sentiment::{glue, read_sentiment, TextExample};
use crate::source::{Embedded, Source};
use crate::task::Task;
use crate::text::{read_text, Tokenizer};

pub use crate::read::{tokenizer_for, Corpus, ReadCorpus, ReadOptions};

/// Reads a corpus file or folder, or an embedded corpus (`embedded:sentiment/train`).
pub fn read_corpus(path: impl AsRef<Path>, options: &ReadOptions) -> Result<ReadCorpus, DataError> {
    let path = path.as_ref();
    if let Source::Embedded(embedded) = Source::parse(path)? {
        return read_embedded(embedded, path);
    }
    must_exist(path)?;
    let (format, inferred) = match options.format {
        Some(f) => (f, None),
        None => {
            let (f, why) = infer_format(path)?;
            (f, Some(why))
        }
    };
    if path.is_dir() && format != Format::Imdb {
        return Err(DataError::file(
            path,
            format!(
                "a folder, not a {} file (folders are read as IMDB-style corpora with --format imdb)",
                format.name()
            ),
        ));
    }
    if format == Format::Parquet {
        return Ok(ReadCorpus { corpus: read_parquet_whole(path, options)?, format, inferred });
    }
    if format == Format::Jsonl && tagged_jsonl(path, options)? {
        let text = read_text(path, options.encoding)?;
        let file = parse_tagged_jsonl(&text, path, 1, &options.record_fields())?;
        if file.sentences.is_empty() {
            return Err(DataError::file(path, "no records"));
        }
        return Ok(ReadCorpus { corpus: Corpus::Tagged(file), format, inferred });
    }
    let corpus = match options.sentiment_reader(format) {
        None => Corpus::Tagged(read_conll(
            path,
            &ConllOptions { tag_column: options.tag_column, encoding: options.encoding },
        )?),
        Some(reader) => {
            let file = read_sentiment(path, &reader, options.encoding)?;
            let tokenizer = tokenizer_for(format);
            let tokens = file.examples.iter().map(|e| tokenizer.tokenize(&e.text, false)).collect();
            Corpus::Sentiment { file, tokens }
        }
    };
    Ok(ReadCorpus { corpus, format, inferred })
}

/// An embedded corpus (named `path`).
fn read_embedded(embedded: Embedded, path: &Path) -> Result<ReadCorpus, DataError> {
    let text = embedded.text();
    let corpus = match embedded.task {
        Task::Classification => {
            let file = glue::parse(&text, path)?;
            let tokens = file.examples.iter().map(|e| Tokenizer::Whitespace.tokenize(&e.text, false)).collect();
            Corpus::Sentiment { file, tokens }
        }
        Task::Tagging => Corpus::Tagged(parse_conll(&text, path, &ConllOptions::default())?),
    };
    Ok(ReadCorpus { corpus, format: embedded.format(), inferred: None })
}

/// A whole Parquet file: its row groups one after the other.
fn read_parquet_whole(path: &Path, options: &ReadOptions) -> Result<Corpus, DataError> {
    let mut whole: Option<Corpus> = None;
    read_parquet(path, options, |part| {
        match (&mut whole, part) {
            (Some(Corpus::Tagged(all)), Corpus::Tagged(more)) => all.sentences.extend(more.sentences),
            (Some(Corpus::Sentiment { file, tokens }), Corpus::Sentiment { file: f, tokens: t }) => {
                file.append(f);
                tokens.extend(t);
            }
            (slot, part) => *slot = Some(part),
        }
        Ok(())
    })?;
    whole.ok_or_else(|| DataError::file(path, "no rows"))
}

/// Whether the JSON Lines file at `path` holds tagged records (its first object has a list of
/// tokens; see [`crate::ner::records`]).
pub fn tagged_jsonl(path: &Path, options: &ReadOptions) -> Result<bool, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut first = String::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(file)) {
        let line = line.map_err(|e| DataError::io(path, e))?;
        if !line.trim().is_empty() {
            first = line;
            break;
        }
    }
    Ok(holds_tagged_records(first.trim_start_matches('\u{feff}'), &options.record_fields()))
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
    if let Source::Embedded(embedded) = Source::parse(path)? {
        return match embedded.task {
            Task::Tagging => parse_conll(&embedded.text(), path, options),
            Task::Classification => {
                Err(DataError::file(path, "labelled texts, not a tagged corpus; use embedded:ner/SPLIT"))
            }
        };
    }
    if path.is_dir() {
        return Err(DataError::file(path, "a folder, not a conll file"));
    }
    must_exist(path)?;
    read_conll(path, options).map_err(|e| not_conll(path, e))
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

/// `Ok` when `path` can be looked at; otherwise the OS's reason, kept: missing, or not
/// permitted (a folder on the way that cannot be searched), or another error.
pub(crate) fn must_exist(path: &Path) -> Result<(), DataError> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DataError::file(path, "no such file or folder")),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(DataError::file(
            path,
            "permission denied (it, or a folder on the way to it, cannot be read or searched by this user)",
        )),
        Err(e) => Err(DataError::io(path, e)),
    }
}

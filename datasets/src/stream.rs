//! The one reader of corpora: where a corpus comes from ([`Source`]) and its format are decided
//! here, once, and each format's reader yields parts: about a MiB of whole records
//! ([`crate::chunks`]), parsed, tokenised and handed on in file order, never the whole corpus at
//! once. Line numbers in the parts, their origins and their errors are the file's. Parquet files
//! come a row group at a time; folders and embedded corpora are read whole, as one part.
//! Reading a whole corpus ([`crate::read_corpus`]) is collecting the parts.

use std::path::Path;

use crate::chunks::{for_each_parsed, Boundary, Chunk, ChunkReader, Fingerprint, CHUNK_BYTES};
use crate::error::DataError;
use crate::format::{infer_format, Format};
use crate::ner::records::{holds_tagged_records, parse_tagged_jsonl};
use crate::ner::{parse_conll, ConllOptions};
use crate::parquet::read_parquet;
use crate::read::{tokenizer_for, Corpus, ReadOptions};
use crate::sentiment::{glue, parse_sentiment, read_sentiment, Header, LabelKinds, SentimentFile, SentimentFormat};
use crate::source::{Embedded, Source};
use crate::task::Task;
use crate::text::Tokenizer;

/// What a streamed read tells besides its parts.
#[derive(Debug, Clone)]
pub struct Streamed {
    /// The format read.
    pub format: Format,
    /// Why it was inferred so (`None` when given).
    pub inferred: Option<String>,
    /// The size and CRC-32 of the file (for a folder or embedded corpus, of its examples).
    pub fingerprint: Fingerprint,
}

/// The format of `path`, given or inferred, and why.
fn format_of(path: &Path, options: &ReadOptions) -> Result<(Format, Option<String>), DataError> {
    match options.format {
        Some(f) => Ok((f, None)),
        None => infer_format(path).map(|(f, why)| (f, Some(why))),
    }
}

/// Reads the corpus at `path` (a file, a folder or an embedded corpus) part by part: `map` runs
/// on each part (with the file's format) in parallel, `consume` gets the results in file order.
/// A sentiment file's labels are checked to be of one kind over the whole file, and a file
/// without any example is an error.
pub fn stream_corpus<R: Send>(
    path: impl AsRef<Path>,
    options: &ReadOptions,
    map: impl Fn(Format, Corpus) -> Result<R, DataError> + Sync,
    consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Streamed, DataError> {
    stream_corpus_in(path, options, CHUNK_BYTES, map, consume)
}

/// [`stream_corpus`] with parts cut after `chunk_bytes` bytes (tests use small parts).
pub fn stream_corpus_in<R: Send>(
    path: impl AsRef<Path>,
    options: &ReadOptions,
    chunk_bytes: usize,
    map: impl Fn(Format, Corpus) -> Result<R, DataError> + Sync,
    mut consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Streamed, DataError> {
    let path = path.as_ref();
    let mut whole = |format: Format, inferred: Option<String>, corpus: Corpus| {
        let fingerprint = fingerprint_of(&corpus);
        consume(map(format, corpus)?)?;
        Ok(Streamed { format, inferred, fingerprint })
    };
    if let Source::Embedded(embedded) = Source::parse(path)? {
        return whole(embedded.format(), None, read_embedded(embedded, path)?);
    }
    must_exist(path)?;
    let (format, inferred) = format_of(path, options)?;
    if path.is_dir() {
        let Some(reader @ SentimentFormat::Folders) = options.sentiment_reader(format) else {
            return Err(DataError::file(
                path,
                format!(
                    "a folder, not a {} file (folders are read as IMDB-style corpora with --format imdb)",
                    format.name()
                ),
            ));
        };
        let file = read_sentiment(path, &reader, options.encoding)?;
        let tokenizer = tokenizer_for(format);
        let tokens = file.examples.iter().map(|e| tokenizer.tokenize(&e.text, false)).collect();
        return whole(format, inferred, Corpus::Sentiment { file, tokens });
    }
    let map = |corpus| map(format, corpus);
    let size_at_start = std::fs::metadata(path).map(|m| m.len()).ok();
    let read = || {
        if format == Format::Parquet {
            read_parquet(path, options, |part| consume(map(part)?))?;
            return Fingerprint::of_file(path);
        }
        if format == Format::Jsonl && tagged_jsonl(path, options)? {
            return stream_records(path, options, chunk_bytes, map, consume);
        }
        match options.sentiment_reader(format) {
            None => stream_conll(path, options, chunk_bytes, map, consume),
            Some(reader) => stream_sentiment(path, format, reader, options, chunk_bytes, map, consume),
        }
    };
    let fingerprint = read().map_err(|e| {
        // A file cut short (or grown) while it was read fails at a line that is not its own
        // fault: say what happened.
        let now = std::fs::metadata(path).map(|m| m.len()).ok();
        match (size_at_start, now) {
            (Some(then), Some(now)) if then != now => DataError::file(
                path,
                format!(
                    "the file changed while it was being read ({then} bytes when reading began, {now} now; reading it \
                     then failed with: {e}); run again once it is complete"
                ),
            ),
            _ => e,
        }
    })?;
    Ok(Streamed { format, inferred, fingerprint })
}

/// An embedded corpus (named `path`), whole.
fn read_embedded(embedded: Embedded, path: &Path) -> Result<Corpus, DataError> {
    let text = embedded.text();
    Ok(match embedded.task {
        Task::Classification => {
            let file = glue::parse(&text, path)?;
            let tokens = file.examples.iter().map(|e| Tokenizer::Whitespace.tokenize(&e.text, false)).collect();
            Corpus::Sentiment { file, tokens }
        }
        Task::Tagging => Corpus::Tagged(parse_conll(&text, path, &ConllOptions::default())?),
    })
}

/// Whether the JSON Lines file at `path` holds tagged records (its first object has a list of
/// tokens; see [`crate::ner::records`]).
fn tagged_jsonl(path: &Path, options: &ReadOptions) -> Result<bool, DataError> {
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

/// `Ok` when `path` can be looked at; otherwise the OS's reason, kept: missing, or not
/// permitted (a folder on the way that cannot be searched), or another error.
fn must_exist(path: &Path) -> Result<(), DataError> {
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

/// Reads JSON Lines tagged records in parts (see [`stream_corpus`]).
fn stream_records<R: Send>(
    path: &Path,
    options: &ReadOptions,
    chunk_bytes: usize,
    map: impl Fn(Corpus) -> Result<R, DataError> + Sync,
    mut consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Fingerprint, DataError> {
    let fields = options.record_fields();
    let chunks = ChunkReader::open(path, options.encoding, Boundary::Line)?.with_chunk_bytes(chunk_bytes);
    let mut sentences = 0usize;
    let parse = |chunk: Chunk| {
        let file = parse_tagged_jsonl(&chunk.text, path, chunk.first_line, &fields)?;
        let n = file.sentences.len();
        Ok((map(Corpus::Tagged(file))?, n))
    };
    let fingerprint = for_each_parsed(chunks, parse, |(result, n)| {
        sentences += n;
        consume(result)
    })?;
    if sentences == 0 {
        return Err(DataError::file(path, "no records"));
    }
    Ok(fingerprint)
}

/// A fingerprint of a corpus read whole: the CRC-32 of its tokens and labels.
fn fingerprint_of(corpus: &Corpus) -> Fingerprint {
    let mut hasher = crc32fast::Hasher::new();
    let mut bytes = 0u64;
    let mut add = |s: &str| {
        hasher.update(s.as_bytes());
        hasher.update(b"\n");
        bytes += s.len() as u64 + 1;
    };
    match corpus {
        Corpus::Sentiment { file, .. } => file.examples.iter().for_each(|e| {
            add(&e.text);
            add(&e.label);
        }),
        Corpus::Tagged(f) => f.sentences.iter().flat_map(|s| s.tokens.iter().chain(&s.tags)).for_each(|t| add(t)),
    }
    Fingerprint { bytes, crc32: hasher.finalize() }
}

/// How the chunks after the first of a sentiment file are parsed: with the file's header in
/// front (for a file that has one), and never taking a row for a header otherwise.
struct Continuation {
    header: Option<String>,
    reader: SentimentFormat,
}

/// Reads a GLUE, CSV/TSV or JSON Lines file in parts (see [`stream_corpus`]).
fn stream_sentiment<R: Send>(
    path: &Path,
    format: Format,
    reader: SentimentFormat,
    options: &ReadOptions,
    chunk_bytes: usize,
    map: impl Fn(Corpus) -> Result<R, DataError> + Sync,
    mut consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Fingerprint, DataError> {
    let boundary = match &reader {
        SentimentFormat::Delimited(d) if d.quoting => Boundary::QuotedLine,
        _ => Boundary::Line,
    };
    let mut chunks = ChunkReader::open(path, options.encoding, boundary)?.with_chunk_bytes(chunk_bytes);
    let Some(first) = chunks.next().transpose()? else {
        return Err(DataError::file(path, "empty file"));
    };
    let tokenizer = tokenizer_for(format);
    // Each part's result, its label kinds and its number of examples.
    let finish = |file: SentimentFile| -> Result<(R, LabelKinds, usize), DataError> {
        let mut kinds = LabelKinds::default();
        file.examples.iter().for_each(|e| kinds.add(e));
        let n = file.examples.len();
        let tokens = file.examples.iter().map(|e| tokenizer.tokenize(&e.text, false)).collect();
        Ok((map(Corpus::Sentiment { file, tokens })?, kinds, n))
    };
    let file = parse_sentiment(&first.text, path, &reader)?;
    let header = file.header.then(|| first.text.lines().next().unwrap_or("").to_string());
    let continuation = Continuation { reader: rows_only(reader, file.header), header };
    let (result, mut kinds, mut examples) = finish(file)?;
    consume(result)?;
    let parse = |chunk: Chunk| {
        if chunk.text.trim().is_empty() {
            let mut file = SentimentFile::default();
            file.skipped.insert("blank lines".into(), chunk.text.lines().count());
            return finish(file);
        }
        let (text, shift) = match &continuation.header {
            Some(h) => (format!("{h}\n{}", chunk.text), chunk.first_line - 2),
            None => (chunk.text, chunk.first_line - 1),
        };
        let mut file = parse_sentiment(&text, path, &continuation.reader).map_err(|e| shifted(e, path, shift))?;
        file.examples.iter_mut().for_each(|e| e.origin.line += shift);
        finish(file)
    };
    let fingerprint = for_each_parsed(chunks, parse, |(result, part_kinds, n)| {
        kinds.merge(part_kinds);
        examples += n;
        consume(result)
    })?;
    if examples == 0 {
        return Err(DataError::file(path, "no examples (the file is empty or has only a header)"));
    }
    kinds.check()?;
    Ok(fingerprint)
}

/// The reader for the chunks after the first: a CSV/TSV header decided once, for the file.
fn rows_only(reader: SentimentFormat, header: bool) -> SentimentFormat {
    match reader {
        SentimentFormat::Delimited(mut d) => {
            d.header = if header { Header::Yes } else { Header::No };
            SentimentFormat::Delimited(d)
        }
        other => other,
    }
}

/// `error` with its line moved by `shift`, when it is about `path`.
fn shifted(mut error: DataError, path: &Path, shift: usize) -> DataError {
    if error.path == path {
        error.line = error.line.map(|l| l + shift);
    }
    error
}

fn stream_conll<R: Send>(
    path: &Path,
    options: &ReadOptions,
    chunk_bytes: usize,
    map: impl Fn(Corpus) -> Result<R, DataError> + Sync,
    mut consume: impl FnMut(R) -> Result<(), DataError>,
) -> Result<Fingerprint, DataError> {
    let conll = ConllOptions { tag_column: options.tag_column, encoding: options.encoding };
    let chunks = ChunkReader::open(path, options.encoding, Boundary::BlankLine)?.with_chunk_bytes(chunk_bytes);
    let mut columns = 0usize;
    let mut sentences = 0usize;
    let parse = |chunk: Chunk| {
        let shift = chunk.first_line - 1;
        match parse_conll(&chunk.text, path, &conll) {
            Ok(mut file) => {
                file.sentences.iter_mut().for_each(|s| s.line += shift);
                let first = file.sentences.first().map_or(0, |s| s.line);
                let (cols, n) = (file.columns, file.sentences.len());
                Ok(Some((map(Corpus::Tagged(file))?, cols, first, n)))
            }
            // A part of only -DOCSTART- and blank lines.
            Err(e) if e.line.is_none() => Ok(None),
            Err(e) => Err(shifted(e, path, shift)),
        }
    };
    let fingerprint = for_each_parsed(chunks, parse, |part| {
        let Some((result, cols, first, n)) = part else { return Ok(()) };
        if columns == 0 {
            columns = cols;
        } else if cols != columns {
            return Err(DataError::line(path, first, format!("{cols} columns where earlier lines have {columns}")));
        }
        sentences += n;
        consume(result)
    })?;
    if sentences == 0 {
        return Err(DataError::file(path, "no sentences (the file is empty or holds only -DOCSTART- and blank lines)"));
    }
    Ok(fingerprint)
}

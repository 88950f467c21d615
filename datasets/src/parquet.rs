//! Parquet files, the Hugging Face hub's download format, read row group by row group (each
//! row group one part of the corpus, see [`crate::stream`]) through the `parquet` crate's record
//! API. A file with a list column of tokens (`tokens`, or `--text-column`) holds tagged
//! sentences, with their tags in a list column (`ner_tags`, or `--label-column`) of names or of
//! ids into `--tag-names`; any other file holds labelled texts: a string column (`sentence`,
//! `text`, `review` or `content`, or `--text-column`) and an integer, string or boolean label
//! column (`label`, or `--label-column`). Errors name the file, the row group, the row and the
//! column; the "line" of an example is its 1-based row in the file.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};

use crate::error::DataError;
use crate::format::Format;
use crate::ner::records::RecordFields;
use crate::ner::ConllFile;
use crate::read::{tokenizer_for, Corpus, ReadOptions};
use crate::sentiment::{Origin, SentimentFile, TextExample};

const TEXT_NAMES: [&str; 4] = ["sentence", "text", "review", "content"];

/// What the rows of a file are.
enum Layout {
    Tagged(RecordFields),
    Labelled { text: String, label: String },
}

/// Reads the Parquet file at `path` row group by row group: `part` gets each row group as a
/// corpus part, in order. Returns the number of rows.
pub fn read_parquet(
    path: &Path,
    options: &ReadOptions,
    mut part: impl FnMut(Corpus) -> Result<(), DataError>,
) -> Result<usize, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let reader = guarded(path, || SerializedFileReader::new(file))?
        .map_err(|e| DataError::file(path, format!("not a readable Parquet file: {e}")))?;
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let layout = layout(path, &columns, options)?;
    let mut rows = 0usize;
    for group in 0..reader.num_row_groups() {
        let group_reader = guarded(path, || reader.get_row_group(group))?
            .map_err(|e| DataError::file(path, format!("row group {group}: {e}")))?;
        let mut iter = guarded(path, || group_reader.get_row_iter(None))?
            .map_err(|e| DataError::file(path, format!("row group {group}: {e}")))?;
        let mut sentences = ConllFile { columns: 2, records: true, ..ConllFile::default() };
        let mut texts = SentimentFile::default();
        for index in 0.. {
            let Some(row) = guarded(path, || iter.next())? else { break };
            rows += 1;
            let at = |column: &str, message: String| {
                DataError::file(
                    path,
                    format!("row group {group}, row {index} (row {rows} of the file), column {column:?}: {message}"),
                )
            };
            let row = row.map_err(|e| at("*", e.to_string()))?;
            match &layout {
                Layout::Tagged(fields) => sentences.sentences.push(tagged_row(&row, fields, rows, &at)?),
                Layout::Labelled { text, label } => {
                    // As the text readers: an empty text has nothing to classify.
                    let words = string(field(&row, text, &at)?, text, &at)?.trim().to_string();
                    if words.is_empty() {
                        return Err(at(text, "the text is empty or only white space".into()));
                    }
                    texts.examples.push(TextExample {
                        text: words,
                        label: label_of(field(&row, label, &at)?, label, &at)?,
                        origin: Origin { path: path.to_owned(), line: rows },
                    });
                }
            }
        }
        match &layout {
            Layout::Tagged(_) => part(Corpus::Tagged(sentences))?,
            Layout::Labelled { .. } => {
                let tokenizer = tokenizer_for(Format::Parquet);
                let tokens = texts.examples.iter().map(|e| tokenizer.tokenize(&e.text, false)).collect();
                part(Corpus::Sentiment { file: texts, tokens })?;
            }
        }
    }
    if rows == 0 {
        return Err(DataError::file(path, "no rows"));
    }
    Ok(rows)
}

/// The layout of a file with these columns, or an error naming what is missing.
fn layout(path: &Path, columns: &[String], options: &ReadOptions) -> Result<Layout, DataError> {
    let has = |name: &str| columns.iter().any(|c| c == name);
    let missing = |what: &str, name: &str| {
        DataError::file(path, format!("no {what} column {name:?}; the file has {}", columns.join(", ")))
    };
    let fields = RecordFields::new(
        options.text_column.as_deref(),
        options.label_column.as_deref(),
        options.tag_names.as_deref(),
    );
    if has(&fields.tokens) {
        if !has(&fields.tags) {
            return Err(missing("tag", &fields.tags));
        }
        return Ok(Layout::Tagged(fields));
    }
    let text = match &options.text_column {
        Some(t) => t.clone(),
        None => TEXT_NAMES
            .iter()
            .find(|n| has(n))
            .map(|n| n.to_string())
            .ok_or_else(|| missing("text (or token-list)", "sentence/text/review/content/tokens"))?,
    };
    let label = options.label_column.clone().unwrap_or_else(|| "label".into());
    for (what, name) in [("text", &text), ("label", &label)] {
        if !has(name) {
            return Err(missing(what, name));
        }
    }
    Ok(Layout::Labelled { text, label })
}

thread_local! {
    /// Whether this thread is inside [`guarded`], whose panics are reported as errors.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs one call into the `parquet` crate. The crate panics on some damaged files where it
/// should return an error (an index out of bounds in its RLE decoder, a capacity overflow from a
/// corrupt length, thrift metadata it cannot decode): such a panic becomes an error naming the
/// file, and its message is not printed (the process's panic hook, wrapped once, stays silent
/// on this thread while the call runs; every other panic is printed as before).
fn guarded<T>(path: &Path, call: impl FnOnce() -> T) -> Result<T, DataError> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
    GUARDED.with(|g| g.set(false));
    result.map_err(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        DataError::file(path, format!("a damaged Parquet file (the parquet reader failed on it: {why})"))
    })
}

fn field<'a>(row: &'a Row, name: &str, at: &dyn Fn(&str, String) -> DataError) -> Result<&'a Field, DataError> {
    row.get_column_iter().find(|(n, _)| n.as_str() == name).map(|(_, f)| f).ok_or_else(|| at(name, "missing".into()))
}

fn string<'a>(value: &'a Field, column: &str, at: &dyn Fn(&str, String) -> DataError) -> Result<&'a str, DataError> {
    match value {
        Field::Str(s) => Ok(s),
        Field::Null => Err(at(column, "null".into())),
        other => Err(at(column, format!("{other}, not a string"))),
    }
}

fn integer(value: &Field) -> Option<i64> {
    Some(match *value {
        Field::Byte(v) => i64::from(v),
        Field::Short(v) => i64::from(v),
        Field::Int(v) => i64::from(v),
        Field::Long(v) => v,
        Field::UByte(v) => i64::from(v),
        Field::UShort(v) => i64::from(v),
        Field::UInt(v) => i64::from(v),
        Field::ULong(v) => i64::try_from(v).ok()?,
        _ => return None,
    })
}

fn label_of(value: &Field, column: &str, at: &dyn Fn(&str, String) -> DataError) -> Result<String, DataError> {
    if let Some(i) = integer(value) {
        return Ok(i.to_string());
    }
    match value {
        Field::Bool(b) => Ok(b.to_string()),
        Field::Str(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Field::Null => Err(at(column, "null".into())),
        other => Err(at(column, format!("{other} is not a label"))),
    }
}

fn list<'a>(value: &'a Field, column: &str, at: &dyn Fn(&str, String) -> DataError) -> Result<&'a [Field], DataError> {
    match value {
        Field::ListInternal(list) => Ok(list.elements()),
        Field::Null => Err(at(column, "null".into())),
        other => Err(at(column, format!("{other}, not a list"))),
    }
}

fn tagged_row(
    row: &Row,
    fields: &RecordFields,
    line: usize,
    at: &dyn Fn(&str, String) -> DataError,
) -> Result<crate::ner::Sentence, DataError> {
    let tokens = list(field(row, &fields.tokens, at)?, &fields.tokens, at)?
        .iter()
        .map(|t| string(t, &fields.tokens, at).map(String::from))
        .collect::<Result<Vec<_>, _>>()?;
    let tag_at = |message: String| at(&fields.tags, message);
    let tags = list(field(row, &fields.tags, at)?, &fields.tags, at)?
        .iter()
        .map(|t| match (integer(t), t) {
            (Some(id), _) => fields.tag_name(id, &tag_at),
            (None, Field::Str(s)) => Ok(s.clone()),
            (None, Field::Null) => Err(tag_at("null".into())),
            (None, other) => Err(tag_at(format!("{other}, neither a tag nor a tag id"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    fields.sentence(tokens, tags, line, at)
}

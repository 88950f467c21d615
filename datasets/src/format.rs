//! The file formats seqlab reads, and inference of a file's format from its name and content.

use std::path::Path;

use crate::error::DataError;
use crate::sentiment::{DelimitedOptions, JsonlOptions, SentimentFormat};
use crate::text::{decode, Encoding};

/// A corpus format; its names (`glue`, `tsv`, `csv`, `jsonl`, `imdb`, `conll`, `parquet`, and a few
/// aliases) parse with `str::parse`, in `run.json` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum Format {
    /// GLUE TSV (SST-2).
    #[strum(to_string = "glue", serialize = "sst2", serialize = "sst-2")]
    Glue,
    /// TSV.
    Tsv,
    /// CSV.
    Csv,
    /// JSON Lines.
    #[strum(to_string = "jsonl", serialize = "json")]
    Jsonl,
    /// Folder per label (IMDB).
    #[strum(to_string = "imdb", serialize = "folders")]
    Imdb,
    /// CoNLL columns (NER).
    Conll,
    /// Parquet (the Hugging Face hub's format): labelled texts or tagged sentences, by columns.
    Parquet,
}

/// In `run.json` by name; any name `str::parse` takes is read (older runs kept what the user typed).
impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use strum::VariantNames;
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(|_| {
            serde::de::Error::custom(format!("unknown format {name:?}; expected {}", Self::VARIANTS.join(", ")))
        })
    }
}

impl Format {
    /// Lower-case name.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// The sentiment reader for this format with default columns (`None` for CoNLL, and for
    /// Parquet, whose columns say which task it holds).
    pub fn sentiment(&self) -> Option<SentimentFormat> {
        match self {
            Self::Glue => Some(SentimentFormat::Glue),
            Self::Tsv => Some(SentimentFormat::Delimited(DelimitedOptions::tsv())),
            Self::Csv => Some(SentimentFormat::Delimited(DelimitedOptions::csv())),
            Self::Jsonl => Some(SentimentFormat::Jsonl(JsonlOptions::default())),
            Self::Imdb => Some(SentimentFormat::Folders),
            Self::Conll | Self::Parquet => None,
        }
    }
}

/// Infers the format of a file or folder; returns it with the reason, to be shown to the user.
///
/// A folder is `imdb`; `.jsonl` is `jsonl`; `.csv` is `csv`; `.parquet` is `parquet`; otherwise the first lines decide:
/// a header naming `sentence` and `label` is `glue`, lines of whitespace-separated columns whose
/// last column is a tag (`O`, `B-X`, `I-X`, …) are `conll`, a first line that is a JSON object
/// is `jsonl`, tab-separated lines are `tsv`.
pub fn infer_format(path: &Path) -> Result<(Format, String), DataError> {
    if path.is_dir() {
        return Ok((Format::Imdb, "a folder: one sub-folder per label".into()));
    }
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "jsonl" | "ndjson" => return Ok((Format::Jsonl, format!(".{extension} extension"))),
        "csv" => return Ok((Format::Csv, ".csv extension".into())),
        "parquet" => return Ok((Format::Parquet, ".parquet extension".into())),
        _ => {}
    }
    // The first 64 KiB decide (never the whole file: it may be larger than memory).
    let mut head = Vec::with_capacity(64 * 1024);
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, 64 * 1024), &mut head)
        .map_err(|e| DataError::io(path, e))?;
    let head = &head[..];
    let text = decode(head, Encoding::Utf8).unwrap_or_else(|_| decode(head, Encoding::Latin1).unwrap());
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(200).collect();
    let Some(first) = lines.first() else {
        return Err(DataError::file(path, "cannot infer the format of an empty file; pass --format"));
    };
    let header: Vec<String> = first.split(['\t', ' ']).filter(|s| !s.is_empty()).map(str::to_lowercase).collect();
    if header.iter().any(|h| h == "sentence") && header.iter().any(|h| h == "label") {
        return Ok((Format::Glue, "first line is a header naming `sentence` and `label`".into()));
    }
    if first.trim_start().starts_with('{') {
        return Ok((Format::Jsonl, "first line is a JSON object".into()));
    }
    let content: Vec<&&str> = lines.iter().filter(|l| !l.starts_with("-DOCSTART-")).collect();
    let tagged = content
        .iter()
        .filter(|l| {
            let fields: Vec<&str> = l.split_ascii_whitespace().collect();
            fields.len() >= 2 && crate::ner::scheme::split_tag(fields[fields.len() - 1]).is_ok()
        })
        .count();
    if !content.is_empty() && tagged * 10 >= content.len() * 9 {
        return Ok((Format::Conll, "lines are columns ending in a tag (O, B-X, I-X, …)".into()));
    }
    if lines.iter().all(|l| l.contains('\t')) {
        return Ok((Format::Tsv, "tab-separated lines".into()));
    }
    Err(DataError::file(path, "cannot infer the format; pass --format glue|tsv|csv|jsonl|imdb|conll|parquet"))
}

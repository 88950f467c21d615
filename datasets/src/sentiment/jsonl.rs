//! JSON Lines: one JSON object per line, with a text and a label field.

use std::path::Path;

use super::{Origin, SentimentFile, TextExample};
use crate::error::{excerpt, DataError};
use crate::text::{read_text, Encoding};

/// Field names of a JSON Lines file.
#[derive(Debug, Clone)]
pub struct JsonlOptions {
    /// The text field (default `text`).
    pub text_field: String,
    /// The label field (default `label`); strings, integers and booleans are accepted.
    pub label_field: String,
}

impl Default for JsonlOptions {
    fn default() -> Self {
        Self { text_field: "text".into(), label_field: "label".into() }
    }
}

pub(super) fn read(path: &Path, options: &JsonlOptions, encoding: Encoding) -> Result<SentimentFile, DataError> {
    parse(&read_text(path, encoding)?, path, options)
}

/// Parses the text of a file (or of a run of its whole rows); `path` names it in errors.
pub(super) fn parse(text: &str, path: &Path, options: &JsonlOptions) -> Result<SentimentFile, DataError> {
    let mut file = SentimentFile::default();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            file.skip("blank lines");
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| DataError::line(path, number, format!("invalid JSON ({e}): {}", excerpt(line))))?;
        let object = value.as_object().ok_or_else(|| {
            let fields = format!("{{{:?}: …, {:?}: …}}", options.text_field, options.label_field);
            let message = format!("a record is one JSON object ({fields}), not {}: {}", kind(&value), excerpt(line));
            DataError::line(path, number, message)
        })?;
        let field = |name: &str| {
            object.get(name).ok_or_else(|| {
                let have: Vec<&str> = object.keys().map(String::as_str).collect();
                // Tagged records with their tokens in one string read as labelled texts.
                let hint = if object.get("tokens").is_some_and(serde_json::Value::is_string) {
                    "; its \"tokens\" is one string, where tagged records give a list of tokens ([\"EU\", \"rejects\"])"
                } else {
                    ""
                };
                let message =
                    format!("no field {name:?} (the record has {}){hint}: {}", have.join(", "), excerpt(line));
                DataError::line(path, number, message)
            })
        };
        let text = field(&options.text_field)?
            .as_str()
            .ok_or_else(|| DataError::line(path, number, format!("field {:?} is not a string", options.text_field)))?;
        let label = match field(&options.label_field)? {
            serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => {
                return Err(DataError::line(
                    path,
                    number,
                    format!("field {:?} is not a label: {other}", options.label_field),
                ))
            }
        };
        file.examples.push(TextExample {
            text: text.trim().to_string(),
            label,
            origin: Origin { path: path.to_owned(), line: number },
        });
    }
    Ok(file)
}

/// What a JSON value is, for a person.
fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "true or false",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

//! CoNLL column files: one token per line, columns separated by ASCII spaces or tabs (so a
//! token may hold a no-break space, U+00A0, or another Unicode space), the token in the first
//! column, the tag in a chosen column (default: the last); a blank or ASCII-whitespace-only line
//! ends a sentence; `-DOCSTART-` lines separate documents and are skipped (and counted).
//!
//! ```text
//! -DOCSTART- -X- O O
//!
//! EU NNP I-NP I-ORG
//! rejects VBZ I-VP O
//! German JJ I-NP I-MISC
//! ```

use std::path::Path;

use super::scheme::split_tag;
use crate::error::{excerpt, DataError};
use crate::text::{read_text, Encoding};

/// How to read a CoNLL file.
#[derive(Debug, Clone, Default)]
pub struct ConllOptions {
    /// 0-based column of the tag; `None` for the last column.
    pub tag_column: Option<usize>,
    /// The file's encoding.
    pub encoding: Encoding,
}

/// One sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The tokens (first column).
    pub tokens: Vec<String>,
    /// The tags (tag column).
    pub tags: Vec<String>,
    /// The other columns (e.g. POS, chunk), `extra[k][i]` for column `k` and token `i`, in file
    /// order, the token and tag columns left out.
    pub extra: Vec<Vec<String>>,
    /// 1-based line of the first token in the file.
    pub line: usize,
}

/// A whole CoNLL file.
#[derive(Debug, Clone, Default)]
pub struct ConllFile {
    /// The sentences, in file order.
    pub sentences: Vec<Sentence>,
    /// Number of `-DOCSTART-` lines (documents); they are skipped.
    pub documents: usize,
    /// Columns per token line.
    pub columns: usize,
    /// Whether each sentence is one record (a JSON Lines line, a Parquet row) rather than one
    /// line per token.
    pub records: bool,
}

impl ConllFile {
    /// Total number of tokens.
    pub fn tokens(&self) -> usize {
        self.sentences.iter().map(|s| s.tokens.len()).sum()
    }

    /// The 1-based line (or row) of token `index` of `sentence`: its own line in a CoNLL file,
    /// its record's in records.
    pub fn line_of(&self, sentence: &Sentence, index: usize) -> usize {
        if self.records {
            sentence.line
        } else {
            sentence.line + index
        }
    }
}

/// Reads a CoNLL file.
pub fn read_conll(path: impl AsRef<Path>, options: &ConllOptions) -> Result<ConllFile, DataError> {
    let path = path.as_ref();
    parse_conll(&read_text(path, options.encoding)?, path, options)
}

/// Parses CoNLL text; `path` names the source in errors.
///
/// Errors (with file:line and the offending text): a token line with fewer than 2 columns, a
/// column count different from the file's first token line, a tag that is neither `O` nor
/// `PREFIX-TYPE`; and a file without any sentence.
pub fn parse_conll(text: &str, path: &Path, options: &ConllOptions) -> Result<ConllFile, DataError> {
    let mut file = ConllFile::default();
    let mut current: Option<Sentence> = None;
    let finish = |current: &mut Option<Sentence>, file: &mut ConllFile| {
        if let Some(s) = current.take() {
            file.sentences.push(s);
        }
    };
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        // Columns are split on ASCII whitespace only: Unicode spaces belong to the token.
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.is_empty() {
            finish(&mut current, &mut file);
            continue;
        }
        if fields[0] == "-DOCSTART-" {
            finish(&mut current, &mut file);
            file.documents += 1;
            continue;
        }
        if fields.len() < 2 {
            return Err(DataError::line(
                path,
                number,
                format!("a token line needs at least 2 columns (token and tag), found 1: {}", excerpt(line)),
            ));
        }
        if file.columns == 0 {
            file.columns = fields.len();
            if let Some(c) = options.tag_column.filter(|&c| c == 0 || c >= fields.len()) {
                return Err(DataError::line(
                    path,
                    number,
                    format!(
                        "tag column {c} does not exist or is the token column (lines have {} columns)",
                        fields.len()
                    ),
                ));
            }
        } else if fields.len() != file.columns {
            return Err(DataError::line(
                path,
                number,
                format!("{} columns where earlier lines have {}: {}", fields.len(), file.columns, excerpt(line)),
            ));
        }
        let tag_column = options.tag_column.unwrap_or(fields.len() - 1);
        let tag = fields[tag_column];
        if let Err(reason) = split_tag(tag) {
            return Err(DataError::line(path, number, format!("{reason}: {}", excerpt(line))));
        }
        let sentence = current.get_or_insert_with(|| Sentence {
            tokens: Vec::new(),
            tags: Vec::new(),
            extra: vec![Vec::new(); fields.len() - 2],
            line: number,
        });
        sentence.tokens.push(fields[0].to_string());
        sentence.tags.push(tag.to_string());
        let others = fields.iter().enumerate().filter(|&(c, _)| c != 0 && c != tag_column);
        for (slot, (_, value)) in sentence.extra.iter_mut().zip(others) {
            slot.push(value.to_string());
        }
    }
    finish(&mut current, &mut file);
    if file.sentences.is_empty() {
        return Err(DataError::file(path, "no sentences (the file is empty or holds only -DOCSTART- and blank lines)"));
    }
    Ok(file)
}

/// Writes sentences back as two-column CoNLL text (`token tag`), sentences separated by a blank
/// line.
pub fn write_conll<'a>(sentences: impl IntoIterator<Item = (&'a [String], &'a [String])>) -> String {
    let mut out = String::new();
    for (tokens, tags) in sentences {
        for (token, tag) in tokens.iter().zip(tags) {
            out.push_str(token);
            out.push(' ');
            out.push_str(tag);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConllFile, DataError> {
        parse_conll(text, Path::new("x.conll"), &ConllOptions::default())
    }

    #[test]
    fn reads_columns_docstart_and_whitespace_only_separators() {
        let text = "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n \t \nPeter\tNNP\tI-NP\tI-PER\n";
        let f = parse(text).unwrap();
        assert_eq!(f.documents, 1);
        assert_eq!(f.sentences.len(), 2);
        assert_eq!(f.sentences[0].tokens, ["EU", "rejects"]);
        assert_eq!(f.sentences[0].tags, ["I-ORG", "O"]);
        assert_eq!(f.sentences[0].extra, vec![vec!["NNP", "VBZ"], vec!["I-NP", "I-VP"]]);
        assert_eq!(f.sentences[0].line, 3);
        assert_eq!(f.sentences[1].tokens, ["Peter"]);
        assert_eq!(f.sentences[1].line, 6);
        assert_eq!(f.tokens(), 3);
    }

    #[test]
    fn a_chosen_tag_column() {
        let options = ConllOptions { tag_column: Some(2), ..Default::default() };
        let f = parse_conll("EU NNP B-NP B-ORG\n", Path::new("x"), &options).unwrap();
        assert_eq!(f.sentences[0].tags, ["B-NP"]);
        assert_eq!(f.sentences[0].extra, vec![vec!["NNP"], vec!["B-ORG"]]);
    }

    #[test]
    fn errors_name_file_line_and_text() {
        let err = parse("EU NNP I-ORG\nrejects O\n").unwrap_err().to_string();
        assert!(err.starts_with("x.conll:2:") && err.contains("2 columns where earlier lines have 3"), "{err}");
        let err = parse("EU\n").unwrap_err().to_string();
        assert!(err.starts_with("x.conll:1:") && err.contains("at least 2 columns"), "{err}");
        let err = parse("EU NNP\n").unwrap_err().to_string();
        assert!(err.starts_with("x.conll:1:") && err.contains("\"NNP\""), "{err}");
        let err = parse("\n-DOCSTART- O\n\n").unwrap_err().to_string();
        assert!(err.starts_with("x.conll:") && err.contains("no sentences"), "{err}");
    }

    #[test]
    fn a_no_break_space_belongs_to_its_token() {
        // U+00A0 is Unicode whitespace but not a column separator: the token keeps it, and the
        // lines after it are read as they are.
        let f = parse("New\u{a0}York NNP B-LOC\nis VBZ O\n").unwrap();
        assert_eq!(f.sentences[0].tokens, ["New\u{a0}York", "is"]);
        assert_eq!(f.sentences[0].tags, ["B-LOC", "O"]);
        // A line of only a no-break space is a token line without a tag, named at its own line.
        let err = parse("EU NNP B-ORG\n\u{a0}\nis VBZ O\n").unwrap_err().to_string();
        assert!(err.starts_with("x.conll:2:") && err.contains("at least 2 columns"), "{err}");
    }
}

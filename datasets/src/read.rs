//! What a read is asked and what it gives, for every reader ([`crate::corpus`],
//! [`crate::stream`], [`crate::parquet`]): the options, a corpus (labelled texts or tagged
//! sentences), and the tokenizer a format's texts are read with.

use crate::format::Format;
use crate::ner::records::RecordFields;
use crate::ner::ConllFile;
use crate::sentiment::{Column, SentimentFile, SentimentFormat};
use crate::text::{Encoding, Tokenizer};

/// How to read a corpus file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The format; `None` infers it.
    pub format: Option<Format>,
    /// The encoding.
    pub encoding: Encoding,
    /// CoNLL: 0-based tag column (`None`: last).
    pub tag_column: Option<usize>,
    /// CSV/TSV: the text column; JSON Lines, Parquet: the text field (tagged records: the
    /// list of tokens, default `tokens`).
    pub text_column: Option<String>,
    /// CSV/TSV: the label column; JSON Lines, Parquet: the label field (tagged records: the
    /// list of tags, default `ner_tags`).
    pub label_column: Option<String>,
    /// Tagged records (JSON Lines, Parquet) whose tags are ids: the tag names, in id order.
    pub tag_names: Option<Vec<String>>,
}

impl ReadOptions {
    /// The reader of labelled texts in `format` with these column options (`None` for a
    /// tagged format: CoNLL, or Parquet, whose columns say).
    ///
    /// A GLUE file given column options is read as the headed TSV it is, with those columns.
    pub fn sentiment_reader(&self, format: Format) -> Option<SentimentFormat> {
        let columns_given = self.text_column.is_some() || self.label_column.is_some();
        let format = if format == Format::Glue && columns_given { Format::Tsv } else { format };
        let mut reader = format.sentiment()?;
        match &mut reader {
            SentimentFormat::Delimited(d) => {
                d.text = self.text_column.as_deref().map(Column::parse);
                d.label = self.label_column.as_deref().map(Column::parse);
            }
            SentimentFormat::Jsonl(j) => {
                if let Some(t) = &self.text_column {
                    j.text_field = t.clone();
                }
                if let Some(l) = &self.label_column {
                    j.label_field = l.clone();
                }
            }
            SentimentFormat::Glue | SentimentFormat::Folders => {}
        }
        Some(reader)
    }

    /// Where tagged records keep their tokens and tags.
    pub fn record_fields(&self) -> RecordFields {
        RecordFields::new(self.text_column.as_deref(), self.label_column.as_deref(), self.tag_names.as_deref())
    }
}

/// A corpus read from a file.
#[derive(Debug, Clone)]
pub enum Corpus {
    /// Labelled texts and their tokens.
    Sentiment {
        /// The examples.
        file: SentimentFile,
        /// Tokens of each example.
        tokens: Vec<Vec<String>>,
    },
    /// Tagged sentences.
    Tagged(ConllFile),
}

impl Corpus {
    /// Appends `later`, the next part of the same corpus (a part of the other kind replaces
    /// nothing: one corpus is of one kind).
    pub fn append(&mut self, later: Corpus) {
        match (self, later) {
            (Self::Tagged(file), Self::Tagged(more)) => {
                file.sentences.extend(more.sentences);
                file.documents += more.documents;
            }
            (Self::Sentiment { file, tokens }, Self::Sentiment { file: more, tokens: more_tokens }) => {
                file.append(more);
                tokens.extend(more_tokens);
            }
            _ => {}
        }
    }

    /// Token sequences of all examples.
    pub fn token_lists(&self) -> Vec<&[String]> {
        match self {
            Self::Sentiment { tokens, .. } => tokens.iter().map(Vec::as_slice).collect(),
            Self::Tagged(f) => f.sentences.iter().map(|s| s.tokens.as_slice()).collect(),
        }
    }
}

/// The result of [`crate::read_corpus`].
#[derive(Debug, Clone)]
pub struct ReadCorpus {
    /// The data.
    pub corpus: Corpus,
    /// The format used.
    pub format: Format,
    /// Why the format was chosen, when it was inferred.
    pub inferred: Option<String>,
}

/// The tokenizer used for a format: whitespace for pre-tokenised GLUE/SST-2 and CoNLL, the
/// basic Unicode tokenizer for raw text (CSV, TSV, JSON Lines, folders).
pub fn tokenizer_for(format: Format) -> Tokenizer {
    match format {
        Format::Glue | Format::Conll => Tokenizer::Whitespace,
        _ => Tokenizer::Basic,
    }
}

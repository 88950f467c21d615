//! Raw text as a tagger reads it: cut into sentences (when asked), each sentence into tokens
//! that keep their places in the text, so that answers can point into the text they were given
//! (`start_char`, `end_char`: Unicode scalar offsets, Python's `str` indices).

use std::ops::Range;

use seqlab_datasets::text::{sentences, TokenSpan, Tokenizer};

use super::predictions::{SentencePlace, TagPrediction};

/// How raw text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextReading {
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// Whether a text is cut into sentences first (Unicode's sentence boundaries), each tagged
    /// on its own; otherwise a text is one sentence.
    pub sentences: bool,
}

/// A raw text read: its tokens with their places, and its sentences as ranges of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadText {
    /// The text's characters.
    pub chars: Vec<char>,
    /// Whether it was cut into sentences (which its answer then lists).
    pub cut: bool,
    /// The tokens, in order, with their places in the whole text.
    pub tokens: Vec<TokenSpan>,
    /// Each sentence's tokens (`tokens[range]`), in order; a text without tokens has none.
    pub sentences: Vec<Range<usize>>,
    /// Each sentence's characters in the text.
    pub sentence_chars: Vec<Range<usize>>,
}

impl TextReading {
    /// `text` read: one sentence, or (with [`TextReading::sentences`]) as many as it has.
    pub fn read(&self, text: &str) -> ReadText {
        let chars: Vec<char> = text.chars().collect();
        let ranges = if self.sentences { sentences(text) } else { vec![0..chars.len()] };
        let mut read = ReadText {
            chars,
            cut: self.sentences,
            tokens: Vec::new(),
            sentences: Vec::new(),
            sentence_chars: Vec::new(),
        };
        for range in ranges {
            let sentence: String = read.chars[range.clone()].iter().collect();
            let first = read.tokens.len();
            read.tokens.extend(self.tokenizer.spans(&sentence).into_iter().map(|t| TokenSpan {
                start: t.start + range.start,
                end: t.end + range.start,
                ..t
            }));
            if read.tokens.len() > first {
                read.sentences.push(first..read.tokens.len());
                read.sentence_chars.push(range);
            }
        }
        read
    }
}

impl ReadText {
    /// The tokens, without their places.
    pub fn words(&self) -> Vec<String> {
        self.tokens.iter().map(|t| t.token.clone()).collect()
    }

    /// The tokens of each sentence.
    pub fn sentence_words(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        self.sentences.iter().map(|r| self.tokens[r.clone()].iter().map(|t| t.token.clone()).collect())
    }

    /// One answer for the whole text from its sentences' answers (in order): tokens and tags
    /// joined, entities' token indices counted from the text's first token and given their
    /// characters in the text, the unknown share over all tokens, and the sentences' places
    /// when the text was cut.
    pub fn joined(&self, answers: Vec<TagPrediction>) -> TagPrediction {
        let mut out = TagPrediction { tokens: self.words(), ..TagPrediction::default() };
        let mut unknown = 0.0;
        for ((range, chars), answer) in self.sentences.iter().zip(&self.sentence_chars).zip(answers) {
            unknown += answer.unknown * range.len() as f64;
            out.tags.extend(answer.tags);
            out.alternatives.extend(answer.alternatives);
            out.entities.extend(answer.entities.into_iter().map(|mut entity| {
                entity.span.start += range.start;
                entity.span.end += range.start;
                let (start, end) = (self.tokens[entity.span.start].start, self.tokens[entity.span.end - 1].end);
                entity.text = self.chars[start..end].iter().collect();
                entity.start_char = Some(start);
                entity.end_char = Some(end);
                entity
            }));
            if self.cut {
                out.sentences.push(SentencePlace {
                    start: range.start,
                    end: range.end,
                    start_char: chars.start,
                    end_char: chars.end,
                });
            }
        }
        if !self.tokens.is_empty() {
            out.unknown = unknown / self.tokens.len() as f64;
        }
        out
    }
}

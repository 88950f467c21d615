//! Tokenisation. Pre-tokenised corpora (CoNLL, SST-2) are split on whitespace only; raw text
//! (IMDB reviews, CSV, JSON Lines) goes through [`Tokenizer::Basic`].

/// How text becomes tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tokenizer {
    /// Split on Unicode whitespace, nothing else (for text that is already tokenised).
    Whitespace,
    /// Unicode-aware word splitting: runs of letters, digits and marks (with inner apostrophes
    /// and hyphens, as in `don't`, `well-known`) are words; every other non-space character
    /// (punctuation, symbols, emoji) is a token of its own; `<br />` tags become spaces.
    Basic,
}

impl Tokenizer {
    /// Splits `text` into tokens, lower-cased when `lowercase` is set.
    pub fn tokenize(&self, text: &str, lowercase: bool) -> Vec<String> {
        let tokens: Vec<String> = match self {
            Self::Whitespace => text.split_whitespace().map(String::from).collect(),
            Self::Basic => basic(&text.replace("<br />", " ").replace("<br/>", " ")),
        };
        if lowercase {
            tokens.into_iter().map(|t| t.to_lowercase()).collect()
        } else {
            tokens
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_general_mark(c)
}

/// Combining marks (accents written as separate code points) stay inside words.
fn unicode_general_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn basic(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let joins = matches!(c, '\'' | '’' | '-')
            && !word.is_empty()
            && chars.get(i + 1).is_some_and(|&n| is_word_char(n));
        if is_word_char(c) || joins {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_splits_punctuation_and_keeps_inner_apostrophes() {
        let t = Tokenizer::Basic.tokenize("Don't panic: it's a well-known café, naïve!<br />Great (9/10).", false);
        assert_eq!(t, ["Don't", "panic", ":", "it's", "a", "well-known", "café", ",", "naïve", "!", "Great", "(", "9", "/", "10", ")", "."]);
        assert_eq!(Tokenizer::Basic.tokenize("ÉTÉ Über", true), ["été", "über"]);
        assert_eq!(Tokenizer::Basic.tokenize("-- 'quoted' --", false), ["-", "-", "'", "quoted", "'", "-", "-"]);
    }

    #[test]
    fn whitespace_keeps_tokens_as_they_are() {
        assert_eq!(Tokenizer::Whitespace.tokenize("it 's  ( really )\tgood ", false), ["it", "'s", "(", "really", ")", "good"]);
    }
}

//! Tokenisation. Pre-tokenised corpora (CoNLL, SST-2) are split on whitespace only; raw text
//! (IMDB reviews, CSV, JSON Lines) goes through [`Tokenizer::Basic`]; raw text for a model
//! trained on Penn-Treebank-tokenised data (SST-2) goes through [`Tokenizer::Ptb`], which
//! [`detect_normalisation`] picks from the training tokens.

use std::sync::OnceLock;

use super::counts::TokenCounts;
use regex::Regex;

/// How text becomes tokens.
///
/// Names: `whitespace`, `basic`, `ptb` (or `treebank`), parsed with `str::parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum Tokenizer {
    /// Split on Unicode whitespace, nothing else (for text that is already tokenised).
    Whitespace,
    /// Unicode-aware word splitting: runs of letters, digits and marks (with inner apostrophes
    /// and hyphens, as in `don't`, `well-known`) are words; every other non-space character
    /// (punctuation, symbols, emoji) is a token of its own; `<br />` tags become spaces.
    Basic,
    /// The Penn Treebank's conventions, as NLTK's `TreebankWordTokenizer` writes them:
    /// punctuation split off (a period only at the end of the text), clitics split as
    /// `do n't`, `ca n't`, `it 's`, `we 're`, double quotes as `` `` `` and `''`. Text that is
    /// already tokenised this way comes back unchanged.
    #[strum(to_string = "ptb", serialize = "treebank")]
    Ptb,
}

impl Tokenizer {
    /// Splits `text` into tokens, lower-cased when `lowercase` is set.
    pub fn tokenize(&self, text: &str, lowercase: bool) -> Vec<String> {
        let tokens: Vec<String> = match self {
            Self::Whitespace => text.split_whitespace().map(String::from).collect(),
            Self::Basic => basic(&text.replace("<br />", " ").replace("<br/>", " ")),
            Self::Ptb => ptb(text),
        };
        if lowercase {
            tokens.into_iter().map(|t| t.to_lowercase()).collect()
        } else {
            tokens
        }
    }
}

/// How raw text is turned into a model's tokens: recorded with every trained model, so that
/// `predict` and `evaluate` read new text exactly as training read its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Normalisation {
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// Whether tokens are lower-cased.
    pub lowercase: bool,
}

impl Normalisation {
    /// The tokens of `text`.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.tokenizer.tokenize(text, self.lowercase)
    }
}

/// The clitics that the Penn Treebank writes as tokens of their own.
const CLITICS: [&str; 7] = ["n't", "'s", "'re", "'ve", "'ll", "'d", "'m"];

/// The normalisation that a corpus's tokens show: lower-casing when (almost) no token has an
/// upper-case letter (under 0.1 % of the letters), and [`Tokenizer::Ptb`] when clitics stand
/// as tokens of their own (`did n't`, `it 's`) more often than they are attached (`didn't`);
/// otherwise `default`.
pub fn detect_normalisation<'a>(tokens: impl IntoIterator<Item = &'a str>, default: Tokenizer) -> Normalisation {
    detect_normalisation_of(&TokenCounts::of(tokens), default)
}

/// [`detect_normalisation`] over the tokens counted in `counts`.
pub fn detect_normalisation_of(counts: &TokenCounts, default: Tokenizer) -> Normalisation {
    let (mut letters, mut upper, mut alone, mut attached) = (0usize, 0usize, 0usize, 0usize);
    for (token, n) in counts.iter() {
        letters += n * token.chars().filter(|c| c.is_alphabetic()).count();
        upper += n * token.chars().filter(|c| c.is_uppercase()).count();
        let lower = token.to_lowercase();
        if CLITICS.contains(&lower.as_str()) {
            alone += n;
        } else if CLITICS.iter().any(|c| {
            lower.len() > c.len()
                && lower.ends_with(c)
                && lower[..lower.len() - c.len()].chars().all(char::is_alphabetic)
        }) {
            attached += n;
        }
    }
    let lowercase = letters > 0 && (upper as f64) < 0.001 * letters as f64;
    let tokenizer = if alone > attached { Tokenizer::Ptb } else { default };
    Normalisation { tokenizer, lowercase }
}

/// NLTK's `TreebankWordTokenizer` rules, in its order (starting quotes, punctuation,
/// brackets, dashes, ending quotes and clitics), with three changes that keep text already in
/// PTB form, as the Stanford Sentiment Treebank writes it, unchanged: a `''` after a space stays
/// a closing quote (NLTK turns it into an opening one), `&` stays inside words (`s&m`, `at&t`),
/// and `cannot`, `gonna`, `gotta`, `wanna` stay whole.
fn ptb(text: &str) -> Vec<String> {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (r#"^""#, "``"),
            (r"(``)", " $1 "),
            (r#"([ (\[{<])""#, "$1 `` "),
            (r"([:,])([^\d])", " $1 $2"),
            (r"([:,])$", " $1 "),
            (r"\.\.\.", " ... "),
            (r"[;@#$%]", " $0 "),
            (r#"([^.])(\.)([\])}>"']*)\s*$"#, "$1 $2$3 "),
            (r"[?!]", " $0 "),
            (r"([^'])' ", "$1 ' "),
            (r"[\]\[(){}<>]", " $0 "),
            (r"--", " -- "),
            (r"^", " "),
            (r"$", " "),
            (r#"""#, " '' "),
            (r"(\S)('')", "$1 $2 "),
            (r"([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
            (r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "),
        ]
        .into_iter()
        .map(|(pattern, replacement)| (Regex::new(pattern).expect("a valid PTB rule"), replacement))
        .collect()
    });
    let mut text = text.replace(['’', '‘'], "'").replace(['“', '”'], "\"");
    for (rule, replacement) in rules {
        text = rule.replace_all(&text, *replacement).into_owned();
    }
    text.split_whitespace().map(String::from).collect()
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
        let joins =
            matches!(c, '\'' | '’' | '-') && !word.is_empty() && chars.get(i + 1).is_some_and(|&n| is_word_char(n));
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
        assert_eq!(
            t,
            [
                "Don't",
                "panic",
                ":",
                "it's",
                "a",
                "well-known",
                "café",
                ",",
                "naïve",
                "!",
                "Great",
                "(",
                "9",
                "/",
                "10",
                ")",
                "."
            ]
        );
        assert_eq!(Tokenizer::Basic.tokenize("ÉTÉ Über", true), ["été", "über"]);
        assert_eq!(Tokenizer::Basic.tokenize("-- 'quoted' --", false), ["-", "-", "'", "quoted", "'", "-", "-"]);
    }

    #[test]
    fn whitespace_keeps_tokens_as_they_are() {
        assert_eq!(
            Tokenizer::Whitespace.tokenize("it 's  ( really )\tgood ", false),
            ["it", "'s", "(", "really", ")", "good"]
        );
    }
}

//! Tokenisation. Pre-tokenised corpora (CoNLL, SST-2) are split on whitespace only; raw text
//! (IMDB reviews, CSV, JSON Lines) goes through [`Tokenizer::Basic`]; raw text for a model
//! trained on Penn-Treebank-tokenised data (SST-2) goes through [`Tokenizer::Ptb`], which
//! [`detect_normalisation`] picks from the training tokens. [`Tokenizer::spans`] gives each
//! token's place in the text, for answers that point into it.

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
    /// [`Tokenizer::Ptb`]'s splits with every token as the text writes it (a double quote stays
    /// `"`, a curly apostrophe stays `’`): punctuation and clitics split off, `U.S.` and `1,000`
    /// kept whole, as CoNLL-2003's files are tokenised. A tagger trained on pre-tokenised files
    /// reads raw text this way.
    Words,
}

/// A token and its place in the text it was read from: characters `start..end`, counted in
/// Unicode scalar values (what Python's `str` indexes), so `text[start:end]` in Python is the
/// token's surface. For [`Tokenizer::Ptb`] the token may differ from its surface (`` ` ` `` for
/// `"`); for every other tokenizer they are equal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenSpan {
    /// The token.
    pub token: String,
    /// Its first character.
    pub start: usize,
    /// One past its last character.
    pub end: usize,
}

impl Tokenizer {
    /// Splits `text` into tokens, lower-cased when `lowercase` is set.
    pub fn tokenize(&self, text: &str, lowercase: bool) -> Vec<String> {
        let tokens: Vec<String> = match self {
            // The readers' path over whole corpora: no places needed, so none are counted.
            Self::Whitespace => text.split_whitespace().map(String::from).collect(),
            Self::Ptb => ptb(text),
            _ => self.spans(text).into_iter().map(|s| s.token).collect(),
        };
        if lowercase {
            tokens.into_iter().map(|t| t.to_lowercase()).collect()
        } else {
            tokens
        }
    }

    /// The tokens of `text` (as written, not lower-cased) with their places in it.
    pub fn spans(&self, text: &str) -> Vec<TokenSpan> {
        match self {
            Self::Whitespace => whitespace(text),
            Self::Basic => basic(text),
            Self::Ptb => aligned(text, ptb(text), false),
            Self::Words => dotted_whole(aligned(text, ptb(text), true)),
        }
    }
}

/// `U.S` followed at once by `.` joined into `U.S.`: the Penn Treebank splits the period off a
/// text's last word, which for a dotted abbreviation leaves a word CoNLL-2003 never writes.
fn dotted_whole(spans: Vec<TokenSpan>) -> Vec<TokenSpan> {
    let mut out: Vec<TokenSpan> = Vec::with_capacity(spans.len());
    for span in spans {
        if let Some(last) = out.last_mut() {
            let dotted = last.token.contains('.')
                && last.token.split('.').all(|part| part.chars().count() == 1 && part.chars().all(char::is_alphabetic));
            if span.token == "." && span.start == last.end && dotted {
                last.token.push('.');
                last.end = span.end;
                continue;
            }
        }
        out.push(span);
    }
    out
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

/// Runs of non-space characters, with their places.
fn whitespace(text: &str) -> Vec<TokenSpan> {
    let mut spans = Vec::new();
    let mut token: Option<(String, usize)> = None;
    for (i, c) in text.chars().enumerate() {
        if c.is_whitespace() {
            if let Some((token, start)) = token.take() {
                spans.push(TokenSpan { token, start, end: i });
            }
        } else {
            token.get_or_insert_with(|| (String::new(), i)).0.push(c);
        }
    }
    if let Some((token, start)) = token {
        let end = start + token.chars().count();
        spans.push(TokenSpan { token, start, end });
    }
    spans
}

/// [`Tokenizer::Basic`]: `<br />` and `<br/>` read as spaces (their characters keep their
/// places, so the offsets stay the text's).
fn basic(text: &str) -> Vec<TokenSpan> {
    let mut chars: Vec<char> = text.chars().collect();
    for tag in ["<br />", "<br/>"] {
        let tag: Vec<char> = tag.chars().collect();
        let mut i = 0;
        while i + tag.len() <= chars.len() {
            if chars[i..i + tag.len()] == tag[..] {
                chars[i..i + tag.len()].fill(' ');
                i += tag.len();
            } else {
                i += 1;
            }
        }
    }
    let mut spans = Vec::new();
    let mut start = None;
    let close = |spans: &mut Vec<TokenSpan>, start: usize, end: usize| {
        spans.push(TokenSpan { token: chars[start..end].iter().collect(), start, end });
    };
    for (i, &c) in chars.iter().enumerate() {
        let joins =
            matches!(c, '\'' | '’' | '-') && start.is_some() && chars.get(i + 1).is_some_and(|&n| is_word_char(n));
        if is_word_char(c) || joins {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            close(&mut spans, s, i);
        }
        if !c.is_whitespace() {
            close(&mut spans, i, i + 1);
        }
    }
    if let Some(s) = start {
        close(&mut spans, s, chars.len());
    }
    spans
}

/// Tokens of `text` that a rewriting tokenizer made (PTB: spaces inserted, quotes and curly
/// apostrophes written the Treebank's way, nothing dropped), each found in `text` after the
/// one before; with `surface`, each token is replaced by the text it was found at.
fn aligned(text: &str, tokens: Vec<String>, surface: bool) -> Vec<TokenSpan> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    tokens
        .into_iter()
        .map(|token| {
            while chars.get(at).is_some_and(|c| c.is_whitespace()) {
                at += 1;
            }
            let start = at;
            // Every PTB rule keeps the text's characters, so a token is always found where the
            // last one ended; its own length is the fallback should a rule ever not.
            let end = found_at(&chars, at, &token).unwrap_or((at + token.chars().count()).min(chars.len()));
            at = end;
            let token = if surface { chars[start..end].iter().collect() } else { token };
            TokenSpan { token, start, end }
        })
        .collect()
}

/// Where `token` ends if it is written at `chars[at..]`, a Treebank quote (` `` `, `''`) standing
/// for one double quote and `'` for a curly apostrophe.
fn found_at(chars: &[char], at: usize, token: &str) -> Option<usize> {
    if matches!(token, "``" | "''") && matches!(chars.get(at), Some('"' | '“' | '”')) {
        return Some(at + 1);
    }
    let mut end = at;
    for c in token.chars() {
        let written = *chars.get(end)?;
        if written != c && !(c == '\'' && matches!(written, '’' | '‘')) {
            return None;
        }
        end += 1;
    }
    Some(end)
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

    /// Whether `surface` is written `token` in the Penn Treebank's way (a double quote as
    /// ` `` ` or `''`, a curly apostrophe as `'`).
    fn ptb_writes(surface: &str, token: &str) -> bool {
        let straight = surface.replace(['’', '‘'], "'");
        straight == token || (matches!(surface, "\"" | "“" | "”") && matches!(token, "``" | "''"))
    }

    #[test]
    fn every_token_points_at_its_surface() {
        let texts = [
            "He didn't say \"no\" to the U.S. Army.",
            "“Quoted” it’s — fine 😀👍🏽 naïve e\u{301}te\u{301} café",
            "line one\r\nline two\r\n",
            "<br />Great<br/>film, isn't it?",
            "  spaced   out  ",
            "Ca n't stop ... (really) -- 1,000.5 at&t $5 #tag @me ``yes'' 'single'",
            "",
        ];
        for tokenizer in [Tokenizer::Whitespace, Tokenizer::Basic, Tokenizer::Ptb, Tokenizer::Words] {
            for text in texts {
                let chars: Vec<char> = text.chars().collect();
                let spans = tokenizer.spans(text);
                let tokens: Vec<String> = spans.iter().map(|s| s.token.clone()).collect();
                assert_eq!(tokens, tokenizer.tokenize(text, false), "{tokenizer:?} on {text:?}");
                let mut last = 0;
                for span in &spans {
                    assert!(last <= span.start && span.start < span.end && span.end <= chars.len(), "{span:?}");
                    let surface: String = chars[span.start..span.end].iter().collect();
                    if tokenizer == Tokenizer::Ptb {
                        assert!(ptb_writes(&surface, &span.token), "{surface:?} is not {:?} in {text:?}", span.token);
                    } else {
                        assert_eq!(surface, span.token, "{tokenizer:?} on {text:?}");
                    }
                    last = span.end;
                }
            }
        }
    }

    #[test]
    fn words_splits_raw_text_as_conll_is_split() {
        let words = |text: &str| Tokenizer::Words.tokenize(text, false);
        assert_eq!(
            words("Microsoft moved to Redmond, Washington."),
            ["Microsoft", "moved", "to", "Redmond", ",", "Washington", "."]
        );
        assert_eq!(
            words("He didn't say \"no\" to the U.S. Army in 1,000 cases."),
            ["He", "did", "n't", "say", "\"", "no", "\"", "to", "the", "U.S.", "Army", "in", "1,000", "cases", "."]
        );
        assert_eq!(words("in the U.S."), ["in", "the", "U.S."]);
        assert_eq!(words("We met."), ["We", "met", "."]);
        // Pre-tokenised text stays as it is.
        let conll = "EU rejects German call to boycott British lamb .";
        assert_eq!(words(conll), conll.split(' ').collect::<Vec<_>>());
    }

    #[test]
    fn whitespace_keeps_tokens_as_they_are() {
        assert_eq!(
            Tokenizer::Whitespace.tokenize("it 's  ( really )\tgood ", false),
            ["it", "'s", "(", "really", ")", "good"]
        );
    }
}

//! Vocabularies: word ids with `<pad>` = 0 and `<unk>` = 1, a casing feature, characters.

use std::collections::HashMap;
use std::path::Path;

use super::counts::TokenCounts;
use crate::error::DataError;

/// Id of the padding token in every vocabulary.
pub const PAD: usize = 0;
/// Id of the unknown token in every vocabulary.
pub const UNK: usize = 1;

/// How a vocabulary is built.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VocabConfig {
    /// Tokens seen fewer times are left out (mapped to `<unk>`).
    pub min_freq: usize,
    /// At most this many entries, `<pad>` and `<unk>` included; the most frequent win.
    pub max_size: Option<usize>,
    /// Lower-case tokens before counting and lookup (the casing survives as a feature).
    pub lowercase: bool,
}

impl Default for VocabConfig {
    fn default() -> Self {
        Self { min_freq: 1, max_size: None, lowercase: false }
    }
}

/// A token ↔ id map. Ids: `<pad>` 0, `<unk>` 1, then by descending frequency (ties
/// alphabetical), so a vocabulary is the same for the same corpus whatever its order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Vocab {
    /// Entries by id.
    pub tokens: Vec<String>,
    /// Whether lookup lower-cases first.
    pub lowercase: bool,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl Vocab {
    /// Builds a vocabulary from training tokens.
    pub fn build<'a>(tokens: impl IntoIterator<Item = &'a str>, config: &VocabConfig) -> Self {
        Self::from_counts(&TokenCounts::of(tokens), config)
    }

    /// Builds a vocabulary from the counts of the training tokens (the same vocabulary as
    /// [`Vocab::build`] over those tokens).
    pub fn from_counts(counts: &TokenCounts, config: &VocabConfig) -> Self {
        let mut merged: HashMap<String, usize> = HashMap::new();
        for (token, n) in counts.iter() {
            let key = if config.lowercase { token.to_lowercase() } else { token.to_string() };
            *merged.entry(key).or_default() += n;
        }
        let mut entries: Vec<(String, usize)> =
            merged.into_iter().filter(|(_, n)| *n >= config.min_freq.max(1)).collect();
        entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut tokens = vec!["<pad>".to_string(), "<unk>".to_string()];
        tokens.extend(entries.into_iter().map(|(t, _)| t).filter(|t| t != "<pad>" && t != "<unk>"));
        if let Some(max) = config.max_size {
            tokens.truncate(max.max(2));
        }
        Self::from_tokens(tokens, config.lowercase)
    }

    /// A vocabulary from its entries (`tokens[0]` must be `<pad>`, `tokens[1]` `<unk>`).
    pub fn from_tokens(tokens: Vec<String>, lowercase: bool) -> Self {
        let index = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
        Self { tokens, lowercase, index }
    }

    /// This vocabulary with `words` appended after its entries, in the order given (keyed as
    /// lookup keys them, lower-cased for a lower-casing vocabulary; words already present are
    /// skipped).
    pub fn extended<'a>(&self, words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tokens = self.tokens.clone();
        let mut seen: std::collections::HashSet<String> = tokens.iter().cloned().collect();
        for word in words {
            let key = if self.lowercase { word.to_lowercase() } else { word.to_string() };
            if seen.insert(key.clone()) {
                tokens.push(key);
            }
        }
        Self::from_tokens(tokens, self.lowercase)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether only `<pad>` and `<unk>` are there.
    pub fn is_empty(&self) -> bool {
        self.tokens.len() <= 2
    }

    /// The id of a token (`UNK` if absent).
    pub fn id(&self, token: &str) -> usize {
        self.get(token).unwrap_or(UNK)
    }

    /// The id of a token, `None` if absent.
    pub fn get(&self, token: &str) -> Option<usize> {
        if self.lowercase {
            self.index.get(&token.to_lowercase()).copied()
        } else {
            self.index.get(token).copied()
        }
    }

    /// Ids of a token sequence.
    pub fn encode<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<usize> {
        tokens.iter().map(|t| self.id(t.as_ref())).collect()
    }

    /// Saves as JSON.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DataError> {
        save_json(path.as_ref(), self)
    }

    /// Loads a vocabulary saved by [`Vocab::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let v: Vocab = load_json(path)?;
        if v.tokens.get(PAD).map(String::as_str) != Some("<pad>")
            || v.tokens.get(UNK).map(String::as_str) != Some("<unk>")
        {
            return Err(DataError::file(path, "not a seqlab vocabulary: entries 0 and 1 must be <pad> and <unk>"));
        }
        Ok(Self::from_tokens(v.tokens, v.lowercase))
    }
}

pub(crate) fn save_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), DataError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| DataError::file(path, e.to_string()))?;
    std::fs::write(path, text).map_err(|e| DataError::file(path, format!("cannot write: {e}")))
}

pub(crate) fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, DataError> {
    let text = crate::regular::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| DataError::line(path, e.line(), format!("invalid JSON: {e}")))
}

/// The shape of a token, a strong cue for names (`Peter`, `EU`) that lower-casing would lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Casing {
    /// Id 0 is padding.
    Pad = 0,
    /// `word`
    Lower = 1,
    /// `Word`
    InitialCap = 2,
    /// `WORD`
    AllCaps = 3,
    /// `wOrD`, `McDonald`
    Mixed = 4,
    /// Digits only, possibly with `.,-/:` (`1996`, `3.5`, `12-0`)
    Numeric = 5,
    /// Punctuation or symbols only
    Punctuation = 6,
    /// Anything else (letters with digits, …)
    Other = 7,
}

impl Casing {
    /// Number of ids, padding included (the size of a casing embedding).
    pub const COUNT: usize = 8;

    /// The casing class of a token.
    pub fn of(token: &str) -> Self {
        let letters: Vec<char> = token.chars().filter(|c| c.is_alphabetic()).collect();
        let has_digit = token.chars().any(char::is_numeric);
        if letters.is_empty() {
            if has_digit && token.chars().all(|c| c.is_numeric() || ".,-/:".contains(c)) {
                return Self::Numeric;
            }
            if !has_digit && !token.is_empty() {
                return Self::Punctuation;
            }
            return Self::Other;
        }
        if has_digit {
            return Self::Other;
        }
        let upper = letters.iter().filter(|c| c.is_uppercase()).count();
        match upper {
            0 => Self::Lower,
            n if n == letters.len() => Self::AllCaps,
            1 if letters[0].is_uppercase() => Self::InitialCap,
            _ => Self::Mixed,
        }
    }

    /// The feature id.
    pub fn id(self) -> usize {
        self as usize
    }
}

/// A character vocabulary (`<pad>` 0, `<unk>` 1), for character-level features.
pub fn char_vocab<'a>(tokens: impl IntoIterator<Item = &'a str>, min_freq: usize) -> Vocab {
    char_vocab_of(&TokenCounts::of(tokens), min_freq)
}

/// The character vocabulary of the tokens counted in `counts` (as [`char_vocab`] over them).
pub fn char_vocab_of(counts: &TokenCounts, min_freq: usize) -> Vocab {
    Vocab::from_counts(&counts.chars(), &VocabConfig { min_freq, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_by_frequency_with_pad_and_unk_first() {
        let tokens = "the cat saw the dog and the Cat".split(' ');
        let v = Vocab::build(tokens.clone(), &VocabConfig::default());
        assert_eq!(&v.tokens[..4], ["<pad>", "<unk>", "the", "Cat"]);
        assert_eq!(v.id("the"), 2);
        assert_eq!(v.id("zebra"), UNK);
        let lower = Vocab::build(tokens.clone(), &VocabConfig { lowercase: true, min_freq: 2, max_size: None });
        assert_eq!(lower.tokens, ["<pad>", "<unk>", "the", "cat"]);
        assert_eq!(lower.id("CAT"), 3);
        let small = Vocab::build(tokens, &VocabConfig { max_size: Some(3), ..Default::default() });
        assert_eq!(small.len(), 3);
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = std::env::temp_dir().join(format!("seqlab-vocab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v = Vocab::build("a b b c".split(' '), &VocabConfig { lowercase: true, ..Default::default() });
        v.save(dir.join("vocab.json")).unwrap();
        let back = Vocab::load(dir.join("vocab.json")).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.id("B"), 2);
        std::fs::write(dir.join("bad.json"), "{\"tokens\": [\"a\"], \"lowercase\": false}").unwrap();
        assert!(Vocab::load(dir.join("bad.json")).unwrap_err().to_string().contains("<pad>"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn casing_classes() {
        use Casing::*;
        let cases = [
            ("word", Lower),
            ("Word", InitialCap),
            ("EU", AllCaps),
            ("McDonald", Mixed),
            ("1996", Numeric),
            ("3.5", Numeric),
            ("12-0", Numeric),
            (",", Punctuation),
            ("(", Punctuation),
            ("F16", Other),
            ("Été", InitialCap),
        ];
        for (token, casing) in cases {
            assert_eq!(Casing::of(token), casing, "{token}");
        }
    }
}

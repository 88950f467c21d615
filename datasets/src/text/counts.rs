//! Token counts in order of first appearance: what a vocabulary, the input normalisation, the
//! character vocabulary and the pretrained vectors need from a corpus, without its running
//! text. Counts of consecutive parts of a corpus merge into the counts of the whole.

use std::collections::HashMap;

/// Each distinct token once, in order of first appearance, with how often it occurs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenCounts {
    entries: Vec<(String, usize)>,
    index: HashMap<String, usize>,
}

impl TokenCounts {
    /// Counts of `tokens`.
    pub fn of<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts = Self::default();
        counts.add_all(tokens);
        counts
    }

    /// Counts one more occurrence of `token`.
    pub fn add(&mut self, token: &str) {
        self.add_count(token, 1);
    }

    /// Counts every token of `tokens`.
    pub fn add_all<'a>(&mut self, tokens: impl IntoIterator<Item = &'a str>) {
        tokens.into_iter().for_each(|t| self.add(t));
    }

    /// Counts `n` more occurrences of `token`.
    pub fn add_count(&mut self, token: &str, n: usize) {
        match self.index.get(token) {
            Some(&i) => self.entries[i].1 += n,
            None => {
                self.index.insert(token.to_string(), self.entries.len());
                self.entries.push((token.to_string(), n));
            }
        }
    }

    /// Adds the counts of the part of the corpus that follows this one.
    pub fn merge(&mut self, later: TokenCounts) {
        for (token, n) in later.entries {
            self.add_count(&token, n);
        }
    }

    /// Distinct tokens with their counts, in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (&str, usize)> + '_ {
        self.entries.iter().map(|(t, n)| (t.as_str(), *n))
    }

    /// Distinct tokens, in order of first appearance.
    pub fn tokens(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.iter().map(|(t, _)| t.as_str())
    }

    /// Number of running tokens.
    pub fn total(&self) -> usize {
        self.entries.iter().map(|(_, n)| n).sum()
    }

    /// Number of distinct tokens.
    pub fn distinct(&self) -> usize {
        self.entries.len()
    }

    /// How often `token` occurs.
    pub fn count(&self, token: &str) -> usize {
        self.index.get(token).map_or(0, |&i| self.entries[i].1)
    }

    /// The counts of the characters of the tokens, in order of first appearance.
    pub fn chars(&self) -> TokenCounts {
        let mut chars = TokenCounts::default();
        for (token, n) in self.iter() {
            for c in token.chars() {
                chars.add_count(c.encode_utf8(&mut [0; 4]), n);
            }
        }
        chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_parts_count_as_the_whole_in_first_appearance_order() {
        let whole = TokenCounts::of("b a b c a b".split(' '));
        let mut first = TokenCounts::of("b a b".split(' '));
        first.merge(TokenCounts::of("c a b".split(' ')));
        assert_eq!(first, whole);
        assert_eq!(whole.iter().collect::<Vec<_>>(), [("b", 3), ("a", 2), ("c", 1)]);
        assert_eq!((whole.total(), whole.distinct(), whole.count("a"), whole.count("z")), (6, 3, 2, 0));
        let chars = TokenCounts::of(["ab", "b"]).chars();
        assert_eq!(chars.iter().collect::<Vec<_>>(), [("a", 1), ("b", 2)]);
    }
}

//! Which tag scheme a tagged corpus is written in.

use super::scheme::{split_tag, validate, Prefix, TagScheme};

/// The scheme of a set of tag sequences: IOBES if any `E-`/`S-` (or `L-`/`U-`) tag occurs;
/// else IOB2 if every sequence is valid IOB2; else IOB1 (an `I-` may start an entity).
pub fn detect_scheme<'a, S: AsRef<str> + 'a>(sequences: impl IntoIterator<Item = &'a [S]>) -> TagScheme {
    let mut evidence = SchemeEvidence::default();
    sequences.into_iter().for_each(|s| evidence.add(s));
    evidence.scheme()
}

/// What [`detect_scheme`] decides from, gathered sequence by sequence (and part by part).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeEvidence {
    /// Whether an `E-`/`S-` tag occurred.
    ends: bool,
    /// Whether every sequence so far is valid IOB2.
    iob2: bool,
}

impl Default for SchemeEvidence {
    fn default() -> Self {
        Self { ends: false, iob2: true }
    }
}

impl SchemeEvidence {
    /// Adds one tag sequence.
    pub fn add<S: AsRef<str>>(&mut self, tags: &[S]) {
        self.ends |= tags.iter().any(|t| matches!(split_tag(t.as_ref()), Ok((Prefix::E | Prefix::S, _))));
        self.iob2 = self.iob2 && validate(tags, TagScheme::Iob2).is_empty();
    }

    /// Adds the evidence of other sequences.
    pub fn merge(&mut self, other: SchemeEvidence) {
        self.ends |= other.ends;
        self.iob2 &= other.iob2;
    }

    /// The scheme the sequences are written in.
    pub fn scheme(&self) -> TagScheme {
        if self.ends {
            TagScheme::Iobes
        } else if self.iob2 {
            TagScheme::Iob2
        } else {
            TagScheme::Iob1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_scheme() {
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let iob1 = [v("I-PER I-PER O"), v("O I-LOC")];
        let iob2 = [v("B-PER I-PER O"), v("O B-LOC")];
        let iobes = [v("B-PER E-PER O"), v("O S-LOC")];
        assert_eq!(detect_scheme(iob1.iter().map(Vec::as_slice)), TagScheme::Iob1);
        assert_eq!(detect_scheme(iob2.iter().map(Vec::as_slice)), TagScheme::Iob2);
        assert_eq!(detect_scheme(iobes.iter().map(Vec::as_slice)), TagScheme::Iobes);
    }
}

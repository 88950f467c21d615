//! Which tag scheme a tagged corpus is written in.

use super::scheme::{split_tag, validate, Prefix, TagScheme};

/// The scheme of a set of tag sequences: IOBES if any `E-`/`S-` (or `L-`/`U-`) tag occurs;
/// else IOB2 if every sequence is valid IOB2; else IOB1 (an `I-` may start an entity).
pub fn detect_scheme<'a, S: AsRef<str> + 'a>(sequences: impl IntoIterator<Item = &'a [S]> + Clone) -> TagScheme {
    let ends = sequences
        .clone()
        .into_iter()
        .flatten()
        .any(|t| matches!(split_tag(t.as_ref()), Ok((Prefix::E | Prefix::S, _))));
    if ends {
        TagScheme::Iobes
    } else if sequences.into_iter().all(|s| validate(s, TagScheme::Iob2).is_empty()) {
        TagScheme::Iob2
    } else {
        TagScheme::Iob1
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

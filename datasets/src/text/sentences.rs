//! Paragraphs split into sentences by the sentence boundaries of Unicode's text segmentation
//! (UAX #29, through the `unicode-segmentation` crate): language-independent rules about
//! terminal punctuation, closing quotes and brackets, and the case of the next letter, so
//! `e.g. this` and `3.5` are not cut, nor is `… trading. 8 people were hurt`, where what follows
//! the period reaches a lower-case word before a capital. UAX #29 has no list of
//! abbreviations; one rule is added: no cut after a dotted abbreviation (`U.S.`, `J.`) or a
//! title (`Mr.`, `Dr.`, [`TITLES`]), so `The U.S. Federal Reserve` and `Mr. Smith` stay whole
//! (and a sentence that ends in `U.S.` runs on into the next).

use unicode_segmentation::UnicodeSegmentation;

/// Titles written with a period after which a sentence does not end.
pub const TITLES: [&str; 16] =
    ["Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Mt", "Gen", "Sen", "Rep", "Gov", "Lt", "Col", "Capt", "Sgt", "Rev"];

/// The sentences of `text` as character ranges (Unicode scalar values, as [`super::TokenSpan`]
/// counts them), leading and trailing whitespace left out; whitespace alone is no sentence.
pub fn sentences(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut chars_before = 0;
    let mut bytes_before = 0;
    let mut run_on = false;
    for (byte, sentence) in text.split_sentence_bound_indices() {
        chars_before += text[bytes_before..byte].chars().count();
        bytes_before = byte;
        let leading = sentence.chars().take_while(|c| c.is_whitespace()).count();
        let length = sentence.chars().count();
        let trailing = sentence.chars().rev().take_while(|c| c.is_whitespace()).count();
        if leading == length {
            continue;
        }
        let range = chars_before + leading..chars_before + length - trailing;
        match out.last_mut() {
            Some(last) if run_on => last.end = range.end,
            _ => out.push(range),
        }
        run_on = ends_in_abbreviation(sentence.trim_end());
    }
    out
}

/// Whether `sentence` ends in a dotted abbreviation (`U.S.`, `e.g.`, an initial `J.`) or a title
/// ([`TITLES`]).
fn ends_in_abbreviation(sentence: &str) -> bool {
    let Some(word) = sentence.split_whitespace().last().and_then(|w| w.strip_suffix('.')) else {
        return false;
    };
    let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    let dotted = !word.is_empty()
        && word.split('.').all(|part| part.chars().count() == 1 && part.chars().all(char::is_alphabetic));
    dotted || TITLES.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        sentences(text).into_iter().map(|r| chars[r].iter().collect()).collect()
    }

    #[test]
    fn a_paragraph_is_cut_after_its_sentences() {
        assert_eq!(
            texts("  Angela Merkel visited Berlin. Siemens AG hired 3.5 thousand people!  Was it \"big\"? Yes.\r\n"),
            ["Angela Merkel visited Berlin.", "Siemens AG hired 3.5 thousand people!", "Was it \"big\"?", "Yes."]
        );
        assert_eq!(texts("Ünïcode café. Ça va."), ["Ünïcode café.", "Ça va."]);
        assert_eq!(
            texts("The U.S. Federal Reserve met Mr. Powell and J. Smith. Rates held."),
            ["The U.S. Federal Reserve met Mr. Powell and J. Smith.", "Rates held."]
        );
        assert!(texts(" \t ").is_empty());
    }
}

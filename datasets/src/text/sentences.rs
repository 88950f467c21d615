//! Paragraphs split into sentences by the sentence boundaries of Unicode's text segmentation
//! (UAX #29, through the `unicode-segmentation` crate): language-independent rules about
//! terminal punctuation, closing quotes and brackets, and the case of the next letter, with no
//! list of abbreviations, so `Mr. Smith` is cut after `Mr.` while `e.g. this` and `3.5` are
//! not cut, nor is `… trading. 8 people were hurt`, where what follows the period reaches a
//! lower-case word before a capital.

use unicode_segmentation::UnicodeSegmentation;

/// The sentences of `text` as character ranges (Unicode scalar values, as [`super::TokenSpan`]
/// counts them), leading and trailing whitespace left out; whitespace alone is no sentence.
pub fn sentences(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut chars_before = 0;
    let mut bytes_before = 0;
    for (byte, sentence) in text.split_sentence_bound_indices() {
        chars_before += text[bytes_before..byte].chars().count();
        bytes_before = byte;
        let leading = sentence.chars().take_while(|c| c.is_whitespace()).count();
        let length = sentence.chars().count();
        let trailing = sentence.chars().rev().take_while(|c| c.is_whitespace()).count();
        if leading < length {
            out.push(chars_before + leading..chars_before + length - trailing);
        }
    }
    out
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
        assert!(texts(" \t ").is_empty());
    }
}

//! Tag schemes for entity spans: IOB1 (CoNLL-2003's own), IOB2/BIO and IOBES/BIOES, with span
//! extraction, lossless conversion through spans, and a report of invalid transitions.
//!
//! | scheme | a 1-token entity | a 3-token entity | `B-` means |
//! | --- | --- | --- | --- |
//! | IOB1 | `I-X` | `I-X I-X I-X` | a new entity right after one of the same type |
//! | IOB2 | `B-X` | `B-X I-X I-X` | every entity's first token |
//! | IOBES | `S-X` | `B-X I-X E-X` | first token of a multi-token entity |
//!
//! `L-` and `U-` (BILOU) are read as `E-` and `S-`.

use std::fmt;

/// A tagging scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum TagScheme {
    /// IOB1: `I-` inside entities, `B-` only to separate adjacent entities of the same type.
    #[strum(to_string = "iob1", serialize = "iob")]
    Iob1,
    /// IOB2 (BIO): `B-` starts every entity.
    #[strum(to_string = "iob2", serialize = "bio")]
    Iob2,
    /// IOBES (BIOES): `B-`, `I-`, `E-` for multi-token entities, `S-` for single tokens.
    #[strum(to_string = "iobes", serialize = "bioes", serialize = "bilou")]
    Iobes,
}

impl TagScheme {
    /// All schemes.
    pub const ALL: [TagScheme; 3] = [TagScheme::Iob1, TagScheme::Iob2, TagScheme::Iobes];

    /// Lower-case name.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for TagScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The position prefix of a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// Outside any entity (`O`).
    O,
    /// `B-`: begin.
    B,
    /// `I-`: inside.
    I,
    /// `E-` (or `L-`): end.
    E,
    /// `S-` (or `U-`): single.
    S,
}

/// A tag split into prefix and entity type (`B-PER` → `(B, "PER")`, `O` → `(O, "")`).
pub fn split_tag(tag: &str) -> Result<(Prefix, &str), String> {
    if tag == "O" {
        return Ok((Prefix::O, ""));
    }
    let (head, kind) = tag
        .split_once(['-', '_'])
        .filter(|(head, kind)| head.len() == 1 && !kind.is_empty())
        .ok_or_else(|| format!("tag {tag:?} is neither `O` nor PREFIX-TYPE (prefix B, I, E, S, L or U)"))?;
    let prefix = match head {
        "B" => Prefix::B,
        "I" => Prefix::I,
        "E" | "L" => Prefix::E,
        "S" | "U" => Prefix::S,
        _ => return Err(format!("tag {tag:?} has unknown prefix {head:?} (expected B, I, E, S, L or U)")),
    };
    Ok((prefix, kind))
}

/// An entity: tokens `start..end` (end exclusive) of type `label`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// Entity type, e.g. `PER`.
    pub label: String,
}

fn parsed<S: AsRef<str>>(tags: &[S]) -> Vec<(Prefix, &str)> {
    // Malformed tags are read as `O`: validation reports them, extraction ignores them.
    tags.iter().map(|t| split_tag(t.as_ref()).unwrap_or((Prefix::O, ""))).collect()
}

/// Entities as conlleval (and seqeval's default mode) reads them, whatever the scheme: an
/// `I-X` after `O` or after another type starts an entity, `B-`/`S-` always start one, `E-`/`S-`
/// end one. Works for IOB1, IOB2 and IOBES alike.
pub fn spans<S: AsRef<str>>(tags: &[S]) -> Vec<Span> {
    let tags = parsed(tags);
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    let (mut prev, mut prev_kind) = (Prefix::O, "");
    for (i, &(prefix, kind)) in tags.iter().enumerate() {
        if open.is_some() && chunk_ends(prev, prefix, prev_kind, kind) {
            let (start, label) = open.take().unwrap();
            out.push(Span { start, end: i, label: label.to_string() });
        }
        if chunk_starts(prev, prefix, prev_kind, kind) {
            open = Some((i, kind));
        }
        (prev, prev_kind) = (prefix, kind);
    }
    if let Some((start, label)) = open {
        out.push(Span { start, end: tags.len(), label: label.to_string() });
    }
    out
}

fn chunk_ends(prev: Prefix, tag: Prefix, prev_kind: &str, kind: &str) -> bool {
    use Prefix::*;
    matches!(prev, E | S) || (matches!(prev, B | I) && matches!(tag, B | S | O)) || (prev != O && prev_kind != kind)
}

fn chunk_starts(prev: Prefix, tag: Prefix, prev_kind: &str, kind: &str) -> bool {
    use Prefix::*;
    matches!(tag, B | S) || (matches!(prev, E | S | O) && matches!(tag, E | I)) || (tag != O && prev_kind != kind)
}

/// Entities under a scheme's strict rules (seqeval's `mode="strict"`): only well-formed
/// entities count. IOB2: `B-X (I-X)*`; IOBES: `B-X (I-X)* E-X` or `S-X`; IOB1: as [`spans`]
/// (every IOB1 sequence decodes), without `E-`/`S-` tags.
pub fn spans_strict<S: AsRef<str>>(tags: &[S], scheme: TagScheme) -> Vec<Span> {
    use Prefix::*;
    let tags = parsed(tags);
    let mut out = Vec::new();
    match scheme {
        TagScheme::Iob1 => {
            let cleaned: Vec<&str> =
                tags.iter().zip(0..).map(|((p, _), _)| if matches!(p, E | S) { "O" } else { "" }).collect();
            let rebuilt: Vec<String> =
                tags.iter().zip(cleaned).map(|(&(p, k), c)| if c == "O" { "O".into() } else { join(p, k) }).collect();
            return spans(&rebuilt);
        }
        TagScheme::Iob2 => {
            let mut i = 0;
            while i < tags.len() {
                if let (B, kind) = tags[i] {
                    let mut end = i + 1;
                    while end < tags.len() && tags[end] == (I, kind) {
                        end += 1;
                    }
                    out.push(Span { start: i, end, label: kind.to_string() });
                    i = end;
                } else {
                    i += 1;
                }
            }
        }
        TagScheme::Iobes => {
            let mut i = 0;
            while i < tags.len() {
                match tags[i] {
                    (S, kind) => {
                        out.push(Span { start: i, end: i + 1, label: kind.to_string() });
                        i += 1;
                    }
                    (B, kind) => {
                        let mut end = i + 1;
                        while end < tags.len() && tags[end] == (I, kind) {
                            end += 1;
                        }
                        if end < tags.len() && tags[end] == (E, kind) {
                            out.push(Span { start: i, end: end + 1, label: kind.to_string() });
                            i = end + 1;
                        } else {
                            i = end.max(i + 1);
                        }
                    }
                    _ => i += 1,
                }
            }
        }
    }
    out
}

fn join(prefix: Prefix, kind: &str) -> String {
    match prefix {
        Prefix::O => "O".to_string(),
        Prefix::B => format!("B-{kind}"),
        Prefix::I => format!("I-{kind}"),
        Prefix::E => format!("E-{kind}"),
        Prefix::S => format!("S-{kind}"),
    }
}

/// Tags for `len` tokens holding `spans` (non-overlapping, sorted) in `scheme`.
pub fn tags_from_spans(spans: &[Span], len: usize, scheme: TagScheme) -> Vec<String> {
    let mut tags = vec!["O".to_string(); len];
    let mut previous: Option<&Span> = None;
    for span in spans {
        let follows_same_type = previous.is_some_and(|p| p.end == span.start && p.label == span.label);
        for (offset, tag) in tags[span.start..span.end].iter_mut().enumerate() {
            let single = span.end - span.start == 1;
            let last = span.start + offset + 1 == span.end;
            let prefix = match scheme {
                TagScheme::Iob1 if offset == 0 && follows_same_type => Prefix::B,
                TagScheme::Iob1 => Prefix::I,
                TagScheme::Iob2 if offset == 0 => Prefix::B,
                TagScheme::Iob2 => Prefix::I,
                TagScheme::Iobes if single => Prefix::S,
                TagScheme::Iobes if offset == 0 => Prefix::B,
                TagScheme::Iobes if last => Prefix::E,
                TagScheme::Iobes => Prefix::I,
            };
            *tag = join(prefix, &span.label);
        }
        previous = Some(span);
    }
    tags
}

/// Converts tags to another scheme through their spans ([`spans`]); lossless at span level.
pub fn convert<S: AsRef<str>>(tags: &[S], to: TagScheme) -> Vec<String> {
    tags_from_spans(&spans(tags), tags.len(), to)
}

/// Whether tag `to` may follow tag `from` under `scheme`, `None` standing for the sentence's
/// boundary (`from = None`: `to` begins a sentence; `to = None`: `from` ends one). These are
/// [`validate`]'s rules as a transition table, for decoding that never breaks the scheme: in
/// IOB2 `I-X` only after `B-X`/`I-X`; in IOB1 `B-X` only after `B-X`/`I-X`; in IOBES `I-X`/`E-X`
/// only after `B-X`/`I-X`, which nothing else may follow and no sentence may end with. A tag
/// that is not `O` or PREFIX-TYPE (the padding tag `<pad>`, say) is never allowed.
pub fn allowed_transition(scheme: TagScheme, from: Option<&str>, to: Option<&str>) -> bool {
    use Prefix::*;
    fn parse(tag: Option<&str>) -> Option<(Prefix, &str)> {
        tag.map_or(Some((O, "")), |t| split_tag(t).ok())
    }
    let (Some((p, from_type)), Some((q, to_type))) = (parse(from), parse(to)) else { return false };
    let continues = p != O && from_type == to_type;
    match scheme {
        TagScheme::Iob1 | TagScheme::Iob2 if matches!(p, E | S) || matches!(q, E | S) => false,
        TagScheme::Iob1 => q != B || continues,
        TagScheme::Iob2 => q != I || continues,
        TagScheme::Iobes if matches!(p, B | I) => matches!(q, I | E) && continues,
        TagScheme::Iobes => !matches!(q, I | E),
    }
}

/// A tag that the scheme does not allow where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Token index.
    pub index: usize,
    /// The tag.
    pub tag: String,
    /// The tag before it (`None` at the start).
    pub previous: Option<String>,
    /// Why it is invalid.
    pub reason: String,
}

/// Invalid tags and transitions under `scheme`: malformed tags, prefixes the scheme lacks,
/// `I-X` after `O` in IOB2, `B-X` not after `X` in IOB1, an `E-` without `B-`, an unfinished
/// `B-`/`I-` in IOBES, ….
pub fn validate<S: AsRef<str>>(tags: &[S], scheme: TagScheme) -> Vec<Violation> {
    use Prefix::*;
    let mut out = Vec::new();
    let mut prev: (Prefix, &str) = (O, "");
    for (i, raw) in tags.iter().enumerate() {
        let raw = raw.as_ref();
        let mut flag = |reason: String| {
            out.push(Violation {
                index: i,
                tag: raw.to_string(),
                previous: i.checked_sub(1).map(|j| tags[j].as_ref().to_string()),
                reason,
            });
        };
        let (prefix, kind) = match split_tag(raw) {
            Ok(t) => t,
            Err(e) => {
                flag(e);
                prev = (O, "");
                continue;
            }
        };
        let continues = prev.1 == kind && prev.0 != O;
        match scheme {
            TagScheme::Iob1 | TagScheme::Iob2 if matches!(prefix, E | S) => flag(format!("{scheme} has no E-/S- tags")),
            TagScheme::Iob1 if prefix == B && !continues => {
                flag(format!("IOB1 uses B-{kind} only right after an entity of type {kind}"));
            }
            TagScheme::Iob2 if prefix == I && !continues => {
                flag(format!("I-{kind} must follow B-{kind} or I-{kind} in IOB2"));
            }
            TagScheme::Iobes => {
                let open = matches!(prev.0, B | I);
                if matches!(prefix, I | E) && !(open && prev.1 == kind) {
                    flag(format!("{raw} must follow B-{kind} or I-{kind} in IOBES"));
                } else if open && !(matches!(prefix, I | E) && prev.1 == kind) {
                    flag(format!("{} is not closed by E-{} before {raw}", tags[i - 1].as_ref(), prev.1));
                }
            }
            _ => {}
        }
        prev = (prefix, kind);
    }
    if scheme == TagScheme::Iobes && matches!(prev.0, B | I) {
        let i = tags.len() - 1;
        out.push(Violation {
            index: i,
            tag: tags[i].as_ref().to_string(),
            previous: i.checked_sub(1).map(|j| tags[j].as_ref().to_string()),
            reason: format!("the sentence ends inside an entity (no E-{})", prev.1),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tags: &str) -> Vec<String> {
        tags.split_whitespace().map(String::from).collect()
    }

    fn s(start: usize, end: usize, label: &str) -> Span {
        Span { start, end, label: label.into() }
    }

    #[test]
    fn iob1_spans_as_conlleval_reads_them() {
        // "U.N. official Ekeus heads for Baghdad" and two adjacent entities of one type.
        let tags = v("I-ORG O I-PER O O I-LOC I-MISC I-MISC B-MISC O");
        assert_eq!(
            spans(&tags),
            vec![s(0, 1, "ORG"), s(2, 3, "PER"), s(5, 6, "LOC"), s(6, 8, "MISC"), s(8, 9, "MISC")]
        );
    }

    #[test]
    fn default_and_strict_modes_differ_on_i_after_o() {
        // seqeval's documented case: I-PER after O is an entity by default, not in strict IOB2.
        let tags = v("O I-PER I-PER O B-LOC I-LOC");
        assert_eq!(spans(&tags), vec![s(1, 3, "PER"), s(4, 6, "LOC")]);
        assert_eq!(spans_strict(&tags, TagScheme::Iob2), vec![s(4, 6, "LOC")]);
        // A type change inside: default splits, strict keeps only the well-formed B-part.
        let tags = v("B-PER I-LOC");
        assert_eq!(spans(&tags), vec![s(0, 1, "PER"), s(1, 2, "LOC")]);
        assert_eq!(spans_strict(&tags, TagScheme::Iob2), vec![s(0, 1, "PER")]);
    }

    #[test]
    fn iobes_strict_requires_closed_entities() {
        let tags = v("B-PER E-PER S-LOC B-ORG I-ORG O B-MISC I-MISC E-MISC");
        assert_eq!(spans_strict(&tags, TagScheme::Iobes), vec![s(0, 2, "PER"), s(2, 3, "LOC"), s(6, 9, "MISC")]);
        assert_eq!(spans(&tags), vec![s(0, 2, "PER"), s(2, 3, "LOC"), s(3, 5, "ORG"), s(6, 9, "MISC")]);
    }

    #[test]
    fn conversions_write_each_scheme() {
        let iob1 = v("I-PER I-PER B-PER O I-LOC O");
        assert_eq!(convert(&iob1, TagScheme::Iob2), v("B-PER I-PER B-PER O B-LOC O"));
        assert_eq!(convert(&iob1, TagScheme::Iobes), v("B-PER E-PER S-PER O S-LOC O"));
        assert_eq!(convert(&convert(&iob1, TagScheme::Iobes), TagScheme::Iob1), iob1);
        assert_eq!(convert(&v("L-X U-Y"), TagScheme::Iob2), v("B-X B-Y"));
    }

    #[test]
    fn round_trip_iob1_iob2_iobes_iob2_preserves_every_span() {
        // Every sequence of length 5 over {O, B-A, I-A, B-B, I-B} (IOB1 readings).
        let alphabet = ["O", "B-A", "I-A", "B-B", "I-B"];
        for code in 0..alphabet.len().pow(5) {
            let tags: Vec<&str> = (0..5).map(|k| alphabet[code / alphabet.len().pow(k) % alphabet.len()]).collect();
            let original = spans(&tags);
            let iob2 = convert(&tags, TagScheme::Iob2);
            let iobes = convert(&iob2, TagScheme::Iobes);
            let back = convert(&iobes, TagScheme::Iob2);
            assert_eq!(spans(&iob2), original, "{tags:?}");
            assert_eq!(spans_strict(&iob2, TagScheme::Iob2), original, "{tags:?}");
            assert_eq!(spans_strict(&iobes, TagScheme::Iobes), original, "{tags:?}");
            assert_eq!(back, iob2, "{tags:?}");
            assert_eq!(spans(&convert(&iob2, TagScheme::Iob1)), original, "{tags:?}");
        }
    }

    #[test]
    fn validation_reports_invalid_transitions() {
        let iob2 = validate(&v("O I-PER B-LOC I-LOC I-ORG"), TagScheme::Iob2);
        assert_eq!(iob2.iter().map(|x| x.index).collect::<Vec<_>>(), vec![1, 4]);
        assert!(iob2[0].reason.contains("I-PER must follow B-PER"));
        let iob1 = validate(&v("O B-MISC I-PER B-PER"), TagScheme::Iob1);
        assert_eq!(iob1.iter().map(|x| x.index).collect::<Vec<_>>(), vec![1]);
        let iobes = validate(&v("E-PER O B-LOC O B-X I-X"), TagScheme::Iobes);
        assert_eq!(iobes.iter().map(|x| x.index).collect::<Vec<_>>(), vec![0, 3, 5]);
        assert!(validate(&v("B-PER E-PER S-LOC O"), TagScheme::Iobes).is_empty());
        let bad = validate(&v("O PER X-LOC"), TagScheme::Iob2);
        assert_eq!(bad.len(), 2);
        assert!(bad[1].reason.contains("unknown prefix"));
    }
}

//! The synthetic sentiment corpus (see the [module docs](super)).

use super::{generate_split, Rng, Split};

const SUBJECTS: &[&str] = &[
    "the movie",
    "this film",
    "the plot",
    "the acting",
    "the script",
    "the soundtrack",
    "the ending",
    "the cast",
    "the story",
    "the dialogue",
    "the director 's work",
    "the second half",
    "the pacing",
    "the photography",
    "the humor",
    "this sequel",
];
const VERBS: &[&str] = &["is", "was", "seems", "felt", "turned out"];
const POSITIVE: &[&str] = &[
    "good",
    "great",
    "excellent",
    "wonderful",
    "superb",
    "delightful",
    "charming",
    "brilliant",
    "moving",
    "funny",
    "gripping",
    "clever",
    "beautiful",
    "fresh",
    "smart",
    "touching",
];
const NEGATIVE: &[&str] = &[
    "bad",
    "boring",
    "awful",
    "dull",
    "terrible",
    "tedious",
    "weak",
    "bland",
    "clumsy",
    "painful",
    "predictable",
    "silly",
    "flat",
    "lifeless",
    "messy",
    "forgettable",
];
const INTENSIFIERS: &[&str] = &["very", "really", "truly", "extremely", "incredibly", "quite"];
const NEGATORS: &[&str] = &["not", "never", "hardly", "far from", "anything but"];

/// Generates one clause; returns its words and whether it is positive.
fn clause(rng: &mut Rng, subject: Option<&str>) -> (String, bool) {
    let subject = subject.unwrap_or_else(|| rng.pick(SUBJECTS));
    let verb = rng.pick(VERBS);
    let positive = rng.chance(50);
    let adjective = rng.pick(if positive { POSITIVE } else { NEGATIVE });
    let intensifier = if rng.chance(30) { format!("{} ", rng.pick(INTENSIFIERS)) } else { String::new() };
    match rng.below(10) {
        // negation flips the polarity of what follows
        0..=2 => (format!("{subject} {verb} {} {intensifier}{adjective}", rng.pick(NEGATORS)), !positive),
        3 => (format!("{subject} {verb} not {adjective} at all"), !positive),
        4 => {
            let (worth, good) = rng.pick(&[
                ("worth it", true),
                ("well worth it", true),
                ("not worth it", false),
                ("hardly worth it", false),
                ("worth every minute", true),
                ("not worth the ticket", false),
            ]);
            (format!("{subject} {verb} {worth}"), good)
        }
        _ => (format!("{subject} {verb} {intensifier}{adjective}"), positive),
    }
}

/// One sentence and its label (1 positive, 0 negative).
fn sentence(rng: &mut Rng) -> (String, bool) {
    match rng.below(10) {
        // contrast: the clause after "but" decides
        0..=2 => {
            let (a, _) = clause(rng, None);
            let (b, label) = clause(rng, Some("it"));
            (format!("{a} , but {b} ."), label)
        }
        // concession: the main clause decides, wherever it stands
        3 => {
            let (a, _) = clause(rng, None);
            let (b, label) = clause(rng, None);
            (format!("although {a} , {b} ."), label)
        }
        4 => {
            let (a, label) = clause(rng, None);
            let (b, _) = clause(rng, None);
            (format!("{a} , although {b} ."), label)
        }
        // expectation vs outcome
        5 => {
            let pool = if rng.chance(50) { POSITIVE } else { NEGATIVE };
            let expected = rng.pick(pool);
            let (b, label) = clause(rng, Some("it"));
            (format!("i expected it to be {expected} , but {b} ."), label)
        }
        // agreeing clauses
        6 => loop {
            let (a, la) = clause(rng, None);
            let (b, lb) = clause(rng, None);
            if la == lb {
                break (format!("{a} and {b} ."), la);
            }
        },
        _ => {
            let (a, label) = clause(rng, None);
            (format!("{a} ."), label)
        }
    }
}

/// Sizes of the train, valid and test splits.
pub const SIZES: [usize; 3] = [8000, 1000, 1000];

/// The split as GLUE TSV text: a `sentence<TAB>label` header, then one row per sentence
/// (labels `0` negative, `1` positive). Sentences are distinct across all splits.
pub fn sentiment(split: Split) -> String {
    let rows = generate_split(0x5e9_1ab, SIZES, split, sentence, |(text, _)| text.clone());
    let mut out = String::from("sentence\tlabel\n");
    for (text, label) in rows {
        out.push_str(&format!("{text}\t{}\n", u8::from(label)));
    }
    out
}

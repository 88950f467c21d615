//! The synthetic NER corpus (see the [module docs](super)).

use super::{generate_split, Rng, Split};

const FIRST: &[&str] = &[
    "Anna", "Marek", "Sofia", "David", "Leila", "Tomas", "Grace", "Kenji", "Maria", "Omar", "Ingrid", "Pablo",
    "Jordan", "Paris", "Victoria", "Chen",
];
const LAST: &[&str] = &[
    "Keller",
    "Novak",
    "Rossi",
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Tanaka",
    "Moreau",
    "Silva",
    "Brennan",
    "Kowalski",
    "Dubois",
    "Washington",
    "Ford",
];
const ORGS: &[&str] = &[
    "Northwind Bank",
    "Acme Corp",
    "United Nations",
    "Red Cross",
    "Orion Motors",
    "Global Health Agency",
    "Bluewater Energy",
    "Reuters",
    "Ford",
    "Apex Airlines",
    "the European Commission",
    "Kestrel Labs",
    "Nordic Rail",
    "Summit FC",
];
const LOCS: &[&str] = &[
    "Berlin",
    "New York",
    "Lake Geneva",
    "Cape Town",
    "Lisbon",
    "Rio de Janeiro",
    "Jordan",
    "Washington",
    "Paris",
    "Osaka",
    "Nairobi",
    "Oslo",
    "Victoria",
    "the Alps",
    "Buenos Aires",
];
const MISC: &[&str] = &[
    "German",
    "Olympic Games",
    "World Cup",
    "Nobel Prize",
    "French",
    "Japanese",
    "Brazilian",
    "Euro",
    "Grand Prix",
    "Kenyan",
    "Norwegian",
    "Internet",
];

/// A token sequence with IOB2 tags under construction.
#[derive(Default)]
struct Builder {
    tokens: Vec<String>,
    tags: Vec<String>,
}

impl Builder {
    fn words(&mut self, text: &str) {
        for w in text.split_whitespace() {
            self.tokens.push(w.to_string());
            self.tags.push("O".into());
        }
    }

    fn entity(&mut self, text: &str, kind: &str) {
        let words: Vec<&str> = text.split_whitespace().collect();
        // "the" before an organisation name stays outside the entity, as in CoNLL.
        let skip = usize::from(words[0] == "the");
        for (i, w) in words.iter().enumerate() {
            self.tokens.push(w.to_string());
            self.tags.push(match i {
                i if i < skip => "O".into(),
                i if i == skip => format!("B-{kind}"),
                _ => format!("I-{kind}"),
            });
        }
    }

    fn person(&mut self, rng: &mut Rng) {
        let name = match rng.below(4) {
            0 => rng.pick(LAST).to_string(),
            _ => format!("{} {}", rng.pick(FIRST), rng.pick(LAST)),
        };
        self.entity(&name, "PER");
    }
}

fn sentence(rng: &mut Rng) -> Builder {
    let mut b = Builder::default();
    let org = |b: &mut Builder, rng: &mut Rng| b.entity(rng.pick(ORGS), "ORG");
    let loc = |b: &mut Builder, rng: &mut Rng| b.entity(rng.pick(LOCS), "LOC");
    let misc = |b: &mut Builder, rng: &mut Rng| b.entity(rng.pick(MISC), "MISC");
    let number = 1 + rng.below(98);
    match rng.below(10) {
        0 => {
            b.person(rng);
            b.words("works for");
            org(&mut b, rng);
            b.words("in");
            loc(&mut b, rng);
            b.words(".");
        }
        1 => {
            org(&mut b, rng);
            b.words("opened an office in");
            loc(&mut b, rng);
            b.words("on Monday .");
        }
        2 => {
            b.person(rng);
            b.words(", a");
            misc(&mut b, rng);
            b.words("citizen , visited");
            loc(&mut b, rng);
            b.words(".");
        }
        3 => {
            b.words("The");
            misc(&mut b, rng);
            b.words("team beat");
            org(&mut b, rng);
            b.words(&format!("{number} - {} in", number % 7));
            loc(&mut b, rng);
            b.words(".");
        }
        4 => {
            b.person(rng);
            b.words("met");
            b.person(rng);
            b.words("at the");
            misc(&mut b, rng);
            b.words("summit .");
        }
        5 => {
            b.words("Shares of");
            org(&mut b, rng);
            b.words(&format!("rose {number} percent in"));
            loc(&mut b, rng);
            b.words("trading .");
        }
        6 => {
            b.person(rng);
            b.words("said the");
            misc(&mut b, rng);
            b.words("economy grew");
            b.words(&format!("{number} percent ."));
        }
        7 => {
            b.words("In");
            loc(&mut b, rng);
            b.words(",");
            org(&mut b, rng);
            b.words("hired");
            b.person(rng);
            b.words(".");
        }
        8 => {
            loc(&mut b, rng);
            b.words("will host the");
            misc(&mut b, rng);
            b.words(&format!("in 20{:02} .", number % 40));
        }
        _ => {
            b.words(&format!("{number} people were hurt near"));
            loc(&mut b, rng);
            b.words(", police said .");
        }
    }
    b
}

/// Sizes of the train, valid and test splits (sentences).
pub const SIZES: [usize; 3] = [3000, 500, 500];

/// The split as two-column CoNLL text (`token tag`, IOB2), sentences separated by blank lines,
/// distinct across all splits.
pub fn ner(split: Split) -> String {
    let chosen = generate_split(0xc0_11, SIZES, split, sentence, |b| b.tokens.join(" "));
    crate::ner::conll::write_conll(chosen.iter().map(|b| (b.tokens.as_slice(), b.tags.as_slice())))
}

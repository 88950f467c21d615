//! Entity-level scores against seqeval's documented examples and hand counts.

use seqlab_datasets::ner::TagScheme;
use seqlab_training::entity::{entity_scores, EntityMode};

fn tags(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn seqeval_readme_example() {
    // seqeval's README: MISC is predicted one token too early, PER is right.
    let gold = vec![tags("O O O B-MISC I-MISC I-MISC O"), tags("B-PER I-PER O")];
    let pred = vec![tags("O O B-MISC I-MISC I-MISC I-MISC O"), tags("B-PER I-PER O")];
    let s = entity_scores(&gold, &pred, EntityMode::Default);
    assert_eq!((s.precision, s.recall, s.f1), (0.5, 0.5, 0.5));
    assert_eq!(s.per_type["MISC"].f1, 0.0);
    assert_eq!((s.per_type["PER"].f1, s.per_type["PER"].support), (1.0, 1));
}

#[test]
fn i_after_o_counts_by_default_but_not_in_strict_mode() {
    // seqeval's strict-mode example: gold B-NP I-NP, predicted I-NP I-NP.
    let gold = vec![tags("B-NP I-NP O")];
    let pred = vec![tags("I-NP I-NP O")];
    assert_eq!(entity_scores(&gold, &pred, EntityMode::Default).f1, 1.0);
    let strict = entity_scores(&gold, &pred, EntityMode::Strict(TagScheme::Iob2));
    assert_eq!((strict.precision, strict.recall, strict.f1), (0.0, 0.0, 0.0));
    assert_eq!(strict.per_type["NP"].support, 1);
}

#[test]
fn micro_average_by_hand() {
    // gold: PER(0..2), LOC(3..4), ORG(5..6); predicted: PER(0..2) right, LOC(3..5) wrong end,
    // MISC(6..7) spurious. Correct 1, predicted 3, gold 3 → P = R = F1 = 1/3.
    let gold = vec![tags("B-PER I-PER O B-LOC O B-ORG O")];
    let pred = vec![tags("B-PER I-PER O B-LOC I-LOC O B-MISC")];
    let s = entity_scores(&gold, &pred, EntityMode::Default);
    assert!((s.f1 - 1.0 / 3.0).abs() < 1e-12 && (s.precision - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!((s.per_type["ORG"].recall, s.per_type["ORG"].support), (0.0, 1));
    assert_eq!((s.per_type["MISC"].precision, s.per_type["MISC"].support), (0.0, 0));
    // IOBES strict: an unclosed B- is no entity.
    let strict = entity_scores(&[tags("B-PER E-PER S-LOC")], &[tags("B-PER E-PER B-LOC")], EntityMode::Strict(TagScheme::Iobes));
    assert_eq!((strict.precision, strict.recall), (1.0, 0.5));
}

//! Entity-level scores against seqeval's documented examples and hand counts.

use seqlab_datasets::ner::TagScheme;
use seqlab_training::{entity_scores, EntityMode};

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
    let strict =
        entity_scores(&[tags("B-PER E-PER S-LOC")], &[tags("B-PER E-PER B-LOC")], EntityMode::Strict(TagScheme::Iobes));
    assert_eq!((strict.precision, strict.recall), (1.0, 0.5));
}

#[test]
fn the_dashboards_batch_weighted_entity_f1_is_the_micro_f1_of_the_epoch() {
    use seqlab_training::EntityF1Metric;
    let names: Vec<String> =
        ["<pad>", "O", "B-PER", "E-PER", "S-LOC", "S-PER"].iter().map(ToString::to_string).collect();
    let id = |s: &str| names.iter().position(|n| n == s).unwrap();
    let ids = |s: &str| s.split_whitespace().map(id).collect::<Vec<_>>();
    let metric = EntityF1Metric::new(names.clone());
    // Batch 1 (two sentences joined): gold PER, LOC | LOC; predicted PER right, LOC wrong type.
    let (g1, p1) = (ids("B-PER E-PER O S-LOC S-LOC"), ids("B-PER E-PER O S-PER S-LOC"));
    // Batch 2: gold PER; nothing predicted.
    let (g2, p2) = (ids("O S-PER O"), ids("O O O"));
    let (f1_a, w_a) = metric.batch_f1(&p1, &g1);
    let (f1_b, w_b) = metric.batch_f1(&p2, &g2);
    // Batch 1: correct 2 (PER, second LOC), predicted 3, gold 3 → F1 = 4/6.
    assert_eq!(w_a, 6);
    assert!((f1_a - 4.0 / 6.0).abs() < 1e-9);
    assert_eq!((f1_b, w_b), (0.0, 1));
    // burn-train's weighted epoch mean = the micro F1 of all counts (2 correct, 3 predicted, 4 gold).
    let epoch = (f1_a * w_a as f64 + f1_b * w_b as f64) / (w_a + w_b) as f64;
    let micro = entity_scores(
        &[names_of(&names, &g1), names_of(&names, &g2)],
        &[names_of(&names, &p1), names_of(&names, &p2)],
        EntityMode::Default,
    )
    .f1;
    assert!((epoch - micro).abs() < 1e-9, "{epoch} vs {micro}");
    assert!((micro - 4.0 / 7.0).abs() < 1e-9);
}

fn names_of(names: &[String], ids: &[usize]) -> Vec<String> {
    ids.iter().map(|&i| names[i].clone()).collect()
}

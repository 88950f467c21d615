//! Classification scores against hand-computed values.

use seqlab_training::classification_scores;

#[test]
fn accuracy_and_macro_f1_by_hand() {
    // gold 0 0 1 1 2, predicted 0 1 1 1 0:
    // class 0: tp 1, fp 1, fn 1 → F1 = 2/4 = 0.5
    // class 1: tp 2, fp 1, fn 0 → F1 = 4/5 = 0.8
    // class 2: tp 0, fp 0, fn 1 → F1 = 0
    let s = classification_scores(&[0, 1, 1, 1, 0], &[0, 0, 1, 1, 2], 3);
    assert!((s.accuracy - 0.6).abs() < 1e-12);
    assert!((s.macro_f1 - (0.5 + 0.8 + 0.0) / 3.0).abs() < 1e-12);
    // A class absent from gold and predictions does not count.
    let s = classification_scores(&[1, 1], &[1, 1], 4);
    assert_eq!((s.accuracy, s.macro_f1), (1.0, 1.0));
}

//! Classification metrics computed from predictions, for final reports and `metrics.json`.

/// Accuracy and macro-averaged F1 over `num_classes` classes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassificationScores {
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Unweighted mean over classes of F1 (a class with no gold and no predicted example is left
    /// out of the mean; one with either but no true positive counts as 0).
    pub macro_f1: f64,
    /// Number of examples.
    pub examples: usize,
}

/// Scores of `predicted` against `gold` (class ids).
pub fn classification_scores(predicted: &[usize], gold: &[usize], num_classes: usize) -> ClassificationScores {
    assert_eq!(predicted.len(), gold.len(), "one prediction per example");
    let mut tp = vec![0usize; num_classes];
    let mut fp = vec![0usize; num_classes];
    let mut fn_ = vec![0usize; num_classes];
    for (&p, &g) in predicted.iter().zip(gold) {
        if p == g {
            tp[g] += 1;
        } else {
            fp[p] += 1;
            fn_[g] += 1;
        }
    }
    let f1s: Vec<f64> = (0..num_classes)
        .filter(|&c| tp[c] + fp[c] + fn_[c] > 0)
        .map(|c| {
            let denominator = 2 * tp[c] + fp[c] + fn_[c];
            2.0 * tp[c] as f64 / denominator as f64
        })
        .collect();
    let correct: usize = tp.iter().sum();
    ClassificationScores {
        accuracy: if gold.is_empty() { 0.0 } else { correct as f64 / gold.len() as f64 },
        macro_f1: if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f64>() / f1s.len() as f64 },
        examples: gold.len(),
    }
}

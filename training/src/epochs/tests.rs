//! The two epoch hooks (`KeepBestAndLast`, `AfterEpoch`) reach the same verdict on each epoch
//! whichever burn-train calls first, and the stop rule reads that verdict.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use burn::train::checkpoint::CheckpointingAction;

use super::stop::stop_reason;
use super::{EpochMetrics, Judge, KeepBestAndLast, Progress, Select, Selection};

/// Validation accuracy per epoch 1…5 (epoch 4's loss is NaN: never the best, however accurate).
const ACCURACY: [f64; 5] = [0.5, 0.7, 0.6, 0.9, 0.65];

fn metrics() -> EpochMetrics {
    let metrics = EpochMetrics::default();
    for (i, accuracy) in ACCURACY.iter().enumerate() {
        let loss = if i == 3 { f64::NAN } else { 1.0 - accuracy };
        metrics.publish(
            i + 1,
            burn::train::metric::store::Split::Valid,
            BTreeMap::from([("Accuracy".to_string(), *accuracy), ("Loss".to_string(), loss)]),
        );
    }
    metrics
}

/// Runs five epochs; in each, the early-stopping hook's verdict (`judge`) comes before or after
/// the checkpointing hook's actions. Returns the actions, the verdicts' best epochs and the
/// final progress.
fn run(watch_first: bool) -> (Vec<Vec<CheckpointingAction>>, Vec<usize>, Progress) {
    let progress = Arc::new(Mutex::new(Progress::default()));
    let judge = Judge::new(Selection::resolve(Select::Accuracy, false).unwrap(), progress.clone(), metrics());
    let keep = KeepBestAndLast { judge: judge.clone() };
    let (mut actions, mut best) = (Vec::new(), Vec::new());
    for epoch in 1..=5 {
        if watch_first {
            best.push(judge.judge(epoch).best);
            actions.push(keep.actions(epoch));
        } else {
            actions.push(keep.actions(epoch));
            best.push(judge.judge(epoch).best);
        }
        progress.lock().unwrap().last_epoch = epoch;
    }
    let progress = progress.lock().unwrap().clone();
    (actions, best, progress)
}

#[test]
fn both_hooks_see_the_same_verdict_in_either_order() {
    let (actions, best, progress) = run(false);
    assert_eq!(best, vec![1, 2, 2, 2, 2], "epoch 4 (NaN loss) is never the best");
    assert_eq!(progress.best_epoch, 2);
    assert_eq!(progress.best_value, Some(0.7));
    // After epoch 4 the best (2), the last before it (3) and epoch 4 are kept; epoch 5 drops 3.
    assert_eq!(actions[3], vec![CheckpointingAction::Save]);
    assert_eq!(actions[4], vec![CheckpointingAction::Save, CheckpointingAction::Delete(3)]);
    assert_eq!(progress.kept, vec![2, 4, 5]);
    assert_eq!(run(true), (actions, best, progress), "the order of the hooks changed the outcome");
}

#[test]
fn judging_an_epoch_twice_changes_nothing() {
    let progress = Arc::new(Mutex::new(Progress::default()));
    let judge = Judge::new(Selection::resolve(Select::Accuracy, false).unwrap(), progress.clone(), metrics());
    let first = judge.judge(1);
    progress.lock().unwrap().last_epoch = 1;
    let second = judge.judge(2);
    assert_eq!(judge.judge(1), first);
    assert_eq!(judge.judge(2), second);
    assert_eq!((second.best_before, second.last_before, second.best), (1, 1, 2));
}

#[test]
fn patience_counts_from_the_judged_best_epoch() {
    let progress = Progress { best_epoch: 2, best_value: Some(0.7), ..Default::default() };
    assert_eq!(stop_reason(&progress, 3, Some(2), (0.3, 0.4), "Accuracy"), None);
    let why = stop_reason(&progress, 4, Some(2), (0.3, 0.4), "Accuracy").expect("two epochs without improvement");
    assert!(why.contains("no improvement of valid Accuracy for 2 epochs (best epoch 2)"), "{why}");
    assert_eq!(stop_reason(&progress, 9, None, (0.3, 0.4), "Accuracy"), None);
    let why = stop_reason(&progress, 3, None, (0.3, f64::NAN), "Accuracy").expect("a NaN loss stops");
    assert!(why.contains("not finite"), "{why}");
}

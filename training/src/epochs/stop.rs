//! The rules that decide, after an epoch, whether training stops ([`stop_reason`]) and whether
//! the plateau schedule lowers its rate ([`plateau_due`]). Pure functions of the progress.

use super::progress::Progress;

/// Why training stops after epoch `epoch`, if it does: a loss that is not finite, or `patience`
/// epochs without improvement since `progress.best_epoch` (the judged best, this epoch included).
pub fn stop_reason(
    progress: &Progress,
    epoch: usize,
    patience: Option<usize>,
    losses: (f64, f64),
    metric: &str,
) -> Option<String> {
    let (train_loss, valid_loss) = losses;
    let since_best = epoch - progress.best_epoch.min(epoch);
    if !train_loss.is_finite() || !valid_loss.is_finite() {
        Some(format!(
            "epoch {epoch}: the loss is not finite (train {train_loss}, valid {valid_loss}); stopped, the best \
             checkpoint (epoch {}) is kept",
            progress.best_epoch
        ))
    } else {
        patience.filter(|&n| progress.best_epoch > 0 && since_best >= n).map(|patience| {
            format!(
            "early stop after epoch {epoch}: no improvement of valid {metric} for {patience} epochs (best epoch {})",
            progress.best_epoch
        )
        })
    }
}

/// Whether the plateau schedule lowers its rate after epoch `epoch`: every `patience` epochs
/// without improvement since the best one.
pub fn plateau_due(progress: &Progress, epoch: usize, patience: usize) -> bool {
    let since_best = epoch - progress.best_epoch.min(epoch);
    since_best > 0 && since_best.is_multiple_of(patience.max(1))
}

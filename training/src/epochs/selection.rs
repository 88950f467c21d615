//! Which validation metric picks the best epoch ([`Select`] as the user names it, resolved
//! into a [`Selection`] for the task), and what "better" means for it.

use crate::entity_metric::EntityF1Metric;
use crate::error::RunError;

/// The `--select` option: the validation metric that picks the kept epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum Select {
    /// Entity F1 for taggers, accuracy for classifiers.
    #[default]
    Auto,
    /// Accuracy (token accuracy for taggers).
    Accuracy,
    /// The validation loss (lower is better).
    Loss,
    /// Entity F1 (taggers only).
    F1,
}

/// Which validation metric picks the best epoch (and drives patience and plateau).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// burn-train's metric name: `Loss`, `Accuracy` or `Entity F1`.
    pub metric: String,
    /// Whether higher is better.
    pub higher_is_better: bool,
}

impl Selection {
    /// The metric `select` names for a tagger (`tagger`) or a classifier; `f1` is refused for
    /// a classifier.
    pub fn resolve(select: Select, tagger: bool) -> Result<Self, RunError> {
        let (metric, higher_is_better) = match (select, tagger) {
            (Select::Auto, true) | (Select::F1, true) => (EntityF1Metric::NAME, true),
            (Select::F1, false) => {
                return Err(RunError::Invalid {
                    option: "select".into(),
                    message: "f1 is for taggers; expected accuracy or loss".into(),
                })
            }
            (Select::Auto, false) | (Select::Accuracy, _) => ("Accuracy", true),
            (Select::Loss, _) => ("Loss", false),
        };
        Ok(Self { metric: metric.into(), higher_is_better })
    }

    /// Whether `a` is better than `b` by this metric.
    pub fn better(&self, a: f64, b: f64) -> bool {
        if self.higher_is_better {
            a > b
        } else {
            a < b
        }
    }
}

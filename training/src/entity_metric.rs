//! Entity-level F1 on the dashboard: a burn-train metric over the tagger's validation batches.
//!
//! The tagger's outputs are flattened over the real tokens of a batch, sentence after sentence;
//! the metric reads them as one tag sequence in the training scheme (IOBES by default, whose
//! `E-`/`S-` tags close every gold entity inside its sentence). Each batch reports its F1 with the
//! weight `2·correct + predicted-only + gold-only`, so burn-train's epoch mean (a weighted mean)
//! is exactly the micro F1 of the epoch's counts. A predicted entity could run across two
//! sentences of a batch only if an ill-formed prediction ended one and began the next; the
//! final `metrics.json` scores every sentence separately.

use std::sync::Arc;

use burn::tensor::backend::Backend;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use burn::train::ClassificationOutput;

use crate::entity_scores::{entity_counts, EntityMode};

/// Predicted and gold tag ids of a batch's real tokens.
pub struct TagIds {
    predicted: Vec<usize>,
    gold: Vec<usize>,
}

impl<B: Backend> Adaptor<TagIds> for ClassificationOutput<B> {
    fn adapt(&self) -> TagIds {
        let ids = |t: burn::tensor::Tensor<B, 1, burn::tensor::Int>| -> Vec<usize> {
            t.into_data().convert::<i64>().to_vec::<i64>().unwrap().into_iter().map(|i| i as usize).collect()
        };
        let [n, _] = self.output.dims();
        TagIds { predicted: ids(self.output.clone().argmax(1).reshape([n])), gold: ids(self.targets.clone()) }
    }
}

/// Micro entity F1 (a fraction, as in `metrics.json` and `log.csv`) in seqeval's default mode.
#[derive(Clone)]
pub struct EntityF1Metric {
    tags: Arc<Vec<String>>,
    state: NumericMetricState,
}

impl EntityF1Metric {
    /// The name burn-train files it under (and `--select f1` picks).
    pub const NAME: &'static str = "Entity F1";

    /// A metric reading tag ids through `tags` (index → name).
    pub fn new(tags: Vec<String>) -> Self {
        Self { tags: Arc::new(tags), state: NumericMetricState::default() }
    }

    /// F1 (a fraction) and its weight `2·correct + (predicted − correct) + (gold − correct)`.
    pub fn batch_f1(&self, predicted: &[usize], gold: &[usize]) -> (f64, usize) {
        let names =
            |ids: &[usize]| ids.iter().map(|&i| self.tags.get(i).map_or("O", String::as_str)).collect::<Vec<_>>();
        let [correct, pred, gold] = entity_counts(&[names(gold)], &[names(predicted)], EntityMode::Default);
        let weight = pred + gold;
        let f1 = if weight == 0 { 0.0 } else { 2.0 * correct as f64 / weight as f64 };
        (f1, weight)
    }
}

impl Metric for EntityF1Metric {
    type Input = TagIds;

    fn update(&mut self, input: &TagIds, _metadata: &MetricMetadata) -> SerializedEntry {
        let (f1, weight) = self.batch_f1(&input.predicted, &input.gold);
        self.state.update(f1, weight, FormatOptions::new(self.name()).precision(4))
    }

    fn clear(&mut self) {
        self.state.reset();
    }

    fn name(&self) -> MetricName {
        MetricName::new(Self::NAME.to_string())
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes { unit: None, higher_is_better: true }.into()
    }
}

impl Numeric for EntityF1Metric {
    fn value(&self) -> NumericEntry {
        self.state.current_value()
    }

    fn running_value(&self) -> NumericEntry {
        self.state.running_value()
    }
}

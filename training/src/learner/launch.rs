//! Handing one run to burn-train: its supervised training with this project's metrics, metric
//! logger, checkpoint recorder, epoch hooks, renderer and execution strategy.

use std::sync::Arc;

use burn::data::dataloader::DataLoader;
use burn::tensor::backend::AutodiffBackend;

use super::bounds::{InnerBatch, Trainable};
use super::options::FitOptions;
use crate::durable::AtomicRecorder;
use crate::epochs::{AfterEpoch, EpochMetrics, KeepBestAndLast};
use crate::interrupt::Interruption;
use crate::optim::Schedule;

/// What [`fit`] hands to burn-train, whichever the optimiser.
pub(super) struct Launch<'a> {
    pub(super) options: &'a FitOptions,
    pub(super) start_epoch: usize,
    pub(super) keep: KeepBestAndLast,
    pub(super) after_epoch: AfterEpoch,
    pub(super) recorder: AtomicRecorder,
    pub(super) metrics: EpochMetrics,
}

impl Launch<'_> {
    /// burn-train's supervised training from `start_epoch`, with optimiser `optim`: the last
    /// model, and why it stopped when it was interrupted (a signal, the dashboard's `q`, `s`).
    pub(super) fn run<B, M, I, O>(
        self,
        model: M,
        optim: O,
        schedule: Schedule,
        train: Arc<dyn DataLoader<B, I>>,
        valid: Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>,
    ) -> (M::InnerModule, Option<Interruption>)
    where
        B: AutodiffBackend,
        I: InnerBatch<B> + Send + 'static,
        M: Trainable<B, I>,
        O: burn::optim::Optimizer<M, B> + 'static,
    {
        use burn::train::metric::{AccuracyMetric, IterationSpeedMetric, LearningRateMetric, LossMetric};
        let options = self.options;
        let training = burn::train::SupervisedTraining::new(&options.artifacts, train, valid)
            .metrics((AccuracyMetric::new(), LossMetric::new()))
            .metric_train_numeric(LearningRateMetric::new())
            .metric_train_numeric(IterationSpeedMetric::new())
            .with_application_logger(None)
            // The epoch means the hooks read (see `EpochMetrics`); nothing else is logged to disk
            // but `log.csv` and `progress.json`.
            .with_metric_logger(self.metrics.logger(options.cluster.clone()))
            .with_file_checkpointer(self.recorder)
            .with_checkpointing_strategy(self.keep)
            .early_stopping(self.after_epoch)
            .num_epochs(options.epochs);
        let training = match &options.entity_tags {
            Some(tags) => training.metric_valid_numeric(crate::entity_metric::EntityF1Metric::new(tags.clone())),
            None => training,
        };
        let training = if self.start_epoch > 0 { training.checkpoint(self.start_epoch) } else { training };
        let training = if options.devices.len() > 1 {
            use burn::train::{ExecutionStrategy, MultiDeviceOptim, TrainingStrategy};
            let main = model.devices()[0].clone();
            let devices = crate::devices::devices::<B>(&main, &options.devices);
            training.with_training_strategy(TrainingStrategy::Default(ExecutionStrategy::multi(
                devices,
                MultiDeviceOptim::OptimMainDevice,
            )))
        } else {
            training
        };
        let training = if options.tui { training } else { training.renderer(crate::render::QuietRenderer) };
        let interrupter = training.interrupter();
        let watch = crate::interrupt::Watch::start(interrupter.clone(), options.tui);
        let result = training.launch(burn::train::Learner::new(model, optim, schedule));
        drop(watch);
        drop(result.renderer); // gives the terminal back before the summary
        (result.model, crate::interrupt::interruption(&interrupter, options.tui))
    }
}

//! The training and inference steps burn-train calls, the same for both tasks: each model
//! wrapper has a `forward_*` that returns a [`ClassificationOutput`] (for the tagger, over its
//! real tokens) and a `loss_terms` that counts what its loss averages over, and this macro
//! turns them into `TrainStep` (forward, backward) and `InferenceStep` (forward).

/// Implements `TrainStep` and `InferenceStep` for `$model<B>` taking `$batch<B>` through
/// `$model::$forward`; `$model::loss_terms(&batch)` is how many terms the loss averages over.
macro_rules! supervised_steps {
    ($model:ident, $batch:ident, $forward:ident) => {
        impl<B: burn::tensor::backend::AutodiffBackend> burn::train::TrainStep for $model<B> {
            type Input = $batch<B>;
            type Output = burn::train::ClassificationOutput<B>;

            fn step(&self, batch: $batch<B>) -> burn::train::TrainOutput<burn::train::ClassificationOutput<B>> {
                let terms = self.loss_terms(&batch);
                let output = self.$forward(batch);
                let grads = output.loss.backward();
                let device = output.loss.device();
                // The metrics read the outputs on burn-train's processor thread: detached, they
                // add nothing to the autodiff graph the next step is building meanwhile.
                let output = burn::train::ClassificationOutput::new(
                    output.loss.detach(),
                    output.output.detach(),
                    output.targets,
                );
                let mut step = burn::train::TrainOutput::new(self, grads, output);
                // A job of several ranks weighs each rank's gradient by the loss terms it averaged over.
                $crate::cluster::StepWeight::attach::<B>(&mut step.grads, terms, &device);
                step
            }
        }

        impl<B: burn::tensor::backend::Backend> burn::train::InferenceStep for $model<B> {
            type Input = $batch<B>;
            type Output = burn::train::ClassificationOutput<B>;

            fn step(&self, batch: $batch<B>) -> burn::train::ClassificationOutput<B> {
                self.$forward(batch)
            }
        }
    };
}

pub(crate) use supervised_steps;

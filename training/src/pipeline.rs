//! What both tasks' pipelines share: the options every run has ([`TaskRun`]) and the end of a
//! run ([`fit_and_write`]) — once a task has read its splits, built its vocabularies and
//! resolved its options, the same steps in the same order: write the set-up, seed, build the
//! model, train it on the encoded training split, score the best epoch's model, write the
//! weights and the scores.

use std::path::Path;

use burn::data::dataset::Dataset;
use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use seqlab_datasets::encoded::EncodedCorpus;

use crate::artifacts::{write_results, write_setup, RunFiles, Setup};
use crate::error::RunError;
use crate::learner::{
    fit_corpus, seed, CorpusRun, InnerBatch, LoaderItem, RunBatcher, Trainable, TrainingConfig, TrainingSummary,
};

/// A task's run options (`run.json`), as the shared parts of the pipeline read them.
pub(crate) trait TaskRun: Clone + serde::Serialize {
    /// The learner's options.
    fn training(&self) -> &TrainingConfig;
    fn training_mut(&mut self) -> &mut TrainingConfig;
    /// The artifacts folder.
    fn artifacts(&self) -> &Path;
    /// The files this run names.
    fn files(&mut self) -> RunFiles<'_>;

    /// This run as every rank of a job must share it ([`crate::cluster::fingerprint`]): without
    /// the paths, which differ between machines (the data files count by their contents), and
    /// without how the process was started.
    fn agreed_by_ranks(&self) -> Self {
        let mut agreed = self.clone();
        *agreed.training_mut() = self.training().agreed_by_ranks();
        agreed.files().blank();
        agreed
    }
}

/// Implements [`TaskRun`] for a run config whose fields `training`, `artifacts`, `train`,
/// `valid`, `test` and `embeddings` hold what their names say (both tasks' configs).
macro_rules! task_run {
    ($config:ty) => {
        impl $crate::pipeline::TaskRun for $config {
            fn training(&self) -> &$crate::learner::TrainingConfig {
                &self.training
            }

            fn training_mut(&mut self) -> &mut $crate::learner::TrainingConfig {
                &mut self.training
            }

            fn artifacts(&self) -> &std::path::Path {
                &self.artifacts
            }

            fn files(&mut self) -> $crate::artifacts::RunFiles<'_> {
                $crate::artifacts::RunFiles {
                    train: &mut self.train,
                    valid: &mut self.valid,
                    test: &mut self.test,
                    artifacts: &mut self.artifacts,
                    embeddings: &mut self.embeddings,
                }
            }
        }
    };
}
pub(crate) use task_run;

/// What a run trains on and validates with: [`fit_corpus`]'s data.
pub(crate) struct FitData<'a, T, D, Bt> {
    /// The dataset over the encoded training split `corpus`.
    pub dataset: D,
    pub corpus: &'a EncodedCorpus,
    /// The validation items.
    pub valid: Vec<T>,
    pub batcher: Bt,
    /// An item's length in tokens.
    pub length: fn(&T) -> usize,
    /// A tagger's tag names (its entity scores are then the selection's default).
    pub entity_tags: Option<Vec<String>>,
}

/// The end of a task's run, `given` as it was told (its learner's options and artifacts
/// folder): writes `setup` (see [`write_setup`]), seeds the run, builds the model (`model`),
/// trains it on `data`, hands the best epoch's model and the training summary to `score`, and
/// writes the network and the report it returns (see [`write_results`]). Returns the report.
pub(crate) fn fit_and_write<B, R, C, T, I, D, Bt, M, N, Report>(
    given: &R,
    setup: &Setup<'_, R, C>,
    device: &B::Device,
    model: impl FnOnce() -> M,
    data: FitData<'_, T, D, Bt>,
    score: impl FnOnce(M::InnerModule, TrainingSummary) -> (N, Report),
) -> Result<Report, RunError>
where
    B: AutodiffBackend,
    R: TaskRun,
    C: burn::config::Config,
    T: LoaderItem,
    I: InnerBatch<B, InnerBatch: LoaderItem> + LoaderItem,
    D: Dataset<T> + 'static,
    Bt: RunBatcher<B, T, I>,
    M: Trainable<B, I>,
    N: Module<B::InnerBackend>,
    Report: serde::Serialize,
{
    let (training, artifacts) = (given.training(), given.artifacts());
    write_setup(artifacts, training.resume, setup)?;
    seed::<B>(device, training.seed);
    let model = model();
    crate::say!("model: {} parameters", model.num_params());
    let fingerprint = crate::cluster::fingerprint(&setup.run.agreed_by_ranks(), setup.data, setup.vocab, setup.labels);
    let run = CorpusRun { training, artifacts, entity_tags: data.entity_tags, fingerprint };
    let fitted = fit_corpus(model, data.dataset, data.corpus, data.valid, data.batcher, data.length, run)?;
    let (net, report) = score(fitted.model, TrainingSummary::from(&fitted.progress));
    write_results(artifacts, &net, &report)?;
    Ok(report)
}

//! What both tasks' pipelines share: the options every run has ([`TaskRun`]), the validation
//! split ([`valid_split`]), the vocabularies ([`vocabularies`]), the encoded training split
//! ([`encoded_train`]), the memory check ([`check_fits`]) and the end of a run
//! ([`fit_and_write`]) — once a task has read its splits, built its vocabularies and resolved
//! its options, the same steps in the same order: write the set-up, seed, build the model, train
//! it on the encoded training split, score the best epoch's model, write the weights and the
//! scores.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataset::Dataset;
use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use seqlab_datasets::chunks::Fingerprint;
use seqlab_datasets::encoded::{EncodedCorpus, EncodedWriter};
use seqlab_datasets::text::{PretrainedEmbeddings, TokenCounts, Vocab, VocabConfig};
use seqlab_datasets::{LabelMap, Task, Validation};

use crate::artifacts::{input_fingerprints, training_source, write_results, write_setup, RunFiles, Setup};
use crate::corpus_cache::{train_corpus, Wanted};
use crate::error::RunError;
use crate::learner::{
    batch_tokens, fit_corpus, seed, CorpusRun, InnerBatch, LoaderItem, RunBatcher, Trainable, TrainingConfig,
    TrainingSummary,
};
use crate::memory::{machine_memory, Footprint, Longest};
use crate::vectors::vocabulary_with_vectors;

/// A task's run options (`run.json`), as the shared parts of the pipeline read them.
pub(crate) trait TaskRun: Clone + serde::Serialize {
    /// The task the run trains a model for.
    const TASK: Task;
    /// The training data.
    fn train(&self) -> &str;
    /// The validation data.
    fn valid(&self) -> &Validation;
    /// The test data, if any.
    fn test(&self) -> Option<&str>;
    /// The pretrained vectors file, if any.
    fn embeddings(&self) -> Option<&Path>;
    /// The embedding width asked for (0: the vectors').
    fn embedding_dim(&self) -> usize;
    /// Whether the pretrained vectors stay fixed.
    fn freeze_embeddings(&self) -> bool;
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

    /// How errors and messages name the validation data: its file, or the training file's.
    fn valid_name(&self) -> &str {
        self.valid().file().unwrap_or(self.train())
    }
}

/// Implements [`TaskRun`] for a run config of `task` whose fields `training`, `artifacts`,
/// `train`, `valid`, `test`, `embeddings`, `embedding_dim` and `freeze_embeddings` hold what
/// their names say (both tasks' configs).
macro_rules! task_run {
    ($config:ty, $task:expr) => {
        impl $crate::pipeline::TaskRun for $config {
            const TASK: seqlab_datasets::Task = $task;

            fn train(&self) -> &str {
                &self.train
            }

            fn valid(&self) -> &seqlab_datasets::Validation {
                &self.valid
            }

            fn test(&self) -> Option<&str> {
                self.test.as_deref()
            }

            fn embeddings(&self) -> Option<&std::path::Path> {
                self.embeddings.as_deref()
            }

            fn embedding_dim(&self) -> usize {
                self.embedding_dim
            }

            fn freeze_embeddings(&self) -> bool {
                self.freeze_embeddings
            }

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

/// The validation split: its file, read by `read`, or the share `held` out of the training
/// file, which must hold an example (`is_empty`: whether a split has none; `noun`: what an
/// example is).
pub(crate) fn valid_split<T>(
    run: &impl TaskRun,
    held: Option<T>,
    is_empty: impl Fn(&T) -> bool,
    noun: &str,
    read: impl FnOnce(&str) -> Result<T, RunError>,
) -> Result<T, RunError> {
    match run.valid() {
        Validation::File(path) => read(path),
        Validation::HeldOut(h) => held.filter(|split| !is_empty(split)).ok_or_else(|| {
            let why =
                format!("{} held out no {noun} of {}; give a larger fraction or --valid FILE", h.fraction, run.train());
            RunError::invalid("valid-fraction", why)
        }),
    }
}

/// What a run reads its words and labels with.
pub(crate) struct Vocabularies {
    /// Words: the training split's, grown by the pretrained vectors' words found in any split.
    pub words: Vocab,
    /// The labels (a classifier's) or tags (a tagger's, in its training scheme).
    pub labels: LabelMap,
    /// The pretrained vectors' rows, if any.
    pub pretrained: Option<PretrainedEmbeddings>,
    /// The embedding width (the vectors', when there are vectors).
    pub embedding_dim: usize,
}

/// The run's vocabularies: the words of the training split's `train` counts that `vocab` keeps
/// (an error if it keeps none), the labels `labels` builds (checked before any vectors are
/// read), and the words grown by the run's pretrained vectors where their words occur in any
/// split (`valid`, `test`: those splits' counts).
pub(crate) fn vocabularies(
    run: &impl TaskRun,
    vocab: &VocabConfig,
    train: &TokenCounts,
    (valid, test): (&TokenCounts, Option<&TokenCounts>),
    labels: impl FnOnce() -> Result<LabelMap, RunError>,
) -> Result<Vocabularies, RunError> {
    let words = Vocab::from_counts(train, vocab);
    crate::validate::words_left(&words, train, vocab.min_freq)?;
    let labels = labels()?;
    let mut by_split = vec![("train", train), ("valid", valid)];
    by_split.extend(test.map(|t| ("test", t)));
    let (words, pretrained, embedding_dim) = vocabulary_with_vectors(
        run.embeddings(),
        words,
        &by_split,
        run.embedding_dim(),
        run.freeze_embeddings(),
        run.artifacts(),
    )?;
    Ok(Vocabularies { words, labels, pretrained, embedding_dim })
}

/// The training split encoded with the run's vocabularies (see [`crate::corpus_cache`]):
/// `encode` writes it, reading the file a second time, part by part, unless the cached corpus
/// is still that of the file `fingerprint` counted.
pub(crate) fn encoded_train<R: TaskRun>(
    run: &R,
    fingerprint: Fingerprint,
    v: &Vocabularies,
    encode: impl FnOnce(&mut EncodedWriter) -> Result<Fingerprint, RunError>,
) -> Result<Arc<EncodedCorpus>, RunError> {
    let source = training_source(run.train(), run.valid());
    let wanted = Wanted { task: R::TASK, source: &source, fingerprint, vocab: &v.words, labels: &v.labels };
    train_corpus(run.artifacts(), &wanted, encode)
}

/// Checks the run against the machine's memory: `footprint` of its largest batch's padded
/// tokens, its longest example among the encoded training split `train` and the validation
/// examples `valid` (the line each starts on and its length) named where it is (`noun`: what an
/// example is).
pub(crate) fn check_fits(
    run: &impl TaskRun,
    train: &EncodedCorpus,
    noun: &str,
    valid: &[(usize, usize)],
    footprint: impl FnOnce(usize) -> Footprint,
) -> Result<(), RunError> {
    let train_lengths = || (0..train.len()).map(|i| train.length(i));
    let tokens = batch_tokens(run.training(), train_lengths().chain(valid.iter().map(|&(_, n)| n)));
    let longest = Longest::of(noun, (run.train(), train_lengths()), (run.valid_name(), valid.iter().copied()));
    footprint(tokens).check_run(run.training().max_tokens, &longest, machine_memory())
}

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
}

/// The end of a task's run, `run` as resolved (see [`write_setup`]): writes its set-up (the
/// network's config `model_config` and the vocabularies `v`), seeds the run, builds the model
/// (`model`), trains it on `data`, hands the best epoch's model and the training summary to
/// `score`, and writes the network and the report it returns (see [`write_results`]). Returns
/// the report.
pub(crate) fn fit_and_write<B, R, C, T, I, D, Bt, M, N, Report>(
    run: &R,
    model_config: &C,
    v: &Vocabularies,
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
    let (training, artifacts) = (run.training(), run.artifacts());
    let inputs = input_fingerprints(data.corpus.header.fingerprint, run.valid(), run.test());
    let setup = Setup { run, data: &inputs, model: model_config, vocab: &v.words, labels: &v.labels, task: R::TASK };
    write_setup(artifacts, training.resume, &setup)?;
    seed::<B>(device, training.seed);
    let model = model();
    crate::say!("model: {} parameters", model.num_params());
    let fingerprint = crate::cluster::fingerprint(&run.agreed_by_ranks(), &inputs, &v.words, &v.labels);
    // A tagger's entity scores are its selection's default.
    let entity_tags = (R::TASK == Task::Tagging).then(|| v.labels.names.clone());
    let run = CorpusRun { training, artifacts, entity_tags, fingerprint };
    let fitted = fit_corpus(model, data.dataset, data.corpus, data.valid, data.batcher, data.length, run)?;
    let (net, report) = score(fitted.model, TrainingSummary::from(&fitted.progress));
    write_results(artifacts, &net, &report)?;
    Ok(report)
}

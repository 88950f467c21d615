//! What every training run shares: its error type, artifact writing, and the length-bucketed
//! data loaders.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::tensor::backend::Backend;
use seqlab_datasets::batch::{bucket_batches, BucketedDataset, Flatten};
use seqlab_datasets::DataError;

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// Bad or missing data.
    Data(DataError),
    /// Anything else, with a message.
    Other(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Data(e) => e.fmt(f),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

impl From<DataError> for RunError {
    fn from(e: DataError) -> Self {
        Self::Data(e)
    }
}

/// The recorder of `model.mpk`: named MessagePack at full precision.
pub fn weights_recorder() -> burn::record::NamedMpkFileRecorder<burn::record::FullPrecisionSettings> {
    burn::record::NamedMpkFileRecorder::new()
}

/// Creates the artifacts folder and writes what a trained model is rebuilt from:
/// `run.json`, `model.json`, `vocab.json` and the label map as `labels_file`.
pub fn write_setup(
    dir: &Path,
    run: &impl serde::Serialize,
    model: &impl burn::config::Config,
    vocab: &seqlab_datasets::text::Vocab,
    labels: &seqlab_datasets::LabelMap,
    labels_file: &str,
) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| RunError::Other(format!("{}: cannot create: {e}", dir.display())))?;
    write(&dir.join("run.json"), serde_json::to_string_pretty(run).unwrap())?;
    model.save(dir.join("model.json")).map_err(|e| RunError::Other(e.to_string()))?;
    vocab.save(dir.join("vocab.json"))?;
    labels.save(dir.join(labels_file))?;
    Ok(())
}

/// Writes the trained weights (`model.mpk`) and the scores (`metrics.json`).
pub fn write_results<B: Backend, M: burn::module::Module<B>>(dir: &Path, model: &M, report: &impl serde::Serialize) -> Result<(), RunError> {
    model
        .clone()
        .save_file(dir.join("model"), &weights_recorder())
        .map_err(|e| RunError::Other(format!("saving the model: {e}")))?;
    write(&dir.join("metrics.json"), serde_json::to_string_pretty(report).unwrap())
}

/// Writes a text file of the artifacts.
pub fn write(path: &Path, text: String) -> Result<(), RunError> {
    std::fs::write(path, text).map_err(|e| RunError::Other(format!("{}: cannot write: {e}", path.display())))
}

/// A data loader over length-bucketed batches of `items` (see
/// [`bucket_batches`]); `shuffle` reorders the batches every epoch.
pub fn bucketed_loader<B, I, O, Bt>(
    items: Vec<I>,
    batcher: Bt,
    length: impl Fn(&I) -> usize,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
) -> Arc<dyn DataLoader<B, O>>
where
    B: Backend,
    I: Clone + Send + Sync + std::fmt::Debug + 'static,
    O: Clone + Send + Sync + std::fmt::Debug + 'static,
    Bt: Batcher<B, I, O> + 'static,
{
    let lengths: Vec<usize> = items.iter().map(length).collect();
    let plan = bucket_batches(&lengths, batch_size, 50, seed);
    let builder = DataLoaderBuilder::new(Flatten(batcher)).batch_size(1);
    let builder = if shuffle { builder.shuffle(seed) } else { builder };
    builder.build(BucketedDataset::new(Arc::new(items), plan))
}

/// Trains `model` with burn-train for `epochs` (Adam at `learning_rate`), logging loss and
/// accuracy on both splits through the dashboard (`tui`) or the plain per-epoch renderer, and
/// returns the last epoch's model on the inference backend with the training wall time.
pub fn fit<B, M, I>(
    artifacts: &Path,
    model: M,
    train: Arc<dyn DataLoader<B, I>>,
    valid: Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>,
    epochs: usize,
    learning_rate: f64,
    tui: bool,
) -> (M::InnerModule, f64)
where
    B: burn::tensor::backend::AutodiffBackend,
    I: InnerBatch<B> + Send + 'static,
    M: burn::train::TrainStep<Input = I, Output = burn::train::ClassificationOutput<B>>
        + burn::module::AutodiffModule<B>
        + std::fmt::Display
        + 'static,
    M::InnerModule: burn::train::InferenceStep<Input = I::InnerBatch, Output = burn::train::ClassificationOutput<B::InnerBackend>>,
{
    use burn::train::metric::{AccuracyMetric, LossMetric};
    let training = burn::train::SupervisedTraining::new(artifacts, train, valid)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .with_application_logger(None)
        .num_epochs(epochs);
    let training = if tui { training } else { training.renderer(crate::render::PlainRenderer::default()) };
    let started = std::time::Instant::now();
    let result = training.launch(burn::train::Learner::new(model, burn::optim::AdamConfig::new().init(), learning_rate));
    drop(result.renderer); // gives the terminal back before the summary
    (result.model, started.elapsed().as_secs_f64())
}

/// Names a batch type's counterpart on the inference backend (`TaggingBatch<B>` →
/// `TaggingBatch<B::InnerBackend>`), which the validation loader yields.
pub trait InnerBatch<B: burn::tensor::backend::AutodiffBackend> {
    /// The same batch on `B::InnerBackend`.
    type InnerBatch: Send + 'static;
}

impl<B: burn::tensor::backend::AutodiffBackend> InnerBatch<B> for seqlab_datasets::batch::ClassificationBatch<B> {
    type InnerBatch = seqlab_datasets::batch::ClassificationBatch<B::InnerBackend>;
}

impl<B: burn::tensor::backend::AutodiffBackend> InnerBatch<B> for seqlab_datasets::batch::TaggingBatch<B> {
    type InnerBatch = seqlab_datasets::batch::TaggingBatch<B::InnerBackend>;
}

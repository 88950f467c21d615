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

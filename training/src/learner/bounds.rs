//! The bounds [`super::fit`] puts on what it trains, named once: [`Trainable`] (a model with a
//! training step whose inference twin validates), [`InnerBatch`] (a batch type's twin on the
//! inference backend), [`LoaderItem`] (what a data loader's threads pass around) and
//! [`RunBatcher`] (a batcher for both of a run's loaders).

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::backend::AutodiffBackend;

/// What [`fit`](super::fit) trains: a burn-train training step on `B` over batches `I` whose model on the
/// inference backend (`InnerModule`, named again as [`Trainable::Valid`] so that its bounds come
/// with it) is the validation step over `I::InnerBatch`. Every such model is one.
pub trait Trainable<B: AutodiffBackend, I: InnerBatch<B>>:
    burn::train::TrainStep<Input = I, Output = burn::train::ClassificationOutput<B>>
    + burn::module::AutodiffModule<B, InnerModule = <Self as Trainable<B, I>>::Valid>
    + std::fmt::Display
    + 'static
{
    /// The model on the inference backend.
    type Valid: burn::train::InferenceStep<Input = I::InnerBatch, Output = burn::train::ClassificationOutput<B::InnerBackend>>
        + burn::module::Module<B::InnerBackend>;
}

impl<B, I, M> Trainable<B, I> for M
where
    B: AutodiffBackend,
    I: InnerBatch<B>,
    M: burn::train::TrainStep<Input = I, Output = burn::train::ClassificationOutput<B>>
        + burn::module::AutodiffModule<B>
        + std::fmt::Display
        + 'static,
    M::InnerModule:
        burn::train::InferenceStep<Input = I::InnerBatch, Output = burn::train::ClassificationOutput<B::InnerBackend>>,
{
    type Valid = M::InnerModule;
}

/// What a data loader's items and batches must be: cloned and sent between its threads, and
/// printed in its errors. Every such type is one.
pub trait LoaderItem: Clone + Send + Sync + std::fmt::Debug + 'static {}

impl<T: Clone + Send + Sync + std::fmt::Debug + 'static> LoaderItem for T {}

/// A batcher of items `T` for both loaders of a run: training batches `I` on `B`, validation
/// batches `I::InnerBatch` on its inference backend; with the items and batches a loader's
/// threads can pass around. Every such batcher is one.
pub trait RunBatcher<B: AutodiffBackend, T, I: InnerBatch<B>>:
    Batcher<B, T, I> + Batcher<B::InnerBackend, T, I::InnerBatch> + Clone + 'static
{
}

impl<B, T, I, Bt> RunBatcher<B, T, I> for Bt
where
    B: AutodiffBackend,
    I: InnerBatch<B>,
    Bt: Batcher<B, T, I> + Batcher<B::InnerBackend, T, I::InnerBatch> + Clone + 'static,
{
}

/// Names a batch type's counterpart on the inference backend (`TaggingBatch<B>` →
/// `TaggingBatch<B::InnerBackend>`), which the validation loader yields.
pub trait InnerBatch<B: AutodiffBackend> {
    /// The same batch on `B::InnerBackend`.
    type InnerBatch: Send + 'static;
}

impl<B: AutodiffBackend> InnerBatch<B> for seqlab_datasets::batch::ClassificationBatch<B> {
    type InnerBatch = seqlab_datasets::batch::ClassificationBatch<B::InnerBackend>;
}

impl<B: AutodiffBackend> InnerBatch<B> for seqlab_datasets::batch::TaggingBatch<B> {
    type InnerBatch = seqlab_datasets::batch::TaggingBatch<B::InnerBackend>;
}

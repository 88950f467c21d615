//! Adam with Burn's update rule and state, computed in one pass over each parameter on ndarray.
//!
//! Burn's `Adam` spends a dozen tensor operations per parameter and step (each allocating a
//! result the size of the parameter); for a 20,000-word embedding that is a fifth of a tagger's
//! training step. [`FusedAdam`] computes the same formulas, in the same order and precision,
//! in one loop over the parameter (split between the cores), when the parameters are f32
//! ndarray tensors; on any other backend or float type it calls Burn's `Adam`. Its state is
//! Burn's `AdamState`, so checkpoints of either load into the other.

use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, SimpleOptimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{DType, Tensor};
use seqlab_models::flat;
use seqlab_models::subnormal::FlushToZero;
use seqlab_models::threads::threads;

/// Configuration of [`FusedAdam`]: Burn's `AdamConfig` defaults (β₁ 0.9, β₂ 0.999, ε 1e-5), L2
/// weight decay added to the gradient, optional gradient clipping (Burn's, per parameter; runs
/// clip by the global norm instead, [`crate::clip::GlobalNormClip`]).
#[derive(Debug, Clone)]
pub struct FusedAdamConfig {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: Option<WeightDecayConfig>,
    grad_clipping: Option<GradientClippingConfig>,
}

impl Default for FusedAdamConfig {
    fn default() -> Self {
        Self { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-5, weight_decay: None, grad_clipping: None }
    }
}

impl FusedAdamConfig {
    /// Burn's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// L2 weight decay (`grad + penalty · param`), as Burn's Adam.
    pub fn with_weight_decay(mut self, weight_decay: Option<WeightDecayConfig>) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// ε, added to the root of the second moment.
    pub fn with_epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Gradient clipping (Burn's, per parameter) before the update.
    pub fn with_grad_clipping(mut self, grad_clipping: Option<GradientClippingConfig>) -> Self {
        self.grad_clipping = grad_clipping;
        self
    }

    /// The optimiser.
    pub fn build(&self) -> FusedAdam {
        let burn = AdamConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
            .with_weight_decay(self.weight_decay.clone());
        FusedAdam {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            penalty: self.weight_decay.as_ref().map(|w| w.penalty),
            burn: burn.build(),
        }
    }

    /// The optimiser for a module, with gradient clipping if configured.
    pub fn init<B: AutodiffBackend, M: AutodiffModule<B>>(&self) -> OptimizerAdaptor<FusedAdam, M, B> {
        let mut optim = OptimizerAdaptor::from(self.build());
        if let Some(clipping) = &self.grad_clipping {
            optim = optim.with_grad_clipping(clipping.init());
        }
        optim
    }
}

/// Adam, fused on ndarray (see the module docs).
#[derive(Clone)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    penalty: Option<f32>,
    /// Burn's Adam with the same settings, for other backends.
    burn: Adam,
}

/// Whether parameters of backend `B` live in CPU memory that [`FusedAdam`] can update directly.
fn on_cpu<B: Backend>() -> bool {
    #[cfg(feature = "ndarray")]
    if seqlab_models::backends::known::<B>() == Some(seqlab_models::backends::Known::NdArrayF32) {
        return true;
    }
    false
}

/// Elements per thread below which the update runs on one thread.
const MIN_PER_THREAD: usize = 1 << 16;

impl<B: Backend> SimpleOptimizer<B> for FusedAdam {
    type State<const D: usize> = AdamState<B, D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        let all_f32 = tensor.dtype() == DType::F32
            && grad.dtype() == DType::F32
            && state
                .as_ref()
                .is_none_or(|s| s.momentum.max_moment_2.is_none() && s.momentum.moment_1.dtype() == DType::F32);
        if !(on_cpu::<B>() && all_f32) {
            return self.burn.step(lr, tensor, grad, state);
        }
        let (shape, device) = (tensor.shape(), tensor.device());
        let values = |t: Tensor<B, D>| flat::to_vec::<B, f32, D>(t);
        let mut param = values(tensor);
        let grad = values(grad);
        let (time, mut moment_1, mut moment_2) = match state {
            Some(s) => (s.momentum.time + 1, values(s.momentum.moment_1), values(s.momentum.moment_2)),
            // Burn's first step, `m = (1 − β₁) g`, equals the update from zero moments exactly.
            None => (1, vec![0.0; param.len()], vec![0.0; param.len()]),
        };
        let update = Update::new(self, lr, time);
        let threads = threads().min(param.len() / MIN_PER_THREAD).max(1);
        let chunk = param.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts = param
                .chunks_mut(chunk)
                .zip(grad.chunks(chunk))
                .zip(moment_1.chunks_mut(chunk))
                .zip(moment_2.chunks_mut(chunk));
            let mut parts: Vec<_> = parts.collect();
            let last = parts.pop();
            for (((p, g), m), v) in parts {
                scope.spawn(move || update.apply(p, g, m, v));
            }
            if let Some((((p, g), m), v)) = last {
                update.apply(p, g, m, v);
            }
        });
        let dims: [usize; D] = shape.dims();
        let tensor = |v: Vec<f32>| flat::from_vec::<B, f32, D>(v, dims, &device);
        let state = AdamState::new(AdaptiveMomentumState::new(time, tensor(moment_1), tensor(moment_2)));
        (tensor(param), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &B::Device) -> Self::State<D> {
        <Adam as SimpleOptimizer<B>>::to_device(state, device)
    }
}

/// The scalars of one step, computed as Burn computes them.
#[derive(Clone, Copy)]
struct Update {
    beta_1: f32,
    beta_2: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    penalty: Option<f32>,
    combined_factor: f32,
    epsilon: f32,
    lr: f32,
}

impl Update {
    fn new(adam: &FusedAdam, lr: LearningRate, time: usize) -> Self {
        let time = time as i32;
        let bias_correction2_sqrt = (1.0 - adam.beta_2.powi(time)).sqrt();
        Self {
            beta_1: adam.beta_1,
            beta_2: adam.beta_2,
            one_minus_beta_1: 1.0 - adam.beta_1,
            one_minus_beta_2: 1.0 - adam.beta_2,
            penalty: adam.penalty,
            combined_factor: bias_correction2_sqrt / (1.0 - adam.beta_1.powi(time)),
            epsilon: adam.epsilon * bias_correction2_sqrt,
            lr: lr as f32,
        }
    }

    /// Burn's operations, element by element and in its order:
    /// `g ← p·λ + g`, `m ← m·β₁ + g·(1 − β₁)`, `v ← v·β₂ + g²·(1 − β₂)`,
    /// `p ← p − (m·c) / (√v + ε') · lr`.
    ///
    /// Subnormals are flushed to zero meanwhile: the moments of rows that no batch touches decay
    /// into them, and would otherwise slow every later step (see [`seqlab_models::subnormal`]).
    fn apply(self, param: &mut [f32], grad: &[f32], moment_1: &mut [f32], moment_2: &mut [f32]) {
        let _flush = FlushToZero::new();
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { self.apply_avx512(param, grad, moment_1, moment_2) };
        }
        self.update(param, grad, moment_1, moment_2);
    }

    /// [`Update::update`] compiled for AVX-512: the same operations 16 values at a time
    /// (square roots and divisions are exact, so the values are the same).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn apply_avx512(self, param: &mut [f32], grad: &[f32], moment_1: &mut [f32], moment_2: &mut [f32]) {
        self.update(param, grad, moment_1, moment_2);
    }

    /// The loop of [`Update::apply`].
    #[inline(always)]
    fn update(self, param: &mut [f32], grad: &[f32], moment_1: &mut [f32], moment_2: &mut [f32]) {
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(moment_1.iter_mut()).zip(moment_2.iter_mut()) {
            let g = match self.penalty {
                Some(penalty) => *p * penalty + g,
                None => g,
            };
            *m = *m * self.beta_1 + g * self.one_minus_beta_1;
            *v = *v * self.beta_2 + (g * g) * self.one_minus_beta_2;
            let step = (*m * self.combined_factor) / (v.sqrt() + self.epsilon);
            *p -= step * self.lr;
        }
    }
}

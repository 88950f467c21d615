//! Optimisers (Adam, AdamW, SGD with momentum), weight decay, gradient clipping and
//! learning-rate schedules (constant, step, plateau, warm-up + cosine or linear decay).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, SgdConfig};

use crate::adam::FusedAdamConfig;
use burn::optim::lr_scheduler::LrScheduler;
use burn::tensor::backend::Backend;

/// Which optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum OptimizerKind {
    /// Adam (weight decay added to the gradient, L2 style).
    Adam,
    /// AdamW (decoupled weight decay).
    AdamW,
    /// Stochastic gradient descent with (optional) momentum.
    Sgd,
}

/// How the learning rate moves during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum ScheduleKind {
    /// The base rate throughout (after any warm-up).
    Constant,
    /// Multiplied by `gamma` every `step_epochs` epochs.
    Step,
    /// Multiplied by `gamma` when the selection metric has not improved for `plateau_patience`
    /// epochs.
    Plateau,
    /// Warm-up, then cosine decay to 0 at the last step.
    Cosine,
    /// Warm-up, then linear decay to 0 at the last step.
    Linear,
}

/// Optimiser and schedule of a run (serialised into `run.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OptimConfig {
    /// The optimiser.
    pub optimizer: OptimizerKind,
    /// Base learning rate.
    pub learning_rate: f64,
    /// Weight decay (L2 penalty for Adam and SGD, decoupled for AdamW); 0 for none.
    pub weight_decay: f64,
    /// SGD momentum (0: plain SGD).
    pub momentum: f64,
    /// Adam's and AdamW's ε, added to the root of the second moment (Burn's default 1e-5,
    /// PyTorch's 1e-8).
    #[serde(default = "burn_epsilon")]
    pub adam_epsilon: f64,
    /// Clip the gradients to this global L2 norm (`None`: no clipping; see
    /// [`crate::clip::GlobalNormClip`]).
    pub clip_norm: Option<f32>,
    /// The learning-rate schedule.
    pub schedule: ScheduleKind,
    /// Linear warm-up over this many optimiser steps (any schedule).
    pub warmup_steps: usize,
    /// Step schedule: epochs between decays.
    pub step_epochs: usize,
    /// Step and plateau schedules: the decay factor.
    pub gamma: f64,
    /// Plateau schedule: epochs without improvement before a decay.
    pub plateau_patience: usize,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerKind::Adam,
            learning_rate: 2e-3,
            weight_decay: 0.0,
            momentum: 0.9,
            adam_epsilon: burn_epsilon(),
            clip_norm: None,
            schedule: ScheduleKind::Constant,
            warmup_steps: 0,
            step_epochs: 1,
            gamma: 0.5,
            plateau_patience: 1,
        }
    }
}

/// Burn's `AdamConfig` ε, the default (and what runs before the option had).
fn burn_epsilon() -> f64 {
    1e-5
}

impl OptimConfig {
    fn decay(&self) -> Option<WeightDecayConfig> {
        (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32))
    }

    /// Adam as configured ([`FusedAdam`](crate::adam::FusedAdam): Burn's update, fused on ndarray).
    pub fn adam(&self) -> FusedAdamConfig {
        FusedAdamConfig::new().with_weight_decay(self.decay()).with_epsilon(self.adam_epsilon as f32)
    }

    /// AdamW as configured.
    pub fn adamw(&self) -> AdamWConfig {
        AdamWConfig::new().with_weight_decay(self.weight_decay as f32).with_epsilon(self.adam_epsilon as f32)
    }

    /// SGD as configured (PyTorch-style momentum: no dampening).
    pub fn sgd(&self) -> SgdConfig {
        let momentum =
            (self.momentum > 0.0).then(|| MomentumConfig::new().with_momentum(self.momentum).with_dampening(0.0));
        SgdConfig::new().with_momentum(momentum).with_weight_decay(self.decay())
    }
}

/// An `f64` that two threads share: burn-train's learner writes it, the after-epoch step
/// reads it (or the other way round).
#[derive(Debug, Clone)]
pub struct SharedF64(Arc<AtomicU64>);

impl SharedF64 {
    /// A shared value starting at `value`.
    pub fn new(value: f64) -> Self {
        Self(Arc::new(AtomicU64::new(value.to_bits())))
    }

    /// The value now.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// Replaces the value.
    pub fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

/// What the after-epoch step (`crate::epochs::AfterEpoch`) may see and change of a running
/// [`Schedule`]: the rate of the last step (for `log.csv`) and the plateau factor (lowered when
/// the selection metric stops improving).
#[derive(Debug, Clone)]
pub struct ScheduleHandle {
    current: SharedF64,
    plateau_factor: SharedF64,
}

impl ScheduleHandle {
    /// The learning rate of the last optimiser step.
    pub fn rate(&self) -> f64 {
        self.current.get()
    }

    /// Multiplies the plateau factor by `gamma` (the plateau schedule's decay).
    pub fn lower_plateau(&self, gamma: f64) {
        self.plateau_factor.set(self.plateau_factor.get() * gamma);
    }
}

/// The learning-rate schedule burn-train steps once per optimiser step; [`Schedule::handle`]
/// shares its rate and plateau factor with the after-epoch step.
#[derive(Debug, Clone)]
pub struct Schedule {
    config: OptimConfig,
    /// Optimiser steps in one epoch.
    steps_per_epoch: usize,
    /// Optimiser steps in the whole run.
    total_steps: usize,
    step: usize,
    plateau_factor: SharedF64,
    current: SharedF64,
}

impl Schedule {
    /// A schedule for `epochs` of `steps_per_epoch` steps.
    pub fn new(config: &OptimConfig, steps_per_epoch: usize, epochs: usize) -> Self {
        Self {
            config: config.clone(),
            steps_per_epoch: steps_per_epoch.max(1),
            total_steps: (steps_per_epoch * epochs).max(1),
            step: 0,
            plateau_factor: SharedF64::new(1.0),
            current: SharedF64::new(config.learning_rate),
        }
    }

    /// The rate and plateau factor, shared with the after-epoch step.
    pub fn handle(&self) -> ScheduleHandle {
        ScheduleHandle { current: self.current.clone(), plateau_factor: self.plateau_factor.clone() }
    }

    /// The rate at optimiser step `step` (1-based).
    pub fn rate_at(&self, step: usize) -> f64 {
        let c = &self.config;
        let base = c.learning_rate;
        if step <= c.warmup_steps {
            return base * step as f64 / c.warmup_steps as f64;
        }
        let after = (step - c.warmup_steps) as f64;
        let span = self.total_steps.saturating_sub(c.warmup_steps).max(1) as f64;
        let progress = (after / span).min(1.0);
        match c.schedule {
            ScheduleKind::Constant => base,
            ScheduleKind::Step => {
                let epoch = (step - 1) / self.steps_per_epoch;
                base * c.gamma.powi((epoch / c.step_epochs.max(1)) as i32)
            }
            ScheduleKind::Plateau => base * self.plateau_factor.get(),
            ScheduleKind::Cosine => base * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
            ScheduleKind::Linear => base * (1.0 - progress),
        }
    }
}

impl LrScheduler for Schedule {
    /// `[steps taken, plateau factor]`.
    type Record<B: Backend> = [f64; 2];

    fn step(&mut self) -> f64 {
        self.step += 1;
        let rate = self.rate_at(self.step);
        self.current.set(rate);
        rate
    }

    fn to_record<B: Backend>(&self) -> [f64; 2] {
        [self.step as f64, self.plateau_factor.get()]
    }

    fn load_record<B: Backend>(mut self, record: [f64; 2]) -> Self {
        self.step = record[0] as usize;
        self.plateau_factor.set(record[1]);
        self
    }
}

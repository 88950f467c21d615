//! Timing training steps and inference passes, and the process's peak memory.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use seqlab_training::backend;
use seqlab_training::FusedAdamConfig;

use super::inputs::inputs;
use super::nets::Net;
use super::{Settings, Workload};

/// Times `settings.steps` training steps (forward, loss, backward, Adam) per round after
/// warm-up; seconds per step.
pub fn time_train<B: AutodiffBackend, M: Net<B> + AutodiffModule<B>>(
    mut model: M,
    w: &Workload,
    settings: &Settings,
    rounds: usize,
) -> Vec<f64>
where
    M::InnerModule: Net<B::InnerBackend>,
{
    let device = Default::default();
    let data = inputs::<B>(w, &device);
    // The Adam the training commands use (Burn's update, fused on ndarray), for both models.
    let mut optim = FusedAdamConfig::new().init::<B, M>();
    let mut step = |model: M| -> M {
        let loss = model.loss(&data);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        optim.step(1e-3, model, grads)
    };
    for _ in 0..settings.warmup {
        model = step(model);
    }
    let mut times = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..settings.steps {
            model = step(model);
        }
        B::sync(&device).expect("sync");
        times.push(start.elapsed().as_secs_f64() / settings.steps as f64);
    }
    times
}

/// Times `settings.passes` inference passes per round after warm-up; seconds per pass.
pub fn time_infer<M: Net<backend::Inner>>(model: M, w: &Workload, settings: &Settings, rounds: usize) -> Vec<f64> {
    let device = Default::default();
    let data = inputs::<backend::Inner>(w, &device);
    let run = || model.logits(data.tokens.clone(), data.lengths.clone()).into_data();
    for _ in 0..settings.warmup {
        run();
    }
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..settings.passes {
                run();
            }
            start.elapsed().as_secs_f64() / settings.passes as f64
        })
        .collect()
}

/// Peak resident memory (VmHWM) since the last reset, in MiB; resets it (Linux).
pub fn take_peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    Some(kib / 1024.0)
}

/// The larger of two peaks.
pub fn max_peak(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

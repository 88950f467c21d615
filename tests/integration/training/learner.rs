//! The shared learner: `--resume` continues at the right epoch and refuses a different run, a
//! non-finite loss stops training and keeps the best checkpoint, schedules give hand-computed
//! rates, and `--config` files fill what the command line leaves out.

use seqlab_training::classifier::{train_classifier, ClassifierRunConfig};
use seqlab_training::epochs::Progress;
use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::{OptimConfig, OptimizerKind, Schedule, ScheduleKind};

use crate::common::*;

fn tiny(dir: &std::path::Path, training: TrainingConfig) -> ClassifierRunConfig {
    ClassifierRunConfig { test: None, training, ..super::classifier::tiny_classifier(dir) }
}

fn log_rows(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("log.csv")).unwrap().lines().skip(1).map(str::to_string).collect()
}

#[test]
fn resume_continues_at_the_right_epoch_and_refuses_another_run() {
    let dir = scratch("resume");
    let device = Default::default();
    let training = TrainingConfig { epochs: 1, batch_size: 100, seed: 5, ..Default::default() };
    let first = train_classifier::<TestAutodiff>(&tiny(&dir, training.clone()), &device).unwrap();
    assert_eq!(first.training.epochs_completed, 1);
    let epoch_1 = log_rows(&dir);
    assert_eq!(epoch_1.len(), 1);
    assert!(dir.join("checkpoint/model-1.mpk").exists() && dir.join("checkpoint/optim-1.mpk").exists());

    // "Killed" after epoch 1: resume to 3 epochs.
    let resumed = TrainingConfig { epochs: 3, resume: true, ..training.clone() };
    let report = train_classifier::<TestAutodiff>(&tiny(&dir, resumed.clone()), &device).unwrap();
    assert_eq!(report.training.epochs_completed, 3);
    let rows = log_rows(&dir);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0], epoch_1[0], "epoch 1's line is kept");
    for (i, row) in rows.iter().enumerate() {
        assert!(row.starts_with(&format!("{},", i + 1)), "{row}");
        assert!(!row.contains("NaN"), "every epoch's metrics found: {row}");
    }
    let progress = Progress::load(&dir).unwrap().unwrap();
    assert_eq!(progress.last_epoch, 3);
    assert!((1..=3).contains(&progress.best_epoch));
    assert_eq!(report.training.best_epoch, progress.best_epoch);
    // Only the best, the last and the one before the last stay (the fallback of --resume).
    assert_eq!(progress.previous.as_ref().map(|p| p.last_epoch), Some(2));
    let mut kept = progress.kept.clone();
    kept.sort();
    let mut expected = vec![progress.best_epoch, 2, 3];
    expected.sort();
    expected.dedup();
    assert_eq!(kept, expected);
    for epoch in 1..=3 {
        assert_eq!(
            dir.join(format!("checkpoint/model-{epoch}.mpk")).exists(),
            expected.contains(&epoch),
            "epoch {epoch}"
        );
    }
    assert!(std::fs::read_dir(dir.join("checkpoint")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("partial")));
    // curves.svg: three epochs of train/valid loss, train/valid accuracy and the rate (a point
    // each, 5 × 3), the kept epoch named, every panel titled and its axes described.
    let svg = std::fs::read_to_string(dir.join("curves.svg")).unwrap();
    assert_eq!(svg.matches("<circle").count(), 15, "one point per epoch and series");
    for text in [
        "3 epochs",
        &format!("kept epoch {}", progress.best_epoch),
        "train loss",
        "valid loss",
        "valid accuracy",
        "learning rate",
        "Loss (cross-entropy",
        "Validation metrics",
        "\nepoch\n</text>",
    ] {
        assert!(svg.contains(text), "curves.svg lacks {text:?}");
    }

    // Resuming a finished run trains nothing and keeps the same model.
    let again = train_classifier::<TestAutodiff>(&tiny(&dir, resumed.clone()), &device).unwrap();
    assert_eq!(again.valid, report.valid);
    assert_eq!(log_rows(&dir).len(), 3);

    // Another configuration cannot resume this folder.
    let mut other = tiny(&dir, resumed);
    other.embedding_dim = 16;
    let err = train_classifier::<TestAutodiff>(&other, &device).unwrap_err().to_string();
    assert!(err.contains("different run") && err.contains("--embedding-dim (run.json: 8, now: 16)"), "{err}");
    // Nor can a folder without a completed epoch.
    let empty = scratch("resume-empty");
    let err = train_classifier::<TestAutodiff>(&tiny(&empty, TrainingConfig { resume: true, ..training }), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--resume"), "{err}");
}

#[test]
fn a_non_finite_loss_stops_training_and_keeps_the_best_checkpoint() {
    let dir = scratch("nan");
    let device = Default::default();
    // SGD whose rate jumps past f32's range after epoch 1: the weights become ±inf and NaN in epoch 2.
    let optim = OptimConfig {
        optimizer: OptimizerKind::Sgd,
        learning_rate: 0.05,
        schedule: ScheduleKind::Step,
        gamma: 1e45,
        ..Default::default()
    };
    let training = TrainingConfig { epochs: 4, batch_size: 100, optim, seed: 5, ..Default::default() };
    let report = train_classifier::<TestAutodiff>(&tiny(&dir, training), &device).unwrap();
    let why = report.training.stopped.clone().expect("stopped");
    assert!(why.contains("not finite"), "{why}");
    assert_eq!(report.training.epochs_completed, 2, "stopped after the first bad epoch");
    assert_eq!(report.training.best_epoch, 1);
    assert!(
        report.valid.accuracy > 0.0 && report.valid.macro_f1.is_finite(),
        "the kept model is epoch 1's: {:?}",
        report.valid
    );
    assert!(dir.join("checkpoint/model-1.mpk").exists());
}

#[test]
fn schedules_give_hand_computed_rates() {
    let base = OptimConfig { learning_rate: 1.0, warmup_steps: 2, ..Default::default() };
    // 2 epochs of 5 steps; warm-up 2 steps, then 8 steps of decay.
    let rates = |schedule: ScheduleKind, extra: OptimConfig| -> Vec<f64> {
        let s = Schedule::new(&OptimConfig { schedule, ..extra }, 5, 2);
        (1..=10).map(|step| s.rate_at(step)).collect()
    };
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
    let linear = rates(ScheduleKind::Linear, base.clone());
    assert!(close(&linear, &[0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0]), "{linear:?}");
    let cosine = rates(ScheduleKind::Cosine, base.clone());
    let expected: Vec<f64> = [0.5, 1.0]
        .into_iter()
        .chain((1..=8).map(|k| 0.5 * (1.0 + (std::f64::consts::PI * f64::from(k) / 8.0).cos())))
        .collect();
    assert!(close(&cosine, &expected), "{cosine:?}");
    let step = rates(ScheduleKind::Step, OptimConfig { warmup_steps: 0, gamma: 0.1, ..base.clone() });
    assert!(close(&step, &[1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1]), "{step:?}");
    let constant = rates(ScheduleKind::Constant, OptimConfig { warmup_steps: 0, ..base });
    assert!(constant.iter().all(|&r| r == 1.0));
}

#[derive(clap::Parser, Debug)]
struct ConfigProbe {
    #[arg(long, default_value_t = 128)]
    hidden: usize,
    #[arg(long)]
    bidirectional: bool,
    #[arg(long, value_delimiter = ',')]
    ffn_hidden: Vec<usize>,
    #[command(flatten)]
    training: seqlab_bins::args::training::TrainingArgs,
}

#[test]
fn config_files_fill_what_the_command_line_leaves_out() {
    let dir = scratch("config");
    let toml = dir.join("run.toml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &toml,
        "hidden = 256\nbidirectional = true\nffn-hidden = [64, 32]\nlr = 0.01\nepochs = 9\noptimizer = \"adamw\"\n",
    )
    .unwrap();
    let argv = |extra: &[&str]| -> Vec<std::ffi::OsString> {
        ["probe", "--config", toml.to_str().unwrap()].iter().chain(extra).map(Into::into).collect()
    };
    let args: ConfigProbe =
        seqlab_bins::config_file::parse_from_with_config(argv(&["--epochs", "2"]), std::convert::identity).args;
    assert_eq!(args.hidden, 256);
    assert!(args.bidirectional);
    assert_eq!(args.ffn_hidden, vec![64, 32]);
    assert_eq!(args.training.lr, 0.01);
    assert_eq!(args.training.optimizer, OptimizerKind::AdamW);
    assert_eq!(args.training.epochs, Some(2), "the command line wins");
    let json = dir.join("run.json");
    std::fs::write(&json, r#"{"hidden": 64, "schedule": "cosine", "warmup_steps": 100}"#).unwrap();
    let args: ConfigProbe = seqlab_bins::config_file::parse_from_with_config(
        vec!["probe".into(), "--config".into(), json.into_os_string()],
        std::convert::identity,
    )
    .args;
    assert_eq!(
        (args.hidden, args.training.schedule, args.training.warmup_steps),
        (64, Some(ScheduleKind::Cosine), 100)
    );
}

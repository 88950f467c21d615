//! The learner's command-line options (the same for `train-classifier` and `train-tagger`) and
//! `--config FILE`: a TOML or JSON table of the same options, which the command line overrides.

use std::ffi::{OsStr, OsString};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::parser::ValueSource;
use clap::Parser;
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_training::backend;
use seqlab_training::epochs::Select;
use seqlab_training::error::RunError;
use seqlab_training::learner::{TrainingConfig, TrainingSummary};
use seqlab_training::optim::{OptimConfig, OptimizerKind, ScheduleKind};
use strum::VariantNames;

/// Pretrained word vectors (both trainers).
#[derive(clap::Args, Debug, Clone)]
pub struct VectorsArgs {
    /// Pretrained word vectors: a GloVe or word2vec text file, plain or .gz (e.g.
    /// glove.6B.50d.txt). Their words that occur in any given split join the vocabulary; the
    /// embedding width comes from the file.
    #[arg(long, value_name = "FILE")]
    pub embeddings: Option<PathBuf>,
    /// Keep the pretrained vectors fixed during training.
    #[arg(long, requires = "embeddings")]
    pub freeze_embeddings: bool,
}

/// A clap value parser for an enum's names ([`FromStr`] with its aliases, in any case). The help
/// lists the enum's own choices ([`VariantNames`]), and an unknown name is refused with them:
/// `unknown model "x"; expected ffn, rnn, rnn-relu, lstm or gru`.
pub fn by_name<T>(what: &'static str) -> Named<T> {
    Named { what, parsed: PhantomData }
}

/// The value parser of [`by_name`].
pub struct Named<T> {
    what: &'static str,
    parsed: PhantomData<fn() -> T>,
}

impl<T> Clone for Named<T> {
    fn clone(&self) -> Self {
        Self { what: self.what, parsed: PhantomData }
    }
}

/// `a, b or c`.
fn choices(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl<T: FromStr + VariantNames + Clone + Send + Sync + 'static> TypedValueParser for Named<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let what = self.what;
        let parse = move |s: &str| {
            s.parse::<T>().map_err(|_| format!("unknown {what} {s:?}; expected {}", choices(T::VARIANTS)))
        };
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::VARIANTS.iter().map(PossibleValue::new)))
    }
}

/// Epochs, batches, optimiser, schedule, checkpoints.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainingArgs {
    /// Epochs (with --resume: the total to reach) [default: 5 for train-classifier, 15 for
    /// train-tagger].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Examples (sentences) per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Optimiser.
    #[arg(long, default_value = "adam", value_parser = by_name::<OptimizerKind>("optimizer"))]
    pub optimizer: OptimizerKind,
    /// Base learning rate.
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// Weight decay (L2 for adam and sgd, decoupled for adamw); 0: none.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// SGD momentum (0: plain SGD).
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Clip gradients to this global L2 norm [default: no clipping].
    #[arg(long)]
    pub clip_norm: Option<f32>,
    /// Learning-rate schedule: constant, step (×gamma every --step-epochs), plateau (×gamma after
    /// --plateau-patience epochs without improvement), cosine or linear (decay to 0 at the end)
    /// [default: constant for train-classifier, cosine for train-tagger].
    #[arg(long, value_parser = by_name::<ScheduleKind>("schedule"))]
    pub schedule: Option<ScheduleKind>,
    /// Linear warm-up from 0 over this many optimiser steps (any schedule).
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    /// Step schedule: epochs between decays.
    #[arg(long, default_value_t = 1)]
    pub step_epochs: usize,
    /// Step and plateau schedules: the decay factor.
    #[arg(long, default_value_t = 0.5)]
    pub gamma: f64,
    /// Plateau schedule: epochs without improvement before a decay.
    #[arg(long, default_value_t = 1)]
    pub plateau_patience: usize,
    /// Validation metric that picks the kept (best) epoch: auto (entity F1 for the tagger,
    /// accuracy for the classifier), accuracy, loss or f1.
    #[arg(long, default_value = "auto", value_parser = by_name::<Select>("selection metric"))]
    pub select: Select,
    /// Stop after this many epochs without improvement of --select [default: never].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed of initialisation, shuffling and dropout (repeatable on one backend).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Continue from the last completed epoch in --artifacts (same options and data required).
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    /// Replace the run already in --artifacts (without this or --resume, such a folder is
    /// refused).
    #[arg(long)]
    pub overwrite: bool,
    /// Plain one-line-per-epoch log instead of the terminal dashboard.
    #[arg(long)]
    pub no_tui: bool,
    /// Train data-parallel on these devices, e.g. `0,1` (wgpu: discrete GPUs 0 and 1): each
    /// step runs one batch per device and averages their gradients, so the effective batch is
    /// devices × --batch-size [default: one device]. On ndarray every index is the CPU.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub devices: Vec<u16>,
    /// A TOML or JSON file of options (keys as the long options, e.g. `hidden = 256`,
    /// `bidirectional = true`); options given on the command line override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl TrainingArgs {
    /// The learner's configuration; `epochs` and `schedule` are the command's defaults for
    /// options not given.
    pub fn to_config(&self, epochs: usize, schedule: ScheduleKind) -> TrainingConfig {
        TrainingConfig {
            epochs: self.epochs.unwrap_or(epochs),
            batch_size: self.batch_size,
            optim: OptimConfig {
                optimizer: self.optimizer,
                learning_rate: self.lr,
                weight_decay: self.weight_decay,
                momentum: self.momentum,
                clip_norm: self.clip_norm,
                schedule: self.schedule.unwrap_or(schedule),
                warmup_steps: self.warmup_steps,
                step_epochs: self.step_epochs,
                gamma: self.gamma,
                plateau_patience: self.plateau_patience,
            },
            select: self.select,
            patience: self.patience,
            seed: self.seed,
            resume: self.resume,
            overwrite: self.overwrite,
            tui: !self.no_tui && std::io::IsTerminal::is_terminal(&std::io::stdout()),
            devices: self.devices.clone(),
        }
    }
}

/// A parsed command line, and which options came from `--config FILE`.
#[derive(Debug)]
pub struct Parsed<A> {
    /// The options.
    pub args: A,
    /// Where they came from.
    pub origin: Origin,
}

/// The config file and the options (by id) it supplied, with its keys.
#[derive(Debug, Default)]
pub struct Origin {
    config: Option<(PathBuf, Vec<(String, String)>)>,
}

impl Origin {
    /// An error for the user: an option outside its range is named as it was given (the
    /// config file and key when it came from `--config`).
    pub fn explain(&self, error: &RunError) -> String {
        if let (RunError::Invalid { option, message }, Some((path, keys))) = (error, &self.config) {
            let id = option.replace('-', "_");
            if let Some((key, _)) = keys.iter().find(|(_, i)| *i == id) {
                return format!("--config {}: key {key:?} (--{option}): {message}", path.display());
            }
        }
        error.to_string()
    }
}

/// Parses the command line of `A`, filling options it does not give from `--config FILE`
/// (TOML, or JSON when the name ends in `.json`). File values go through the same parsers as
/// command-line ones; an error in one names the file and the key. Exits with a message on
/// errors.
pub fn parse_with_config<A: Parser>() -> Parsed<A> {
    parse_from_with_config(std::env::args_os().collect())
}

/// [`parse_with_config`] over explicit arguments (`argv[0]` is the program name).
pub fn parse_from_with_config<A: Parser>(argv: Vec<OsString>) -> Parsed<A> {
    let mut command = A::command();
    command.build();
    let matches = command.clone().get_matches_from(argv.clone());
    let Some(path) = matches.get_one::<PathBuf>("config").cloned() else {
        return Parsed { args: A::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()), origin: Origin::default() };
    };
    let fail = |message: String| -> ! {
        command
            .clone()
            .error(clap::error::ErrorKind::InvalidValue, format!("--config {}: {message}", path.display()))
            .exit()
    };
    let table = read_table(&path).unwrap_or_else(|e| fail(e));
    let (extra, supplied) = file_arguments(&command, &matches, &table).unwrap_or_else(|e| fail(e));
    let mut full = argv;
    full.extend(extra);
    let matches = command.clone().try_get_matches_from(full).unwrap_or_else(|e| {
        // A value from the file that the option's parser refuses: name the key.
        match refused_key(&command, &supplied, &e) {
            Some(message) => fail(message),
            None => e.exit(),
        }
    });
    let args = A::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    Parsed { args, origin: Origin { config: Some((path, supplied)) } }
}

/// A config file's table of options: TOML, or JSON when the name ends in `.json`.
fn read_table(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let table: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    } else {
        let value: toml::Value = toml::from_str(&text).map_err(|e| e.to_string())?;
        serde_json::to_value(value).map_err(|e| e.to_string())?
    };
    match table {
        serde_json::Value::Object(table) => Ok(table),
        _ => Err("expected a table of options".into()),
    }
}

/// Which config-file key supplied which option id.
type Supplied = Vec<(String, String)>;

/// The command-line arguments a config table adds (options the command line does not give),
/// and which keys supplied which option ids.
fn file_arguments(
    command: &clap::Command,
    matches: &clap::ArgMatches,
    table: &serde_json::Map<String, serde_json::Value>,
) -> Result<(Vec<OsString>, Supplied), String> {
    let mut extra: Vec<OsString> = Vec::new();
    let mut supplied: Vec<(String, String)> = Vec::new();
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (key, value) in table {
        let id = key.replace('-', "_");
        let Some(arg) = command.get_arguments().find(|a| a.get_id().as_str() == id) else {
            return Err(format!("unknown option {key:?}"));
        };
        if id == "config" || matches.value_source(&id) == Some(ValueSource::CommandLine) {
            continue;
        }
        let flag = format!("--{}", arg.get_long().unwrap_or(&id));
        let takes_value = arg.get_num_args().is_none_or(|n| n.takes_values());
        // `--flag=value`, so that a value such as `-1` is not read as an option.
        match value {
            serde_json::Value::Bool(b) if !takes_value => {
                if *b {
                    extra.push(flag.into());
                }
            }
            serde_json::Value::Array(items) => {
                extra.push(format!("{flag}={}", items.iter().map(text).collect::<Vec<_>>().join(",")).into());
            }
            serde_json::Value::Null => {}
            v => extra.push(format!("{flag}={}", text(v)).into()),
        }
        supplied.push((key.clone(), id));
    }
    Ok((extra, supplied))
}

/// The message for a value from the config file that its option's parser refused, naming the
/// key; `None` when the error is about the command line itself.
fn refused_key(command: &clap::Command, supplied: &[(String, String)], e: &clap::Error) -> Option<String> {
    let arg = e.get(clap::error::ContextKind::InvalidArg).map(ToString::to_string).unwrap_or_default();
    let long = |id: &str| {
        command.get_arguments().find(|a| a.get_id().as_str() == id).and_then(|a| a.get_long()).unwrap_or(id).to_string()
    };
    let (key, _) =
        supplied.iter().find(|(_, id)| arg.split([' ', '=']).next() == Some(format!("--{}", long(id)).as_str()))?;
    let value = e.get(clap::error::ContextKind::InvalidValue).map(ToString::to_string).unwrap_or_default();
    let why = e.to_string().lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
    let why = if value.is_empty() { why } else { format!("{why} (value {value:?})") };
    Some(format!("key {key:?}: {why}"))
}

/// The encoder both training commands build from `--model`, `--hidden`, `--layers`,
/// `--bidirectional` and `--dropout`.
pub fn encoder(model: EncoderKind, hidden: usize, layers: usize, bidirectional: bool, dropout: f64) -> EncoderConfig {
    EncoderConfig::new()
        .with_kind(model)
        .with_hidden(hidden)
        .with_layers(layers)
        .with_bidirectional(bidirectional)
        .with_dropout(dropout)
}

/// The body of a training command once its run is configured: prints the backend, trains on the
/// device of the first `--devices` index with `train`, then prints the scores (`show`, which
/// returns the report's training summary) and the summary; an error is explained in the terms
/// of the command line or config file.
pub fn run_training<R>(
    training: &TrainingConfig,
    artifacts: &Path,
    origin: &Origin,
    train: impl FnOnce(&backend::Device) -> Result<R, RunError>,
    show: impl FnOnce(&R) -> &TrainingSummary,
) -> ExitCode {
    let device = backend::device(training.devices.first().copied());
    println!("backend: {} ({device:?})", backend::name());
    match train(&device) {
        Ok(report) => {
            print_summary(show(&report), training, artifacts);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", origin.explain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The closing lines of a training command: an early stop, the epochs and the kept one.
pub fn print_summary(summary: &TrainingSummary, config: &TrainingConfig, artifacts: &Path) {
    if let Some(why) = &summary.stopped {
        println!("stopped early: {why}");
    }
    println!(
        "trained {} epochs in {:.1} s; kept epoch {} (best on the validation split by --select {}); artifacts in {}",
        summary.epochs_completed,
        summary.train_seconds,
        summary.best_epoch,
        <&str>::from(config.select),
        artifacts.display()
    );
}

//! What the commands' options share: the learner's options (the same for `train-classifier` and
//! `train-tagger`), pretrained vectors, the value parser of enum names, the encoder and the end of
//! a training command. `--config FILE` is read by [`crate::config_file`].

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use seqlab_datasets::{Holdout, Source, Validation};
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_training::backend;
use seqlab_training::cluster::ClusterConfig;
use seqlab_training::epochs::Select;
use seqlab_training::error::RunError;
use seqlab_training::learner::{TrainingConfig, TrainingSummary};
use seqlab_training::optim::{OptimConfig, OptimizerKind, ScheduleKind};
use seqlab_training::{note, say};
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
    #[arg(long, requires = "embeddings", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", default_value_t = false, action = clap::ArgAction::Set)]
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

/// The training options whose defaults differ between the two commands (their recipes).
#[derive(Debug, Clone)]
pub struct CommandDefaults {
    /// `--epochs`.
    pub epochs: usize,
    /// `--schedule`.
    pub schedule: ScheduleKind,
    /// `--adam-epsilon`.
    pub adam_epsilon: f64,
    /// `--clip-norm` (`None`: no clipping).
    pub clip_norm: Option<f32>,
}

impl CommandDefaults {
    /// `command` with these as the defaults of `--epochs`, `--schedule`, `--adam-epsilon` and
    /// `--clip-norm`, so that each command's `--help` shows its own.
    pub fn shown_in(&self, command: clap::Command) -> clap::Command {
        // clap keeps default values as `&'static str`; these few bytes live for the process.
        let text = |value: String| -> &'static str { value.leak() };
        let command = command
            .mut_arg("epochs", |a| a.default_value(text(self.epochs.to_string())))
            .mut_arg("schedule", |a| a.default_value(<&str>::from(self.schedule)))
            .mut_arg("adam_epsilon", |a| a.default_value(text(format!("{:e}", self.adam_epsilon))));
        match self.clip_norm {
            Some(clip) => command.mut_arg("clip_norm", |a| a.default_value(text(clip.to_string()))),
            None => command,
        }
    }
}

/// Epochs, batches, optimiser, schedule, checkpoints.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainingArgs {
    /// Epochs (with --resume: the total to reach).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Examples (sentences) per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Padded tokens per batch at most (sentences × the longest of them): batches of long
    /// sentences hold fewer than --batch-size, and a sentence longer than this trains in a batch
    /// of its own, so memory follows tokens, not the longest sentence.
    #[arg(long, default_value_t = seqlab_training::learner::DEFAULT_MAX_TOKENS)]
    pub max_tokens: usize,
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
    /// Adam's and AdamW's ε, added to the root of the second moment (PyTorch's default is 1e-8,
    /// Burn's 1e-5).
    #[arg(long)]
    pub adam_epsilon: Option<f64>,
    /// Clip the gradients to this global L2 norm, all parameters together, as PyTorch's
    /// clip_grad_norm_; 0 or not given (where no default shows): no clipping.
    #[arg(long)]
    pub clip_norm: Option<f32>,
    /// Learning-rate schedule: constant, step (×gamma every --step-epochs), plateau (×gamma after
    /// --plateau-patience epochs without improvement), cosine or linear (decay to 0 at the end).
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
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
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
    /// Seconds a rank of a job started by mpirun or srun (training across processes and
    /// machines: docs/cluster.md) waits for the others (MPI's start, one step's all-reduce)
    /// before the run stops with an error.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub cluster_timeout: u64,
    /// The options of the former engine, refused with the way to start a job now.
    #[arg(long = "nodes", hide = true, value_name = "N")]
    pub former_nodes: Option<String>,
    #[arg(long = "rank", hide = true)]
    pub former_rank: Option<String>,
    #[arg(long = "coordinator", hide = true)]
    pub former_coordinator: Option<String>,
    #[arg(long = "node-address", hide = true)]
    pub former_node_address: Option<String>,
    /// A TOML or JSON file of options (keys as the long options, e.g. `hidden = 256`,
    /// `bidirectional = true`); options given on the command line override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl TrainingArgs {
    /// The learner's configuration; `defaults` are the command's for options not given. Started
    /// by mpirun or srun as one of several ranks, this starts MPI ([`ClusterConfig::from_launcher`]).
    /// An error names the option.
    pub fn to_config(&self, defaults: &CommandDefaults) -> Result<TrainingConfig, String> {
        self.refuse_former_cluster_options()?;
        let cluster = ClusterConfig::from_launcher(std::time::Duration::from_secs(self.cluster_timeout))
            .map_err(|e| e.to_string())?;
        Ok(TrainingConfig {
            epochs: self.epochs.unwrap_or(defaults.epochs),
            batch_size: self.batch_size,
            max_tokens: self.max_tokens,
            optim: OptimConfig {
                optimizer: self.optimizer,
                learning_rate: self.lr,
                weight_decay: self.weight_decay,
                momentum: self.momentum,
                adam_epsilon: self.adam_epsilon.unwrap_or(defaults.adam_epsilon),
                clip_norm: self.clip_norm.or(defaults.clip_norm).filter(|&clip| clip != 0.0),
                schedule: self.schedule.unwrap_or(defaults.schedule),
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
            cluster,
        })
    }

    /// `--nodes`, `--rank`, `--coordinator` and `--node-address` started the former engine's
    /// processes by hand; MPI's launcher starts them now and gives each its rank.
    fn refuse_former_cluster_options(&self) -> Result<(), String> {
        let given = [
            ("nodes", &self.former_nodes),
            ("rank", &self.former_rank),
            ("coordinator", &self.former_coordinator),
            ("node-address", &self.former_node_address),
        ];
        match given.iter().find(|(_, value)| value.is_some()) {
            Some((name, _)) => Err(format!(
                "--{name}: training across processes is started by MPI now, which gives each process its rank: \
                 `mpirun -np 2 train-tagger …` on one machine, `mpirun --hostfile HOSTS -np 4 …` across machines, \
                 `srun --mpi=pmix …` under Slurm (docs/cluster.md)"
            )),
            None => Ok(()),
        }
    }
}

/// The artifacts folder of this process: `artifacts` itself alone or as rank 0 of a job (the
/// run's folder), `artifacts-rank{R}` for rank R ≥ 1, so that the ranks of a job on one machine
/// or on a shared file system never write into one folder.
pub fn rank_folder(artifacts: PathBuf, cluster: Option<&ClusterConfig>) -> PathBuf {
    match cluster {
        Some(c) if c.rank > 0 => {
            let mut name = artifacts.file_name().unwrap_or_default().to_os_string();
            name.push(format!("-rank{}", c.rank));
            artifacts.with_file_name(name)
        }
        _ => artifacts,
    }
}

/// A value parser for a size option: a whole number in `range` (both ends included), refused
/// by clap with the option's name and the range otherwise, so that no size reaches an
/// allocation it cannot make (`--queue 1000000000`) or a loop that never starts (`--workers 0`).
pub fn size(range: std::ops::RangeInclusive<u64>) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(range)
}

/// Options renamed so that one name means one thing in every command, as (former, current):
/// the former names still work, as hidden aliases, for one release.
pub const RENAMED: [(&str, &str); 3] =
    [("model", "encoder"), ("batch-size", "window"), ("max-tokens", "max-text-tokens")];

/// Warns on standard error for each former name in this process's arguments that `command`
/// now spells otherwise (see [`RENAMED`]).
pub fn warn_former_names(command: &str) {
    let renamed: &[(&str, &str)] = match command {
        "train-classifier" | "train-tagger" => &RENAMED[..1],
        "predict" => &RENAMED[1..2],
        "serve" => &RENAMED[2..],
        _ => &[],
    };
    for arg in std::env::args().skip(1) {
        for (former, current) in renamed {
            if arg == format!("--{former}") || arg.starts_with(&format!("--{former}=")) {
                note!("warning: --{former} is now --{current}; the former name goes in a later release");
            }
        }
    }
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

/// A training command's validation data from `--valid` and `--valid-fraction` (seeded with
/// `seed`): the file given, a share of the training file held out, or `embedded` (the embedded
/// corpus's validation split) when `train` is the embedded corpus. Any other training file
/// needs one of the two options: the synthetic corpus never stands in for the user's data.
pub fn validation(
    train: &str,
    valid: Option<String>,
    fraction: Option<f64>,
    seed: u64,
    embedded: &str,
) -> Result<Validation, String> {
    match (valid, fraction) {
        (Some(path), _) => Ok(Validation::File(path)),
        (None, Some(f)) => Holdout::new(f, seed).map(Validation::HeldOut).map_err(|e| format!("--valid-fraction {e}")),
        (None, None) if Source::is_embedded(train) => Ok(Validation::File(embedded.to_string())),
        (None, None) => Err(format!(
            "--train {train} needs validation data, which picks the epoch kept: give --valid FILE, or \
             --valid-fraction 0.1 to hold out a seeded 10% of {train}"
        )),
    }
}

/// `--tag-names`: names separated by commas, a JSON list (`["O","B-PER",…]`, as a dataset card
/// shows it), or the path of a file holding either a JSON list or one name per line (blank
/// lines skipped); `None` when not given. The error does not name the option.
pub fn tag_names(value: Option<&str>) -> Result<Option<Vec<String>>, String> {
    let Some(value) = value else { return Ok(None) };
    let path = Path::new(value);
    let (text, from_file) = if path.is_file() {
        (std::fs::read_to_string(path).map_err(|e| format!("{value}: cannot read: {e}"))?, true)
    } else {
        (value.to_string(), false)
    };
    let names: Vec<String> = if text.trim_start().starts_with('[') {
        serde_json::from_str(&text).map_err(|e| format!("{value}: not a JSON list of names: {e}"))?
    } else if from_file {
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
    } else {
        text.split(',').map(|n| n.trim().to_string()).collect()
    };
    if let Some(bad) = names.iter().find(|n| n.is_empty() || n.contains(char::is_whitespace)) {
        return Err(format!("{bad:?} is not a tag name (give NAME,NAME,…, a JSON list or a file of one per line)"));
    }
    Ok(Some(names))
}

/// The body of a training command once its run is configured: prints the backend, trains on the
/// device of the first `--devices` index with `train`, then prints the scores (`show`, which
/// returns the report's training summary) and the summary; an error is explained in the terms
/// of the command line or config file. SIGINT and SIGTERM stop the run cleanly (see
/// [`seqlab_training::interrupt`]); the exit status is then 128 + the signal, as a shell expects.
pub fn run_training<R>(
    training: &TrainingConfig,
    artifacts: &Path,
    origin: &crate::config_file::Origin,
    train: impl FnOnce(&backend::Device) -> Result<R, RunError>,
    show: impl FnOnce(&R) -> &TrainingSummary,
) -> ExitCode {
    if let Err(e) = seqlab_training::interrupt::install() {
        note!("warning: SIGINT and SIGTERM will end the run at once: {e}");
    }
    let device = backend::device(training.devices.first().copied());
    say!("backend: {} ({device:?})", backend::name());
    let status = match train(&device) {
        Ok(report) => {
            print_summary(show(&report), training, artifacts);
            if let Some(lost) = seqlab_training::console::stdout_lost() {
                note!(
                    "standard output: {} (from then on, nothing more was written there); the run went on to \
                     its end: its results are in {}",
                    lost.message,
                    artifacts.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            note!("error: {}", origin.explain(&e));
            ExitCode::FAILURE
        }
    };
    match seqlab_training::interrupt::received() {
        Some(signal) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)),
        None => status,
    }
}

/// The exit status of a command whose standard output is its result, once it has done its
/// work: success, unless that output was lost on the way ([`seqlab_training::console::Lost::exit`]:
/// 141 and no word for a reader that went away, as `cat` ends; an error line and 1 otherwise).
pub fn output_status() -> ExitCode {
    match seqlab_training::console::stdout_lost() {
        None => ExitCode::SUCCESS,
        Some(lost) => {
            let (status, line) = lost.exit();
            if let Some(line) = line {
                note!("{line}");
            }
            ExitCode::from(status)
        }
    }
}

/// The closing lines of a training command: an early stop, the epochs and the kept one.
pub fn print_summary(summary: &TrainingSummary, config: &TrainingConfig, artifacts: &Path) {
    if let Some(why) = &summary.stopped {
        say!("stopped early: {why}");
    }
    say!("{}", summary_line(summary, config, artifacts));
}

/// `trained N epochs in S s; kept epoch K (…); artifacts in DIR`.
pub fn summary_line(summary: &TrainingSummary, config: &TrainingConfig, artifacts: &Path) -> String {
    format!(
        "trained {} epoch{} in {:.1} s; kept epoch {} (best on the validation split by --select {}); artifacts in {}",
        summary.epochs_completed,
        if summary.epochs_completed == 1 { "" } else { "s" },
        summary.train_seconds,
        summary.best_epoch,
        <&str>::from(config.select),
        artifacts.display()
    )
}

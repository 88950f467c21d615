//! The options both trainers share: the learner's ([`TrainingArgs`], with each command's
//! recipe, [`CommandDefaults`]), pretrained vectors ([`VectorsArgs`]), the encoder, validation
//! data, tag names, and each rank's artifacts folder.

use std::path::{Path, PathBuf};

use seqlab_datasets::{Holdout, Source, Validation};
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_training::cluster::ClusterConfig;
use seqlab_training::epochs::Select;
use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::{OptimConfig, OptimizerKind, ScheduleKind};

use crate::cli::by_name;

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

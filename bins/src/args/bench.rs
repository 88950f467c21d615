//! The command line of `bench`.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::Parser;

use crate::bench::{Settings, Workload, WORKLOADS};

/// Benchmark seqlab's recurrent layers against Burn's built-ins and PyTorch.
#[derive(Parser, Debug)]
#[command(name = "bench", version)]
pub struct Args {
    /// Workloads [default: all].
    #[arg(value_parser = PossibleValuesParser::new(WORKLOADS.map(|w| w.name)))]
    pub workloads: Vec<String>,
    /// Timed training steps per round (training workloads).
    #[arg(long, default_value_t = 5, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub steps: usize,
    /// Timed inference passes per round (inference workloads). A pass costs about a fifth of a
    /// training step, so the defaults make rounds of similar length: a round of a few short
    /// passes is decided by one hiccup of the machine.
    #[arg(long, default_value_t = 25, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=50_000))]
    pub passes: usize,
    /// Rounds; the implementations alternate round by round, and each ratio is the median of
    /// the rounds' ratios, shown with their range.
    #[arg(long, default_value_t = 15, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub rounds: usize,
    /// Untimed warm-up steps per implementation.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// PyTorch reference script (its models); PyTorch is skipped when absent or when
    /// python3/torch is missing.
    #[arg(long, default_value = "../shared/bench/torch_reference.py")]
    pub torch_script: PathBuf,
    /// The script that times the PyTorch twins round by round.
    #[arg(long, default_value = "scripts/torch_bench_twin.py")]
    pub twin_script: PathBuf,
    /// Run PyTorch with `torch.set_flush_denormal(True)`, as seqlab flushes subnormals.
    #[arg(long)]
    pub torch_flush_denormal: bool,
    /// PyTorch twin of the tagger-crf workload (needs pytorch-crf); skipped like the above.
    #[arg(long, default_value = "scripts/torch_crf_reference.py")]
    pub torch_crf_script: PathBuf,
    /// Threads for PyTorch (match the cores the Rust backend uses).
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(2, |n| n.get()))]
    pub threads: usize,
    /// Skip Burn's built-in modules.
    #[arg(long)]
    pub no_burn: bool,
    /// Also time seqlab's training workloads with every time step recorded on Burn's tape: the
    /// training backend under a type no fast path recognises (row `seqlab-recorded`). On wgpu
    /// this is what the one-node BPTT saves; on ndarray, the CPU kernel and the embedding,
    /// dropout and Adam fast paths together.
    #[arg(long)]
    pub recorded: bool,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// The workloads named (all when none is).
    pub fn selected(&self) -> Vec<Workload> {
        if self.workloads.is_empty() {
            return WORKLOADS.to_vec();
        }
        self.workloads.iter().filter_map(|n| WORKLOADS.iter().find(|w| w.name == n).copied()).collect()
    }

    /// How the workloads are timed.
    pub fn settings(&self) -> Settings {
        Settings {
            steps: self.steps,
            passes: self.passes,
            rounds: self.rounds,
            warmup: self.warmup,
            torch_script: self.torch_script.clone(),
            twin_script: self.twin_script.clone(),
            torch_flush_denormal: self.torch_flush_denormal,
            torch_crf_script: self.torch_crf_script.clone(),
            threads: self.threads,
            no_burn: self.no_burn,
            recorded: self.recorded,
        }
    }
}

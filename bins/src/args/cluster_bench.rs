//! `cluster-bench`'s options.

/// Times the all-reduce that every training step of a job makes (`mpirun -np 2 cluster-bench`):
/// a vector of --values f32 summed over the ranks, --rounds times after --warmup; rank 0 prints
/// one row (median, fastest and slowest milliseconds, and the bus bandwidth 2(N−1)/N × bytes ÷
/// median, as NCCL's tests report it).
#[derive(clap::Parser, Debug)]
#[command(name = "cluster-bench", version)]
pub struct Args {
    /// Values (f32) in each all-reduce [default: the default CoNLL-2003 tagger's gradient and
    /// weight].
    #[arg(long, default_value_t = 2_690_693, value_parser = crate::cli::size(1..=1_000_000_000))]
    pub values: usize,
    /// Timed all-reduces.
    #[arg(long, default_value_t = 50, value_parser = crate::cli::size(1..=100_000))]
    pub rounds: usize,
    /// All-reduces before the timed ones.
    #[arg(long, default_value_t = 5, value_parser = crate::cli::size(0..=100_000))]
    pub warmup: usize,
    /// Seconds to wait for the other ranks.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub cluster_timeout: u64,
    /// One JSON object instead of the table row.
    #[arg(long)]
    pub json: bool,
}

//! `cluster-bench`: the training engine's all-reduce, timed between the ranks of an MPI job.
//!
//! ```sh
//! mpirun -np 2 cluster-bench                          # shared memory on one machine
//! mpirun -np 2 --mca btl self,tcp cluster-bench --json
//! ```
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use seqlab_bins::args::cluster_bench::Args;
use seqlab_training::cluster::{self, ClusterConfig};
use seqlab_training::{note, say};

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    let args = Args::parse();
    let cluster = match ClusterConfig::from_launcher(Duration::from_secs(args.cluster_timeout)) {
        Ok(Some(cluster)) => cluster,
        Ok(None) => {
            note!("error: start it as two or more ranks of an MPI job: `mpirun -np 2 cluster-bench`");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            note!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut millis = Vec::with_capacity(args.rounds);
    for round in 0..args.warmup + args.rounds {
        let values = vec![1.0f32; args.values];
        let started = Instant::now();
        if let Err(e) = cluster::sum(&cluster, values, &format!("{}: all-reduce {round}", cluster.name())) {
            note!("error: {e}");
            return ExitCode::FAILURE;
        }
        if round >= args.warmup {
            millis.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    cluster::leave();
    millis.sort_by(f64::total_cmp);
    let (median, min, max) = (millis[millis.len() / 2], millis[0], millis[millis.len() - 1]);
    let megabytes = args.values as f64 * 4e-6;
    let n = cluster.ranks as f64;
    let bus = 2.0 * (n - 1.0) / n * megabytes / median;
    if cluster.rank == 0 {
        if args.json {
            let row = serde_json::json!({"ranks": cluster.ranks, "values": args.values, "rounds": args.rounds,
                "median_ms": median, "min_ms": min, "max_ms": max, "bus_gb_s": bus});
            say!("{row}");
        } else {
            say!(
                "{} ranks, {} values ({megabytes:.1} MB): median {median:.2} ms (fastest {min:.2}, slowest {max:.2}), \
                 bus bandwidth {bus:.2} GB/s",
                cluster.ranks,
                args.values
            );
        }
    }
    seqlab_bins::cli::output_status()
}

//! `bench`: recurrent training and inference speed of seqlab's layers against Burn's built-in
//! RNN modules (same process, alternating rounds) and PyTorch (`torch_reference.py`, same
//! machine, same thread count), on the shared workload shapes (`seqlab_bins::bench`).
//!
//! ```sh
//! cargo run --release --bin bench                 # all workloads, table
//! cargo run --release --bin bench -- --json tagger classifier
//! ```
#![recursion_limit = "256"]

use clap::Parser;
use seqlab_bins::args::bench::Args;
use seqlab_bins::bench::{measure, pytorch, table};
use seqlab_training::backend;

fn main() {
    seqlab_bins::malloc::tune_for_tensors();
    let args = Args::parse();
    let (selected, settings) = (args.selected(), args.settings());
    eprintln!(
        "backend: {}; {} steps × {} rounds after {} warm-up steps",
        backend::name(),
        settings.steps,
        settings.rounds,
        settings.warmup
    );
    let mut rows = Vec::new();
    for w in &selected {
        eprintln!("running {} …", w.name);
        rows.extend(measure(w, &settings));
    }
    rows.extend(pytorch(&selected, &settings));
    if args.json {
        rows.iter().for_each(|r| println!("{}", serde_json::to_string(r).expect("a row serialises")));
    } else {
        print!("{}", table(&rows));
    }
}

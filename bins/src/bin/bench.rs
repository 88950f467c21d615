//! `bench`: recurrent training and inference speed of seqlab's layers against Burn's built-in
//! RNN modules and PyTorch (`torch_reference.py`'s models, same machine, same thread count),
//! rounds alternating, on the shared workload shapes (`seqlab_bins::bench`).
//!
//! ```sh
//! cargo run --release --bin bench                 # all workloads, table
//! cargo run --release --bin bench -- --json tagger classifier
//! ```
#![recursion_limit = "256"]

use clap::Parser;
use seqlab_bins::args::bench::Args;
use seqlab_bins::bench::{machine, measure, ratios, table, PyTorch};
use seqlab_training::backend;
use seqlab_training::{note, say};

fn main() -> std::process::ExitCode {
    seqlab_bins::startup::prepare_process();
    let args = Args::parse();
    let (selected, settings) = (args.selected(), args.settings());
    note!(
        "backend: {}; {} rounds of {} training steps or {} inference passes after {} warm-up steps, \
         implementations alternating",
        backend::name(),
        settings.rounds,
        settings.steps,
        settings.passes,
        settings.warmup
    );
    let mut torch = PyTorch::start(&selected, &settings);
    let about = serde_json::json!({
        "machine": machine(),
        "pytorch": torch.as_ref().map(|t| t.info.clone()),
    });
    let mut rows = Vec::new();
    for w in &selected {
        note!("running {} …", w.name);
        rows.extend(measure(w, &settings, torch.as_mut()));
    }
    drop(torch);
    if args.json {
        say!("{about}");
        rows.iter().for_each(|r| say!("{}", serde_json::to_string(r).expect("a row serialises")));
        ratios(&rows).iter().for_each(|r| say!("{}", serde_json::to_string(r).expect("a ratio serialises")));
    } else {
        say!("{}\n", serde_json::to_string_pretty(&about).expect("serialises"));
        say!("{}", table(&rows).trim_end());
    }
    seqlab_bins::cli::output_status()
}

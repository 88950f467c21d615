//! `load-test`: the load and fault run against `serve` and its Python twin (`seqlab_bins::load`).

use std::process::ExitCode;

use clap::Parser;
use hyper::body::Bytes;
use seqlab_bins::args::load_test::Args;
use seqlab_bins::load::{client, faults, rss_kib, run_level, table};
use seqlab_training::{note, say};

fn main() -> ExitCode {
    seqlab_training::console::write_directly();
    let args = Args::parse();
    let texts = match args.read_texts() {
        Ok(texts) => texts,
        Err(e) => {
            note!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        let client = client();
        let mut rows = Vec::new();
        for level in args.levels() {
            for target in &args.target {
                note!("{} at concurrency {} …", target.name, level.concurrency);
                rows.push(run_level(&client, target, &args.model, &texts, level).await);
            }
        }
        say!("{}", table(&args.model, &rows));
        if args.faults {
            let before = args.pid.and_then(rss_kib);
            let good = Bytes::from(serde_json::json!({ "texts": [texts[0]] }).to_string());
            let (rows, steady) = faults::run(&client, &args.target[0].url, &args.model, good).await;
            let rss = before.zip(args.pid.and_then(rss_kib));
            say!("{}", faults::table(&rows, &steady, rss));
        }
    });
    seqlab_bins::cli::output_status()
}

//! `serve`: trained models kept loaded behind an HTTP API and a page (`seqlab_bins::serve`).
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::serve::Args;
use seqlab_bins::serve::Server;

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    seqlab_bins::cli::warn_former_names("serve");
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let (specs, settings) = (args.specs()?, args.settings()?);
    let server = Server::load(&specs, &settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (listener, bound) = seqlab_bins::serve::bind(args.addr).await?;
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        eprintln!("serving {} on http://{bound} (Ctrl-C to stop)", names.join(", "));
        server.run(listener, shutdown_signal()).await.map_err(|e| format!("serving: {e}"))?;
        eprintln!("stopped: every request in flight was answered");
        Ok(())
    })
}

/// SIGINT or SIGTERM (SIGINT alone where no SIGTERM handler can be set).
async fn shutdown_signal() {
    #[cfg(unix)]
    if let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}

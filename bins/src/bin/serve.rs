//! `serve`: trained models kept loaded behind an HTTP API and a page (`seqlab_bins::serve`).
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::serve::Args;
use seqlab_bins::serve::Server;
use seqlab_training::note;

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    seqlab_bins::cli::warn_former_names("serve");
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("error: {e}");
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
        note!("serving {} on http://{bound} (Ctrl-C to stop)", names.join(", "));
        server.run(listener, shutdown_signal()).await.map_err(|e| format!("serving: {e}"))?;
        note!("stopped: every request in flight was answered");
        Ok(())
    })
}

/// The first SIGINT, SIGTERM or SIGHUP (a closed terminal): the server stops accepting and
/// answers what is in flight. A second one ends the process at once.
async fn shutdown_signal() {
    stop_signal().await;
    note!("stopping: answering the requests in flight (signal again to stop at once)");
    tokio::spawn(async {
        stop_signal().await;
        note!("stopped at once: requests in flight were dropped");
        std::process::exit(1);
    });
}

/// SIGINT, SIGTERM or SIGHUP (SIGINT alone where no other handler can be set).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut terminate), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
                _ = hangup.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

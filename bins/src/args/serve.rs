//! The command line of `serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::cli::size;

use crate::serve::{Batching, Limits, ModelSpec, Settings};

/// Serve trained models over HTTP: each model is loaded once and answers
/// `POST /v1/models/{name}/predict` with `{"texts": [...], "nbest": K}` (the objects
/// `predict --json` writes), batching the texts of concurrent requests. Also `GET /v1/models`,
/// `GET /healthz`, `GET /metrics` (Prometheus) and a page at `/`. SIGINT, SIGTERM or SIGHUP:
/// stop accepting, answer what is in flight, exit 0 (a second signal: at once, exit 1).
#[derive(Parser, Debug)]
#[command(name = "serve", version)]
pub struct Args {
    /// A training run's artifacts folder, served under the folder's name.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Vec<PathBuf>,
    /// A model under a name of your own: NAME=DIR (repeatable).
    #[arg(long, value_name = "NAME=DIR")]
    pub model: Vec<ModelSpec>,
    /// Where to listen. Loopback by default; any other address needs --token-file (or
    /// --no-token to serve it open on purpose).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// A file holding the bearer token the API and /metrics ask for (401 without it).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Serve a non-loopback address without a token.
    #[arg(long, conflicts_with = "token_file")]
    pub no_token: bool,
    /// Texts in one model call at most (the texts of concurrent requests run together).
    #[arg(long, default_value_t = Batching::default().max_batch, value_parser = size(1..=100_000))]
    pub max_batch: usize,
    /// How long a worker waits, after the first request, for more to batch with it (0: it
    /// batches the requests already queued, which under load are those that came while it
    /// computed the last batch).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub max_wait_ms: u64,
    /// Requests waiting per model at most; a request past it gets 503 with Retry-After.
    #[arg(long, default_value_t = Batching::default().queue, value_parser = size(1..=1_000_000))]
    pub queue: usize,
    /// Worker threads per model, each with its own copy of the model.
    #[arg(long, default_value_t = 1, value_parser = size(1..=256))]
    pub workers: usize,
    /// Bytes in a request body at most (413).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_body, value_parser = size(1..=1 << 30))]
    pub max_body: usize,
    /// Texts in one request at most (413).
    #[arg(long, default_value_t = Limits::default().max_texts, value_parser = size(1..=100_000))]
    pub max_texts: usize,
    /// Tokens in one text at most, as the model reads it (413).
    #[arg(long, alias = "max-tokens", default_value_t = Limits::default().max_tokens, value_parser = size(1..=1_000_000))]
    pub max_text_tokens: usize,
    /// n best taggings a request may ask for at most (422).
    #[arg(long, default_value_t = Limits::default().max_nbest, value_parser = size(0..=1000))]
    pub max_nbest: usize,
    /// Time a request may wait for its answer (503 past it).
    #[arg(long, value_name = "MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: u64,
    /// Time a client may take to send a request's body.
    #[arg(long, value_name = "MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_ms: u64,
    /// Time a client may take to send a request's head (its line and headers), from the
    /// connection's start or its previous answer; the connection is closed past it.
    #[arg(long, value_name = "MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_ms: u64,
    /// Open connections at most [default: the descriptor limit (ulimit -n) less 64]; past it,
    /// the oldest connection that has not yet sent a whole request head is closed.
    #[arg(long, value_name = "N", value_parser = size(1..=1_000_000))]
    pub max_connections: Option<usize>,
}

impl Args {
    /// The models to serve: every --artifacts under its folder's name, then every --model.
    pub fn specs(&self) -> Result<Vec<ModelSpec>, String> {
        let mut specs = Vec::new();
        for dir in &self.artifacts {
            let name = dir
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("--artifacts {}: a folder with a name is needed", dir.display()))?;
            specs.push(format!("{name}={}", dir.display()).parse().map_err(|e| format!("--artifacts: {e}"))?);
        }
        specs.extend(self.model.iter().cloned());
        Ok(specs)
    }

    /// The server's settings; reads the token file.
    pub fn settings(&self) -> Result<Settings, String> {
        let token = match &self.token_file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| format!("--token-file {}: {e}", path.display()))?;
                let token = text.trim().to_string();
                if token.is_empty() {
                    return Err(format!("--token-file {}: the file is empty", path.display()));
                }
                // A client sends the token in a header: visible ASCII only, one line.
                if let Some(c) = token.chars().find(|c| !c.is_ascii_graphic()) {
                    return Err(format!(
                        "--token-file {}: the token holds {c:?}, which no client can send in an Authorization \
                         header; use visible ASCII characters, on one line",
                        path.display()
                    ));
                }
                Some(token)
            }
            None => None,
        };
        if token.is_none() && !self.addr.ip().is_loopback() && !self.no_token {
            return Err(format!(
                "--addr {}: not a loopback address; give --token-file FILE (or --no-token to serve it open)",
                self.addr
            ));
        }
        Ok(Settings {
            limits: Limits {
                max_body: self.max_body,
                max_texts: self.max_texts,
                max_tokens: self.max_text_tokens,
                max_nbest: self.max_nbest,
                timeout: Duration::from_millis(self.timeout_ms),
                body_timeout: Duration::from_millis(self.body_timeout_ms),
                header_timeout: Duration::from_millis(self.header_timeout_ms),
                max_connections: self.max_connections,
            },
            batching: Batching {
                max_batch: self.max_batch,
                max_wait: Duration::from_millis(self.max_wait_ms),
                queue: self.queue,
                workers: self.workers,
            },
            token,
        })
    }
}

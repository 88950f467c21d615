//! The command line of `load-test`.

use std::path::PathBuf;

use clap::Parser;

use crate::load::{Level, Target};

/// Load and fault run against servers that answer `POST /v1/models/{name}/predict` (`serve` and
/// its Python twin, `scripts/serve_pytorch_twin.py`): closed-loop clients at each concurrency,
/// the targets alternating within a level, bounded in requests and time; loopback only. Prints
/// a Markdown table (throughput, p50, p99, errors) and with --faults, a fault table.
#[derive(Parser, Debug)]
#[command(name = "load-test", version)]
pub struct Args {
    /// A server: NAME=URL on loopback (repeatable; the first is the baseline of the ratio).
    #[arg(long, required = true, value_name = "NAME=URL")]
    pub target: Vec<Target>,
    /// The model's name on the servers.
    #[arg(long)]
    pub model: String,
    /// Texts to send, one per line.
    #[arg(long, value_name = "FILE", required_unless_present = "conll")]
    pub texts: Option<PathBuf>,
    /// Sentences to send, from a CoNLL file (tokens joined by spaces).
    #[arg(long, value_name = "FILE", conflicts_with = "texts")]
    pub conll: Option<PathBuf>,
    /// Concurrency levels.
    #[arg(long, value_delimiter = ',', default_value = "1,16,128")]
    pub concurrency: Vec<usize>,
    /// Requests per level and target at most.
    #[arg(long, default_value_t = 5000)]
    pub requests: usize,
    /// Seconds per level and target at most.
    #[arg(long, default_value_t = 20.0)]
    pub seconds: f64,
    /// Texts in each request.
    #[arg(long, default_value_t = 1)]
    pub texts_per_request: usize,
    /// Also run the faults against the first target (malformed requests, 10 MB bodies,
    /// hang-ups) with a well-formed client beside them.
    #[arg(long)]
    pub faults: bool,
    /// The first target's process id, to report its RSS before and after the faults.
    #[arg(long)]
    pub pid: Option<u32>,
}

impl Args {
    /// The levels to run.
    pub fn levels(&self) -> Vec<Level> {
        self.concurrency
            .iter()
            .map(|&concurrency| Level {
                concurrency: concurrency.max(1),
                requests: self.requests,
                seconds: self.seconds,
                texts_per_request: self.texts_per_request.max(1),
            })
            .collect()
    }

    /// The texts: lines of --texts, or the sentences of --conll.
    pub fn read_texts(&self) -> Result<Vec<String>, String> {
        let (path, conll) = match (&self.texts, &self.conll) {
            (Some(p), _) => (p, false),
            (None, Some(p)) => (p, true),
            (None, None) => return Err("give --texts FILE or --conll FILE".into()),
        };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let texts: Vec<String> = if conll {
            let file =
                seqlab_datasets::ner::parse_conll(&text, path, &Default::default()).map_err(|e| e.to_string())?;
            file.sentences.iter().map(|s| s.tokens.join(" ")).collect()
        } else {
            text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
        };
        if texts.is_empty() {
            return Err(format!("{}: no texts", path.display()));
        }
        Ok(texts)
    }
}

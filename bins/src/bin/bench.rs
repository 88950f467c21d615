//! `bench`: recurrent training and inference speed of seqlab's layers against Burn's built-in
//! RNN modules (same process, alternating rounds) and PyTorch (`torch_reference.py`, same
//! machine, same thread count), on the shared workload shapes.
//!
//! ```sh
//! cargo run --release --bin bench                 # all workloads, table
//! cargo run --release --bin bench -- --json tagger classifier
//! ```
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use burn::module::{AutodiffModule, Module};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{
    BiLstm, BiLstmConfig, Embedding, EmbeddingConfig, Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig, Rnn,
    RnnConfig,
};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use clap::Parser;
use seqlab_datasets::ner::{allowed_transition, TagScheme};
use seqlab_models::crf::Allowed;
use seqlab_models::heads::{EncoderConfig, EncoderKind};
use seqlab_models::{CrfConfig, SequenceClassifier, SequenceClassifierConfig, TokenClassifier, TokenClassifierConfig};
use seqlab_training::adam::FusedAdamConfig;
use seqlab_training::backend::{self, Autodiff as Train};

/// The training backend under another type, which no fast path recognises.
type Recorded =
    burn::backend::Autodiff<backend::Inner, burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing>;

const VOCAB: usize = 20_000;

/// Benchmark seqlab's recurrent layers against Burn's built-ins and PyTorch.
#[derive(Parser, Debug)]
#[command(name = "bench", version)]
struct Args {
    /// Workloads: tagger, tagger-crf, tagger-varlen, tagger-infer, classifier, gru, rnn
    /// [default: all].
    workloads: Vec<String>,
    /// Timed steps per round.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Rounds; implementations alternate within each round, the median round is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Untimed warm-up steps per implementation.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// PyTorch reference script; skipped when absent or when python3/torch is missing.
    #[arg(long, default_value = "../shared/bench/torch_reference.py")]
    torch_script: PathBuf,
    /// PyTorch twin of the tagger-crf workload (needs pytorch-crf); skipped like the above.
    #[arg(long, default_value = "scripts/torch_crf_reference.py")]
    torch_crf_script: PathBuf,
    /// Threads for PyTorch (match the cores the Rust backend uses).
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(2, |n| n.get()))]
    threads: usize,
    /// Skip Burn's built-in modules.
    #[arg(long)]
    no_burn: bool,
    /// Also time seqlab's training workloads with every time step recorded on Burn's tape: the
    /// training backend under a type no fast path recognises (row `seqlab-recorded`). On wgpu
    /// this is what the one-node BPTT saves; on ndarray, the CPU kernel and the embedding,
    /// dropout and Adam fast paths together.
    #[arg(long)]
    recorded: bool,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// One workload: shapes and what is timed.
#[derive(Debug, Clone, Copy)]
struct Workload {
    name: &'static str,
    batch: usize,
    length: usize,
    /// Uniform lengths in [5, length] (seqlab only: the built-ins cannot mask).
    variable: bool,
    train: bool,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Tagger,
    /// The tagger with a CRF over IOBES tags for 4 entity types (18 tags with `<pad>`), its
    /// transitions restricted to IOBES's; loss = the CRF's negative log-likelihood.
    TaggerCrf,
    Classifier(EncoderKind),
}

const WORKLOADS: [Workload; 7] = [
    Workload { name: "tagger", batch: 32, length: 40, variable: false, train: true, kind: Kind::Tagger },
    Workload { name: "tagger-crf", batch: 32, length: 40, variable: false, train: true, kind: Kind::TaggerCrf },
    Workload { name: "tagger-varlen", batch: 32, length: 40, variable: true, train: true, kind: Kind::Tagger },
    Workload {
        name: "classifier",
        batch: 64,
        length: 32,
        variable: false,
        train: true,
        kind: Kind::Classifier(EncoderKind::Lstm),
    },
    Workload {
        name: "gru",
        batch: 64,
        length: 32,
        variable: false,
        train: true,
        kind: Kind::Classifier(EncoderKind::Gru),
    },
    Workload {
        name: "rnn",
        batch: 64,
        length: 32,
        variable: false,
        train: true,
        kind: Kind::Classifier(EncoderKind::RnnTanh),
    },
    Workload { name: "tagger-infer", batch: 32, length: 40, variable: false, train: false, kind: Kind::Tagger },
];

/// A model that maps token ids to logits `[rows, classes]` (rows = tokens for the tagger).
trait Net<B: Backend>: Module<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2>;

    /// The training loss: cross-entropy of the logits' rows.
    fn loss(&self, data: &Inputs<B>) -> Tensor<B, 1> {
        cross_entropy(self.logits(data.tokens.clone(), data.lengths.clone()), data.targets.clone())
    }
}

fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    CrossEntropyLossConfig::new().init(&logits.device()).forward(logits, targets)
}

impl<B: Backend> Net<B> for TokenClassifier<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let out = self.forward(tokens, Vec::new(), None, lengths);
        let [b, t, c] = out.dims();
        out.reshape([b * t, c])
    }

    /// With a CRF: its negative log-likelihood per token, as `train-tagger` computes it.
    fn loss(&self, data: &Inputs<B>) -> Tensor<B, 1> {
        let Some(crf) = &self.crf else {
            return cross_entropy(self.logits(data.tokens.clone(), data.lengths.clone()), data.targets.clone());
        };
        let [batch, length] = data.tokens.dims();
        let lengths = data.lengths.clone().unwrap_or_else(|| {
            Tensor::from_data(TensorData::new(vec![length as i64; batch], [batch]), &data.tokens.device())
        });
        let emissions = self.forward(data.tokens.clone(), Vec::new(), None, Some(lengths.clone()));
        crf.log_likelihood(emissions, data.targets.clone().reshape([batch, length]), lengths)
            .sum()
            .neg()
            .div_scalar((batch * length) as f64)
    }
}

impl<B: Backend> Net<B> for SequenceClassifier<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        self.forward(tokens, lengths)
    }
}

/// Burn's built-in BiLstm tagger.
#[derive(Module, Debug)]
struct BurnTagger<B: Backend> {
    embedding: Embedding<B>,
    rnn: BiLstm<B>,
    output: Linear<B>,
}

impl<B: Backend> Net<B> for BurnTagger<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, _: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let (h, _) = self.rnn.forward(self.embedding.forward(tokens), None);
        let out = self.output.forward(h);
        let [b, t, c] = out.dims();
        out.reshape([b * t, c])
    }
}

/// Burn's built-in layers, stacked by hand (they have no `num_layers`).
#[derive(Module, Debug)]
enum BurnStack<B: Backend> {
    Lstm(Vec<Lstm<B>>),
    Gru(Vec<Gru<B>>),
    Rnn(Vec<Rnn<B>>),
}

#[derive(Module, Debug)]
struct BurnClassifier<B: Backend> {
    embedding: Embedding<B>,
    stack: BurnStack<B>,
    output: Linear<B>,
}

impl<B: Backend> Net<B> for BurnClassifier<B> {
    fn logits(&self, tokens: Tensor<B, 2, Int>, _: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        let mut x = self.embedding.forward(tokens);
        match &self.stack {
            BurnStack::Lstm(layers) => layers.iter().for_each(|l| x = l.forward(x.clone(), None).0),
            BurnStack::Gru(layers) => layers.iter().for_each(|l| x = l.forward(x.clone(), None)),
            BurnStack::Rnn(layers) => layers.iter().for_each(|l| x = l.forward(x.clone(), None).0),
        }
        let [b, t, h] = x.dims();
        self.output.forward(x.slice([0..b, t - 1..t]).reshape([b, h]))
    }
}

fn seqlab_tagger<B: Backend>(device: &B::Device) -> TokenClassifier<B> {
    TokenClassifierConfig::new(VOCAB, 9)
        .with_embedding_dim(100)
        .with_encoder(EncoderConfig::new().with_kind(EncoderKind::Lstm).with_hidden(200).with_bidirectional(true))
        .init(device)
}

/// IOBES tags for 4 entity types, `<pad>` first, as `train-tagger` builds them for CoNLL-2003.
fn iobes_tags() -> Vec<String> {
    let mut tags = vec!["<pad>".to_string(), "O".to_string()];
    tags.extend(["LOC", "MISC", "ORG", "PER"].iter().flat_map(|t| ["B", "I", "E", "S"].map(|p| format!("{p}-{t}"))));
    tags
}

fn seqlab_tagger_crf<B: Backend>(device: &B::Device) -> TokenClassifier<B> {
    let tags = iobes_tags();
    let allowed = Allowed::from_rule(tags.len(), |from, to| {
        allowed_transition(TagScheme::Iobes, from.map(|i| tags[i].as_str()), to.map(|j| tags[j].as_str()))
    });
    TokenClassifierConfig::new(VOCAB, tags.len())
        .with_embedding_dim(100)
        .with_encoder(EncoderConfig::new().with_kind(EncoderKind::Lstm).with_hidden(200).with_bidirectional(true))
        .with_crf(Some(CrfConfig::new(tags.len()).with_allowed(Some(allowed))))
        .init(device)
}

/// `n` tag ids of valid IOBES sentences of `length` tokens (about one token in three inside
/// an entity), from a fixed generator.
fn iobes_paths(n: usize, length: usize) -> Vec<i64> {
    let tags = iobes_tags();
    let id = |t: &str| tags.iter().position(|x| x == t).unwrap() as i64;
    let mut state = 2016u64;
    let mut next = |m: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % m
    };
    let mut out = Vec::with_capacity(n * length);
    for _ in 0..n {
        let mut t = 0;
        while t < length {
            let kind = ["LOC", "MISC", "ORG", "PER"][next(4) as usize];
            let span = (1 + next(3) as usize).min(length - t);
            match (next(3), span) {
                (0, 1) => out.push(id(&format!("S-{kind}"))),
                (0, _) => {
                    out.push(id(&format!("B-{kind}")));
                    (0..span - 2).for_each(|_| out.push(id(&format!("I-{kind}"))));
                    out.push(id(&format!("E-{kind}")));
                }
                _ => (0..span).for_each(|_| out.push(id("O"))),
            }
            t += span;
        }
    }
    out
}

fn seqlab_classifier<B: Backend>(kind: EncoderKind, device: &B::Device) -> SequenceClassifier<B> {
    SequenceClassifierConfig::new(VOCAB, 2)
        .with_embedding_dim(128)
        .with_encoder(EncoderConfig::new().with_kind(kind).with_hidden(256).with_layers(2))
        .init(device)
}

fn burn_tagger<B: Backend>(device: &B::Device) -> BurnTagger<B> {
    BurnTagger {
        embedding: EmbeddingConfig::new(VOCAB, 100).init(device),
        rnn: BiLstmConfig::new(100, 200, true).init(device),
        output: LinearConfig::new(400, 9).init(device),
    }
}

fn burn_classifier<B: Backend>(kind: EncoderKind, device: &B::Device) -> BurnClassifier<B> {
    let stack = match kind {
        EncoderKind::Lstm => BurnStack::Lstm(vec![
            LstmConfig::new(128, 256, true).init(device),
            LstmConfig::new(256, 256, true).init(device),
        ]),
        EncoderKind::Gru => BurnStack::Gru(vec![
            GruConfig::new(128, 256, true).init(device),
            GruConfig::new(256, 256, true).init(device),
        ]),
        _ => BurnStack::Rnn(vec![
            RnnConfig::new(128, 256, true).init(device),
            RnnConfig::new(256, 256, true).init(device),
        ]),
    };
    BurnClassifier {
        embedding: EmbeddingConfig::new(VOCAB, 128).init(device),
        stack,
        output: LinearConfig::new(256, 2).init(device),
    }
}

/// Inputs of one workload: ids, optional lengths, targets.
struct Inputs<B: Backend> {
    tokens: Tensor<B, 2, Int>,
    lengths: Option<Tensor<B, 1, Int>>,
    targets: Tensor<B, 1, Int>,
}

fn inputs<B: Backend>(w: &Workload, device: &B::Device) -> Inputs<B> {
    let ids = Tensor::<B, 2>::random([w.batch, w.length], Distribution::Uniform(2.0, VOCAB as f64), device).int();
    let targets = match w.kind {
        Kind::Tagger => Tensor::<B, 1>::random([w.batch * w.length], Distribution::Uniform(0.0, 9.0), device).int(),
        Kind::TaggerCrf => {
            Tensor::from_data(TensorData::new(iobes_paths(w.batch, w.length), [w.batch * w.length]), device)
        }
        Kind::Classifier(_) => Tensor::<B, 1>::random([w.batch], Distribution::Uniform(0.0, 2.0), device).int(),
    };
    let lengths = w.variable.then(|| {
        // Lengths uniform in [5, length], fixed by a simple generator so every run is the same.
        let mut state = 12345u64;
        let lens: Vec<i64> = (0..w.batch)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                5 + ((state >> 33) % (w.length as u64 - 4)) as i64
            })
            .collect();
        Tensor::from_data(TensorData::new(lens, [w.batch]), device)
    });
    Inputs { tokens: ids, lengths, targets }
}

/// Times `steps` training steps (forward, loss, backward, Adam) or inference passes; returns
/// seconds per step for each round after warm-up.
fn time_train<B: AutodiffBackend, M: Net<B> + AutodiffModule<B>>(
    mut model: M,
    w: &Workload,
    args: &Args,
    rounds: usize,
) -> Vec<f64>
where
    M::InnerModule: Net<B::InnerBackend>,
{
    let device = Default::default();
    let data = inputs::<B>(w, &device);
    // The Adam the training commands use (Burn's update, fused on ndarray), for both models.
    let mut optim = FusedAdamConfig::new().init::<B, M>();
    let mut step = |model: M| -> M {
        let loss = model.loss(&data);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        optim.step(1e-3, model, grads)
    };
    for _ in 0..args.warmup {
        model = step(model);
    }
    let mut times = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..args.steps {
            model = step(model);
        }
        B::sync(&device).expect("sync");
        times.push(start.elapsed().as_secs_f64() / args.steps as f64);
    }
    times
}

fn time_infer<M: Net<backend::Inner>>(model: M, w: &Workload, args: &Args, rounds: usize) -> Vec<f64> {
    let device = Default::default();
    let data = inputs::<backend::Inner>(w, &device);
    let run = || model.logits(data.tokens.clone(), data.lengths.clone()).into_data();
    for _ in 0..args.warmup {
        run();
    }
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..args.steps {
                run();
            }
            start.elapsed().as_secs_f64() / args.steps as f64
        })
        .collect()
}

/// Peak resident memory (VmHWM) since the last reset, in MiB; resets it (Linux).
fn take_peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    Some(kib / 1024.0)
}

fn max_peak(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[derive(Debug, serde::Serialize)]
struct Row {
    workload: String,
    implementation: String,
    backend: String,
    ms_per_step: f64,
    tokens_per_s: f64,
    peak_rss_mib: Option<f64>,
}

fn measure(w: &Workload, args: &Args) -> Vec<Row> {
    let device = Default::default();
    let tokens = (w.batch * w.length) as f64;
    let mut rows = Vec::new();
    // Interleave: one round of each implementation at a time, so machine noise hits both.
    let mut seqlab_times = Vec::new();
    let mut burn_times = Vec::new();
    let mut recorded_times = Vec::new();
    let (mut seqlab_peak, mut burn_peak, mut recorded_peak) = (None, None, None);
    for _ in 0..args.rounds {
        take_peak_rss_mib();
        seqlab_times.extend(match (w.kind, w.train) {
            (Kind::Tagger, true) => time_train(seqlab_tagger::<Train>(&device), w, args, 1),
            (Kind::Tagger, false) => time_infer(seqlab_tagger::<backend::Inner>(&device), w, args, 1),
            (Kind::TaggerCrf, _) => time_train(seqlab_tagger_crf::<Train>(&device), w, args, 1),
            (Kind::Classifier(k), _) => time_train(seqlab_classifier::<Train>(k, &device), w, args, 1),
        });
        seqlab_peak = max_peak(seqlab_peak, take_peak_rss_mib());
        if args.recorded && w.train {
            recorded_times.extend(match w.kind {
                Kind::Tagger => time_train(seqlab_tagger::<Recorded>(&device), w, args, 1),
                Kind::TaggerCrf => time_train(seqlab_tagger_crf::<Recorded>(&device), w, args, 1),
                Kind::Classifier(k) => time_train(seqlab_classifier::<Recorded>(k, &device), w, args, 1),
            });
            recorded_peak = max_peak(recorded_peak, take_peak_rss_mib());
        }
        if args.no_burn || w.variable || w.kind == Kind::TaggerCrf {
            continue;
        }
        burn_times.extend(match (w.kind, w.train) {
            (Kind::Tagger, true) => time_train(burn_tagger::<Train>(&device), w, args, 1),
            (Kind::Tagger, false) => time_infer(burn_tagger::<backend::Inner>(&device), w, args, 1),
            (Kind::Classifier(k), _) => time_train(burn_classifier::<Train>(k, &device), w, args, 1),
            (Kind::TaggerCrf, _) => unreachable!("Burn has no CRF"),
        });
        burn_peak = max_peak(burn_peak, take_peak_rss_mib());
    }
    for (name, times, peak) in [
        ("seqlab", seqlab_times, seqlab_peak),
        ("seqlab-recorded", recorded_times, recorded_peak),
        ("burn-builtin", burn_times, burn_peak),
    ] {
        if times.is_empty() {
            continue;
        }
        let s = median(times);
        rows.push(Row {
            workload: w.name.into(),
            implementation: name.into(),
            backend: backend::name().into(),
            ms_per_step: s * 1e3,
            tokens_per_s: tokens / s,
            peak_rss_mib: peak,
        });
    }
    rows
}

/// Runs the PyTorch references for the workloads they know; empty if unavailable.
fn pytorch(names: &[&str], args: &Args) -> Vec<Row> {
    let known: Vec<&str> =
        names.iter().copied().filter(|n| ["tagger", "classifier", "gru", "rnn", "tagger-infer"].contains(n)).collect();
    let mut rows = if known.is_empty() { Vec::new() } else { run_script(&args.torch_script, &known, args) };
    if names.contains(&"tagger-crf") {
        rows.extend(run_script(&args.torch_crf_script, &[], args));
    }
    rows
}

/// Runs one PyTorch reference script on `workloads` (none: the script's own).
fn run_script(script: &std::path::Path, workloads: &[&str], args: &Args) -> Vec<Row> {
    if !script.exists() {
        eprintln!("PyTorch: skipped ({} not found)", script.display());
        return Vec::new();
    }
    let steps = (args.steps * args.rounds).to_string();
    let output = Command::new("python3")
        .arg(script)
        .args(["--threads", &args.threads.to_string(), "--steps", &steps, "--warmup", &args.warmup.to_string()])
        .args(workloads)
        .output();
    let Some(output) = output.ok().filter(|o| o.status.success()) else {
        eprintln!("PyTorch: skipped (python3 with torch did not run {})", script.display());
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| Row {
            workload: v["workload"].as_str().unwrap_or("?").into(),
            implementation: format!("pytorch {}", v["torch"].as_str().unwrap_or("")),
            backend: format!("cpu, {} threads", v["threads"]),
            ms_per_step: v["ms_per_step"].as_f64().unwrap_or(f64::NAN),
            tokens_per_s: v["tokens_per_s"].as_f64().unwrap_or(f64::NAN),
            peak_rss_mib: None,
        })
        .collect()
}

fn main() {
    seqlab_bins::malloc::tune_for_tensors();
    let args = Args::parse();
    let selected: Vec<Workload> = if args.workloads.is_empty() {
        WORKLOADS.to_vec()
    } else {
        args.workloads
            .iter()
            .map(|n| {
                *WORKLOADS.iter().find(|w| w.name == n).unwrap_or_else(|| {
                    eprintln!("error: unknown workload {n:?}; expected one of {:?}", WORKLOADS.map(|w| w.name));
                    std::process::exit(2)
                })
            })
            .collect()
    };
    eprintln!(
        "backend: {}; {} steps × {} rounds after {} warm-up steps",
        backend::name(),
        args.steps,
        args.rounds,
        args.warmup
    );
    let mut rows: Vec<Row> = Vec::new();
    for w in &selected {
        eprintln!("running {} …", w.name);
        rows.extend(measure(w, &args));
    }
    rows.extend(pytorch(&selected.iter().map(|w| w.name).collect::<Vec<_>>(), &args));
    if args.json {
        for r in &rows {
            println!("{}", serde_json::to_string(r).unwrap());
        }
        return;
    }
    println!("| workload | implementation | backend | ms/step | tokens/s | peak RSS MiB | seqlab speed-up |");
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let ours = rows.iter().find(|o| o.workload == r.workload && o.implementation == "seqlab");
        let ratio = ours.map_or(String::from("–"), |o| format!("{:.2}×", r.ms_per_step / o.ms_per_step));
        let peak = r.peak_rss_mib.map_or("–".into(), |p| format!("{p:.0}"));
        println!(
            "| {} | {} | {} | {:.1} | {:.0} | {peak} | {ratio} |",
            r.workload, r.implementation, r.backend, r.ms_per_step, r.tokens_per_s
        );
    }
}

//! `bench`: training and inference speed of seqlab's recurrent models against twins built from
//! Burn's built-in RNN modules (same process) and PyTorch (the reference scripts' models, in
//! `scripts/torch_bench_twin.py`, same machine, same thread count), on fixed workload shapes.
//! The implementations alternate round by round, each round's time is kept, and every ratio is
//! reported with its spread over the rounds. The figures go in BENCHMARKS.md.
//!
//! [`WORKLOADS`] lists every workload once; [`measure`] times one; [`table`] prints the rows;
//! [`machine`] says what they ran on.

mod inputs;
mod machine;
mod nets;
mod pytorch;
mod timing;

use burn::tensor::backend::AutodiffBackend;
use seqlab_models::heads::EncoderKind;
use seqlab_models::CellKind;
use seqlab_training::backend::{self, Autodiff as Train};

pub use machine::machine;
pub use pytorch::PyTorch;

use nets::{burn_classifier, burn_tagger, seqlab_classifier, seqlab_tagger, seqlab_tagger_crf};
use timing::{max_peak, take_peak_rss_mib, time_infer, time_train};

/// The training backend under another type, which no fast path recognises.
type Recorded =
    burn::backend::Autodiff<backend::Inner, burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing>;

/// Word vocabulary of every workload.
const VOCAB: usize = 20_000;

/// One workload: shapes and what is timed.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The name on the command line and in the table.
    pub name: &'static str,
    batch: usize,
    length: usize,
    /// Uniform lengths in [5, length] (seqlab only: the built-ins cannot mask).
    variable: bool,
    /// Training steps (forward, loss, backward, Adam) rather than inference passes.
    train: bool,
    kind: Kind,
}

/// What a workload runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// The default tagger's shapes.
    Tagger,
    /// The tagger with a CRF over IOBES tags for 4 entity types (18 tags with `<pad>`), its
    /// transitions restricted to IOBES's; loss = the CRF's negative log-likelihood.
    TaggerCrf,
    /// A two-layer classifier of this encoder.
    Classifier(EncoderKind),
}

const fn workload(name: &'static str, train: bool, variable: bool, kind: Kind) -> Workload {
    let (batch, length) = match kind {
        Kind::Classifier(_) => (64, 32),
        _ => (32, 40),
    };
    Workload { name, batch, length, variable, train, kind }
}

/// Every workload, in the order the table lists them.
pub const WORKLOADS: [Workload; 8] = [
    workload("tagger", true, false, Kind::Tagger),
    workload("tagger-crf", true, false, Kind::TaggerCrf),
    workload("tagger-varlen", true, true, Kind::Tagger),
    workload("classifier", true, false, Kind::Classifier(EncoderKind::Recurrent(CellKind::Lstm))),
    workload("gru", true, false, Kind::Classifier(EncoderKind::Recurrent(CellKind::Gru))),
    workload("rnn", true, false, Kind::Classifier(EncoderKind::Recurrent(CellKind::RnnTanh))),
    workload("tagger-infer", false, false, Kind::Tagger),
    workload("classifier-infer", false, false, Kind::Classifier(EncoderKind::Recurrent(CellKind::Lstm))),
];

/// How the workloads are timed and compared.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Timed training steps per round (training workloads).
    pub steps: usize,
    /// Timed inference passes per round (inference workloads).
    pub passes: usize,
    /// Rounds; implementations alternate within each round, the median round is reported.
    pub rounds: usize,
    /// Untimed warm-up steps per implementation.
    pub warmup: usize,
    /// PyTorch's reference script (its models).
    pub torch_script: std::path::PathBuf,
    /// The script that times PyTorch's twins round by round.
    pub twin_script: std::path::PathBuf,
    /// PyTorch with `torch.set_flush_denormal(True)`, as seqlab flushes subnormals.
    pub torch_flush_denormal: bool,
    /// PyTorch's CRF reference script.
    pub torch_crf_script: std::path::PathBuf,
    /// Threads for PyTorch.
    pub threads: usize,
    /// Skip Burn's built-in modules.
    pub no_burn: bool,
    /// Also time seqlab's training workloads with every step recorded on Burn's tape.
    pub recorded: bool,
}

impl Settings {
    /// Timed steps (training) or passes (inference) per round of workload `w`.
    pub fn per_round(&self, w: &Workload) -> usize {
        if w.train {
            self.steps
        } else {
            self.passes
        }
    }
}

/// One line of the table.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    /// The workload's name.
    pub workload: String,
    /// `seqlab`, `seqlab-recorded`, `seqlab-int8`, `burn-builtin`, `pytorch` or
    /// `pytorch-qdynamic`.
    pub implementation: String,
    /// The backend (and threads for PyTorch).
    pub backend: String,
    /// Milliseconds per step: the median round, the fastest and the slowest.
    pub ms_per_step: f64,
    pub ms_min: f64,
    pub ms_max: f64,
    /// Rounds timed.
    pub rounds: usize,
    /// Tokens per second (median round).
    pub tokens_per_s: f64,
    /// Peak resident memory while it ran, in MiB (Linux; seqlab's process only).
    pub peak_rss_mib: Option<f64>,
    /// Milliseconds per step of each round, in order (the rounds alternate between the rows of
    /// a workload, so round `i` of two rows ran minutes apart at most).
    pub rounds_ms: Vec<f64>,
}

/// How much faster one of seqlab's implementations ran than a peer on one workload: the peer's
/// time over seqlab's, round by round (> 1: seqlab is faster).
#[derive(Debug, serde::Serialize)]
pub struct Ratio {
    pub workload: String,
    /// `seqlab` or `seqlab-int8`.
    pub seqlab: String,
    /// `pytorch`, `pytorch-qdynamic` or `burn-builtin`.
    pub peer: String,
    /// The median, lowest and highest of the rounds' ratios.
    pub speedup: Spread,
}

/// The ratios of every seqlab row against every peer row of the same workload.
pub fn ratios(rows: &[Row]) -> Vec<Ratio> {
    let ours = |r: &&Row| r.implementation == "seqlab" || r.implementation == "seqlab-int8";
    let peer = |r: &&Row| r.implementation.starts_with("pytorch") || r.implementation == "burn-builtin";
    rows.iter()
        .filter(ours)
        .flat_map(|a| {
            rows.iter().filter(peer).filter(move |b| b.workload == a.workload && b.rounds == a.rounds).map(move |b| {
                Ratio {
                    workload: a.workload.clone(),
                    seqlab: a.implementation.clone(),
                    peer: b.implementation.clone(),
                    speedup: Spread::of(
                        b.rounds_ms.iter().zip(&a.rounds_ms).map(|(theirs, ours)| theirs / ours).collect(),
                    ),
                }
            })
        })
        .collect()
}

/// The median, lowest and highest of a set of values.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        Self { median: values[values.len() / 2], min: values[0], max: values[values.len() - 1] }
    }
}

/// Times of one implementation, one per round, and its peak memory.
#[derive(Default)]
struct Timings {
    times: Vec<f64>,
    peak: Option<f64>,
}

impl Timings {
    fn add(&mut self, times: Vec<f64>) {
        self.times.extend(times);
        self.peak = max_peak(self.peak, take_peak_rss_mib());
    }
}

/// Times every implementation of workload `w`, alternating them round by round (seqlab, Burn's
/// built-in, PyTorch, and again) so that machine noise hits all of them alike.
pub fn measure(w: &Workload, settings: &Settings, mut torch: Option<&mut PyTorch>) -> Vec<Row> {
    let (mut seqlab, mut recorded, mut burn) = (Timings::default(), Timings::default(), Timings::default());
    let mut int8 = Timings::default();
    let burn_twin = !settings.no_burn && !w.variable && w.kind != Kind::TaggerCrf;
    let twins = torch.as_ref().map(|t| t.twins(w.name)).unwrap_or_default();
    let mut torch_times: Vec<Timings> = twins.iter().map(|_| Timings::default()).collect();
    for _ in 0..settings.rounds {
        take_peak_rss_mib();
        seqlab.add(if w.train { train_seqlab::<Train>(w, settings) } else { infer_seqlab(w, settings) });
        if settings.recorded && w.train {
            recorded.add(train_seqlab::<Recorded>(w, settings));
        }
        if !w.train {
            int8.add(infer_seqlab_int8(w, settings));
        }
        if burn_twin {
            burn.add(time_burn(w, settings));
        }
        if let Some(torch) = torch.as_deref_mut() {
            for (twin, times) in twins.iter().zip(&mut torch_times) {
                times.times.extend(torch.round(w.name, twin, settings.per_round(w)));
            }
        }
    }
    let torch_backend = torch.as_ref().map(|t| t.backend()).unwrap_or_default();
    let tokens = (w.batch * w.length) as f64;
    let mut implementations = vec![
        ("seqlab".to_string(), backend::name().to_string(), seqlab),
        ("seqlab-recorded".to_string(), backend::name().to_string(), recorded),
        ("seqlab-int8".to_string(), backend::name().to_string(), int8),
        ("burn-builtin".to_string(), backend::name().to_string(), burn),
    ];
    implementations.extend(twins.into_iter().zip(torch_times).map(|(name, t)| (name, torch_backend.clone(), t)));
    implementations
        .into_iter()
        .filter(|(_, _, t)| !t.times.is_empty())
        .map(|(name, backend, t)| {
            let rounds_ms: Vec<f64> = t.times.iter().map(|s| s * 1e3).collect();
            let ms = Spread::of(rounds_ms.clone());
            Row {
                workload: w.name.into(),
                implementation: name,
                backend,
                ms_per_step: ms.median,
                ms_min: ms.min,
                ms_max: ms.max,
                rounds: t.times.len(),
                tokens_per_s: tokens / (ms.median / 1e3),
                peak_rss_mib: t.peak,
                rounds_ms,
            }
        })
        .collect()
}

/// One round of seqlab's model of `w` training on `B`.
fn train_seqlab<B: AutodiffBackend>(w: &Workload, settings: &Settings) -> Vec<f64> {
    let device = Default::default();
    match w.kind {
        Kind::Tagger => time_train(seqlab_tagger::<B>(&device), w, settings, 1),
        Kind::TaggerCrf => time_train(seqlab_tagger_crf::<B>(&device), w, settings, 1),
        Kind::Classifier(k) => time_train(seqlab_classifier::<B>(k, &device), w, settings, 1),
    }
}

/// One round of seqlab's model answering `w`'s batch.
fn infer_seqlab(w: &Workload, settings: &Settings) -> Vec<f64> {
    let device = Default::default();
    match w.kind {
        Kind::Tagger => time_infer(seqlab_tagger::<backend::Inner>(&device), w, settings, 1),
        Kind::TaggerCrf => time_infer(seqlab_tagger_crf::<backend::Inner>(&device), w, settings, 1),
        Kind::Classifier(k) => time_infer(seqlab_classifier::<backend::Inner>(k, &device), w, settings, 1),
    }
}

/// One round of seqlab's model of `w` with int8 weights (`quantize`), answering `w`'s batch.
fn infer_seqlab_int8(w: &Workload, settings: &Settings) -> Vec<f64> {
    let device = Default::default();
    match w.kind {
        Kind::Tagger => time_infer(seqlab_tagger::<backend::Inner>(&device).quantize_int8(), w, settings, 1),
        Kind::TaggerCrf => time_infer(seqlab_tagger_crf::<backend::Inner>(&device).quantize_int8(), w, settings, 1),
        Kind::Classifier(k) => {
            time_infer(seqlab_classifier::<backend::Inner>(k, &device).quantize_int8(), w, settings, 1)
        }
    }
}

/// One round of Burn's built-in twin of `w`.
fn time_burn(w: &Workload, settings: &Settings) -> Vec<f64> {
    let device = Default::default();
    match (w.kind, w.train) {
        (Kind::Tagger, true) => time_train(burn_tagger::<Train>(&device), w, settings, 1),
        (Kind::Tagger, false) => time_infer(burn_tagger::<backend::Inner>(&device), w, settings, 1),
        (Kind::Classifier(k), true) => time_train(burn_classifier::<Train>(k, &device), w, settings, 1),
        (Kind::Classifier(k), false) => time_infer(burn_classifier::<backend::Inner>(k, &device), w, settings, 1),
        (Kind::TaggerCrf, _) => Vec::new(),
    }
}

/// The rows as a markdown table (each implementation's median, fastest and slowest round),
/// then the ratios (each peer's time over seqlab's, median of the rounds with their range).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| workload | implementation | backend | ms/step median | min–max | tokens/s | peak RSS MiB |\n\
         | --- | --- | --- | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let peak = r.peak_rss_mib.map_or("–".into(), |p| format!("{p:.0}"));
        out += &format!(
            "| {} | {} | {} | {:.2} | {:.2}–{:.2} | {:.0} | {peak} |\n",
            r.workload, r.implementation, r.backend, r.ms_per_step, r.ms_min, r.ms_max, r.tokens_per_s
        );
    }
    out += "\n| workload | seqlab | against | speed-up (peer's time ÷ seqlab's) | range over rounds |\n\
            | --- | --- | --- | ---: | ---: |\n";
    for r in ratios(rows) {
        let s = r.speedup;
        out +=
            &format!("| {} | {} | {} | {:.2}× | {:.2}–{:.2} |\n", r.workload, r.seqlab, r.peer, s.median, s.min, s.max);
    }
    out
}

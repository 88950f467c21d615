//! `bench`: training and inference speed of seqlab's recurrent models against twins built from
//! Burn's built-in RNN modules (same process, alternating rounds) and PyTorch (the reference
//! scripts, same machine, same thread count), on fixed workload shapes. The figures go in
//! BENCHMARKS.md.
//!
//! [`WORKLOADS`] lists every workload once; [`measure`] times one; [`table`] prints the rows.

mod inputs;
mod nets;
mod pytorch;
mod timing;

use burn::tensor::backend::AutodiffBackend;
use seqlab_models::heads::EncoderKind;
use seqlab_models::CellKind;
use seqlab_training::backend::{self, Autodiff as Train};

pub use pytorch::pytorch;

use nets::{burn_classifier, burn_tagger, seqlab_classifier, seqlab_tagger, seqlab_tagger_crf};
use timing::{max_peak, median, take_peak_rss_mib, time_infer, time_train};

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
    /// Which PyTorch script has its twin.
    twin: Twin,
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

/// The PyTorch twin of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Twin {
    /// In `torch_reference.py`, by the workload's name.
    Reference,
    /// `torch_crf_reference.py` (needs pytorch-crf).
    Crf,
    /// None: PyTorch's RNN modules do not mask variable lengths as seqlab does.
    None,
}

const fn workload(name: &'static str, train: bool, variable: bool, kind: Kind, twin: Twin) -> Workload {
    let (batch, length) = match kind {
        Kind::Classifier(_) => (64, 32),
        _ => (32, 40),
    };
    Workload { name, batch, length, variable, train, kind, twin }
}

/// Every workload, in the order the table lists them.
pub const WORKLOADS: [Workload; 7] = [
    workload("tagger", true, false, Kind::Tagger, Twin::Reference),
    workload("tagger-crf", true, false, Kind::TaggerCrf, Twin::Crf),
    workload("tagger-varlen", true, true, Kind::Tagger, Twin::None),
    workload("classifier", true, false, Kind::Classifier(EncoderKind::Recurrent(CellKind::Lstm)), Twin::Reference),
    workload("gru", true, false, Kind::Classifier(EncoderKind::Recurrent(CellKind::Gru)), Twin::Reference),
    workload("rnn", true, false, Kind::Classifier(EncoderKind::Recurrent(CellKind::RnnTanh)), Twin::Reference),
    workload("tagger-infer", false, false, Kind::Tagger, Twin::Reference),
];

/// How the workloads are timed and compared.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Timed steps per round.
    pub steps: usize,
    /// Rounds; implementations alternate within each round, the median round is reported.
    pub rounds: usize,
    /// Untimed warm-up steps per implementation.
    pub warmup: usize,
    /// PyTorch's reference script.
    pub torch_script: std::path::PathBuf,
    /// PyTorch's CRF reference script.
    pub torch_crf_script: std::path::PathBuf,
    /// Threads for PyTorch.
    pub threads: usize,
    /// Skip Burn's built-in modules.
    pub no_burn: bool,
    /// Also time seqlab's training workloads with every step recorded on Burn's tape.
    pub recorded: bool,
}

/// One line of the table.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    /// The workload's name.
    pub workload: String,
    /// `seqlab`, `seqlab-recorded`, `burn-builtin` or `pytorch VERSION`.
    pub implementation: String,
    /// The backend (and threads for PyTorch).
    pub backend: String,
    /// Milliseconds per step (median round).
    pub ms_per_step: f64,
    /// Tokens per second.
    pub tokens_per_s: f64,
    /// Peak resident memory while it ran, in MiB (Linux).
    pub peak_rss_mib: Option<f64>,
}

/// Times of one implementation over the rounds, and its peak memory.
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

/// Times every implementation of workload `w`, alternating them round by round so that machine
/// noise hits all of them.
pub fn measure(w: &Workload, settings: &Settings) -> Vec<Row> {
    let (mut seqlab, mut recorded, mut burn) = (Timings::default(), Timings::default(), Timings::default());
    let burn_twin = !settings.no_burn && !w.variable && w.kind != Kind::TaggerCrf;
    for _ in 0..settings.rounds {
        take_peak_rss_mib();
        seqlab.add(if w.train { train_seqlab::<Train>(w, settings) } else { infer_seqlab(w, settings) });
        if settings.recorded && w.train {
            recorded.add(train_seqlab::<Recorded>(w, settings));
        }
        if burn_twin {
            burn.add(time_burn(w, settings));
        }
    }
    let tokens = (w.batch * w.length) as f64;
    [("seqlab", seqlab), ("seqlab-recorded", recorded), ("burn-builtin", burn)]
        .into_iter()
        .filter(|(_, t)| !t.times.is_empty())
        .map(|(name, t)| {
            let seconds = median(t.times);
            Row {
                workload: w.name.into(),
                implementation: name.into(),
                backend: backend::name().into(),
                ms_per_step: seconds * 1e3,
                tokens_per_s: tokens / seconds,
                peak_rss_mib: t.peak,
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

/// One round of seqlab's tagger answering `w`'s batch.
fn infer_seqlab(w: &Workload, settings: &Settings) -> Vec<f64> {
    time_infer(seqlab_tagger::<backend::Inner>(&Default::default()), w, settings, 1)
}

/// One round of Burn's built-in twin of `w`.
fn time_burn(w: &Workload, settings: &Settings) -> Vec<f64> {
    let device = Default::default();
    match (w.kind, w.train) {
        (Kind::Tagger, true) => time_train(burn_tagger::<Train>(&device), w, settings, 1),
        (Kind::Tagger, false) => time_infer(burn_tagger::<backend::Inner>(&device), w, settings, 1),
        (Kind::Classifier(k), _) => time_train(burn_classifier::<Train>(k, &device), w, settings, 1),
        (Kind::TaggerCrf, _) => Vec::new(),
    }
}

/// The rows as a markdown table, each with its time against seqlab's on the same workload.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| workload | implementation | backend | ms/step | tokens/s | peak RSS MiB | seqlab speed-up |\n\
         | --- | --- | --- | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let ours = rows.iter().find(|o| o.workload == r.workload && o.implementation == "seqlab");
        let ratio = ours.map_or(String::from("–"), |o| format!("{:.2}×", r.ms_per_step / o.ms_per_step));
        let peak = r.peak_rss_mib.map_or("–".into(), |p| format!("{p:.0}"));
        out += &format!(
            "| {} | {} | {} | {:.1} | {:.0} | {peak} | {ratio} |\n",
            r.workload, r.implementation, r.backend, r.ms_per_step, r.tokens_per_s
        );
    }
    out
}

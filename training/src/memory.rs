//! What a training run will hold in memory, estimated from its options before anything is
//! allocated, and checked against the machine's memory: a size option that cannot fit
//! (`--hidden 100000000`, `--layers 1000000`) is refused with the figure, by option, instead of
//! filling the memory until the allocator aborts.
//!
//! The estimate is deliberately rough (within a small factor): parameters with their gradients
//! and Adam's two moments, and per token of a batch the activations that backpropagation keeps.

use seqlab_models::heads::EncoderConfig;

use crate::error::RunError;

/// Bytes of an `f32`.
const F32: f64 = 4.0;

/// One part of a model: the option that sizes it, its parameters, and the activations one token
/// of a batch keeps in it for the backward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The option (without dashes) whose value makes this part large.
    pub option: &'static str,
    /// Parameters.
    pub parameters: f64,
    /// Activations kept per token (values).
    pub per_token: f64,
}

impl Part {
    /// A table of `rows × width` (an embedding), `width` values per token.
    pub fn embedding(option: &'static str, rows: usize, width: usize) -> Self {
        Self { option, parameters: rows as f64 * width as f64, per_token: width as f64 }
    }

    /// A dense layer `inputs → outputs` applied to every token.
    pub fn dense(option: &'static str, inputs: usize, outputs: usize) -> Self {
        let (i, o) = (inputs as f64, outputs as f64);
        Self { option, parameters: i * o + o, per_token: o }
    }

    /// A recurrent (or bag) encoder over `input`-wide tokens: per layer and direction, `gates`
    /// blocks of `W_ih`, `W_hh` and two biases; per token its gate values, hidden and cell state.
    /// Named by `--layers` for a deep stack, by `input_option` (what sizes the input) when the
    /// input is wider than the hidden state, and by `--hidden` otherwise.
    pub fn encoder(e: &EncoderConfig, input: usize, input_option: &'static str) -> Self {
        let Some(cell) = e.kind.cell() else {
            return Self { option: "hidden", parameters: 0.0, per_token: 0.0 };
        };
        let (h, gates) = (e.hidden as f64, cell.gates() as f64);
        let directions = if e.bidirectional { 2.0 } else { 1.0 };
        let layers = e.layers as f64;
        let first = directions * gates * (input as f64 * h + h * h + 2.0 * h);
        let later = directions * gates * (directions * h * h + h * h + 2.0 * h);
        let option = if e.layers > 64 {
            "layers"
        } else if input > e.hidden {
            input_option
        } else {
            "hidden"
        };
        Self {
            option,
            parameters: first + (layers - 1.0).max(0.0) * later,
            per_token: layers * directions * (gates + 2.0) * h,
        }
    }
}

/// A model's parts and the tokens of its largest batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// The parts.
    pub parts: Vec<Part>,
    /// Padded tokens of the largest batch.
    pub batch_tokens: usize,
}

impl Footprint {
    /// All parameters.
    pub fn parameters(&self) -> f64 {
        self.parts.iter().map(|p| p.parameters).sum()
    }

    /// Bytes for training: weights, gradients and Adam's two moments, plus the largest batch's
    /// activations and their gradients (twice, for the temporaries of the backward pass).
    pub fn training_bytes(&self) -> f64 {
        let per_token: f64 = self.parts.iter().map(|p| p.per_token).sum();
        4.0 * F32 * self.parameters() + 4.0 * F32 * per_token * self.batch_tokens as f64
    }

    /// The option of the part that takes the most bytes.
    fn largest(&self) -> &'static str {
        let bytes = |p: &Part| 4.0 * p.parameters + 4.0 * p.per_token * self.batch_tokens as f64;
        self.parts.iter().max_by(|a, b| bytes(a).total_cmp(&bytes(b))).map_or("hidden", |p| p.option)
    }

    /// Refuses a run whose [`Self::training_bytes`] exceed `memory` bytes (the machine's, see
    /// [`machine_memory`]), naming the option of its largest part and both figures.
    pub fn check(&self, memory: Option<u64>) -> Result<(), RunError> {
        self.check_with(memory, "choose smaller sizes (or a smaller --max-tokens)")
    }

    /// [`Self::check`] with another closing `advice`.
    pub fn check_with(&self, memory: Option<u64>, advice: &str) -> Result<(), RunError> {
        let (Some(memory), bytes) = (memory, self.training_bytes()) else {
            return Ok(());
        };
        if bytes <= memory as f64 {
            return Ok(());
        }
        Err(RunError::invalid(
            self.largest(),
            format!(
                "training would need about {} ({:.3e} parameters with their gradients and Adam's moments, and batches of \
                 up to {} tokens), more than this machine's {}; {advice}",
                human_bytes(bytes),
                self.parameters(),
                self.batch_tokens,
                human_bytes(memory as f64)
            ),
        ))
    }
}

/// The longest example of a run's training and validation splits, for [`Footprint::check_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Longest {
    /// Where it is: `valid.conll:36`, or `train.jsonl (sentence 51)`.
    pub at: String,
    /// Its tokens.
    pub tokens: usize,
}

impl Longest {
    /// The longest of the training split at `train_path` (lengths by example) and the validation
    /// split at `valid_path` (lengths with the line each example starts on); `noun` names an
    /// example (`sentence`, `text`). Ties go to the first.
    pub fn of(
        noun: &str,
        (train_path, train): (&str, impl IntoIterator<Item = usize>),
        (valid_path, valid): (&str, impl IntoIterator<Item = (usize, usize)>),
    ) -> Self {
        let mut longest = Self { at: String::new(), tokens: 0 };
        for (index, tokens) in train.into_iter().enumerate() {
            if tokens > longest.tokens {
                longest = Self { at: format!("{train_path} ({noun} {})", index + 1), tokens };
            }
        }
        for (line, tokens) in valid {
            if tokens > longest.tokens {
                longest = Self { at: format!("{valid_path}:{line}"), tokens };
            }
        }
        longest
    }
}

impl Footprint {
    /// [`Self::check`] for a run whose batches hold at most `max_tokens` padded tokens: when the
    /// run would fit but for its `longest` example, longer than that budget and so in a batch of
    /// its own, the error names that example (no size option can help) and asks for it to be
    /// split.
    pub fn check_run(&self, max_tokens: usize, longest: &Longest, memory: Option<u64>) -> Result<(), RunError> {
        let error = match self.check(memory) {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let within_budget = Self { batch_tokens: self.batch_tokens.min(max_tokens), ..self.clone() };
        if longest.tokens <= max_tokens || within_budget.check(memory).is_err() {
            return Err(error);
        }
        Err(RunError::Other(format!(
            "{}: {} tokens in one example, which in a batch of its own would need about {} to train, more than \
             this machine's {}; split it into shorter ones (other batches stay within --max-tokens {max_tokens})",
            longest.at,
            longest.tokens,
            human_bytes(self.training_bytes()),
            human_bytes(memory.unwrap_or_default() as f64)
        )))
    }
}

/// `12.3 GiB`, `4.0 TiB`.
pub fn human_bytes(bytes: f64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} bytes")
    } else if value.is_finite() && unit + 1 < units.len() {
        format!("{value:.1} {}", units[unit])
    } else {
        format!("{bytes:.3e} bytes")
    }
}

/// The memory this process may use: the machine's (`MemTotal`) or its control group's limit,
/// whichever is smaller; `None` where neither can be read.
pub fn machine_memory() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    });
    let limit = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().and_then(|t| t.trim().parse::<u64>().ok()));
    match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    }
}

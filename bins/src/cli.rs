//! What every command shares at its edge: the value parsers of enum names and sizes, the former
//! option names, the end of a training command and the exit status. The trainers' shared
//! options are [`crate::args::training`]; `--config FILE` is read by [`crate::config_file`].

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use seqlab_training::backend;
use seqlab_training::error::RunError;
use seqlab_training::learner::{TrainingConfig, TrainingSummary};
use seqlab_training::{note, say};
use strum::VariantNames;

/// A clap value parser for an enum's names ([`FromStr`] with its aliases, in any case). The help
/// lists the enum's own choices ([`VariantNames`]), and an unknown name is refused with them:
/// `unknown model "x"; expected ffn, rnn, rnn-relu, lstm or gru`.
pub fn by_name<T>(what: &'static str) -> Named<T> {
    Named { what, parsed: PhantomData }
}

/// The value parser of [`by_name`].
pub struct Named<T> {
    what: &'static str,
    parsed: PhantomData<fn() -> T>,
}

impl<T> Clone for Named<T> {
    fn clone(&self) -> Self {
        Self { what: self.what, parsed: PhantomData }
    }
}

/// `a, b or c`.
fn choices(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl<T: FromStr + VariantNames + Clone + Send + Sync + 'static> TypedValueParser for Named<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let what = self.what;
        let parse = move |s: &str| {
            s.parse::<T>().map_err(|_| format!("unknown {what} {s:?}; expected {}", choices(T::VARIANTS)))
        };
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::VARIANTS.iter().map(PossibleValue::new)))
    }
}

/// A value parser for a size option: a whole number in `range` (both ends included), refused
/// by clap with the option's name and the range otherwise, so that no size reaches an
/// allocation it cannot make (`--queue 1000000000`) or a loop that never starts (`--workers 0`).
pub fn size(range: std::ops::RangeInclusive<u64>) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(range)
}

/// Options renamed so that one name means one thing in every command, as (former, current):
/// the former names still work, as hidden aliases, for one release.
pub const RENAMED: [(&str, &str); 3] =
    [("model", "encoder"), ("batch-size", "window"), ("max-tokens", "max-text-tokens")];

/// Warns on standard error for each former name in this process's arguments that `command`
/// now spells otherwise (see [`RENAMED`]).
pub fn warn_former_names(command: &str) {
    let renamed: &[(&str, &str)] = match command {
        "train-classifier" | "train-tagger" => &RENAMED[..1],
        "predict" => &RENAMED[1..2],
        "serve" => &RENAMED[2..],
        _ => &[],
    };
    for arg in std::env::args().skip(1) {
        for (former, current) in renamed {
            if arg == format!("--{former}") || arg.starts_with(&format!("--{former}=")) {
                note!("warning: --{former} is now --{current}; the former name goes in a later release");
            }
        }
    }
}

/// The options of a training command (`train-classifier`, `train-tagger`): the data files they
/// name and the run config they resolve to.
pub trait TrainerArgs: clap::Parser {
    /// The run config the options resolve to (`run.json`).
    type Config;

    /// `--train`, `--valid` and `--test`: standard input (`-`) is copied aside first
    /// ([`crate::spool::Spool`]).
    fn data_files(&mut self) -> (&mut String, Option<&mut String>, Option<&mut String>);

    /// The run these options describe: validation data resolved, the recipe's defaults applied
    /// (inputs that are pipes already copied aside). An error names the option.
    fn run_config(self) -> Result<Self::Config, String>;

    /// A run config's learner options and artifacts folder.
    fn learner(config: &Self::Config) -> (&TrainingConfig, &Path);
}

/// A training command from start to end: prepares the process, warns of former option names,
/// parses the options `A` (with a config file; `adjust` shows the recipe's defaults in `--help`),
/// copies piped inputs aside, resolves the run config (an error exits 2, an unreadable input
/// 1), then trains it with `train` and prints the scores with `show` ([`run_training`]).
pub fn train_command<A: TrainerArgs, R>(
    name: &str,
    adjust: fn(clap::Command) -> clap::Command,
    train: impl FnOnce(&A::Config, &backend::Device) -> Result<R, RunError>,
    show: impl FnOnce(&R) -> &TrainingSummary,
) -> ExitCode {
    crate::startup::prepare_process();
    warn_former_names(name);
    let crate::config_file::Parsed { mut args, origin } = crate::config_file::parse_with_config::<A>(adjust);
    let mut spool = crate::spool::Spool::default();
    let (train_file, valid, test) = args.data_files();
    if let Err(e) = spool.training_inputs(train_file, valid, test) {
        note!("error: {e}");
        return ExitCode::FAILURE;
    }
    let config = match args.run_config() {
        Ok(config) => config,
        Err(e) => {
            note!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (training, artifacts) = A::learner(&config);
    run_training(training, artifacts, &origin, |device| train(&config, device), show)
}

/// The body of a training command once its run is configured: prints the backend, trains on the
/// device of the first `--devices` index with `train`, then prints the scores (`show`, which
/// returns the report's training summary) and the summary; an error is explained in the terms
/// of the command line or config file. SIGINT and SIGTERM stop the run cleanly (see
/// [`seqlab_training::interrupt`]); the exit status is then 128 + the signal, as a shell expects.
pub fn run_training<R>(
    training: &TrainingConfig,
    artifacts: &Path,
    origin: &crate::config_file::Origin,
    train: impl FnOnce(&backend::Device) -> Result<R, RunError>,
    show: impl FnOnce(&R) -> &TrainingSummary,
) -> ExitCode {
    if let Err(e) = seqlab_training::interrupt::install() {
        note!("warning: SIGINT and SIGTERM will end the run at once: {e}");
    }
    let device = backend::device(training.devices.first().copied());
    say!("backend: {} ({device:?})", backend::name());
    let status = match train(&device) {
        Ok(report) => {
            print_summary(show(&report), training, artifacts);
            if let Some(lost) = seqlab_training::console::stdout_lost() {
                note!(
                    "standard output: {} (from then on, nothing more was written there); the run went on to \
                     its end: its results are in {}",
                    lost.message,
                    artifacts.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            note!("error: {}", origin.explain(&e));
            ExitCode::FAILURE
        }
    };
    match seqlab_training::interrupt::received() {
        Some(signal) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)),
        None => status,
    }
}

/// The exit status of a command whose standard output is its result, once it has done its
/// work: success, unless that output was lost on the way ([`seqlab_training::console::Lost::exit`]:
/// 141 and no word for a reader that went away, as `cat` ends; an error line and 1 otherwise).
pub fn output_status() -> ExitCode {
    match seqlab_training::console::stdout_lost() {
        None => ExitCode::SUCCESS,
        Some(lost) => {
            let (status, line) = lost.exit();
            if let Some(line) = line {
                note!("{line}");
            }
            ExitCode::from(status)
        }
    }
}

/// The closing lines of a training command: an early stop, the epochs and the kept one.
pub fn print_summary(summary: &TrainingSummary, config: &TrainingConfig, artifacts: &Path) {
    if let Some(why) = &summary.stopped {
        say!("stopped early: {why}");
    }
    say!("{}", summary_line(summary, config, artifacts));
}

/// `trained N epochs in S s; kept epoch K (…); artifacts in DIR`.
pub fn summary_line(summary: &TrainingSummary, config: &TrainingConfig, artifacts: &Path) -> String {
    format!(
        "trained {} epoch{} in {:.1} s; kept epoch {} (best on the validation split by --select {}); artifacts in {}",
        summary.epochs_completed,
        if summary.epochs_completed == 1 { "" } else { "s" },
        summary.train_seconds,
        summary.best_epoch,
        <&str>::from(config.select),
        artifacts.display()
    )
}

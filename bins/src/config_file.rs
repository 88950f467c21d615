//! `--config FILE`: a TOML (or JSON) table of a command's options, keys spelt as the long
//! options; the command line overrides it, and every value goes through the option's own parser,
//! so an error names the file and the key.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::Parser;
use seqlab_training::error::RunError;

/// A parsed command line, and which options came from `--config FILE`.
#[derive(Debug)]
pub struct Parsed<A> {
    /// The options.
    pub args: A,
    /// Where they came from.
    pub origin: Origin,
}

/// The config file and the options (by id) it supplied, with its keys.
#[derive(Debug, Default)]
pub struct Origin {
    config: Option<(PathBuf, Vec<(String, String)>)>,
}

impl Origin {
    /// An error for the user: an option outside its range is named as it was given (the
    /// config file and key when it came from `--config`).
    pub fn explain(&self, error: &RunError) -> String {
        if let (RunError::Invalid { option, message }, Some((path, keys))) = (error, &self.config) {
            let id = option.replace('-', "_");
            if let Some((key, _)) = keys.iter().find(|(_, i)| *i == id) {
                return format!("--config {}: key {key:?} (--{option}): {message}", path.display());
            }
        }
        error.to_string()
    }
}

/// Parses the command line of `A`, filling options it does not give from `--config FILE`
/// (TOML, or JSON when the name ends in `.json`). File values go through the same parsers as
/// command-line ones; an error in one names the file and the key. Exits with a message on
/// errors. `adjust` may change the command before parsing (a training command shows and uses
/// its own recipe's defaults: [`crate::args::training::CommandDefaults::shown_in`]).
pub fn parse_with_config<A: Parser>(adjust: fn(clap::Command) -> clap::Command) -> Parsed<A> {
    parse_from_with_config(std::env::args_os().collect(), adjust)
}

/// [`parse_with_config`] over explicit arguments (`argv[0]` is the program name).
pub fn parse_from_with_config<A: Parser>(argv: Vec<OsString>, adjust: fn(clap::Command) -> clap::Command) -> Parsed<A> {
    let mut command = adjust(A::command());
    command.build();
    let matches = command.clone().get_matches_from(argv.clone());
    let Some(path) = matches.get_one::<PathBuf>("config").cloned() else {
        return Parsed { args: A::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()), origin: Origin::default() };
    };
    let fail = |message: String| -> ! {
        command
            .clone()
            .error(clap::error::ErrorKind::InvalidValue, format!("--config {}: {message}", path.display()))
            .exit()
    };
    let table = read_table(&path).unwrap_or_else(|e| fail(e));
    let (extra, supplied) = file_arguments(&command, &matches, &table).unwrap_or_else(|e| fail(e));
    let mut full = argv;
    full.extend(extra);
    let matches = command.clone().try_get_matches_from(full).unwrap_or_else(|e| {
        // A value from the file that the option's parser refuses: name the key.
        match refused_key(&command, &supplied, &e) {
            Some(message) => fail(message),
            None => e.exit(),
        }
    });
    let args = A::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    Parsed { args, origin: Origin { config: Some((path, supplied)) } }
}

/// The command-line arguments that give `table`'s options (keys as in a config file: long
/// names, `-` or `_`), for callers that hold options as a table (the Python package's keyword
/// arguments). An unknown key is an error naming it.
pub fn table_arguments(
    command: &clap::Command,
    table: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<OsString>, String> {
    let mut command = command.clone();
    command.build();
    let matches = command.clone().try_get_matches_from([command.get_name().to_string()]).map_err(|e| e.to_string())?;
    Ok(file_arguments(&command, &matches, table)?.0)
}

/// A config file's table of options: TOML, or JSON when the name ends in `.json`.
fn read_table(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let table: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    } else {
        let value: toml::Value = toml::from_str(&text).map_err(|e| e.to_string())?;
        serde_json::to_value(value).map_err(|e| e.to_string())?
    };
    match table {
        serde_json::Value::Object(table) if is_run_record(&table) => run_record_options(&table),
        serde_json::Value::Object(table) => Ok(table),
        _ => Err("expected a table of options".into()),
    }
}

type Table = serde_json::Map<String, serde_json::Value>;

/// Whether `table` is a training run's `run.json` (its `data` and `training` sections).
fn is_run_record(table: &Table) -> bool {
    table.get("data").is_some_and(serde_json::Value::is_object)
        && table.get("training").is_some_and(serde_json::Value::is_object)
}

/// A `run.json` as the table of options that gives the same run: its nested settings flattened
/// to the options that set them, enum values spelt as the options spell them (`RnnTanh` →
/// `rnn-tanh`), a held-out validation share as `valid-fraction`. Left out: what no option sets
/// or what says how that run was started rather than what it trains (the data fingerprints,
/// the artifacts folder, `resume`, `overwrite`, `tui`, `devices`, `cluster`).
fn run_record_options(record: &Table) -> Result<Table, String> {
    let mut options = Table::new();
    for (key, value) in record {
        match (key.as_str(), value) {
            ("data" | "artifacts", _) => {}
            ("encoder", serde_json::Value::Object(encoder)) => {
                for (name, value) in encoder {
                    match name.as_str() {
                        "kind" => put(&mut options, "encoder", value),
                        // --dropout sets it with the top-level dropout.
                        "dropout" => {}
                        "forget_bias" if value.is_null() => {}
                        "forget_bias" => return Err("encoder.forget_bias: no option sets it".into()),
                        _ => put(&mut options, name, value),
                    }
                }
            }
            ("training", serde_json::Value::Object(training)) => {
                for (name, value) in training {
                    match (name.as_str(), value) {
                        ("resume" | "overwrite" | "tui" | "devices" | "cluster", _) => {}
                        ("optim", serde_json::Value::Object(optim)) => {
                            for (name, value) in optim {
                                match (name.as_str(), value) {
                                    ("learning_rate", _) => put(&mut options, "lr", value),
                                    // No clipping is `--clip-norm 0` (absent is the recipe's).
                                    ("clip_norm", serde_json::Value::Null) => put(&mut options, name, &0.into()),
                                    _ => put(&mut options, name, value),
                                }
                            }
                        }
                        _ => put(&mut options, name, value),
                    }
                }
            }
            ("valid", serde_json::Value::Object(holdout)) => {
                put(&mut options, "valid-fraction", holdout.get("fraction").unwrap_or(&serde_json::Value::Null));
            }
            ("freeze_embeddings", serde_json::Value::Bool(false)) => {}
            _ => put(&mut options, key, value),
        }
    }
    Ok(options)
}

/// The options whose values are names of choices (an enum's), which `run.json` may spell as
/// the type does (`RnnTanh`, `Last`) and the options spell in kebab case (`rnn-tanh`, `last`).
const CHOICES: [&str; 13] = [
    "encoder",
    "pooling",
    "char-encoder",
    "output",
    "loss-mean",
    "select",
    "optimizer",
    "schedule",
    "file-scheme",
    "train-scheme",
    "tokenizer",
    "encoding",
    "format",
];

/// Sets option `name` to `value` (a choice spelt as the options spell it); a null or an empty
/// list (the option's own default) is left out.
fn put(options: &mut Table, name: &str, value: &serde_json::Value) {
    let name = name.replace('_', "-");
    let value = match value {
        serde_json::Value::Null => return,
        serde_json::Value::Array(items) if items.is_empty() => return,
        serde_json::Value::String(text) if CHOICES.contains(&name.as_str()) => {
            let mut kebab = String::new();
            for (i, c) in text.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    kebab.push('-');
                }
                kebab.extend(c.to_lowercase());
            }
            serde_json::Value::String(kebab)
        }
        other => other.clone(),
    };
    options.insert(name, value);
}

/// Which config-file key supplied which option id.
type Supplied = Vec<(String, String)>;

/// The command-line arguments a config table adds (options the command line does not give),
/// and which keys supplied which option ids.
fn file_arguments(
    command: &clap::Command,
    matches: &clap::ArgMatches,
    table: &serde_json::Map<String, serde_json::Value>,
) -> Result<(Vec<OsString>, Supplied), String> {
    let mut extra: Vec<OsString> = Vec::new();
    let mut supplied: Vec<(String, String)> = Vec::new();
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (key, value) in table {
        // A key is an option's long name (or a former name kept as an alias), `-` or `_` alike.
        let long = key.replace('_', "-");
        let named = |a: &&clap::Arg| {
            a.get_long() == Some(long.as_str())
                || a.get_all_aliases().is_some_and(|names| names.contains(&long.as_str()))
        };
        let Some(arg) = command.get_arguments().find(named) else {
            return Err(format!("unknown option {key:?}"));
        };
        let id = arg.get_id().as_str().to_string();
        if id == "config" || matches.value_source(&id) == Some(ValueSource::CommandLine) {
            continue;
        }
        let flag = format!("--{}", arg.get_long().unwrap_or(&id));
        let takes_value = arg.get_num_args().is_none_or(|n| n.takes_values());
        // `--flag=value`, so that a value such as `-1` is not read as an option.
        match value {
            serde_json::Value::Bool(b) if !takes_value => {
                if *b {
                    extra.push(flag.into());
                }
            }
            serde_json::Value::Array(items) => {
                extra.push(format!("{flag}={}", items.iter().map(text).collect::<Vec<_>>().join(",")).into());
            }
            serde_json::Value::Null => {}
            v => extra.push(format!("{flag}={}", text(v)).into()),
        }
        supplied.push((key.clone(), id));
    }
    Ok((extra, supplied))
}

/// The message for a value from the config file that its option's parser refused, naming the
/// key; `None` when the error is about the command line itself.
fn refused_key(command: &clap::Command, supplied: &[(String, String)], e: &clap::Error) -> Option<String> {
    let arg = e.get(clap::error::ContextKind::InvalidArg).map(ToString::to_string).unwrap_or_default();
    let long = |id: &str| {
        command.get_arguments().find(|a| a.get_id().as_str() == id).and_then(|a| a.get_long()).unwrap_or(id).to_string()
    };
    let (key, _) =
        supplied.iter().find(|(_, id)| arg.split([' ', '=']).next() == Some(format!("--{}", long(id)).as_str()))?;
    let value = e.get(clap::error::ContextKind::InvalidValue).map(ToString::to_string).unwrap_or_default();
    let why = e.to_string().lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
    let why = if value.is_empty() { why } else { format!("{why} (value {value:?})") };
    Some(format!("key {key:?}: {why}"))
}

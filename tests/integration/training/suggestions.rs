//! Error messages only suggest options that exist: every `--option` written in a string of
//! the loaders, the learner or the tools, and every option the range checks name, is an option
//! of one of the commands' parsers.

use clap::CommandFactory;
use std::collections::BTreeSet;

/// The long options of the commands (and `--help`, `--version`).
fn known() -> BTreeSet<String> {
    let commands = [
        seqlab_bins::args::train_classifier::Args::command(),
        seqlab_bins::args::train_tagger::Args::command(),
        seqlab_bins::args::evaluate::Args::command(),
        seqlab_bins::args::predict::Args::command(),
        seqlab_bins::args::serve::Args::command(),
        seqlab_bins::args::load_test::Args::command(),
    ];
    let mut names: BTreeSet<String> = ["help", "version"].iter().map(ToString::to_string).collect();
    for command in commands {
        names.extend(command.get_arguments().filter_map(|a| a.get_long()).map(String::from));
    }
    names
}

/// `--name` inside the string literals of `text`'s code lines (comments left out).
fn suggested(text: &str) -> Vec<String> {
    let pattern = |s: &str| -> Vec<String> {
        let mut out = Vec::new();
        let bytes = s.as_bytes();
        let mut i = 0;
        while let Some(at) = s[i..].find("--") {
            let start = i + at + 2;
            let end = start
                + s[start..]
                    .find(|c: char| !(c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()))
                    .unwrap_or(s.len() - start);
            if end > start && bytes[start].is_ascii_lowercase() {
                out.push(s[start..end].trim_end_matches('-').to_string());
            }
            i = end.max(start);
        }
        out
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| l.split('"').skip(1).step_by(2).flat_map(pattern).collect::<Vec<_>>())
        .collect()
}

fn sources(dir: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn every_option_an_error_suggests_exists() {
    let known = known();
    let mut checked = 0;
    for dir in [
        "datasets/src",
        "training/src",
        "bins/src/cli.rs",
        "bins/src/args",
        "bins/src/bin/train-classifier.rs",
        "bins/src/bin/train-tagger.rs",
        "bins/src/bin/evaluate.rs",
        "bins/src/bin/predict.rs",
        "bins/src/serve",
        "bins/src/load",
    ] {
        let files = if dir.ends_with(".rs") {
            vec![(
                dir.to_string(),
                std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap(),
            )]
        } else {
            sources(dir)
        };
        for (path, text) in files {
            for option in suggested(&text) {
                assert!(known.contains(&option), "{path} suggests --{option}, which no command has");
                checked += 1;
            }
        }
    }
    // The range checks name options without dashes: `at_least("hidden", …)`.
    let validate =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("training/src/validate.rs"))
            .unwrap();
    for call in ["at_least(\"", "fraction(\"", "positive(\"", "invalid(\""] {
        for piece in validate.split(call).skip(1) {
            let option = piece.split('"').next().unwrap();
            if option == "option" || option.contains(' ') {
                continue;
            }
            assert!(known.contains(option), "validate.rs names --{option}, which no command has");
            checked += 1;
        }
    }
    assert!(checked > 30, "the scan found the options ({checked})");
}

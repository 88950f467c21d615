//! The commands' vocabulary of options: one name means one thing (the former names still parse,
//! as hidden aliases), booleans take `--flag` or `--flag true|false`, and each trainer's
//! `--help` shows its own recipe's defaults.

use clap::{CommandFactory, FromArgMatches, Parser};
use seqlab_bins::args::training::CommandDefaults;
use seqlab_bins::args::{predict, serve, train_classifier, train_tagger};
use seqlab_bins::cli::{TrainerArgs, RENAMED};
use seqlab_models::heads::EncoderKind;
use seqlab_models::CellKind;

fn tagger(args: &[&str]) -> train_tagger::Args {
    train_tagger::Args::try_parse_from(std::iter::once("train-tagger").chain(args.iter().copied())).unwrap()
}

fn classifier(args: &[&str]) -> train_classifier::Args {
    train_classifier::Args::try_parse_from(std::iter::once("train-classifier").chain(args.iter().copied())).unwrap()
}

#[test]
fn renamed_options_take_their_former_names_too() {
    assert_eq!(RENAMED, [("model", "encoder"), ("batch-size", "window"), ("max-tokens", "max-text-tokens")]);
    let gru = EncoderKind::Recurrent(CellKind::Gru);
    assert_eq!(tagger(&["--encoder", "gru"]).encoder, gru);
    assert_eq!(tagger(&["--model", "gru"]).encoder, gru);
    assert_eq!(classifier(&["--model=gru"]).encoder, gru);
    let p = predict::Args::try_parse_from(["predict", "--artifacts", "a", "--batch-size", "7"]).unwrap();
    assert_eq!(p.window, 7);
    let s = serve::Args::try_parse_from(["serve", "--artifacts", "a", "--max-tokens", "9"]).unwrap();
    assert_eq!(s.max_text_tokens, 9);
    // The former names are not shown.
    let help = train_tagger::Args::command().render_long_help().to_string();
    assert!(help.contains("--encoder") && !help.contains("--model"), "{help}");
}

#[test]
fn booleans_take_a_switch_or_a_value_in_every_trainer() {
    assert!(tagger(&[]).bidirectional, "the tagger's default");
    assert!(!tagger(&["--bidirectional", "false"]).bidirectional);
    assert!(tagger(&["--bidirectional"]).bidirectional);
    assert!(!classifier(&[]).bidirectional, "the classifier's default");
    assert!(classifier(&["--bidirectional"]).bidirectional);
    assert!(classifier(&["--bidirectional", "true"]).bidirectional);
    assert!(!classifier(&["--bidirectional=false"]).bidirectional);
    assert_eq!(classifier(&["--lowercase"]).lowercase, Some(true));
    assert_eq!(classifier(&["--lowercase", "false"]).lowercase, Some(false));
    assert!(!tagger(&["--lowercase", "false"]).lowercase);
    assert!(tagger(&["--drop-vector-words"]).drop_vector_words);
}

/// The help text of `--name`'s entry.
fn entry(help: &str, name: &str) -> String {
    let start = help.find(&format!("      --{name} ")).unwrap_or_else(|| panic!("no --{name} in {help}"));
    let rest = &help[start + 8..];
    let end = rest.find("\n      --").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn each_trainers_help_shows_its_own_recipe() {
    let help =
        |command: clap::Command, recipe: &CommandDefaults| recipe.shown_in(command).render_long_help().to_string();
    let t = help(train_tagger::Args::command(), &train_tagger::RECIPE);
    let c = help(train_classifier::Args::command(), &train_classifier::RECIPE);
    assert!(entry(&t, "epochs").contains("[default: 15]"), "{}", entry(&t, "epochs"));
    assert!(entry(&c, "epochs").contains("[default: 8]"), "{}", entry(&c, "epochs"));
    assert!(entry(&t, "adam-epsilon").contains("[default: 1e-8]"), "{}", entry(&t, "adam-epsilon"));
    assert!(entry(&c, "adam-epsilon").contains("[default: 1e-5]"), "{}", entry(&c, "adam-epsilon"));
    assert!(entry(&t, "clip-norm").contains("[default: 5]"), "{}", entry(&t, "clip-norm"));
    assert!(!entry(&c, "clip-norm").contains("[default"), "{}", entry(&c, "clip-norm"));
    assert!(!t.contains("train-classifier") && !c.contains("for train-tagger"), "no help quotes the other's defaults");
    // The defaults shown are the ones used.
    let parsed = train_tagger::Args::from_arg_matches(
        &train_tagger::RECIPE.shown_in(train_tagger::Args::command()).get_matches_from(["train-tagger"]),
    )
    .unwrap();
    let config = parsed.training.to_config(&train_tagger::RECIPE).unwrap();
    assert_eq!((config.epochs, config.optim.adam_epsilon, config.optim.clip_norm), (15, 1e-8, Some(5.0)));
}

#[test]
fn a_taggers_record_fields_and_tag_names_as_a_dataset_card_gives_them() {
    let names = |v: &str| seqlab_bins::args::training::tag_names(Some(v)).unwrap().unwrap();
    assert_eq!(names(r#"["O", "B-PER", "I-PER"]"#), ["O", "B-PER", "I-PER"]);
    assert_eq!(names("O,B-PER,I-PER"), ["O", "B-PER", "I-PER"]);
    let dir = crate::common::scratch("record-fields");
    let card = dir.join("names.json");
    std::fs::write(&card, r#"["O","B-LOC"]"#).unwrap();
    assert_eq!(names(card.to_str().unwrap()), ["O", "B-LOC"]);
    let err = seqlab_bins::args::training::tag_names(Some("[\"O\", 3]")).unwrap_err();
    assert!(err.contains("not a JSON list of names"), "{err}");
    // Records whose fields are not called tokens and ner_tags.
    let path = dir.join("hub.jsonl");
    std::fs::write(&path, "{\"words\": [\"Anna\", \"left\"], \"labels\": [1, 0]}\n").unwrap();
    let path = path.to_str().unwrap();
    let args = tagger(&["--train", path, "--valid", path, "--tokens-column", "words", "--tags-column", "labels"]);
    let config = train_tagger::Args { tag_names: Some("[\"O\",\"B-PER\"]".into()), ..args }.run_config().unwrap();
    let file = seqlab_datasets::read_tagged_any(path, &config.read_options()).unwrap();
    assert_eq!(
        (file.sentences[0].tokens.clone(), file.sentences[0].tags.clone()),
        (vec!["Anna".to_string(), "left".into()], vec!["B-PER".to_string(), "O".into()])
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `run.json` without what no option sets or what says how the run was started.
fn comparable(mut run: serde_json::Value) -> serde_json::Value {
    let o = run.as_object_mut().unwrap();
    o.remove("data");
    o.remove("artifacts");
    let training = o.get_mut("training").unwrap().as_object_mut().unwrap();
    for volatile in ["resume", "overwrite", "tui", "devices", "cluster"] {
        training.remove(volatile);
    }
    run
}

#[test]
fn a_run_json_given_back_as_config_gives_the_same_run() {
    use seqlab_bins::config_file::parse_from_with_config;
    use seqlab_training::backend;
    let dir = crate::common::scratch("run-json-config");
    let read = |path: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let argv = |run: &std::path::Path, out: &str| -> Vec<std::ffi::OsString> {
        vec!["x".into(), "--config".into(), run.into(), "--artifacts".into(), dir.join(out).into()]
    };
    // A tagger as the command line makes it (its encoder's dropout is --dropout; no clipping).
    let base = super::tagger::tiny_tagger(&dir.join("tagger"));
    let mut optim = base.training.optim.clone();
    optim.clip_norm = None;
    let tagger = seqlab_training::tagger::TaggerRunConfig {
        tokenizer: Some(seqlab_datasets::text::Tokenizer::Words),
        encoder: base.encoder.clone().with_dropout(base.dropout).with_kind(EncoderKind::Recurrent(CellKind::RnnTanh)),
        training: seqlab_training::learner::TrainingConfig { optim, ..base.training.clone() },
        ..base
    };
    backend::train_tagger(&tagger, &Default::default()).unwrap();
    let run = dir.join("tagger").join("run.json");
    let again =
        parse_from_with_config::<train_tagger::Args>(argv(&run, "tagger-2"), |c| train_tagger::RECIPE.shown_in(c))
            .args
            .run_config()
            .unwrap();
    assert_eq!(again.artifacts, dir.join("tagger-2"));
    assert_eq!(comparable(serde_json::to_value(&again).unwrap()), comparable(read(&run)));
    // A classifier, validated on a share held out of its training file.
    let base = super::classifier::tiny_classifier(&dir.join("classifier"));
    let classifier = seqlab_training::classifier::ClassifierRunConfig {
        valid: seqlab_datasets::Validation::HeldOut(seqlab_datasets::Holdout {
            fraction: 0.2,
            seed: base.training.seed,
        }),
        encoder: base.encoder.clone().with_dropout(base.dropout),
        ..base
    };
    backend::train_classifier(&classifier, &Default::default()).unwrap();
    let run = dir.join("classifier").join("run.json");
    let again = parse_from_with_config::<train_classifier::Args>(argv(&run, "classifier-2"), |c| {
        train_classifier::RECIPE.shown_in(c)
    })
    .args
    .run_config()
    .unwrap();
    assert_eq!(comparable(serde_json::to_value(&again).unwrap()), comparable(read(&run)));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_closing_lines_say_what_happened_in_plain_words() {
    let summary = seqlab_training::learner::TrainingSummary {
        train_seconds: 12.34,
        best_epoch: 1,
        epochs_completed: 1,
        stopped: None,
    };
    let config = seqlab_training::learner::TrainingConfig::default();
    let line = seqlab_bins::cli::summary_line(&summary, &config, std::path::Path::new("runs/a"));
    assert_eq!(
        line,
        "trained 1 epoch in 12.3 s; kept epoch 1 (best on the validation split by --select auto); artifacts in runs/a"
    );
    let two = seqlab_training::learner::TrainingSummary { epochs_completed: 2, ..summary };
    assert!(seqlab_bins::cli::summary_line(&two, &config, std::path::Path::new("a")).starts_with("trained 2 epochs"));
    // serve announces the address it got, not port 0.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (_listener, bound) = runtime.block_on(seqlab_bins::serve::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    assert!(bound.ip().is_loopback() && bound.port() != 0, "{bound}");
}

#[test]
fn every_size_option_is_bounded_and_refused_by_name() {
    let serve = |args: &[&str]| {
        serve::Args::try_parse_from(["serve", "--artifacts", "a"].iter().copied().chain(args.iter().copied()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    for (option, value) in [
        ("--queue", "0"),
        ("--queue", "1000000000"),
        ("--queue", "18446744073709551615"),
        ("--workers", "0"),
        ("--workers", "100000"),
        ("--max-batch", "0"),
        ("--max-texts", "0"),
        ("--max-text-tokens", "0"),
        ("--max-body", "0"),
        ("--timeout-ms", "0"),
        ("--body-timeout-ms", "0"),
        ("--header-timeout-ms", "0"),
    ] {
        let err = serve(&[option, value]).unwrap_err();
        assert!(err.contains(option) && err.contains(value), "{option} {value}: {err}");
    }
    assert_eq!(serve(&["--queue", "512", "--workers", "2"]), Ok(()));
    let predict = |args: &[&str]| {
        predict::Args::try_parse_from(["predict", "--artifacts", "a"].iter().copied().chain(args.iter().copied()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    for (option, value) in [("--window", "0"), ("--nbest", "10000000")] {
        let err = predict(&[option, value]).unwrap_err();
        assert!(err.contains(option) && err.contains(value), "{option} {value}: {err}");
    }
}

#[test]
fn serve_refuses_model_names_and_tokens_no_client_can_use() {
    let parse = |args: &[&str]| serve::Args::try_parse_from(["serve"].iter().copied().chain(args.iter().copied()));
    for name in ["..", ".", "a b", "é"] {
        let err = parse(&["--model", &format!("{name}=dir")]).unwrap_err().to_string();
        assert!(err.contains(&format!("model name {name:?}")), "{name}: {err}");
    }
    assert!(parse(&["--model", "v1.2=dir"]).is_ok());
    let dir = crate::common::scratch("serve-tokens");
    for (file, token, shown) in
        [("nbsp", "s3cr\u{e9}t", "'é'"), ("inner", "two\nlines", "'\\n'"), ("bell", "a\u{7}b", "'\\u{7}'")]
    {
        let path = dir.join(file);
        std::fs::write(&path, token).unwrap();
        let args = parse(&["--artifacts", "a", "--token-file", path.to_str().unwrap()]).unwrap();
        let err = args.settings().unwrap_err();
        assert!(err.starts_with(&format!("--token-file {}: the token holds {shown}", path.display())), "{err}");
    }
    let path = dir.join("fine");
    std::fs::write(&path, "  s3cret-T0ken\n").unwrap();
    let args = parse(&["--artifacts", "a", "--token-file", path.to_str().unwrap()]).unwrap();
    assert_eq!(args.settings().unwrap().token.as_deref(), Some("s3cret-T0ken"));
}

/// The former engine's options name the way to start a job now; a launcher's job size is read
/// from the variables mpirun, Hydra and srun set.
#[test]
fn the_former_cluster_options_are_refused_and_the_launcher_is_recognised() {
    for option in ["--nodes", "--rank", "--coordinator", "--node-address"] {
        let error = tagger(&[option, "2"]).run_config().unwrap_err();
        assert!(error.starts_with(&format!("{option}: training across processes is started by MPI now")), "{error}");
        assert!(error.contains("mpirun -np 2 train-tagger"), "{error}");
    }
    use seqlab_training::cluster::launched_size;
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_string())
    };
    assert_eq!(launched_size(env(&[])), None);
    assert_eq!(launched_size(env(&[("OMPI_COMM_WORLD_SIZE", "3")])), Some((3, "OMPI_COMM_WORLD_SIZE")));
    assert_eq!(launched_size(env(&[("PMI_SIZE", "2")])), Some((2, "PMI_SIZE")));
    // Slurm's task count counts only inside a job step (srun), not in the batch script.
    assert_eq!(launched_size(env(&[("SLURM_NTASKS", "4")])), None);
    assert_eq!(launched_size(env(&[("SLURM_NTASKS", "4"), ("SLURM_STEP_ID", "0")])), Some((4, "SLURM_NTASKS")));
}

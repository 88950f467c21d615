//! `dataset-stats`: what is in a sentiment or NER file — examples, tokens, label or tag
//! distribution, length percentiles, duplicates, invalid tag transitions per scheme, and the
//! OOV rate against a training file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::training::tag_names;
use seqlab_bins::cli::by_name;
use seqlab_datasets::ner::conll::write_conll;
use seqlab_datasets::stats::{CorpusStats, StatsBuilder};
use seqlab_datasets::text::{Encoding, TokenCounts, Vocab, VocabConfig};
use seqlab_datasets::{stream_corpus, Corpus, DataError, Format, ReadOptions};
use seqlab_training::error::RunError;
use seqlab_training::{note, say};
use seqlab_training::{OutputFile, Protected};

/// Statistics of a corpus file (or IMDB-style folder).
#[derive(Parser, Debug)]
#[command(name = "dataset-stats", version)]
struct Args {
    /// The file, the folder for the imdb format, or an embedded corpus:
    /// embedded:sentiment/{train,valid,test} or embedded:ner/{train,valid,test}.
    path: PathBuf,
    /// Format: glue, tsv, csv, jsonl, imdb, conll or parquet [default: inferred from the file; the
    /// inference is printed].
    #[arg(long, value_parser = by_name::<Format>("format"))]
    format: Option<Format>,
    /// Text encoding: utf8, latin1 or windows-1252.
    #[arg(long, default_value = "utf8", value_parser = by_name::<Encoding>("encoding"))]
    encoding: Encoding,
    /// CoNLL: 0-based column of the tag [default: the last].
    #[arg(long)]
    tag_column: Option<usize>,
    /// CSV/TSV: text column (name or 0-based index); JSON Lines, Parquet: text field (tagged records: the token list) [default: a column
    /// named sentence/text/review/content, else the first; JSON field `text`].
    #[arg(long)]
    text_column: Option<String>,
    /// CSV/TSV: label column (name or index); JSON Lines, Parquet: label field (tagged records: the tag list) [default: a column named
    /// label/sentiment/class/polarity, else the last; JSON field `label`].
    #[arg(long)]
    label_column: Option<String>,
    /// Tagged records (.jsonl, .parquet) whose tags are ids: the tag names in id order,
    /// comma-separated, a JSON list (as a dataset card shows it), or a file of either.
    #[arg(long, value_name = "NAMES|FILE")]
    tag_names: Option<String>,
    /// A training file (same format options) whose vocabulary gives the OOV rate.
    #[arg(long)]
    vocab_from: Option<PathBuf>,
    /// Also write the examples as read to FILE: GLUE TSV (sentence, label) for labelled texts,
    /// two-column CoNLL for tagged sentences. Exports the embedded corpora, for instance. FILE
    /// is replaced only once everything is written, and never when it is an input.
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
    /// Print JSON (keys: format, examples, tokens, labels, lengths, duplicates, skipped, and
    /// for CoNLL documents, entities, invalid_transitions; oov with --vocab-from).
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    seqlab_training::console::write_directly();
    seqlab_bins::malloc::bound_threads();
    if let Err(e) = seqlab_training::remove_partial_on_signal() {
        note!("warning: cannot handle signals ({e}): a kill may leave a --write file's .partial behind");
    }
    let mut args = Args::parse();
    let mut spool = seqlab_bins::spool::Spool::default();
    match spool.readable_again("PATH", args.path.display().to_string()) {
        Ok(path) => args.path = path.into(),
        Err(e) => {
            note!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    match run(&args) {
        Ok(()) => seqlab_bins::cli::output_status(),
        Err(e) => {
            note!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let options = ReadOptions {
        format: args.format,
        encoding: args.encoding,
        tag_column: args.tag_column,
        text_column: args.text_column.clone(),
        label_column: args.label_column.clone(),
        tag_names: tag_names(args.tag_names.as_deref()).map_err(|e| DataError::file("--tag-names", e))?,
    };
    // The file is read part by part; only the statistics' counts are kept.
    let mut builder = StatsBuilder::default();
    let mut copy = args.write.as_deref().map(|path| Copy::create(path, args)).transpose()?;
    let streamed = stream_corpus(
        &args.path,
        &options,
        |_, corpus| Ok(corpus),
        |corpus| {
            match &corpus {
                Corpus::Sentiment { file, tokens } => builder.add_sentiment(file, tokens),
                Corpus::Tagged(file) => builder.add_conll(file),
            }
            copy.as_mut().map_or(Ok(()), |c| c.write(&corpus))
        },
    )?;
    if let Some(why) = &streamed.inferred {
        note!("format: {} (inferred: {why})", streamed.format.name());
    }
    let vocab = match &args.vocab_from {
        Some(train) => {
            let mut counts = TokenCounts::default();
            // The vocabulary's file is read in its own format (inferred unless --format says).
            let train_options = options.clone();
            let tokens =
                |_, corpus: Corpus| Ok(TokenCounts::of(corpus.token_lists().into_iter().flatten().map(String::as_str)));
            stream_corpus(train, &train_options, tokens, |part| {
                counts.merge(part);
                Ok(())
            })?;
            Some(Vocab::from_counts(&counts, &VocabConfig::default()))
        }
        None => None,
    };
    let stats = CorpusStats { format: streamed.format.name().into(), ..builder.finish(vocab.as_ref()) };
    if let (Some(copy), Some(out)) = (copy, &args.write) {
        copy.finish()?;
        note!("wrote {}", out.display());
    }
    let report = if args.json {
        serde_json::to_string_pretty(&stats).expect("stats serialise") + "\n"
    } else {
        text_report(&args.path, &stats)
    };
    say!("{}", report.trim_end());
    Ok(())
}

/// `--write`: the examples as read, GLUE TSV for labelled texts, two-column CoNLL for tagged
/// sentences, written part by part into an [`OutputFile`] (in place only once all is written;
/// never over the command's inputs).
struct Copy {
    out: OutputFile,
    started: bool,
}

impl Copy {
    fn create(path: &Path, args: &Args) -> Result<Self, RunError> {
        let inputs = std::iter::once(Protected { role: "the input", path: args.path.clone() })
            .chain(args.vocab_from.iter().map(|p| Protected { role: "the --vocab-from file", path: p.clone() }));
        Ok(Self { out: OutputFile::create("write", path, &inputs.collect::<Vec<_>>())?, started: false })
    }

    fn write(&mut self, corpus: &Corpus) -> Result<(), DataError> {
        let mut text = String::new();
        match corpus {
            Corpus::Sentiment { file, .. } => {
                if !self.started {
                    text.push_str("sentence\tlabel\n");
                }
                for e in &file.examples {
                    text.push_str(&format!("{}\t{}\n", e.text.replace(['\t', '\n'], " "), e.label));
                }
            }
            Corpus::Tagged(file) => {
                text = write_conll(file.sentences.iter().map(|s| (s.tokens.as_slice(), s.tags.as_slice())));
            }
        }
        self.started = true;
        self.out.write_all(text.as_bytes()).map_err(|e| DataError::file("--write", e.to_string()))
    }

    fn finish(self) -> Result<(), RunError> {
        self.out.finish()
    }
}

fn text_report(path: &Path, s: &CorpusStats) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    writeln!(out, "{} ({})", path.display(), s.format).unwrap();
    if let Some(d) = s.documents {
        writeln!(out, "  documents     {d}").unwrap();
    }
    writeln!(out, "  examples      {}", s.examples).unwrap();
    writeln!(out, "  tokens        {}", s.tokens).unwrap();
    let l = &s.lengths;
    writeln!(out, "  length        p50 {}  p90 {}  p99 {}  max {}  mean {:.1}", l.p50, l.p90, l.p99, l.max, l.mean)
        .unwrap();
    writeln!(out, "  duplicates    {} (examples whose tokens occurred earlier)", s.duplicates).unwrap();
    let total: usize = s.labels.values().sum();
    writeln!(out, "  {}", if s.entities.is_some() { "tags" } else { "labels" }).unwrap();
    let mut labels: Vec<_> = s.labels.iter().collect();
    labels.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (name, n) in labels {
        writeln!(out, "    {name:<12} {n:>8}  {:5.1}%", 100.0 * *n as f64 / total.max(1) as f64).unwrap();
    }
    if let Some(entities) = &s.entities {
        writeln!(
            out,
            "  entities      {}",
            entities.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        )
        .unwrap();
    }
    if let Some(invalid) = &s.invalid_transitions {
        writeln!(
            out,
            "  invalid tags/transitions by scheme: {}",
            invalid.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        )
        .unwrap();
    }
    for (reason, n) in &s.skipped {
        writeln!(out, "  skipped       {n} {reason}").unwrap();
    }
    if let Some(o) = &s.oov {
        writeln!(
            out,
            "  OOV           {:.2}% of tokens ({}), {:.2}% of types ({}), vocabulary of {}",
            100.0 * o.oov_rate,
            o.oov_tokens,
            100.0 * o.oov_type_rate,
            o.oov_types,
            o.vocab_size
        )
        .unwrap();
    }
    out
}

//! `predict`: labels (with probabilities) or tags and entity spans for new text, from a saved
//! model's artifacts folder.
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::predict::Args;
use seqlab_training::backend;
use seqlab_training::inference::Loaded;

/// The non-blank lines of stdin, decoded strictly.
fn stdin_lines(encoding: seqlab_datasets::text::Encoding) -> Result<Vec<String>, String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map_err(|e| format!("stdin: {e}"))?;
    let mut lines = Vec::new();
    for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let text = seqlab_datasets::text::decode(line, encoding).map_err(|offset| {
            format!("stdin:{}: invalid UTF-8 at byte {} of the line (byte 0x{:02x}); for legacy text use --encoding latin1 or windows-1252", number + 1, offset + 1, line[offset])
        })?;
        let text = text.trim_end_matches('\r');
        if !text.trim().is_empty() {
            lines.push(text.to_string());
        }
    }
    Ok(lines)
}

/// What `predict` prints for `texts`: one line per text (JSON with `--json`).
fn predictions(
    args: &Args,
    loaded: &Loaded<backend::Inner>,
    texts: &[String],
    device: &backend::Device,
) -> Result<String, String> {
    let mut out = String::new();
    match loaded {
        Loaded::Classifier(c) => {
            for p in backend::predict_labels(c, texts, device).map_err(|e| e.to_string())? {
                if args.json {
                    out += &format!("{}\n", serde_json::to_string(&p).unwrap());
                } else {
                    let probs: Vec<String> = p.probabilities.iter().map(|(l, v)| format!("{l} {v:.3}")).collect();
                    out += &format!("{}\t({})\t{}\n", p.label, probs.join(", "), p.tokens.join(" "));
                }
            }
        }
        Loaded::Tagger(t) => {
            for p in backend::predict_tags(t, texts, args.nbest, device).map_err(|e| e.to_string())? {
                if args.json {
                    out += &format!("{}\n", serde_json::to_string(&p).unwrap());
                    continue;
                }
                let tagged: Vec<String> = p.tokens.iter().zip(&p.tags).map(|(w, t)| format!("{w}/{t}")).collect();
                let entities: Vec<String> =
                    p.entities.iter().map(|e| format!("{} [{} {:.3}]", e.text, e.span.label, e.confidence)).collect();
                out += &format!(
                    "{}\n  entities: {}\n",
                    tagged.join(" "),
                    if entities.is_empty() { "none".into() } else { entities.join("; ") }
                );
                for (rank, a) in p.alternatives.iter().enumerate() {
                    out +=
                        &format!("  #{} p={:.4} score={:.3}: {}\n", rank + 1, a.probability, a.score, a.tags.join(" "));
                }
            }
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    seqlab_bins::malloc::tune_for_tensors();
    let args = Args::parse();
    let device = backend::Device::default();
    let run = || -> Result<Option<String>, String> {
        let loaded = backend::load(&args.artifacts, &device).map_err(|e| e.to_string())?;
        let texts = if args.texts.is_empty() { stdin_lines(args.encoding)? } else { args.texts.clone() };
        if texts.is_empty() {
            return Ok(None);
        }
        predictions(&args, &loaded, &texts, &device).map(Some)
    };
    match run() {
        Ok(Some(out)) => {
            // A closed pipe (`| head`) ends the output quietly.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("no text to predict (give texts as arguments, or lines on stdin)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

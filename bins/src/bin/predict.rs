//! `predict`: labels (with probabilities) or tags and entity spans for new text, from a saved
//! model's artifacts folder.
#![recursion_limit = "256"]

use std::process::ExitCode;

use seqlab_bins::args::predict::Args;
use clap::Parser;
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

fn main() -> ExitCode {
    seqlab_bins::malloc::tune_for_tensors();
    let args = Args::parse();
    let device = backend::Device::default();
    let loaded = match backend::load(&args.artifacts, &device) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let texts: Vec<String> = if args.texts.is_empty() {
        match stdin_lines(args.encoding) {
            Ok(lines) => lines,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        args.texts
    };
    if texts.is_empty() {
        eprintln!("no text to predict (give texts as arguments, or lines on stdin)");
        return ExitCode::SUCCESS;
    }
    let mut out = String::new();
    match &loaded {
        Loaded::Classifier(c) => {
            let predictions = match backend::predict_labels(c, &texts, &device) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            for p in predictions {
                if args.json {
                    out += &format!("{}\n", serde_json::to_string(&p).unwrap());
                } else {
                    let probs: Vec<String> = p.probabilities.iter().map(|(l, v)| format!("{l} {v:.3}")).collect();
                    out += &format!("{}\t({})\t{}\n", p.label, probs.join(", "), p.tokens.join(" "));
                }
            }
        }
        Loaded::Tagger(t) => {
            let predictions = match backend::predict_tags(t, &texts, args.nbest, &device) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            for p in predictions {
                if args.json {
                    out += &format!("{}\n", serde_json::to_string(&p).unwrap());
                    continue;
                }
                let tagged: Vec<String> = p.tokens.iter().zip(&p.tags).map(|(w, t)| format!("{w}/{t}")).collect();
                let entities: Vec<String> = p.entities.iter().map(|e| format!("{} [{} {:.3}]", e.text, e.span.label, e.confidence)).collect();
                out += &format!("{}\n  entities: {}\n", tagged.join(" "), if entities.is_empty() { "none".into() } else { entities.join("; ") });
                for (rank, a) in p.alternatives.iter().enumerate() {
                    out += &format!("  #{} p={:.4} score={:.3}: {}\n", rank + 1, a.probability, a.score, a.tags.join(" "));
                }
            }
        }
    }
    // A closed pipe (`| head`) ends the output quietly.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    ExitCode::SUCCESS
}

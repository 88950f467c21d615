//! `predict` that streams: input read line by line on a thread of its own, predicted in
//! windows of at most `window` texts (sorted by length into batches inside the model call,
//! answers written back in input order; the first window at most [`FIRST_WINDOW`]), each window
//! written and flushed as soon as it is done.
//! A window also closes when no input has come for [`PAUSE`], so input that pauses
//! (`tail -f | predict`) is answered at once. Memory holds one window, whatever the input's size.
//!
//! Input is raw text (one text per line; blank lines skipped) or, for taggers, CoNLL
//! ([`InputFormat::Conll`]: one token per line in the first column, blank lines between
//! sentences, other columns kept), which comes back with the predicted tag appended as the last
//! column. A line that cannot be decoded is an error naming it, after every answer before it has
//! been written.

use std::io::{BufRead, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use seqlab_datasets::text::{decode, Encoding};
use seqlab_training::backend::{self, Device, Inner};
use seqlab_training::inference::{LabelPrediction, Loaded, TagPrediction};

/// How long a window waits for more input before it is predicted.
pub const PAUSE: Duration = Duration::from_millis(50);

/// Texts in the first window at most.
pub const FIRST_WINDOW: usize = 256;

/// What the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, strum::EnumString, strum::VariantNames)]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum InputFormat {
    /// One raw text per line.
    #[default]
    Text,
    /// A CoNLL file (taggers): one token per line, blank lines between sentences.
    Conll,
}

/// How [`stream`] answers.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Texts (sentences) per window.
    pub window: usize,
    /// One JSON object per text instead of the text format.
    pub json: bool,
    /// A CRF tagger's n best taggings per sentence.
    pub nbest: usize,
    /// The input's format.
    pub format: InputFormat,
    /// How the input's bytes are decoded.
    pub encoding: Encoding,
}

/// What [`stream`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streamed {
    /// Texts (sentences) answered.
    pub texts: usize,
    /// Lines read.
    pub lines: usize,
}

/// One unit of input: a text, or a CoNLL sentence (its lines and their first columns).
#[derive(Debug, Clone)]
enum Unit {
    Text(String),
    Sentence {
        lines: Vec<String>,
        tokens: Vec<String>,
    },
    /// Lines a CoNLL file keeps as they are (blank lines, `-DOCSTART-`), written in place.
    Verbatim(String),
}

/// What the reader thread sends: units, or the error that ends the input.
type Read = Result<Unit, String>;

/// Answers the input from `input` on `out`, window by window; `progress` reports counts.
pub fn stream(
    loaded: &Loaded<Inner>,
    input: impl BufRead + Send + 'static,
    out: &mut impl Write,
    options: &StreamOptions,
    device: &Device,
    mut progress: impl FnMut(&Streamed),
) -> Result<Streamed, String> {
    check_options(loaded, options)?;
    let (send, units) = std::sync::mpsc::sync_channel::<Read>(options.window.max(1) * 2);
    let (format, encoding) = (options.format, options.encoding);
    let reader = std::thread::spawn(move || read_units(input, format, encoding, |unit| send.send(unit).is_ok()));
    let mut done = Streamed::default();
    let mut failure = None;
    loop {
        // The first window is small, so that the first answers come at once.
        let size = if done.texts == 0 { options.window.min(FIRST_WINDOW) } else { options.window };
        let (window, end) = next_window(&units, size.max(1));
        answer(loaded, &window, out, options, device)?;
        out.flush().map_err(|e| format!("output: {e}"))?;
        done.texts += window.iter().filter(|u| !matches!(u, Unit::Verbatim(_))).count();
        progress(&done);
        match end {
            WindowEnd::More => {}
            WindowEnd::Input => break,
            WindowEnd::Error(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(units);
    done.lines = reader.join().map_err(|_| "the input reader failed".to_string())?;
    failure.map_or(Ok(done), Err)
}

/// Why a window ended.
enum WindowEnd {
    /// It is full, or the input paused: more may come.
    More,
    /// The input ended.
    Input,
    /// A line could not be read.
    Error(String),
}

/// The next window: up to `size` units (verbatim lines ride along), closed early when the input
/// pauses for [`PAUSE`] with something pending.
fn next_window(units: &Receiver<Read>, size: usize) -> (Vec<Unit>, WindowEnd) {
    let mut window = Vec::new();
    let mut texts = 0;
    while texts < size {
        let unit = if window.is_empty() {
            units.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            units.recv_timeout(PAUSE)
        };
        match unit {
            Ok(Ok(unit)) => {
                texts += usize::from(!matches!(unit, Unit::Verbatim(_)));
                window.push(unit);
            }
            Ok(Err(e)) => return (window, WindowEnd::Error(e)),
            Err(RecvTimeoutError::Timeout) => return (window, WindowEnd::More),
            Err(RecvTimeoutError::Disconnected) => return (window, WindowEnd::Input),
        }
    }
    (window, WindowEnd::More)
}

/// Reads `input` into units, handing each to `send` (false: stop); returns the lines read.
fn read_units(
    mut input: impl BufRead,
    format: InputFormat,
    encoding: Encoding,
    mut send: impl FnMut(Read) -> bool,
) -> usize {
    let (mut number, mut bytes) = (0, Vec::new());
    let mut sentence: (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    loop {
        bytes.clear();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => number += 1,
            Err(e) => {
                send(Err(format!("input: {e}")));
                return number;
            }
        }
        let line = match decode_line(&bytes, number, encoding) {
            Ok(line) => line,
            Err(e) => {
                if !sentence.0.is_empty() {
                    let (lines, tokens) = std::mem::take(&mut sentence);
                    send(Ok(Unit::Sentence { lines, tokens }));
                }
                send(Err(e));
                return number;
            }
        };
        let unit = match format {
            InputFormat::Text => (!line.trim().is_empty()).then_some(Unit::Text(line)),
            InputFormat::Conll => conll_line(line, &mut sentence),
        };
        if let Some(unit) = unit {
            if !send(Ok(unit)) {
                return number;
            }
        }
    }
    if !sentence.0.is_empty() {
        send(Ok(Unit::Sentence { lines: sentence.0, tokens: sentence.1 }));
    }
    number
}

/// One CoNLL line: a token line joins the sentence; a blank or `-DOCSTART-` line ends it
/// (the sentence first, the line itself verbatim after it).
fn conll_line(line: String, sentence: &mut (Vec<String>, Vec<String>)) -> Option<Unit> {
    let blank = line.trim().is_empty();
    if !blank && !line.starts_with("-DOCSTART-") {
        let token = line.split_whitespace().next().unwrap_or_default().to_string();
        sentence.0.push(line);
        sentence.1.push(token);
        return None;
    }
    // A boundary: the sentence so far is a unit; the boundary line follows it verbatim.
    let lines = std::mem::take(&mut sentence.0);
    let tokens = std::mem::take(&mut sentence.1);
    if lines.is_empty() {
        Some(Unit::Verbatim(line))
    } else {
        // The reader sends the sentence, then the boundary, as two units.
        Some(Unit::Sentence { lines: [lines, vec![line]].concat(), tokens })
    }
}

/// A line's text without its line ending; invalid bytes are an error naming the line.
fn decode_line(bytes: &[u8], number: usize, encoding: Encoding) -> Result<String, String> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    decode(bytes, encoding).map_err(|offset| {
        format!(
            "input:{number}: invalid UTF-8 at byte {} of the line (byte 0x{:02x}); for legacy text use --encoding \
             latin1 or windows-1252",
            offset + 1,
            bytes[offset]
        )
    })
}

/// Answers `texts` (the command line's) as one window, each text as it is.
pub fn answer_texts(
    loaded: &Loaded<Inner>,
    texts: &[String],
    out: &mut impl Write,
    options: &StreamOptions,
    device: &Device,
) -> Result<(), String> {
    check_options(loaded, options)?;
    let window: Vec<Unit> = texts.iter().map(|t| Unit::Text(t.clone())).collect();
    answer(loaded, &window, out, options, device)
}

/// Refuses the options that the loaded model has no use for, naming them.
fn check_options(loaded: &Loaded<Inner>, options: &StreamOptions) -> Result<(), String> {
    if !matches!(loaded, Loaded::Classifier(_)) {
        return Ok(());
    }
    if options.format == InputFormat::Conll {
        return Err("--format conll: the model is a classifier; CoNLL input is for taggers".into());
    }
    if options.nbest > 0 {
        return Err(format!("--nbest {}: the model is a classifier; --nbest is for CRF taggers", options.nbest));
    }
    Ok(())
}

/// Predicts one window and writes its answers in input order.
fn answer(
    loaded: &Loaded<Inner>,
    window: &[Unit],
    out: &mut impl Write,
    options: &StreamOptions,
    device: &Device,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("output: {e}");
    match loaded {
        Loaded::Classifier(c) => {
            let texts: Vec<String> = window.iter().filter_map(text_of).collect();
            for p in backend::predict_labels(c, &texts, device).map_err(|e| e.to_string())? {
                out.write_all(format_label(&p, options.json).as_bytes()).map_err(io)?;
            }
        }
        Loaded::Tagger(t) if options.format == InputFormat::Conll && !options.json => {
            // CoNLL out needs the tags alone: no entities, confidences or n best.
            let tokens: Vec<Vec<String>> = window
                .iter()
                .filter_map(|u| match u {
                    Unit::Sentence { tokens, .. } => Some(tokens.clone()),
                    _ => None,
                })
                .collect();
            let mut tags = backend::tag_token_lists(t, &tokens, device).into_iter();
            for unit in window {
                let text = match unit {
                    Unit::Sentence { lines, .. } => conll_lines(lines, &tags.next().expect("tags per sentence")),
                    Unit::Verbatim(line) | Unit::Text(line) => format!("{line}\n"),
                };
                out.write_all(text.as_bytes()).map_err(io)?;
            }
        }
        Loaded::Tagger(t) => {
            let tokens: Vec<Vec<String>> = window
                .iter()
                .filter_map(|u| match u {
                    Unit::Text(text) => Some(t.tokens(text)),
                    Unit::Sentence { tokens, .. } => Some(tokens.clone()),
                    Unit::Verbatim(_) => None,
                })
                .collect();
            let mut answers =
                backend::predict_token_lists(t, &tokens, options.nbest, device).map_err(|e| e.to_string())?.into_iter();
            for unit in window {
                let text = match unit {
                    Unit::Verbatim(line) => format!("{line}\n"),
                    Unit::Text(_) => format_tags(&answers.next().expect("an answer per text"), options.json),
                    Unit::Sentence { lines, .. } => {
                        let p = answers.next().expect("an answer per sentence");
                        if options.json {
                            format_tags(&p, true)
                        } else {
                            conll_lines(lines, &p.tags)
                        }
                    }
                };
                out.write_all(text.as_bytes()).map_err(io)?;
            }
        }
    }
    Ok(())
}

fn text_of(unit: &Unit) -> Option<String> {
    match unit {
        Unit::Text(text) => Some(text.clone()),
        _ => None,
    }
}

/// A sentence's CoNLL lines with the predicted tag appended (tab-separated when the file's
/// columns are, else a space); the boundary line after it as it was.
fn conll_lines(lines: &[String], tags: &[String]) -> String {
    let mut out = String::new();
    let mut tags = tags.iter();
    for line in lines {
        if line.trim().is_empty() || line.starts_with("-DOCSTART-") {
            out += line;
        } else {
            let separator = if line.contains('\t') { '\t' } else { ' ' };
            out += &format!("{line}{separator}{}", tags.next().map_or("O", String::as_str));
        }
        out.push('\n');
    }
    out
}

/// A classifier's answer: JSON, or `label<TAB>(probabilities)<TAB>tokens`.
pub fn format_label(p: &LabelPrediction, json: bool) -> String {
    if json {
        return format!("{}\n", serde_json::to_string(p).expect("a prediction serialises"));
    }
    let probs: Vec<String> = p.probabilities.iter().map(|(l, v)| format!("{l} {v:.3}")).collect();
    format!("{}\t({})\t{}\n", p.label, probs.join(", "), p.tokens.join(" "))
}

/// A tagger's answer: JSON, or `token/TAG …`, the entities and the n best taggings.
pub fn format_tags(p: &TagPrediction, json: bool) -> String {
    if json {
        return format!("{}\n", serde_json::to_string(p).expect("a prediction serialises"));
    }
    let tagged: Vec<String> = p.tokens.iter().zip(&p.tags).map(|(w, t)| format!("{w}/{t}")).collect();
    let entities: Vec<String> =
        p.entities.iter().map(|e| format!("{} [{} {:.3}]", e.text, e.span.label, e.confidence)).collect();
    let mut out = format!(
        "{}\n  entities: {}\n",
        tagged.join(" "),
        if entities.is_empty() { "none".into() } else { entities.join("; ") }
    );
    for (rank, a) in p.alternatives.iter().enumerate() {
        out += &format!("  #{} p={:.4} score={:.3}: {}\n", rank + 1, a.probability, a.score, a.tags.join(" "));
    }
    out
}

/// A progress line on stderr (indicatif), drawn only when stderr is a terminal.
pub fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} texts in {elapsed} ({per_sec})")
            .expect("a valid template"),
    );
    bar
}

//! `predict` that streams: input read line by line on a thread of its own, predicted in
//! windows of at most `window` texts (sorted by length into batches inside the model call,
//! answers written back in input order; the first window at most [`FIRST_WINDOW`]), each window
//! written and flushed as soon as it is done.
//! A window also closes when no input has come for [`PAUSE`], so input that pauses
//! (`tail -f | predict`) is answered at once. Memory holds one window, whatever the input's size.
//!
//! Input is raw text (one text per line) or, for taggers, CoNLL ([`InputFormat::Conll`]: one
//! token per line in the first column, blank lines between sentences, other columns kept),
//! which comes back with the predicted tag appended as the last column. A blank line of raw
//! text is no text and gets no answer, but is counted: every JSON answer carries the `line` it
//! answers (1-based, counting every line read; for CoNLL, the line of the sentence's first
//! token; for texts given as arguments, the argument's position). A line that cannot be
//! decoded is an error naming it, after every answer before it has been written.
//!
//! A tagger reads raw text with its training run's tokenizer (or [`StreamOptions::tokenizer`]),
//! as one sentence or, with [`StreamOptions::sentences`], cut into sentences first; its
//! entities then carry their character offsets in the line.

use std::io::{BufRead, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use seqlab_datasets::text::{decode, Encoding, Normalisation, Tokenizer};
use seqlab_training::backend::{self, Device, Inner};
use seqlab_training::inference::{LabelPrediction, Loaded, TagPrediction, TextReading};

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
    /// Raw text: the tokenizer to read it with instead of the model's.
    pub tokenizer: Option<Tokenizer>,
    /// Raw text for a tagger: cut each line into sentences first (Unicode's sentence
    /// boundaries), each tagged on its own, offsets still into the line.
    pub sentences: bool,
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

impl Default for StreamOptions {
    /// `predict`'s defaults: windows of 2,048 texts, text output, raw text read as the model
    /// reads it.
    fn default() -> Self {
        Self {
            tokenizer: None,
            sentences: false,
            window: 2048,
            json: false,
            nbest: 0,
            format: InputFormat::Text,
            encoding: Encoding::default(),
        }
    }
}

/// Why [`stream`] or [`answer_texts`] stopped: the output failed (its OS error kept, so that a
/// closed pipe can end the command quietly), or anything else (a line that cannot be read, an
/// option the model has no use for, a text a classifier cannot read), said in words.
#[derive(Debug)]
pub enum StreamError {
    /// Writing or flushing the answers failed.
    Output(std::io::Error),
    /// The input, an option or a text, in words.
    Other(String),
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Output(e) => write!(f, "standard output: {e}"),
            Self::Other(message) => f.write_str(message),
        }
    }
}

impl From<String> for StreamError {
    fn from(message: String) -> Self {
        Self::Other(message)
    }
}

impl StreamError {
    /// The command's exit status and what it prints on standard error: a closed pipe
    /// (`predict … | head`) ends it quietly with 141 (128 + SIGPIPE, as `cat` ends), anything
    /// else is an error line and 1.
    pub fn exit(&self) -> (u8, Option<String>) {
        match self {
            Self::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => (141, None),
            other => (1, Some(format!("error: {other}"))),
        }
    }
}

/// What [`stream`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streamed {
    /// Texts (sentences) answered.
    pub texts: usize,
    /// Lines read.
    pub lines: usize,
}

/// One unit of input: a text, or a CoNLL sentence (its lines and their first columns), with
/// the number of its (first) line.
#[derive(Debug, Clone)]
enum Unit {
    Text {
        line: usize,
        text: String,
    },
    Sentence {
        line: usize,
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
) -> Result<Streamed, StreamError> {
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
        out.flush().map_err(StreamError::Output)?;
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
    failure.map_or(Ok(done), |e| Err(StreamError::Other(e)))
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
    let mut sentence = Pending::default();
    loop {
        bytes.clear();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                send(Err(format!("input: {e}")));
                return number;
            }
        }
        for physical in split_at_lone_cr(&bytes) {
            number += 1;
            let line = match decode_line(physical, number, encoding) {
                Ok(line) => line,
                Err(e) => {
                    if let Some(unit) = sentence.take() {
                        send(Ok(unit));
                    }
                    send(Err(e));
                    return number;
                }
            };
            let unit = match format {
                InputFormat::Text => (!line.trim().is_empty()).then_some(Unit::Text { line: number, text: line }),
                InputFormat::Conll => conll_line(line, number, &mut sentence),
            };
            if let Some(unit) = unit {
                if !send(Ok(unit)) {
                    return number;
                }
            }
        }
    }
    if let Some(unit) = sentence.take() {
        send(Ok(unit));
    }
    number
}

/// The CoNLL sentence being read: its first line's number, its lines and their tokens.
#[derive(Default)]
struct Pending {
    line: usize,
    lines: Vec<String>,
    tokens: Vec<String>,
}

impl Pending {
    /// The sentence so far as a unit (none when it has no line), the pending one emptied.
    fn take(&mut self) -> Option<Unit> {
        let Pending { line, lines, tokens } = std::mem::take(self);
        (!lines.is_empty()).then_some(Unit::Sentence { line, lines, tokens })
    }
}

/// One CoNLL line (numbered `number`): a token line joins the sentence; a blank or
/// `-DOCSTART-` line ends it (the sentence and the boundary line after it are one unit).
fn conll_line(line: String, number: usize, sentence: &mut Pending) -> Option<Unit> {
    let blank = line.trim().is_empty();
    if !blank && !line.starts_with("-DOCSTART-") {
        if sentence.lines.is_empty() {
            sentence.line = number;
        }
        sentence.tokens.push(line.split_ascii_whitespace().next().unwrap_or_default().to_string());
        sentence.lines.push(line);
        return None;
    }
    if sentence.lines.is_empty() {
        return Some(Unit::Verbatim(line));
    }
    sentence.lines.push(line);
    sentence.take()
}

/// The lines of one `\n`-ended chunk, each with its ending: a carriage return not followed by
/// `\n` ends a line too (files from old Macs and some exporters end lines with `\r` alone).
fn split_at_lone_cr(chunk: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &byte) in chunk.iter().enumerate() {
        if byte == b'\r' && chunk.get(i + 1) != Some(&b'\n') {
            lines.push(&chunk[start..=i]);
            start = i + 1;
        }
    }
    if start < chunk.len() {
        lines.push(&chunk[start..]);
    }
    lines
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
) -> Result<(), StreamError> {
    check_options(loaded, options)?;
    let window: Vec<Unit> =
        texts.iter().enumerate().map(|(i, t)| Unit::Text { line: i + 1, text: t.clone() }).collect();
    answer(loaded, &window, out, options, device)?;
    // A buffered output's last bytes: an error here (a full disk) is the command's.
    out.flush().map_err(StreamError::Output)
}

/// Refuses the options that the loaded model has no use for, naming them.
fn check_options(loaded: &Loaded<Inner>, options: &StreamOptions) -> Result<(), String> {
    if !matches!(loaded, Loaded::Classifier(_)) {
        if options.nbest > 0 && options.format == InputFormat::Conll && !options.json {
            return Err(format!(
                "--nbest {}: CoNLL output holds one tag per token; add --json for the n best taggings",
                options.nbest
            ));
        }
        if options.sentences && options.format == InputFormat::Conll {
            return Err("--sentences: CoNLL input is already in sentences".into());
        }
        return Ok(());
    }
    if options.format == InputFormat::Conll {
        return Err("--format conll: the model is a classifier; CoNLL input is for taggers".into());
    }
    if options.nbest > 0 {
        return Err(format!("--nbest {}: the model is a classifier; --nbest is for CRF taggers", options.nbest));
    }
    if options.sentences {
        return Err("--sentences: the model is a classifier, which reads each line as one text".into());
    }
    Ok(())
}

/// `--input FILE` opened for reading; a folder, or a file that cannot be opened, is an error
/// naming it.
pub fn open_input(path: &std::path::Path) -> Result<std::fs::File, StreamError> {
    if path.is_dir() {
        return Err(StreamError::Other(format!("--input {}: a folder, not a file of texts", path.display())));
    }
    std::fs::File::open(path).map_err(|e| StreamError::Other(format!("--input {}: {e}", path.display())))
}

/// The warning for reading raw text with another tokenizer than the model's (`None` when it
/// is the same, or none was given).
pub fn tokenizer_warning(loaded: &Loaded<Inner>, given: Option<Tokenizer>) -> Option<String> {
    let given = given?;
    let (own, what) = match loaded {
        Loaded::Classifier(c) => (c.run.normalisation().tokenizer, "as its training data was tokenised"),
        Loaded::Tagger(t) => (t.tokenizer(), "as its training run recorded for raw text"),
    };
    (given != own).then(|| {
        format!(
            "--tokenizer {}: the model reads raw text with {} ({what}); text split another way may be answered \
             worse",
            <&str>::from(given),
            <&str>::from(own)
        )
    })
}

/// Predicts one window and writes its answers in input order.
fn answer(
    loaded: &Loaded<Inner>,
    window: &[Unit],
    out: &mut impl Write,
    options: &StreamOptions,
    device: &Device,
) -> Result<(), StreamError> {
    let io = StreamError::Output;
    let texts = || {
        window.iter().filter_map(|u| match u {
            Unit::Text { line, text } => Some((*line, text)),
            _ => None,
        })
    };
    let sentences = || {
        window.iter().filter_map(|u| match u {
            Unit::Sentence { line, tokens, .. } => Some((*line, tokens.clone())),
            _ => None,
        })
    };
    match loaded {
        Loaded::Classifier(c) => {
            let own = c.run.normalisation();
            let norm = Normalisation { tokenizer: options.tokenizer.unwrap_or(own.tokenizer), ..own };
            let mut tokens = Vec::new();
            for (line, text) in texts() {
                let words = norm.tokens(text);
                if words.is_empty() {
                    return Err(StreamError::Other(format!(
                        "input:{line}: {text:?} has no tokens; a classifier needs at least one word"
                    )));
                }
                tokens.push(words);
            }
            let answers = backend::predict_label_tokens(c, tokens, device);
            for ((line, _), p) in texts().zip(answers) {
                out.write_all(format_label(&p, options.json.then_some(line)).as_bytes()).map_err(io)?;
            }
        }
        Loaded::Tagger(t) if options.format == InputFormat::Conll && !options.json => {
            // CoNLL out needs the tags alone: no entities, confidences or n best.
            let tokens: Vec<Vec<String>> = sentences().map(|(_, tokens)| tokens).collect();
            let mut tags = backend::tag_token_lists(t, &tokens, device).into_iter();
            for unit in window {
                let text = match unit {
                    Unit::Sentence { lines, .. } => conll_lines(lines, &tags.next().expect("tags per sentence")),
                    Unit::Verbatim(line) | Unit::Text { text: line, .. } => format!("{line}\n"),
                };
                out.write_all(text.as_bytes()).map_err(io)?;
            }
        }
        Loaded::Tagger(t) if options.format == InputFormat::Conll => {
            // CoNLL in, JSON out: one answer per sentence; boundary lines are not answers.
            let (lines, tokens): (Vec<usize>, Vec<Vec<String>>) = sentences().unzip();
            let answers = backend::predict_token_lists(t, &tokens, options.nbest, device).map_err(|e| e.to_string())?;
            for (line, p) in lines.into_iter().zip(answers) {
                out.write_all(format_tags(&p, Some(line)).as_bytes()).map_err(io)?;
            }
        }
        Loaded::Tagger(t) => {
            let tokenizer = options.tokenizer.unwrap_or(t.tokenizer());
            let reading = TextReading { tokenizer, sentences: options.sentences };
            let read: Vec<_> = texts().map(|(_, text)| reading.read(text)).collect();
            let answers = backend::predict_read(t, &read, options.nbest, device).map_err(|e| e.to_string())?;
            for ((line, _), p) in texts().zip(answers) {
                out.write_all(format_tags(&p, options.json.then_some(line)).as_bytes()).map_err(io)?;
            }
        }
    }
    Ok(())
}

/// An answer as one JSON line, with the number of the line (or argument) it answers first.
fn json_line(line: usize, answer: &impl serde::Serialize) -> String {
    #[derive(serde::Serialize)]
    struct Numbered<'a, T> {
        line: usize,
        #[serde(flatten)]
        answer: &'a T,
    }
    format!("{}\n", serde_json::to_string(&Numbered { line, answer }).expect("a prediction serialises"))
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

/// A classifier's answer: a JSON line when given the number of the `line` it answers, else
/// `label<TAB>(probabilities)<TAB>tokens`, and the share of unknown tokens when there are any.
pub fn format_label(p: &LabelPrediction, line: Option<usize>) -> String {
    if let Some(line) = line {
        return json_line(line, p);
    }
    let probs: Vec<String> = p.probabilities.iter().map(|(l, v)| format!("{l} {v:.3}")).collect();
    let unknown = if p.unknown > 0.0 { format!("\t({:.0}% unknown)", p.unknown * 100.0) } else { String::new() };
    format!("{}\t({})\t{}{unknown}\n", p.label, probs.join(", "), p.tokens.join(" "))
}

/// A tagger's answer: a JSON line when given the number of the `line` it answers, else
/// `token/TAG …`, the entities (with their characters in raw text), the share of unknown
/// tokens when there are any, and the n best taggings.
pub fn format_tags(p: &TagPrediction, line: Option<usize>) -> String {
    if let Some(line) = line {
        return json_line(line, p);
    }
    let tagged: Vec<String> = p.tokens.iter().zip(&p.tags).map(|(w, t)| format!("{w}/{t}")).collect();
    let entities: Vec<String> = p
        .entities
        .iter()
        .map(|e| {
            let at = e.start_char.zip(e.end_char).map_or(String::new(), |(s, e)| format!(" at {s}..{e}"));
            format!("{} [{} {:.3}{at}]", e.text, e.span.label, e.confidence)
        })
        .collect();
    let mut out = format!(
        "{}\n  entities: {}\n",
        tagged.join(" "),
        if entities.is_empty() { "none".into() } else { entities.join("; ") }
    );
    if p.unknown > 0.0 {
        out += &format!("  unknown: {:.0}% of the tokens\n", p.unknown * 100.0);
    }
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

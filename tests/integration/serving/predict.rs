//! `predict` streams: answers in input order, window by window, equal to one in-process call;
//! CoNLL in and out scores as `evaluate` does; a bad line is refused after everything before it
//! was written; paused input is answered at once.

use std::io::{BufRead, Cursor, Read, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seqlab_bins::predict::{answer_texts, stream, InputFormat, StreamOptions};
use seqlab_datasets::ner::parse_conll;
use seqlab_training::backend;
use seqlab_training::inference::{Evaluation, Loaded};
use seqlab_training::{entity_scores, EntityMode};

use super::{classifier_dir, crf_tagger_dir};
use crate::common::embedded_text;

fn options(window: usize, format: InputFormat) -> StreamOptions {
    StreamOptions { window, json: true, format, ..Default::default() }
}

/// The texts of the embedded sentiment test split (the GLUE file's sentence column).
fn sentiment_texts() -> Vec<String> {
    embedded_text("sentiment/test").lines().skip(1).map(|l| l.split('\t').next().unwrap().to_string()).collect()
}

#[test]
fn streamed_answers_equal_one_call_in_input_order() {
    let device = Default::default();
    let loaded = backend::load(&classifier_dir(), &device).unwrap();
    let Loaded::Classifier(c) = &loaded else { panic!("a classifier") };
    let texts = sentiment_texts();
    let mut input = texts.join("\n\n"); // blank lines between texts are skipped
    input.push('\n');
    let mut out = Vec::new();
    let mut windows = 0;
    let done =
        stream(&loaded, Cursor::new(input), &mut out, &options(37, InputFormat::Text), &device, |_| windows += 1)
            .unwrap();
    assert_eq!(done.texts, texts.len());
    assert!(windows >= texts.len() / 37, "{windows} windows for {} texts", texts.len());
    // Each answer names its line: text i stands on line 2i + 1, the blank lines counted.
    let expected: Vec<serde_json::Value> = backend::predict_labels(c, &texts, &device)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut value = serde_json::json!({ "line": 2 * i + 1 });
            // Through the text, as the answer was: an f32 is written in its shortest form.
            let answer: serde_json::Value = serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap();
            value.as_object_mut().unwrap().extend(answer.as_object().unwrap().clone());
            value
        })
        .collect();
    let lines: Vec<serde_json::Value> =
        std::str::from_utf8(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines, expected);
}

#[test]
fn conll_in_and_out_scores_as_evaluate_does() {
    let device = Default::default();
    let dir = crf_tagger_dir();
    let loaded = backend::load(&dir, &device).unwrap();
    let file = embedded_text("ner/test");
    let mut out = Vec::new();
    let mut opts = options(50, InputFormat::Conll);
    opts.json = false;
    stream(&loaded, Cursor::new(file.clone()), &mut out, &opts, &device, |_| {}).unwrap();
    let text = String::from_utf8(out).unwrap();
    // The same lines, the predicted tag appended.
    let (given, answered): (Vec<&str>, Vec<&str>) = (file.lines().collect(), text.lines().collect());
    assert_eq!(given.len(), answered.len());
    for (g, a) in given.iter().zip(&answered) {
        assert!(a.starts_with(g), "{a:?} does not extend {g:?}");
    }
    // conlleval's rules over (gold, predicted) = evaluate's entity F1.
    let gold = parse_conll(&file, "gold".as_ref(), &Default::default()).unwrap();
    let tagged = parse_conll(&text, "answer".as_ref(), &Default::default()).unwrap();
    let gold_tags: Vec<Vec<String>> = gold.sentences.iter().map(|s| s.tags.clone()).collect();
    let predicted: Vec<Vec<String>> = tagged.sentences.iter().map(|s| s.tags.clone()).collect();
    let f1 = entity_scores(&gold_tags, &predicted, EntityMode::Default).f1;
    let Evaluation::Tagger(scores) = backend::evaluate(&loaded, "embedded:ner/test", &device).unwrap() else {
        panic!("a tagger")
    };
    assert_eq!(f1, scores.f1);
    assert!(f1 > 0.0, "the tiny tagger finds some entities");
}

#[test]
fn a_bad_line_is_refused_after_the_answers_before_it() {
    let device = Default::default();
    let loaded = backend::load(&classifier_dir(), &device).unwrap();
    let input: Vec<u8> = [&b"a fine film\nthe worst plot\nbroken \xff byte\nnever read\n"[..]].concat();
    let mut out = Vec::new();
    let err = stream(&loaded, Cursor::new(input), &mut out, &options(256, InputFormat::Text), &device, |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("input:3") && err.contains("invalid UTF-8"), "{err}");
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2, "the two good lines were answered");
}

#[test]
fn conll_input_is_for_taggers() {
    let device = Default::default();
    let loaded = backend::load(&classifier_dir(), &device).unwrap();
    let err = stream(&loaded, Cursor::new("a\n"), &mut Vec::new(), &options(8, InputFormat::Conll), &device, |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("--format conll") && err.contains("classifier"), "{err}");
    // --nbest, streamed or given as arguments, is for CRF taggers.
    let nbest = StreamOptions { nbest: 3, ..options(8, InputFormat::Text) };
    let err = stream(&loaded, Cursor::new("a\n"), &mut Vec::new(), &nbest, &device, |_| {}).unwrap_err().to_string();
    assert!(err.starts_with("--nbest 3: the model is a classifier"), "{err}");
    let err = answer_texts(&loaded, &["good".to_string()], &mut Vec::new(), &nbest, &device).unwrap_err().to_string();
    assert!(err.starts_with("--nbest 3"), "{err}");
}

/// Input whose first line comes at once and whose rest waits for a signal (`tail -f`).
struct Paused {
    first: Cursor<Vec<u8>>,
    rest: mpsc::Receiver<Vec<u8>>,
    more: Cursor<Vec<u8>>,
}

impl Read for Paused {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.first.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if self.more.position() as usize == self.more.get_ref().len() {
            match self.rest.recv() {
                Ok(bytes) => self.more = Cursor::new(bytes),
                Err(_) => return Ok(0),
            }
        }
        self.more.read(buf)
    }
}

/// An output shared with the test thread.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn input_that_pauses_is_answered_at_once() {
    let (send, rest) = mpsc::channel();
    let input = std::io::BufReader::new(Paused {
        first: Cursor::new(b"a fine film\n".to_vec()),
        rest,
        more: Cursor::new(Vec::new()),
    });
    let out = Shared::default();
    let mut writer = out.clone();
    let worker = std::thread::spawn(move || {
        let device = Default::default();
        let loaded = backend::load(&classifier_dir(), &device).unwrap();
        stream(&loaded, input, &mut writer, &options(256, InputFormat::Text), &device, |_| {}).unwrap()
    });
    let started = Instant::now();
    while out.0.lock().unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "no answer while the input paused");
        std::thread::sleep(Duration::from_millis(10));
    }
    send.send(b"the worst plot\n".to_vec()).unwrap();
    drop(send);
    let done = worker.join().unwrap();
    assert_eq!(done.texts, 2);
    assert_eq!(out.0.lock().unwrap().lines().count(), 2);
}

/// An output that takes `room` bytes and then fails with `error` (a closed pipe, a full disk).
struct Failing {
    room: usize,
    error: fn() -> std::io::Error,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err((self.error)());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error() {
    use seqlab_bins::predict::StreamError;
    let device = Default::default();
    let loaded = backend::load(&classifier_dir(), &device).unwrap();
    let texts: Vec<String> = sentiment_texts().into_iter().take(40).collect();
    let closed = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
    let full = || std::io::Error::from_raw_os_error(28);
    // `predict … | head -1`: the reader went away after one line.
    let mut out = std::io::BufWriter::new(Failing { room: 100, error: closed });
    let err = stream(
        &loaded,
        Cursor::new(texts.join("\n") + "\n"),
        &mut out,
        &options(8, InputFormat::Text),
        &device,
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(&err, StreamError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe), "{err}");
    assert_eq!(err.exit(), (141, None), "quiet, as cat is");
    // `predict … > /dev/full`, texts given as arguments: the buffered answers' flush fails.
    let mut out = std::io::BufWriter::new(Failing { room: 0, error: full });
    let err = answer_texts(&loaded, &texts[..2], &mut out, &options(8, InputFormat::Text), &device).unwrap_err();
    let (status, message) = err.exit();
    assert_eq!(status, 1);
    assert!(message.unwrap().starts_with("error: standard output: No space left on device"), "{err}");
}

#[test]
fn options_that_would_be_dropped_and_a_folder_as_input_are_refused_by_name() {
    let device = Default::default();
    let tagger = backend::load(&crf_tagger_dir(), &device).unwrap();
    let conll = StreamOptions { nbest: 2, json: false, ..options(8, InputFormat::Conll) };
    let err = stream(&tagger, Cursor::new("EU B-ORG\n"), &mut Vec::new(), &conll, &device, |_| {}).unwrap_err();
    assert!(err.to_string().starts_with("--nbest 2: CoNLL output holds one tag per token; add --json"), "{err}");
    let with_json = StreamOptions { json: true, ..conll };
    let mut out = Vec::new();
    stream(&tagger, Cursor::new("EU B-ORG\n"), &mut out, &with_json, &device, |_| {}).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(answer["alternatives"].as_array().unwrap().len(), 2);
    let sentences = StreamOptions { sentences: true, ..options(8, InputFormat::Conll) };
    let err = stream(&tagger, Cursor::new("EU\n"), &mut Vec::new(), &sentences, &device, |_| {}).unwrap_err();
    assert!(err.to_string().starts_with("--sentences: CoNLL input is already in sentences"), "{err}");
    let dir = crate::common::scratch("predict-input-folder");
    let err = seqlab_bins::predict::open_input(&dir).unwrap_err().to_string();
    assert_eq!(err, format!("--input {}: a folder, not a file of texts", dir.display()));
    let missing = dir.join("nope.txt");
    let err = seqlab_bins::predict::open_input(&missing).unwrap_err().to_string();
    assert!(err.starts_with(&format!("--input {}: ", missing.display())) && err.contains("No such file"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

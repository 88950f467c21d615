//! Raw text in, offsets out: a paragraph cut into sentences answers with each sentence's
//! entities at their characters in the paragraph, as the sentences alone would; every JSON
//! answer of `predict` names its line; the share of unknown tokens; options a model has no use
//! for are refused by name, by `predict` and by `serve`.

use std::io::Cursor;

use seqlab_bins::predict::{answer_texts, stream, InputFormat, StreamOptions};
use seqlab_bins::serve::{ModelSpec, Running, Settings};
use seqlab_datasets::text::Tokenizer;
use seqlab_training::backend;
use seqlab_training::inference::Loaded;
use serde_json::Value;

use super::http::post;
use super::{classifier_dir, crf_tagger_dir};
use crate::common::embedded_text;

/// `predict --json` over `input` (lines), as JSON values.
fn predict(dir: &std::path::Path, input: &str, options: StreamOptions) -> Vec<Value> {
    let device = Default::default();
    let loaded = backend::load(dir, &device).unwrap();
    let mut out = Vec::new();
    stream(&loaded, Cursor::new(input.to_string()), &mut out, &options, &device, |_| {}).unwrap();
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn json(sentences: bool) -> StreamOptions {
    StreamOptions { json: true, sentences, tokenizer: Some(Tokenizer::Words), ..Default::default() }
}

/// Three sentences of the embedded test split with entities, as raw text: each starts with a
/// capital and ends with a period (Unicode's sentence boundaries do not cut before `8 people`,
/// a number followed by a lower-case word).
fn three_sentences() -> Vec<String> {
    let file = seqlab_datasets::ner::parse_conll(&embedded_text("ner/test"), "ner/test".as_ref(), &Default::default())
        .unwrap();
    let capital = |t: &String| t.chars().next().is_some_and(char::is_uppercase);
    file.sentences
        .iter()
        .filter(|s| s.tokens.first().is_some_and(capital) && s.tokens.last().is_some_and(|t| t == "."))
        .filter(|s| s.tags.iter().any(|t| t != "O"))
        .map(|s| s.tokens.join(" "))
        .take(3)
        .collect()
}

/// The characters `start..end` of `text`.
fn chars(text: &str, start: &Value, end: &Value) -> String {
    let (start, end) = (start.as_u64().unwrap() as usize, end.as_u64().unwrap() as usize);
    text.chars().skip(start).take(end - start).collect()
}

#[test]
fn a_paragraph_of_three_sentences_gives_their_entities_with_offsets_into_it() {
    let dir = crf_tagger_dir();
    let sentences = three_sentences();
    assert_eq!(sentences.len(), 3);
    let paragraph = format!("  {}  {}\t{}\r", sentences[0], sentences[1], sentences[2]);
    let answer = &predict(&dir, &format!("{paragraph}\n"), json(true))[0];
    assert_eq!(answer["line"], 1);
    let places = answer["sentences"].as_array().unwrap();
    assert_eq!(places.len(), 3, "{answer}");
    // Each sentence alone, read the same way.
    let alone = predict(&dir, &(sentences.join("\n") + "\n"), json(false));
    let mut found = 0;
    for (i, (place, alone)) in places.iter().zip(&alone).enumerate() {
        assert_eq!(chars(&paragraph, &place["start_char"], &place["end_char"]), sentences[i]);
        let first_token = place["start"].as_u64().unwrap();
        let first_char = place["start_char"].as_u64().unwrap();
        let (start, end) = (first_token as usize, place["end"].as_u64().unwrap() as usize);
        assert_eq!(answer["tokens"].as_array().unwrap()[start..end], alone["tokens"].as_array().unwrap()[..]);
        assert_eq!(answer["tags"].as_array().unwrap()[start..end], alone["tags"].as_array().unwrap()[..]);
        for entity in alone["entities"].as_array().unwrap() {
            // The same entity in the paragraph's answer, its token and character offsets moved.
            let shift = |v: &Value, by: u64| Value::from(v.as_u64().unwrap() + by);
            let mine = answer["entities"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["start"] == shift(&entity["start"], first_token))
                .unwrap_or_else(|| panic!("{entity} is not in {answer}"));
            assert_eq!(mine["end"], shift(&entity["end"], first_token));
            assert_eq!(mine["label"], entity["label"]);
            assert_eq!(mine["start_char"], shift(&entity["start_char"], first_char));
            assert_eq!(mine["end_char"], shift(&entity["end_char"], first_char));
            found += 1;
        }
    }
    assert_eq!(found, answer["entities"].as_array().unwrap().len());
    assert!(found > 0, "the tiny tagger finds entities in these sentences: {answer}");
    for entity in answer["entities"].as_array().unwrap() {
        assert_eq!(chars(&paragraph, &entity["start_char"], &entity["end_char"]), entity["text"].as_str().unwrap());
    }
}

#[test]
fn every_json_answer_names_its_line_and_blank_lines_are_counted() {
    let input = "Anna Keller works for Reuters .\n\n   \nOrion Motors hired Omar Haddad .\n";
    let answers = predict(&crf_tagger_dir(), input, json(false));
    let lines: Vec<&Value> = answers.iter().map(|a| &a["line"]).collect();
    assert_eq!(lines, [1, 4]);
    // CoNLL input: each sentence's first token line.
    let conll = "-DOCSTART- O\n\nAnna O\nKeller O\n\nOmar O\n";
    let options = StreamOptions { json: true, format: InputFormat::Conll, ..Default::default() };
    let lines: Vec<Value> = predict(&crf_tagger_dir(), conll, options).iter().map(|a| a["line"].clone()).collect();
    assert_eq!(lines, [3, 6]);
    // Lines ended by a carriage return alone (old Macs), mixed with `\r\n` and `\n`: each is a
    // line, as in the `\n` input above.
    let answers = predict(&crf_tagger_dir(), &input.replace('\n', "\r"), json(false));
    assert_eq!(answers.iter().map(|a| &a["line"]).collect::<Vec<_>>(), [1, 4]);
    let mixed = "Anna Keller works for Reuters .\r\n\r   \nOrion Motors hired Omar Haddad .\r";
    let tokens: Vec<Value> =
        predict(&crf_tagger_dir(), mixed, json(false)).iter().map(|a| a["tokens"].clone()).collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(tokens[1][0], "Orion");
    let options = StreamOptions { json: true, format: InputFormat::Conll, ..Default::default() };
    let lines: Vec<Value> =
        predict(&crf_tagger_dir(), &conll.replace('\n', "\r"), options).iter().map(|a| a["line"].clone()).collect();
    assert_eq!(lines, [3, 6]);
    // A token holding a no-break space stays one token, as the training reader reads it.
    let options = StreamOptions { json: true, format: InputFormat::Conll, ..Default::default() };
    let answers = predict(&crf_tagger_dir(), "New\u{a0}York B-LOC\nrose O\n", options);
    assert_eq!(answers[0]["tokens"], serde_json::json!(["New\u{a0}York", "rose"]));
}

#[test]
fn each_answer_gives_the_share_of_unknown_tokens() {
    let device = Default::default();
    let loaded = backend::load(&classifier_dir(), &device).unwrap();
    let Loaded::Classifier(c) = &loaded else { panic!("a classifier") };
    let known: Vec<&str> = c.vocab.tokens[2..5].iter().map(String::as_str).collect();
    let text = format!("{} {} qqzzyx {}", known[0], known[1], known[2]);
    let options = StreamOptions { json: true, tokenizer: Some(Tokenizer::Whitespace), ..Default::default() };
    let mut out = Vec::new();
    answer_texts(&loaded, &[text, known.join(" "), "qqzzyx zzqqyx".into()], &mut out, &options, &device).unwrap();
    let unknown: Vec<f64> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["unknown"].as_f64().unwrap())
        .collect();
    assert_eq!(unknown, [0.25, 0.0, 1.0]);
}

#[test]
fn options_a_model_has_no_use_for_are_refused_by_name() {
    let device = Default::default();
    let loaded = backend::load(&classifier_dir(), &device).unwrap();
    let options = StreamOptions { sentences: true, ..Default::default() };
    let err = answer_texts(&loaded, &["good".into()], &mut Vec::new(), &options, &device).unwrap_err().to_string();
    assert!(err.starts_with("--sentences: the model is a classifier"), "{err}");
    // A tagger gives the n best taggings of one sentence, not of a paragraph.
    let tagger = backend::load(&crf_tagger_dir(), &device).unwrap();
    let options = StreamOptions { nbest: 2, ..json(true) };
    let err = answer_texts(&tagger, &["Anna left . Omar came .".into()], &mut Vec::new(), &options, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nbest") && err.contains("one sentence"), "{err}");

    let specs = [
        ModelSpec { name: "sst".into(), dir: classifier_dir() },
        ModelSpec { name: "ner".into(), dir: crf_tagger_dir() },
    ];
    let server = Running::start(&specs, &Settings::default()).expect("the server starts");
    let reply = post(server.addr, "/v1/models/sst/predict", r#"{"texts": ["good"], "sentences": true}"#);
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("sentences: model sst is a classifier"), "{}", reply.body);
    let reply = post(server.addr, "/v1/models/ner/predict", r#"{"texts": ["Anna left ."], "tokenizer": "spacy"}"#);
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("tokenizer: \\\"spacy\\\" is none of whitespace, basic, ptb, words"), "{}", reply.body);
    // The server cuts paragraphs and gives offsets as predict does.
    let paragraph = three_sentences().join(" ");
    let body = serde_json::json!({ "texts": [paragraph], "sentences": true, "tokenizer": "words" }).to_string();
    let reply = post(server.addr, "/v1/models/ner/predict", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut alone = predict(&crf_tagger_dir(), &format!("{paragraph}\n"), json(true)).remove(0);
    alone.as_object_mut().unwrap().remove("line");
    assert_eq!(reply.json()["predictions"][0], alone);
}

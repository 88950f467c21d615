//! The formats the Hugging Face hub serves: Parquet (row group by row group) and JSON Lines
//! records read as the same sentences and texts as the CoNLL and GLUE files they were written
//! from (tests/fixtures/records, by scripts/make_record_fixtures.py), and every kind of wrong
//! file refused with the file, row group, row and column named.

use seqlab_datasets::stats::StatsBuilder;
use seqlab_datasets::{read_corpus, read_tagged_any, stream_corpus, Corpus, Format, ReadOptions};

use crate::common::fixture_path;

fn names() -> Vec<String> {
    std::fs::read_to_string(fixture_path("records/ner-names.txt")).unwrap().lines().map(String::from).collect()
}

fn with_names() -> ReadOptions {
    ReadOptions { tag_names: Some(names()), ..ReadOptions::default() }
}

fn sentences(path: &str, options: &ReadOptions) -> Vec<(Vec<String>, Vec<String>)> {
    let file = read_tagged_any(fixture_path(path), options).unwrap_or_else(|e| panic!("{e}"));
    file.sentences.into_iter().map(|s| (s.tokens, s.tags)).collect()
}

#[test]
fn parquet_and_json_lines_records_read_as_the_conll_file() {
    let conll = sentences("records/ner.conll", &ReadOptions::default());
    assert_eq!(conll.len(), 60);
    assert_eq!(sentences("records/ner.parquet", &with_names()), conll);
    assert_eq!(sentences("records/ner.jsonl", &ReadOptions::default()), conll);
    // Two row groups of 25 and one of 10: three parts, in order.
    let mut parts = Vec::new();
    let options = ReadOptions { format: None, ..with_names() };
    let streamed = stream_corpus(
        fixture_path("records/ner.parquet"),
        &options,
        |_, c| Ok(c),
        |c| {
            if let Corpus::Tagged(f) = c {
                parts.push(f.sentences.len());
            }
            Ok(())
        },
    )
    .unwrap();
    assert_eq!((streamed.format, parts), (Format::Parquet, vec![25, 25, 10]));
    // Labelled texts: the GLUE file's texts and labels.
    let texts = |path: &str| match read_corpus(fixture_path(path), &ReadOptions::default()).unwrap().corpus {
        Corpus::Sentiment { file, .. } => file.examples.into_iter().map(|e| (e.text, e.label)).collect::<Vec<_>>(),
        Corpus::Tagged(_) => panic!("{path}: labelled texts"),
    };
    assert_eq!(texts("records/sentiment.parquet"), texts("records/sentiment.tsv"));
    // dataset-stats counts a Parquet file as its CoNLL twin.
    let stats = |path: &str, options: &ReadOptions| {
        let mut b = StatsBuilder::default();
        stream_corpus(
            fixture_path(path),
            options,
            |_, c| Ok(c),
            |c| {
                if let Corpus::Tagged(f) = &c {
                    b.add_conll(f);
                }
                Ok(())
            },
        )
        .unwrap();
        b.finish(None)
    };
    let (p, c) = (stats("records/ner.parquet", &with_names()), stats("records/ner.conll", &ReadOptions::default()));
    assert_eq!((p.examples, p.tokens, &p.labels, &p.entities), (c.examples, c.tokens, &c.labels, &c.entities));
}

#[test]
fn a_wrong_parquet_or_record_file_names_the_file_row_and_column() {
    let err = |path: &str, options: &ReadOptions| read_tagged_any(fixture_path(path), options).unwrap_err().to_string();
    let e = err("records/ner.parquet", &ReadOptions::default());
    assert!(
        e.contains("ner.parquet")
            && e.contains(
                "ner_tags holds tag ids (1): these are tagged sentences, which train-tagger reads with --tag-names"
            ),
        "{e}"
    );
    let short = ReadOptions { tag_names: Some(vec!["O".into(), "B-PER".into()]), ..ReadOptions::default() };
    let e = err("records/ner.parquet", &short);
    assert!(
        e.contains(
            "row group 0, row 0 (row 1 of the file), column \"ner_tags\": tag id 3 in ner_tags is outside the 2 names"
        ),
        "{e}"
    );
    let e = err("records/ner-no-tags.parquet", &with_names());
    assert!(e.contains("ner-no-tags.parquet: no tag column \"ner_tags\"; the file has id, tokens"), "{e}");
    let e = err("records/ner-null-tag.parquet", &with_names());
    assert!(e.contains("row group 1, row 15 (row 41 of the file), column \"ner_tags\": null"), "{e}");
    let e = err("records/ner-int-tokens.parquet", &with_names());
    assert!(
        e.contains("row group 0, row 0 (row 1 of the file), column \"tokens\"") && e.contains("not a string"),
        "{e}"
    );
    // Damaged files on which the parquet crate panics (found by scripts/parquet-fuzz.py): an
    // error naming the file.
    for (name, options) in [("damaged-metadata.parquet", ReadOptions::default()), ("damaged-rle.parquet", with_names())]
    {
        let e = read_corpus(fixture_path(&format!("records/{name}")), &options).unwrap_err().to_string();
        assert!(e.contains(&format!("{name}: a damaged Parquet file (the parquet reader failed on it: ")), "{e}");
    }
    // A blank text among labelled texts, as the text readers refuse it.
    let e = read_corpus(fixture_path("records/sentiment-blank.parquet"), &ReadOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains(
            "row group 1, row 5 (row 31 of the file), column \"sentence\": the text is empty or only white space"
        ),
        "{e}"
    );
    let e = err("records/ner.parquet", &ReadOptions { text_column: Some("words".into()), ..with_names() });
    assert!(e.contains("ner.parquet: no text column \"words\"; the file has id, tokens, ner_tags"), "{e}");
    // Not Parquet at all.
    let dir = crate::common::scratch("records-bad");
    let fake = dir.join("fake.parquet");
    std::fs::write(&fake, "sentence\tlabel\nhello\t1\n").unwrap();
    let e = read_tagged_any(&fake, &with_names()).unwrap_err().to_string();
    assert!(e.contains("fake.parquet: not a readable Parquet file"), "{e}");
    // JSON Lines: unequal lists, a bad tag, a tag id without names.
    let jsonl = dir.join("bad.jsonl");
    for (line, expected) in [
        (r#"{"tokens": ["a", "b"], "ner_tags": ["O"]}"#, "bad.jsonl:2: 2 tokens but 1 tags"),
        (r#"{"tokens": ["a"], "ner_tags": ["X-PER"]}"#, "bad.jsonl:2:"),
        (r#"{"tokens": ["a"], "ner_tags": [3]}"#, "bad.jsonl:2: ner_tags holds tag ids (3)"),
        (
            r#"{"tokens": ["a"], "ner_tags": ["3"]}"#,
            "(in ner_tags); it looks like a tag id written as text: give the tag names with --tag-names",
        ),
        (
            r#"{"tokens": ["a b"], "ner_tags": ["O"]}"#,
            "bad.jsonl:2: token \"a b\" is empty or holds a space, tab or line break",
        ),
    ] {
        std::fs::write(&jsonl, format!("{{\"tokens\": [\"ok\"], \"ner_tags\": [\"O\"]}}\n{line}\n")).unwrap();
        let e = read_tagged_any(&jsonl, &ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains(expected), "{line}: {e}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

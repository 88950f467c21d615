//! Bad input gets a clear error naming the file and the line, never a panic.

use std::path::Path;

use seqlab_datasets::ner::{read_conll, ConllOptions};
use seqlab_datasets::sentiment::{read_sentiment, DelimitedOptions, JsonlOptions, SentimentFormat};
use seqlab_datasets::text::Encoding;
use seqlab_datasets::{read_corpus, LabelMap, ReadOptions};

use crate::common::scratch;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn glue(path: &Path) -> String {
    read_sentiment(path, &SentimentFormat::Glue, Encoding::Utf8).unwrap_err().to_string()
}

#[test]
fn invalid_utf8_names_line_and_byte_offset_and_latin1_reads_it() {
    let dir = scratch("utf8");
    let path = write(&dir, "latin1.tsv", b"sentence\tlabel\nfine \t1\ncr\xe8me br\xfbl\xe9e \t1\n");
    let err = glue(&path);
    assert!(
        err.contains("latin1.tsv:3:") && err.contains("byte offset 25") && err.contains("--encoding latin1"),
        "{err}"
    );
    let file = read_sentiment(&path, &SentimentFormat::Glue, Encoding::Latin1).unwrap();
    assert_eq!(file.examples[1].text, "crème brûlée");
    let cp = write(&dir, "cp1252.tsv", b"sentence\tlabel\n\x93quoted\x94 \x80 \t0\n");
    let file = read_sentiment(&cp, &SentimentFormat::Glue, Encoding::Windows1252).unwrap();
    assert_eq!(file.examples[0].text, "“quoted” €");
}

#[test]
fn malformed_glue_lines() {
    let dir = scratch("glue");
    let err = glue(&write(&dir, "a.tsv", b"sentence\tlabel\ngood\t1\nno label here\n"));
    assert!(
        err.contains("a.tsv:3:")
            && err.contains("1 tab-separated fields where the header has 2")
            && err.contains("no label here"),
        "{err}"
    );
    let err = glue(&write(&dir, "b.tsv", b"text\tscore\ngood\t1\n"));
    assert!(err.contains("b.tsv:1:") && err.contains("`sentence` and `label`"), "{err}");
    let err = glue(&write(&dir, "c.tsv", b"sentence\tlabel\ngood\t \n"));
    assert!(err.contains("c.tsv:2:") && err.contains("empty label"), "{err}");
    let err = glue(&write(&dir, "empty.tsv", b""));
    assert!(err.contains("empty.tsv") && err.contains("empty file"), "{err}");
    let err = glue(&write(&dir, "header-only.tsv", b"sentence\tlabel\n"));
    assert!(err.contains("header-only.tsv") && err.contains("no examples"), "{err}");
    // Blank lines are skipped and counted, never silently.
    let file = read_sentiment(
        write(&dir, "d.tsv", b"sentence\tlabel\ngood\t1\n\nbad\t0\n"),
        &SentimentFormat::Glue,
        Encoding::Utf8,
    )
    .unwrap();
    assert_eq!(file.examples.len(), 2);
    assert_eq!(file.skipped.get("blank lines"), Some(&1));
}

#[test]
fn csv_with_quotes_and_inconsistent_columns() {
    let dir = scratch("csv");
    let csv = SentimentFormat::Delimited(DelimitedOptions::csv());
    let ok = write(&dir, "ok.csv", b"id,review,sentiment\n1,\"Great, really \"\"great\"\"\",pos\n2,Dull,neg\n");
    let file = read_sentiment(&ok, &csv, Encoding::Utf8).unwrap();
    assert_eq!(file.examples[0].text, "Great, really \"great\"");
    assert_eq!((file.examples[1].label.as_str(), file.examples[1].origin.line), ("neg", 3));
    let bad = write(&dir, "bad.csv", b"review,sentiment\nGreat,pos\nDull,neg,extra\n");
    let err = read_sentiment(&bad, &csv, Encoding::Utf8).unwrap_err().to_string();
    assert!(err.contains("bad.csv:3:") && err.contains("3 fields where the first row has 2"), "{err}");
    let named = SentimentFormat::Delimited(DelimitedOptions {
        label: Some(seqlab_datasets::sentiment::Column::Name("stars".into())),
        ..DelimitedOptions::csv()
    });
    let err = read_sentiment(&ok, &named, Encoding::Utf8).unwrap_err().to_string();
    assert!(err.contains("ok.csv:1:") && err.contains("no column named \"stars\""), "{err}");
    // Without a header: the label of the first row occurs again, so it is data.
    let headless = write(&dir, "headless.tsv", b"good film\t1\nbad film\t0\nfine\t1\n");
    let file = read_sentiment(&headless, &SentimentFormat::Delimited(DelimitedOptions::tsv()), Encoding::Utf8).unwrap();
    assert_eq!(file.examples.len(), 3);
}

#[test]
fn jsonl_errors() {
    let dir = scratch("jsonl");
    let format = SentimentFormat::Jsonl(JsonlOptions::default());
    let path = write(&dir, "a.jsonl", b"{\"text\": \"good\", \"label\": 1}\n{\"text\": \"bad\", \"label\": 0\n");
    let err = read_sentiment(&path, &format, Encoding::Utf8).unwrap_err().to_string();
    assert!(err.contains("a.jsonl:2:") && err.contains("invalid JSON"), "{err}");
    let path = write(&dir, "b.jsonl", b"{\"text\": \"good\", \"label\": true}\n{\"review\": \"bad\", \"label\": 0}\n");
    let err = read_sentiment(&path, &format, Encoding::Utf8).unwrap_err().to_string();
    assert!(err.contains("b.jsonl:2: no field \"text\" (the record has label, review)"), "{err}");
    // A line holding an array, and tagged records whose tokens are one string.
    let path = write(&dir, "c.jsonl", b"[\"good\", 1]\n");
    let err = read_sentiment(&path, &format, Encoding::Utf8).unwrap_err().to_string();
    assert!(
        err.contains(
            "c.jsonl:1: a record is one JSON object ({\"text\": \u{2026}, \"label\": \u{2026}}), not an array"
        ),
        "{err}"
    );
    let path = write(&dir, "d.jsonl", b"{\"tokens\": \"EU rejects\", \"ner_tags\": [\"B-ORG\", \"O\"]}\n");
    let err = read_sentiment(&path, &format, Encoding::Utf8).unwrap_err().to_string();
    assert!(err.contains("its \"tokens\" is one string, where tagged records give a list of tokens"), "{err}");
}

#[test]
fn conll_errors_name_file_and_line() {
    let dir = scratch("conll");
    let path = write(&dir, "a.conll", b"EU NNP I-ORG\nrejects VBZ O\n\nGerman JJ\n");
    let err = read_conll(&path, &ConllOptions::default()).unwrap_err().to_string();
    assert!(err.contains("a.conll:4:") && err.contains("2 columns where earlier lines have 3"), "{err}");
    let path = write(&dir, "b.conll", b"EU I-ORG\nrejects X-VERB\n");
    let err = read_conll(&path, &ConllOptions::default()).unwrap_err().to_string();
    assert!(err.contains("b.conll:2:") && err.contains("unknown prefix"), "{err}");
    let path = write(&dir, "empty.conll", b"\n\n");
    let err = read_conll(&path, &ConllOptions::default()).unwrap_err().to_string();
    assert!(err.contains("empty.conll") && err.contains("no sentences"), "{err}");
}

#[test]
fn unknown_labels_at_evaluation_and_missing_files() {
    let dir = scratch("labels");
    let train = LabelMap::build(["neg", "pos"]);
    let path = write(&dir, "eval.tsv", b"sentence\tlabel\ngood\tpos\nmeh\tneutral\n");
    let file = read_sentiment(&path, &SentimentFormat::Delimited(DelimitedOptions::tsv()), Encoding::Utf8).unwrap();
    let err = file
        .examples
        .iter()
        .map(|e| train.id_at(&e.label, &e.origin.path, e.origin.line))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("eval.tsv:3:") && err.contains("unknown label \"neutral\""), "{err}");
    let err = read_corpus(dir.join("absent.tsv"), &ReadOptions::default()).unwrap_err().to_string();
    assert!(err.contains("absent.tsv") && err.contains("no such file"), "{err}");
}

#[test]
fn imdb_folders() {
    let dir = scratch("imdb");
    for (label, name, text) in
        [("pos", "1_9.txt", "Loved it.<br />Really."), ("neg", "2_1.txt", "Awful."), ("unsup", "3_0.txt", "?")]
    {
        std::fs::create_dir_all(dir.join(label)).unwrap();
        std::fs::write(dir.join(label).join(name), text).unwrap();
    }
    std::fs::write(dir.join("README"), "not an example").unwrap();
    let read = read_corpus(&dir, &ReadOptions::default()).unwrap();
    assert_eq!(read.format, seqlab_datasets::Format::Imdb);
    let seqlab_datasets::Corpus::Sentiment { file, tokens } = read.corpus else { panic!("sentiment") };
    assert_eq!(file.examples.iter().map(|e| e.label.as_str()).collect::<Vec<_>>(), ["neg", "pos"]);
    assert_eq!(tokens[1], ["Loved", "it", ".", "Really", "."]);
    assert_eq!(file.skipped.get("unsup/ folder (unlabelled)"), Some(&1));
    assert_eq!(file.skipped.get("files outside label folders"), Some(&1));
}

#[test]
fn things_that_were_silently_accepted_are_refused() {
    let dir = scratch("refused");
    let read = |name: &str, bytes: &[u8]| -> String {
        let path = write(&dir, name, bytes);
        read_corpus(&path, &ReadOptions::default()).map(|_| String::new()).unwrap_or_else(|e| e.to_string())
    };
    // A header and nothing under it.
    let err = read("header-only.csv", b"text,label\n");
    assert!(err.contains("header-only.csv") && err.contains("no examples"), "{err}");
    // A GLUE label that is not a class number.
    let err = read("word.tsv", b"sentence\tlabel\ngood\t1\nbad\tpositive\n");
    assert!(err.contains("word.tsv:3:") && err.contains("not an integer"), "{err}");
    // A JSON Lines label 3.5 among integers, a name among numbers.
    let err = read(
        "float.jsonl",
        b"{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n{\"text\": \"c\", \"label\": 3.5}\n",
    );
    assert!(err.contains("float.jsonl:3:") && err.contains("\"3.5\""), "{err}");
    let err = read("mixed.csv", b"text,label\na,0\nb,1\nc,1\nd,positive\n");
    assert!(err.contains("mixed.csv:5:") && err.contains("positive"), "{err}");
    // An unclosed quote is reported where it opens.
    let err = read("quote.csv", b"text,label\n\"fine\",pos\n\"never closed,neg\nmore,pos\n");
    assert!(err.contains("quote.csv:3:") && err.contains("never closed"), "{err}");
    // A folder given as a delimited file.
    std::fs::create_dir_all(dir.join("folder.csv")).unwrap();
    let err = read_corpus(
        dir.join("folder.csv"),
        &ReadOptions { format: Some(seqlab_datasets::Format::Csv), ..Default::default() },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("a folder, not a csv file"), "{err}");
    // IMDB folders: readme.md and empty files are skipped and counted, not examples.
    let imdb = dir.join("imdb");
    for (file, text) in
        [("pos/1_9.txt", "great"), ("pos/2_8.txt", ""), ("neg/3_1.txt", "awful"), ("neg/readme.md", "notes")]
    {
        std::fs::create_dir_all(imdb.join(file).parent().unwrap()).unwrap();
        std::fs::write(imdb.join(file), text).unwrap();
    }
    let file = read_sentiment(&imdb, &SentimentFormat::Folders, Encoding::Utf8).unwrap();
    assert_eq!(file.examples.len(), 2);
    assert_eq!((file.skipped["empty files"], file.skipped["files not ending in .txt"]), (1, 1));
    // An unknown label in a folder corpus names the file, without a line 0.
    let labels = LabelMap::build(["pos"]);
    let neg = &file.examples.iter().find(|e| e.label == "neg").unwrap().origin;
    let err = labels.id_at("neg", &neg.path, neg.line).unwrap_err().to_string();
    assert!(err.contains("3_1.txt: unknown label") && !err.contains(":0"), "{err}");
}

#[test]
fn vector_rows_are_read_from_the_right_and_bad_values_are_refused_at_their_line() {
    use seqlab_datasets::text::WordVectors;
    let dir = scratch("vectors-rows");
    let wanted: std::collections::HashSet<String> =
        [". . .", "the", "new\u{a0}york", "cat"].into_iter().map(String::from).collect();
    let read = |name: &str, text: &str| WordVectors::read(write(&dir, name, text.as_bytes()), &wanted, Encoding::Utf8);
    // GloVe 840B's `. . .` and a fastText-style U+00A0 inside a word are words, not values.
    let v = read("840b.txt", ". . . 0.1 0.2\nthe 0.3 0.4\nnew\u{a0}york -1 2e-3\n").unwrap();
    assert_eq!(v.dim, 2);
    assert_eq!(v.vectors[". . ."], [0.1, 0.2]);
    assert_eq!(v.vectors["the"], [0.3, 0.4]);
    assert_eq!(v.vectors["new\u{a0}york"], [-1.0, 2e-3]);
    // A word2vec header gives the width; rows of another width are refused, naming it.
    let err = read("w2v.txt", "400 300\nthe 1 2 3 4 5 6 7 8\n").unwrap_err().to_string();
    assert!(err.contains("w2v.txt:2: 8 values where the word2vec header (line 1) says 300"), "{err}");
    // A row one value wider is not a word with a number in it.
    let err = read("wide.txt", "the 0.1 0.2\ncat 0.1 0.2 0.3\n").unwrap_err().to_string();
    assert!(err.contains("wide.txt:2: 3 values where the first vector has 2"), "{err}");
    // NaN, infinity and values that overflow the statistics are refused at their line.
    for (value, name) in [("nan", "nan.txt"), ("inf", "inf.txt"), ("3e38", "big.txt")] {
        let err = read(name, &format!("cat 0.1 0.2\nthe 0.5 {value}\n")).unwrap_err().to_string();
        assert!(err.contains(&format!("{name}:2: value {value} is not a usable vector value")), "{err}");
    }
    // An unwanted row's values are not parsed, so its NaN does no harm.
    assert_eq!(read("unwanted.txt", "dog nan 1\nthe 1 2\n").unwrap().vectors["the"], [1.0, 2.0]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn blank_texts_are_refused_at_their_line_in_every_text_format() {
    let dir = scratch("blank-texts");
    let glue_file = write(&dir, "blank.tsv", b"sentence\tlabel\ngood\t1\n   \t0\n");
    assert!(glue(&glue_file).contains("blank.tsv:3: the text is empty or only white space"), "{}", glue(&glue_file));
    let csv = write(&dir, "blank.csv", b"text,label\ngood,pos\n\"\",neg\n");
    let err = read_sentiment(&csv, &SentimentFormat::Delimited(DelimitedOptions::csv()), Encoding::Utf8)
        .unwrap_err()
        .to_string();
    assert!(err.contains("blank.csv:3:") && err.contains("empty"), "{err}");
    let jsonl = write(&dir, "blank.jsonl", b"{\"text\": \"good\", \"label\": 1}\n{\"text\": \" \", \"label\": 0}\n");
    let err = read_sentiment(&jsonl, &SentimentFormat::Jsonl(JsonlOptions::default()), Encoding::Utf8)
        .unwrap_err()
        .to_string();
    assert!(err.contains("blank.jsonl:2:") && err.contains("empty"), "{err}");
    // Read part by part (the training split), the same error.
    let err = read_corpus(&glue_file, &ReadOptions::default()).unwrap_err().to_string();
    assert!(err.contains("blank.tsv:3:"), "{err}");
}

#[test]
fn column_options_on_a_glue_file_read_it_as_the_headed_tsv_it_is() {
    let dir = scratch("glue-columns");
    let path = write(&dir, "two.tsv", b"sentence\tlabel\ngood\t1\nbad\t0\n");
    let options = ReadOptions { text_column: Some("99".into()), ..Default::default() };
    let err = read_corpus(&path, &options).unwrap_err().to_string();
    assert!(err.contains("two.tsv:2: no column 99"), "{err}");
    let swapped =
        ReadOptions { text_column: Some("label".into()), label_column: Some("sentence".into()), ..Default::default() };
    let read = read_corpus(&path, &swapped).unwrap();
    let seqlab_datasets::Corpus::Sentiment { file, .. } = read.corpus else { panic!("not a sentiment corpus") };
    assert_eq!((file.examples[0].text.as_str(), file.examples[0].label.as_str()), ("1", "good"));
}

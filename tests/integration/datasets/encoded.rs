//! Corpora larger than memory: a file read part by part gives what the whole read gives (lines
//! included), an encoded corpus gives back the items it was written with, and a damaged one is
//! refused with the file named.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataset::Dataset;
use seqlab_datasets::batch::{ClassificationItem, TaggingItem};
use seqlab_datasets::encoded::{
    names_crc32, ClassificationDataset, EncodedCorpus, EncodedWriter, Header, TaggingDataset, Task, FORMAT, VERSION,
};
use seqlab_datasets::ids::{classification_items, tagging_items};
use seqlab_datasets::ner::{ConllOptions, Sentence};
use seqlab_datasets::text::{char_vocab, Vocab, VocabConfig};
use seqlab_datasets::{read_corpus, stream_corpus_in, Corpus, Format, LabelMap, ReadOptions};

use crate::common::{crc32, scratch};

/// Examples (text, label, line) or sentences (tokens, tags, line) of a corpus.
#[derive(Debug, PartialEq)]
enum Rows {
    Texts(Vec<(String, String, usize)>, Vec<Vec<String>>),
    Sentences(Vec<(Vec<String>, Vec<String>, usize)>),
}

fn rows(corpus: Corpus) -> Rows {
    match corpus {
        Corpus::Sentiment { file, tokens } => {
            Rows::Texts(file.examples.into_iter().map(|e| (e.text, e.label, e.origin.line)).collect(), tokens)
        }
        Corpus::Tagged(f) => Rows::Sentences(f.sentences.into_iter().map(|s| (s.tokens, s.tags, s.line)).collect()),
    }
}

fn append(all: &mut Option<Rows>, part: Rows) {
    match (all, part) {
        (Some(Rows::Texts(a, t)), Rows::Texts(b, u)) => {
            a.extend(b);
            t.extend(u);
        }
        (Some(Rows::Sentences(a)), Rows::Sentences(b)) => a.extend(b),
        (all, part) => *all = Some(part),
    }
}

/// The corpus read part by part (parts of about `chunk` bytes) and the number of parts.
fn streamed(path: &Path, options: &ReadOptions, chunk: usize) -> Result<(Rows, usize), String> {
    let (mut all, mut parts) = (None, 0);
    stream_corpus_in(
        path,
        options,
        chunk,
        |_, c| Ok(rows(c)),
        |r| {
            parts += 1;
            append(&mut all, r);
            Ok(())
        },
    )
    .map_err(|e| e.to_string())?;
    Ok((all.unwrap(), parts))
}

fn whole(path: &Path, options: &ReadOptions) -> Result<Rows, String> {
    read_corpus(path, options).map(|r| rows(r.corpus)).map_err(|e| e.to_string())
}

#[test]
fn a_file_read_part_by_part_gives_the_whole_read_with_its_lines() {
    let dir = scratch("streamed");
    let many = |row: &dyn Fn(usize) -> String| (0..300).map(row).collect::<String>();
    let files = [
        ("glue.tsv", format!("sentence\tlabel\n{}", many(&|i| format!("text number {i} ok \t{}\n", i % 2)))),
        // No header: the first row's label occurs again, so it is data.
        (
            "plain.tsv",
            many(&|i| format!("words {i}\t{}\n{}", ["pos", "neg"][i % 2], if i % 7 == 0 { "\n" } else { "" })),
        ),
        // Quoted newlines and doubled quotes span what would be a line cut.
        ("quoted.csv", format!("text,label\n{}", many(&|i| format!("\"line {i}\nwith \"\"quotes\"\"\",{}\n", i % 3)))),
        ("rows.jsonl", many(&|i| format!("{{\"text\": \"t {i}\", \"label\": {}}}\n", i % 2))),
        ("ner.conll", format!("-DOCSTART- O\n\n{}", many(&|i| format!("w{i} B-PER\nx I-PER\n\n")))),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, &text).unwrap();
        let options = ReadOptions::default();
        let expected = whole(&path, &options).unwrap();
        for chunk in [1, 37, 500, 1 << 20] {
            let (got, parts) = streamed(&path, &options, chunk).unwrap();
            assert_eq!(got, expected, "{name} in parts of {chunk} bytes");
            if chunk == 500 {
                assert!(parts > 5, "{name}: {parts} parts");
            }
        }
    }
    // An error in a late part names the file's line, as the whole read does.
    let path = dir.join("late.tsv");
    std::fs::write(&path, format!("sentence\tlabel\n{}broken row\n", "fine\t1\n".repeat(400))).unwrap();
    let expected = whole(&path, &ReadOptions::default()).unwrap_err();
    assert!(expected.contains("late.tsv:402:"), "{expected}");
    assert_eq!(streamed(&path, &ReadOptions::default(), 64).unwrap_err(), expected);
    let path = dir.join("late.conll");
    std::fs::write(&path, format!("{}a B-X extra\n", "a O\n\n".repeat(300))).unwrap();
    let err = streamed(&path, &ReadOptions::default(), 64).unwrap_err();
    assert!(err.contains("late.conll:601:") && err.contains("3 columns where earlier lines have 2"), "{err}");
    // Mixed label kinds across parts are caught over the whole file.
    let path = dir.join("kinds.tsv");
    std::fs::write(&path, format!("sentence\tlabel\n{}odd\tpositive\n", "t\t1\n".repeat(300))).unwrap();
    let tsv = ReadOptions { format: Some(Format::Tsv), ..ReadOptions::default() };
    let err = streamed(&path, &tsv, 64).unwrap_err();
    assert!(
        err.contains("kinds.tsv:302:") && err.contains("label \"positive\", where 300 of the 301 labels are integers"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn header(task: Task, vocab: &Vocab, labels: &LabelMap) -> Header {
    Header {
        format: FORMAT.into(),
        version: VERSION,
        task,
        examples: 0,
        tokens: 0,
        text_bytes: 0,
        source: "test".into(),
        fingerprint: Default::default(),
        vocab_len: vocab.len() as u64,
        vocab_crc32: names_crc32(vocab.tokens.iter().map(String::as_str)),
        labels_len: labels.len() as u64,
        labels_crc32: names_crc32(labels.names.iter().map(String::as_str)),
        arrays: Default::default(),
    }
}

#[test]
fn an_encoded_corpus_gives_back_the_items_it_was_written_with() {
    let dir = scratch("encoded");
    // Classification: the items equal `classification_items` of the same texts.
    let texts = ReadOptions::default();
    let glue = dir.join("train.tsv");
    std::fs::write(&glue, "sentence\tlabel\nthe cat sat\t1\nsat\t0\na dog , a cat\t0\nzebra\t1\n").unwrap();
    let Corpus::Sentiment { file, tokens } = read_corpus(&glue, &texts).unwrap().corpus else { panic!() };
    let vocab =
        Vocab::build(tokens.iter().flatten().map(String::as_str), &VocabConfig { min_freq: 2, ..Default::default() });
    let labels = LabelMap::build(file.examples.iter().map(|e| e.label.as_str()));
    let mut items = classification_items(&file.examples, &tokens, &vocab, &labels).unwrap();
    // An example of no tokens (the readers refuse blank texts; the format still holds one).
    items.push(ClassificationItem { ids: Vec::new(), label: 0 });
    let out = dir.join("cls");
    let mut writer = EncodedWriter::create(&out, header(Task::Classification, &vocab, &labels)).unwrap();
    items.iter().for_each(|i| writer.push_labelled(&i.ids, i.label).unwrap());
    assert!(!out.exists(), "nothing at the path before finish");
    let written = writer.finish().unwrap();
    assert_eq!((written.examples, written.tokens), (5, 10));
    let corpus = Arc::new(EncodedCorpus::open(&out).unwrap());
    assert_eq!(corpus.lengths(), [3, 1, 5, 1, 0]);
    let dataset = ClassificationDataset::new(corpus);
    let back: Vec<ClassificationItem> = (0..dataset.len()).map(|i| dataset.get(i).unwrap()).collect();
    assert_eq!(back, items);
    assert!(dataset.get(5).is_none());

    // Tagging: ids, tags, casing and characters as `tagging_items` makes them.
    let sentences = vec![
        Sentence { tokens: tok("Peter saw EU délégués"), tags: tok("B-PER O B-ORG O"), extra: vec![], line: 1 },
        Sentence { tokens: tok("1996 !"), tags: tok("O O"), extra: vec![], line: 6 },
    ];
    let words = Vocab::build(
        sentences.iter().flat_map(|s| s.tokens.iter().map(String::as_str)),
        &VocabConfig { lowercase: true, ..Default::default() },
    );
    let chars = char_vocab(["Peter", "saw"], 1);
    let tags = LabelMap::build_tags(["O", "B-PER", "B-ORG"]);
    let expected: Vec<TaggingItem> =
        tagging_items(&sentences, Path::new("t"), &words, &tags, true, Some(&chars)).unwrap();
    let out = dir.join("tag");
    let mut writer = EncodedWriter::create(&out, header(Task::Tagging, &words, &tags)).unwrap();
    for (s, item) in sentences.iter().zip(&expected) {
        writer.push_tagged(&item.ids, &item.tags, &s.tokens).unwrap();
    }
    writer.finish().unwrap();
    let corpus = Arc::new(EncodedCorpus::open(&out).unwrap());
    assert_eq!(corpus.tokens(0).collect::<Vec<_>>(), sentences[0].tokens);
    let dataset = TaggingDataset::new(corpus, true, Some(Arc::new(chars)));
    assert_eq!((0..2).map(|i| dataset.get(i).unwrap()).collect::<Vec<_>>(), expected);
    let _ = ConllOptions::default();
    std::fs::remove_dir_all(dir).unwrap();
}

fn tok(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

#[test]
fn a_damaged_or_foreign_encoded_corpus_is_refused_naming_the_file() {
    let dir = scratch("encoded-damaged");
    let vocab = Vocab::build(["a", "b"], &VocabConfig::default());
    let labels = LabelMap::build(["0", "1"]);
    let make = |name: &str| {
        let out = dir.join(name);
        let mut writer = EncodedWriter::create(&out, header(Task::Classification, &vocab, &labels)).unwrap();
        writer.push_labelled(&[2, 3, 2], 1).unwrap();
        writer.push_labelled(&[3], 0).unwrap();
        writer.finish().unwrap();
        out
    };
    let open = |dir: &Path| EncodedCorpus::open(dir).unwrap_err().to_string();
    // Writes `bytes` as the array `name` and records their CRC-32 in the header, as a writer
    // of another (buggy or hostile) program would: the checks after the checksum see them.
    let rewrite = |out: &Path, name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes).unwrap();
        let path = out.join("header.json");
        let mut header: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        header["arrays"][name] = crc32(bytes).into();
        std::fs::write(&path, header.to_string()).unwrap();
    };
    // One byte changed, 30 ids moved by one inside the vocabulary, labels reversed: the same
    // sizes and valid ids, each caught by its array's CRC-32.
    for (name, change) in [
        ("ids.u32", (|b: &mut Vec<u8>| b[0] ^= 1) as fn(&mut Vec<u8>)),
        ("labels.u32", |b: &mut Vec<u8>| b.reverse()),
        ("offsets.u64", |b: &mut Vec<u8>| b[8] ^= 3),
    ] {
        let out = make(&format!("changed-{}", name.replace('.', "-")));
        let mut bytes = std::fs::read(out.join(name)).unwrap();
        let recorded = crc32(&bytes);
        change(&mut bytes);
        std::fs::write(out.join(name), &bytes).unwrap();
        let err = open(&out);
        let expected = format!(
            "{name}: changed since it was encoded (CRC-32 {:08x}, header.json recorded {recorded:08x})",
            crc32(&bytes)
        );
        assert!(err.contains(&expected), "{err}");
    }
    // A header written before the checksums were recorded.
    let out = make("no-checksums");
    let path = out.join("header.json");
    let mut old: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("arrays");
    std::fs::write(&path, old.to_string()).unwrap();
    assert!(open(&out).contains("records no CRC-32 for it (a corpus written by an earlier seqlab)"), "{}", open(&out));
    // Truncated ids.
    let out = make("truncated");
    let ids = out.join("ids.u32");
    let bytes = std::fs::read(&ids).unwrap();
    std::fs::write(&ids, &bytes[..10]).unwrap();
    let err = open(&out);
    assert!(err.contains("ids.u32: 10 bytes where header.json implies 16") && err.contains("truncated"), "{err}");
    // An id past the vocabulary.
    let out = make("foreign-id");
    let mut bytes = std::fs::read(out.join("ids.u32")).unwrap();
    bytes[4..8].copy_from_slice(&99u32.to_le_bytes());
    rewrite(&out, "ids.u32", &bytes);
    let err = open(&out);
    assert!(err.contains("ids.u32: word id 99 at position 1 is outside the 4 of the header"), "{err}");
    // Offsets that run backwards.
    let out = make("offsets");
    let mut bytes = std::fs::read(out.join("offsets.u64")).unwrap();
    bytes[8..16].copy_from_slice(&5u64.to_le_bytes());
    rewrite(&out, "offsets.u64", &bytes);
    let err = open(&out);
    assert!(err.contains("offsets.u64: offset 1 is past offset 2"), "{err}");
    // Another format's header, and no header at all (a half-written folder).
    let out = make("version");
    let text = std::fs::read_to_string(out.join("header.json")).unwrap().replace("\"version\": 1", "\"version\": 7");
    std::fs::write(out.join("header.json"), text).unwrap();
    let err = open(&out);
    assert!(err.contains("header.json: format \"seqlab-encoded-corpus\" version 7"), "{err}");
    let out = make("partial");
    std::fs::remove_file(out.join("header.json")).unwrap();
    assert!(open(&out).contains("header.json: cannot read"), "{}", open(&out));
    std::fs::write(out.join("header.json"), "{\"not\": 1}").unwrap();
    assert!(open(&out).contains("not an encoded corpus header"), "{}", open(&out));
    // An abandoned writer leaves nothing at the path.
    let out = dir.join("abandoned");
    let mut writer = EncodedWriter::create(&out, header(Task::Classification, &vocab, &labels)).unwrap();
    writer.push_labelled(&[2], 0).unwrap();
    writer.abandon();
    assert!(!out.exists() && !dir.join("abandoned.partial").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

//! Format inference.

use seqlab_datasets::{infer_format, Format};

use crate::common::scratch;

#[test]
fn infers_each_format_and_says_why() {
    let dir = scratch("infer");
    let cases: [(&str, &str, Format); 5] = [
        ("a.tsv", "sentence\tlabel\ngood \t1\n", Format::Glue),
        ("b.txt", "sentence    label\ngood\t1\n", Format::Glue),
        ("c.txt", "-DOCSTART- -X- O O\n\nEU NNP I-NP B-ORG\nsays VBZ I-VP O\n", Format::Conll),
        ("d.json", "{\"text\": \"x\", \"label\": 1}\n", Format::Jsonl),
        ("e.data", "good film\t1\nbad\t0\n", Format::Tsv),
    ];
    for (name, text, format) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (found, why) = infer_format(&path).unwrap();
        assert_eq!(found, format, "{name}: {why}");
        assert!(!why.is_empty());
    }
    assert_eq!(infer_format(&dir.join("a.tsv").with_extension("csv")).map(|f| f.0).ok(), Some(Format::Csv));
    std::fs::write(dir.join("f.txt"), "just some prose\nwithout structure\n").unwrap();
    assert!(infer_format(&dir.join("f.txt")).unwrap_err().to_string().contains("--format"));
}

/// A named pipe is read once into a copy that the readers can open twice (format, then records),
/// and the copy goes with the spool; files and missing paths are left as given.
#[test]
fn a_read_once_input_is_spooled_into_a_file_that_reads_like_it() {
    let dir = scratch("spool");
    let fifo = dir.join("pipe.tsv");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let text = "sentence\tlabel\ngood film\t1\nbad film\t0\n";
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
    };
    let mut spool = seqlab_bins::spool::Spool::default();
    let copy = spool.readable_again("--train", fifo.display().to_string()).unwrap();
    writer.join().unwrap();
    assert_ne!(copy, fifo.display().to_string());
    let read = seqlab_datasets::read_corpus(&copy, &seqlab_datasets::ReadOptions::default()).unwrap();
    let seqlab_datasets::Corpus::Sentiment { file, .. } = read.corpus else { panic!("not sentiment") };
    assert_eq!(file.examples.len(), 2);
    let plain = dir.join("plain.tsv");
    std::fs::write(&plain, text).unwrap();
    assert_eq!(spool.readable_again("--valid", plain.display().to_string()).unwrap(), plain.display().to_string());
    assert_eq!(spool.readable_again("--test", "embedded:sentiment/test".into()).unwrap(), "embedded:sentiment/test");
    drop(spool);
    assert!(!std::path::Path::new(&copy).exists(), "the copy is removed with the spool");
}

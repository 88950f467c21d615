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

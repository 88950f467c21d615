//! Training from encoded corpora: the same model from a Parquet file as from its CoNLL or GLUE
//! twin, and the cached encoded split used again only while it is the source's.

use seqlab_datasets::Validation;
use std::path::Path;

use seqlab_datasets::encoded::Header;
use seqlab_datasets::text::Tokenizer;
use seqlab_training::classifier::{train_classifier, ClassifierRunConfig};
use seqlab_training::tagger::{train_tagger, TaggerRunConfig};

use super::classifier::tiny_classifier;
use super::tagger::tiny_tagger;
use crate::common::*;

fn names() -> Vec<String> {
    std::fs::read_to_string(fixture_path("records/ner-names.txt")).unwrap().lines().map(String::from).collect()
}

#[test]
fn a_tagger_trained_from_parquet_equals_one_trained_from_conll() {
    let dir = scratch("records-tagger");
    let config = |name: &str, file: &str| TaggerRunConfig {
        train: fixture_path(file),
        valid: Validation::File(fixture_path(file)),
        test: None,
        tag_names: Some(names()),
        ..tiny_tagger(&dir.join(name))
    };
    let device = Default::default();
    let conll = train_tagger::<TestAutodiff>(&config("conll", "records/ner.conll"), &device).unwrap();
    let parquet = train_tagger::<TestAutodiff>(&config("parquet", "records/ner.parquet"), &device).unwrap();
    let jsonl = train_tagger::<TestAutodiff>(&config("jsonl", "records/ner.jsonl"), &device).unwrap();
    assert!(conll.valid.f1 > 0.0, "{:?}", conll.valid);
    for other in [&parquet, &jsonl] {
        assert_eq!(serde_json::to_string(&other.valid).unwrap(), serde_json::to_string(&conll.valid).unwrap());
    }
    let read = |name: &str, file: &str| std::fs::read_to_string(dir.join(name).join(file)).unwrap();
    for name in ["parquet", "jsonl"] {
        for file in ["vocab.json", "tags.json", "chars.json"] {
            assert_eq!(read(name, file), read("conll", file), "{name}: {file}");
        }
        assert_eq!(log(&dir.join(name)), log(&dir.join("conll")), "{name}: log.csv");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_classifier_trained_from_parquet_equals_one_trained_from_glue() {
    let dir = scratch("records-classifier");
    let config = |name: &str, file: &str| ClassifierRunConfig {
        train: fixture_path(file),
        valid: Validation::File(fixture_path(file)),
        test: None,
        tokenizer: Some(Tokenizer::Whitespace),
        lowercase: Some(true),
        ..tiny_classifier(&dir.join(name))
    };
    let device = Default::default();
    let glue = train_classifier::<TestAutodiff>(&config("glue", "records/sentiment.tsv"), &device).unwrap();
    let parquet = train_classifier::<TestAutodiff>(&config("parquet", "records/sentiment.parquet"), &device).unwrap();
    assert_eq!(serde_json::to_string(&parquet.valid).unwrap(), serde_json::to_string(&glue.valid).unwrap());
    assert_eq!(log(&dir.join("parquet")), log(&dir.join("glue")));
    std::fs::remove_dir_all(dir).unwrap();
}

/// `log.csv` without its two timing columns (seconds, examples per second).
fn log(artifacts: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(artifacts.join("log.csv")).unwrap();
    text.lines().map(|l| l.rsplitn(3, ',').nth(2).unwrap_or(l).to_string()).collect()
}

fn header(artifacts: &Path) -> (Header, std::time::SystemTime) {
    let path = artifacts.join("corpus/train/header.json");
    let text = std::fs::read_to_string(&path).unwrap();
    (serde_json::from_str(&text).unwrap(), std::fs::metadata(&path).unwrap().modified().unwrap())
}

#[test]
fn the_encoded_split_is_used_again_only_while_it_is_the_sources() {
    let dir = scratch("corpus-cache");
    let train = dir.join("train.tsv");
    let rows: String =
        (0..200).map(|i| format!("{} movie {}\t{}\n", ["good", "bad"][i % 2], i % 7, (i + 1) % 2)).collect();
    std::fs::write(&train, format!("sentence\tlabel\n{rows}")).unwrap();
    let artifacts = dir.join("art");
    let mut config = ClassifierRunConfig { train: train.display().to_string(), ..tiny_classifier(&artifacts) };
    let device = Default::default();
    train_classifier::<TestAutodiff>(&config, &device).unwrap();
    let (first, written) = header(&artifacts);
    let bytes = std::fs::read(&train).unwrap();
    assert_eq!((first.examples, first.fingerprint.bytes), (200, bytes.len() as u64));
    assert_eq!(first.fingerprint.crc32, crc32(&bytes));
    // Unchanged: resumed without encoding again.
    config.training.resume = true;
    config.training.epochs = 2;
    train_classifier::<TestAutodiff>(&config, &device).unwrap();
    assert_eq!(header(&artifacts).1, written, "the cached corpus was used again");
    // Labels flipped (same size, same vocabulary): --resume refuses the changed data by name.
    let flipped = String::from_utf8(bytes.clone())
        .unwrap()
        .replace("\t1\n", "\tX\n")
        .replace("\t0\n", "\t1\n")
        .replace("\tX\n", "\t0\n");
    std::fs::write(&train, &flipped).unwrap();
    config.training.epochs = 3;
    let err = train_classifier::<TestAutodiff>(&config, &device).unwrap_err().to_string();
    assert!(err.contains("--train changed since this run began"), "{err}");
    // The cache, encoded from the changed file on the way, is a cache of that file now; put back,
    // the source is encoded again.
    let (after, _) = header(&artifacts);
    assert_eq!(after.fingerprint.crc32, crc32(flipped.as_bytes()));
    std::fs::write(&train, &bytes).unwrap();
    train_classifier::<TestAutodiff>(&config, &device).unwrap();
    assert_eq!(header(&artifacts).0.fingerprint.crc32, first.fingerprint.crc32);
    // A damaged cache is written again, not read.
    let ids = artifacts.join("corpus/train/ids.u32");
    let size = std::fs::metadata(&ids).unwrap().len();
    std::fs::write(&ids, b"junk").unwrap();
    config.training.epochs = 4;
    train_classifier::<TestAutodiff>(&config, &device).unwrap();
    assert_eq!(std::fs::metadata(&ids).unwrap().len(), size);
    assert!(!artifacts.join("corpus/train.partial").exists());
    // One byte of the ids changed, the size and every id still valid: its CRC-32 tells, and the
    // cache is encoded again rather than trained on.
    let good = std::fs::read(&ids).unwrap();
    let mut changed = good.clone();
    changed[0] ^= 1;
    std::fs::write(&ids, &changed).unwrap();
    config.training.epochs = 5;
    train_classifier::<TestAutodiff>(&config, &device).unwrap();
    assert_eq!(std::fs::read(&ids).unwrap(), good, "encoded again from the source");
    std::fs::remove_dir_all(dir).unwrap();
}

//! The embedded corpora: deterministic, balanced, distinct across splits, valid IOB2, and read
//! by the same loaders as real files.

use std::collections::HashSet;
use std::path::Path;

use seqlab_datasets::embedded::{ner, sentiment, Split};
use seqlab_datasets::ner::{parse_conll, spans, validate, ConllOptions, TagScheme};

const SPLITS: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

#[test]
fn sentiment_corpus_is_deterministic_balanced_and_split_cleanly() {
    let mut seen = HashSet::new();
    for split in SPLITS {
        let text = sentiment::sentiment(split);
        assert_eq!(text, sentiment::sentiment(split), "deterministic");
        let rows: Vec<&str> = text.lines().skip(1).collect();
        let expected = sentiment::SIZES[SPLITS.iter().position(|s| *s == split).unwrap()];
        assert_eq!(rows.len(), expected);
        let positive = rows.iter().filter(|r| r.ends_with("\t1")).count() as f64 / rows.len() as f64;
        assert!((0.4..0.6).contains(&positive), "{split:?}: {positive:.2} positive");
        for r in &rows {
            assert!(seen.insert(r.split('\t').next().unwrap().to_string()), "duplicate across splits: {r}");
        }
    }
    // Word order decides: some sentences differ from another only by order ("X, but Y").
    let train = sentiment::sentiment(Split::Train);
    assert!(train.contains(", but it"), "contrast sentences are there");
    assert!(train.lines().any(|l| l.contains(" not ") || l.contains(" hardly ")), "negation is there");
}

#[test]
fn ner_corpus_is_valid_iob2_with_all_four_types() {
    let mut seen = HashSet::new();
    for split in SPLITS {
        let text = ner::ner(split);
        let file = parse_conll(&text, Path::new("embedded"), &ConllOptions::default()).unwrap();
        assert_eq!(file.sentences.len(), ner::SIZES[SPLITS.iter().position(|s| *s == split).unwrap()]);
        let mut types = HashSet::new();
        for s in &file.sentences {
            assert!(validate(&s.tags, TagScheme::Iob2).is_empty(), "invalid IOB2: {:?}", s.tags);
            types.extend(spans(&s.tags).into_iter().map(|sp| sp.label));
            assert!(seen.insert(s.tokens.join(" ")), "duplicate across splits");
        }
        assert_eq!(types.len(), 4, "{split:?}: {types:?}");
    }
}

#[test]
fn embedded_pseudo_paths_read_through_the_same_loaders() {
    use seqlab_datasets::{read_corpus, Corpus, Format, ReadOptions};
    let read = read_corpus("embedded:sentiment/valid", &ReadOptions::default()).unwrap();
    assert_eq!(read.format, Format::Glue);
    let Corpus::Sentiment { file, tokens } = read.corpus else { panic!("sentiment") };
    assert_eq!((file.examples.len(), tokens.len()), (1000, 1000));
    let read = read_corpus("embedded:ner/train", &ReadOptions::default()).unwrap();
    let Corpus::Tagged(file) = read.corpus else { panic!("tagged") };
    assert_eq!(file.sentences.len(), 3000);
    let err = read_corpus("embedded:ner/holdout", &ReadOptions::default()).unwrap_err().to_string();
    assert!(err.contains("embedded:ner/holdout") && err.contains("SPLIT train, valid or test"), "{err}");
}

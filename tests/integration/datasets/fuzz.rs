//! The loaders under random damage: random bytes, truncations and edits of real files, through
//! a fixed-seed generator. Every case must give `Ok` or a `DataError`, never a panic.

use seqlab_datasets::{read_corpus, Format, ReadOptions};

use crate::common::scratch;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random change: truncate, delete, duplicate or overwrite a span, insert special bytes.
fn damage(rng: &mut Rng, bytes: &mut Vec<u8>) {
    const SPECIAL: [&[u8]; 10] =
        [b"\t", b"\n", b"\"", b",", b"{", b"}", b"\xff", b"\xe2\x82", b" -DOCSTART- O\n", b"\n\n"];
    let len = bytes.len();
    let at = rng.below(len + 1);
    match rng.below(6) {
        0 => bytes.truncate(at),
        1 => {
            let end = (at + rng.below(40)).min(len);
            bytes.drain(at..end);
        }
        2 => {
            let end = (at + rng.below(40)).min(len);
            let copy = bytes[at..end].to_vec();
            bytes.splice(at..at, copy);
        }
        3 => {
            for b in bytes.iter_mut().skip(at).take(rng.below(8) + 1) {
                *b = rng.next() as u8;
            }
        }
        4 => {
            let special = SPECIAL[rng.below(SPECIAL.len())];
            bytes.splice(at..at, special.iter().copied());
        }
        _ => *bytes = (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
    }
}

#[test]
fn loaders_never_panic_on_damaged_files() {
    let dir = scratch("fuzz");
    std::fs::create_dir_all(&dir).unwrap();
    let head = |name: &str, lines: usize| -> Vec<u8> {
        let text = crate::common::embedded_text(name);
        text.lines().take(lines).collect::<Vec<_>>().join("\n").into_bytes()
    };
    let glue = head("sentiment/valid", 12);
    let conll = head("ner/valid", 40);
    let csv = b"text,label\n\"a \"\"quoted\"\" film\",pos\nplain words,neg\n\"multi\nline\",pos\n".to_vec();
    let jsonl = b"{\"text\": \"good\", \"label\": 1}\n{\"text\": \"bad\", \"label\": 0}\n{\"text\": \"so-so\", \"label\": true}\n".to_vec();
    let seeds: [(&[u8], &str, Format); 6] = [
        (&glue, "x.tsv", Format::Glue),
        (&glue, "y.tsv", Format::Tsv),
        (&conll, "z.conll", Format::Conll),
        (&csv, "w.csv", Format::Csv),
        (&jsonl, "v.jsonl", Format::Jsonl),
        (&conll, "u.txt", Format::Conll), // read with the format inferred
    ];
    let mut rng = Rng(2026);
    let (mut ok, mut errors) = (0, 0);
    for case in 0..3000 {
        let (seed, name, format) = seeds[case % seeds.len()];
        let mut bytes = seed.to_vec();
        for _ in 0..1 + rng.below(3) {
            damage(&mut rng, &mut bytes);
        }
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let options = ReadOptions { format: (name != "u.txt").then_some(format), ..Default::default() };
        let result = std::panic::catch_unwind(|| read_corpus(&path, &options));
        match result {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(e)) => {
                assert!(e.to_string().contains(name), "case {case}: the error names the file: {e}");
                errors += 1;
            }
            Err(_) => panic!("case {case}: {name} as {format:?} panicked on {:?}", String::from_utf8_lossy(&bytes)),
        }
    }
    assert!(ok > 100 && errors > 100, "both outcomes exercised: {ok} ok, {errors} errors");
}

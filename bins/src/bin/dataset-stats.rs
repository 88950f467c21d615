//! `dataset-stats`: statistics of a sentiment or NER file (see `--help`).
fn main() {
    eprintln!("dataset-stats is not implemented yet");
    std::process::exit(2);
}

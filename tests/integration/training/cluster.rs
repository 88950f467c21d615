//! Training across processes (`--nodes`, burn-collective on loopback): 2 and 3 processes end
//! with bit-identical weights that equal one process trained on the combined batches, for a
//! classifier and a tagger (whose loss is a mean over real tokens, so the nodes' gradients are
//! weighed by their tokens); a node killed mid-run stops the others within the time-out, and
//! the run resumes on fewer nodes; a node with other options is refused.
//!
//! Each node is this test binary run again (`cluster_node`, ignored otherwise) with its part in
//! `SEQLAB_CLUSTER_NODE`, one thread each; a watchdog kills any that outlive the test's limit.

use seqlab_datasets::Validation;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use seqlab_training::classifier::{train_classifier, ClassifierRunConfig};
use seqlab_training::cluster::ClusterConfig;
use seqlab_training::inference::{load, Loaded};
use seqlab_training::learner::TrainingConfig;
use seqlab_training::optim::OptimConfig;
use seqlab_training::tagger::{train_tagger, TaggerRunConfig};

use crate::common::*;

/// One node's part, passed to [`cluster_node`] as `task;dir;data;batch;epochs;nodes;rank;coordinator;node;timeout;resume`.
#[derive(Debug, Clone)]
struct Part {
    task: &'static str,
    dir: PathBuf,
    data: PathBuf,
    batch: usize,
    epochs: usize,
    cluster: Option<ClusterConfig>,
    resume: bool,
}

impl Part {
    fn encode(&self) -> String {
        let c = self.cluster.as_ref().unwrap();
        format!(
            "{};{};{};{};{};{};{};{};{};{};{}",
            self.task,
            self.dir.display(),
            self.data.display(),
            self.batch,
            self.epochs,
            c.nodes,
            c.rank,
            c.coordinator,
            c.node,
            c.timeout.as_secs(),
            self.resume
        )
    }

    fn decode(text: &str) -> Self {
        let f: Vec<&str> = text.split(';').collect();
        Self {
            task: if f[0] == "tagger" { "tagger" } else { "classifier" },
            dir: f[1].into(),
            data: f[2].into(),
            batch: f[3].parse().unwrap(),
            epochs: f[4].parse().unwrap(),
            cluster: Some(ClusterConfig {
                nodes: f[5].parse().unwrap(),
                rank: f[6].parse().unwrap(),
                coordinator: f[7].parse().unwrap(),
                node: f[8].parse().unwrap(),
                timeout: Duration::from_secs(f[9].parse().unwrap()),
            }),
            resume: f[10] == "true",
        }
    }

    fn training(&self) -> TrainingConfig {
        TrainingConfig {
            epochs: self.epochs,
            batch_size: self.batch,
            optim: OptimConfig { learning_rate: 0.05, ..Default::default() },
            seed: 11,
            resume: self.resume,
            cluster: self.cluster.clone(),
            ..Default::default()
        }
    }

    fn classifier(&self) -> ClassifierRunConfig {
        let data = self.data.display().to_string();
        ClassifierRunConfig {
            train: data.clone(),
            valid: Validation::File(data),
            test: None,
            training: self.training(),
            ..super::classifier::tiny_classifier(&self.dir)
        }
    }

    fn tagger(&self) -> TaggerRunConfig {
        let data = self.data.display().to_string();
        TaggerRunConfig {
            train: data.clone(),
            valid: Validation::File(data),
            test: None,
            word_dropout: 0.0,
            training: self.training(),
            ..super::tagger::tiny_tagger(&self.dir)
        }
    }

    /// Trains in this process.
    fn train(&self) {
        let device = Default::default();
        if self.task == "tagger" {
            train_tagger::<TestAutodiff>(&self.tagger(), &device).unwrap();
        } else {
            train_classifier::<TestAutodiff>(&self.classifier(), &device).unwrap();
        }
    }
}

/// A node of the tests below: trains its part and exits 0, or prints the error and exits 1.
#[test]
#[ignore = "run by the cluster tests, in a process of its own"]
fn cluster_node() {
    let Ok(text) = std::env::var("SEQLAB_CLUSTER_NODE") else { return };
    let part = Part::decode(&text);
    let device = Default::default();
    let result = if part.task == "tagger" {
        train_tagger::<TestAutodiff>(&part.tagger(), &device).map(|_| ())
    } else {
        train_classifier::<TestAutodiff>(&part.classifier(), &device).map(|_| ())
    };
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The parts of `nodes` nodes training `task` on `data` into `root/{name}-{rank}`.
fn parts(
    task: &'static str,
    root: &Path,
    name: &str,
    data: &Path,
    batch: usize,
    epochs: usize,
    nodes: usize,
) -> Vec<Part> {
    let coordinator = SocketAddr::from(([127, 0, 0, 1], free_port()));
    (0..nodes)
        .map(|rank| Part {
            task,
            dir: root.join(format!("{name}-{rank}")),
            data: data.to_path_buf(),
            batch,
            epochs,
            cluster: Some(ClusterConfig {
                nodes,
                rank,
                coordinator,
                node: SocketAddr::from(([127, 0, 0, 1], free_port())),
                timeout: Duration::from_secs(20),
            }),
            resume: false,
        })
        .collect()
}

fn spawn(part: &Part) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "training::cluster::cluster_node", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("SEQLAB_CLUSTER_NODE", part.encode())
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for every child up to `limit` (then kills the rest): each one's exit code (`None`:
/// killed) and its standard error.
fn wait_all(children: Vec<Child>, limit: Duration) -> Vec<(Option<i32>, String)> {
    let deadline = Instant::now() + limit;
    let mut children = children;
    loop {
        if children.iter_mut().all(|c| c.try_wait().unwrap().is_some()) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    children
        .into_iter()
        .map(|mut c| {
            let _ = c.kill();
            let output = c.wait_with_output().unwrap();
            (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
        })
        .collect()
}

/// Runs the nodes of `parts` to the end; panics with their errors if any fails.
fn run_nodes(parts: &[Part]) {
    let results = wait_all(parts.iter().map(spawn).collect(), Duration::from_secs(300));
    let failed = results.iter().any(|(code, _)| *code != Some(0));
    let report: Vec<String> = parts
        .iter()
        .zip(&results)
        .map(|(p, (code, stderr))| format!("{} exited {code:?}: {stderr}", p.encode()))
        .collect();
    assert!(!failed, "{}", report.join("\n"));
}

/// Every float parameter's values, in visiting order.
struct Collect(Vec<f32>);

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.extend(values(&param.val()));
    }
}

fn weights(dir: &Path) -> Vec<f32> {
    let mut collect = Collect(Vec::new());
    match load::<TestBackend>(dir, &Default::default()).unwrap() {
        Loaded::Classifier(c) => c.model.visit(&mut collect),
        Loaded::Tagger(t) => t.model.visit(&mut collect),
    }
    collect.0
}

fn write_classifier_data(path: &Path, examples: usize) {
    let words = ["good", "bad", "fine film", "awful plot", "great", "dull and long", "a joy", "weak", "superb cast"];
    let tsv: String = std::iter::once("sentence\tlabel".to_string())
        .chain((0..examples).map(|i| format!("{} {}\t{}", words[i % words.len()], words[(i / 3) % words.len()], i % 2)))
        .map(|l| l + "\n")
        .collect();
    std::fs::write(path, tsv).unwrap();
}

/// Sentences of 2 to 9 tokens: the nodes' batches hold different numbers of real tokens.
fn write_tagger_data(path: &Path, sentences: usize) {
    let tokens = [("EU", "B-ORG"), ("rejects", "O"), ("German", "B-MISC"), ("Peter", "B-PER"), ("Blackburn", "I-PER")];
    let mut text = String::new();
    for s in 0..sentences {
        for t in 0..(2 + (s * 5) % 8) {
            let (word, tag) = tokens[(s + t) % tokens.len()];
            let tag = if tag == "I-PER" && (s + t) % tokens.len() == 0 { "B-PER" } else { tag };
            let tag = if tag == "I-PER" && t == 0 { "B-PER" } else { tag };
            text.push_str(&format!("{word} {tag}\n"));
        }
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// 2 and 3 nodes against one process with the combined batch, per task: one optimiser step an
/// epoch (the batches of all nodes make up the whole split), two epochs.
#[test]
fn two_and_three_nodes_equal_one_process_on_the_combined_batches() {
    let root = scratch("cluster");
    let classifier_data = root.join("train.tsv");
    write_classifier_data(&classifier_data, 24);
    let tagger_data = root.join("train.conll");
    write_tagger_data(&tagger_data, 12);
    for (task, data, examples) in [("classifier", &classifier_data, 24), ("tagger", &tagger_data, 12)] {
        let single =
            Part { cluster: None, ..parts(task, &root, &format!("{task}-single"), data, examples, 2, 2)[0].clone() };
        single.train();
        let expected = weights(&single.dir);
        for nodes in [2, 3] {
            let parts = parts(task, &root, &format!("{task}-{nodes}"), data, examples / nodes, 2, nodes);
            run_nodes(&parts);
            let first = weights(&parts[0].dir);
            for part in &parts[1..] {
                assert!(
                    weights(&part.dir) == first,
                    "{task}, {nodes} nodes: rank {} differs from rank 0",
                    part.encode()
                );
            }
            let worst = first.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst < 1e-6, "{task}, {nodes} nodes: {worst} from one process on the combined batches");
        }
    }
}

/// Waits until `path` (a node's `progress.json`) records at least `epochs` epochs.
fn wait_for_epochs(path: &Path, epochs: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while seqlab_training::epochs::Progress::load(path).ok().flatten().is_none_or(|p| p.last_epoch < epochs) {
        assert!(Instant::now() < deadline, "{} completed no epoch in time", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kill one of three nodes mid-run: the other two stop within the time-out with an error naming
/// themselves and the step; the run then resumes on two nodes, which end bit-identical.
#[test]
fn a_node_killed_mid_run_stops_the_others_and_the_run_resumes_on_two() {
    let root = scratch("cluster-fault");
    let data = root.join("train.tsv");
    write_classifier_data(&data, 600);
    let mut three = parts("classifier", &root, "fault", &data, 4, 30, 3);
    for part in &mut three {
        part.cluster.as_mut().unwrap().timeout = Duration::from_secs(4);
    }
    let mut children: Vec<Child> = three.iter().map(spawn).collect();
    wait_for_epochs(&three[2].dir, 1, Duration::from_secs(120));
    let killed = Instant::now();
    let mut victim = children.pop().unwrap();
    victim.kill().unwrap();
    victim.wait().unwrap();
    let results = wait_all(children, Duration::from_secs(60));
    assert!(killed.elapsed() < Duration::from_secs(30), "the others took {:?} to stop", killed.elapsed());
    for (rank, (code, stderr)) in results.iter().enumerate() {
        assert_eq!(*code, Some(1), "rank {rank}: {stderr}");
        assert!(
            stderr.contains(&format!("rank {rank} of 3: the all-reduce of step"))
                && stderr.contains("continue with --resume"),
            "rank {rank}: {stderr}"
        );
    }
    // Resume on two nodes (new ports), from each survivor's last complete checkpoint.
    let two: Vec<Part> = parts("classifier", &root, "fault", &data, 4, 30, 2)
        .into_iter()
        .map(|part| Part { resume: true, ..part })
        .collect();
    run_nodes(&two);
    assert!(weights(&two[0].dir) == weights(&two[1].dir), "the resumed nodes differ");
    let progress = seqlab_training::epochs::Progress::load(&two[0].dir).unwrap().unwrap();
    assert_eq!(progress.last_epoch, 30);
}

/// A node with other options is refused at registration (by both); a second job's rank 0 on a
/// coordinator port in use is refused; a rank 0 whose other nodes never come stops after the
/// time-out with a message saying what it waited for.
#[test]
fn other_options_a_busy_coordinator_and_a_missing_node_are_refused() {
    let root = scratch("cluster-refused");
    let data = root.join("train.tsv");
    write_classifier_data(&data, 24);
    // Ranks and addresses out of range, refused by option before any work.
    let part = &parts("classifier", &root, "ranges", &data, 12, 1, 2)[1];
    let refused = |edit: &dyn Fn(&mut ClusterConfig)| {
        let mut part = part.clone();
        edit(part.cluster.as_mut().unwrap());
        train_classifier::<TestAutodiff>(&part.classifier(), &Default::default()).map(|_| ()).unwrap_err().to_string()
    };
    assert_eq!(refused(&|c| c.nodes = 1), "--nodes: must be at least 2 for a cluster, got 1");
    assert_eq!(refused(&|c| c.rank = 2), "--rank: must be below --nodes 2, got 2");
    assert_eq!(refused(&|c| c.node = c.coordinator), "--node-address: must differ from --coordinator");
    assert_eq!(refused(&|c| c.timeout = Duration::ZERO), "--cluster-timeout: must be at least 1 second");
    assert!(!part.dir.exists(), "nothing written");
    let mut differ = parts("classifier", &root, "differ", &data, 12, 1, 2);
    differ[1].epochs = 2;
    for (rank, (code, stderr)) in
        wait_all(differ.iter().map(spawn).collect(), Duration::from_secs(60)).iter().enumerate()
    {
        assert_eq!(*code, Some(1), "rank {rank}: {stderr}");
        assert!(stderr.contains("the nodes do not all run the same options on the same data"), "rank {rank}: {stderr}");
    }
    let mut alone = parts("classifier", &root, "alone", &data, 12, 1, 2);
    alone[0].cluster.as_mut().unwrap().timeout = Duration::from_secs(3);
    let waiting = spawn(&alone[0]);
    let coordinator = alone[0].cluster.as_ref().unwrap().coordinator;
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(coordinator).is_err() {
        assert!(Instant::now() < deadline, "the coordinator never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    // It listens on loopback only (the engine's servers listened on every interface).
    if let Ok(table) = std::fs::read_to_string("/proc/net/tcp") {
        let port = format!(":{:04X}", coordinator.port());
        let listening: Vec<&str> =
            table.lines().filter_map(|l| l.split_whitespace().nth(1).filter(|local| local.ends_with(&port))).collect();
        assert!(!listening.is_empty() && listening.iter().all(|local| local.starts_with("0100007F")), "{listening:?}");
    }
    let second = Part { dir: root.join("second-job"), ..alone[0].clone() };
    let (code, stderr) = wait_all(vec![spawn(&second)], Duration::from_secs(60)).remove(0);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("--coordinator: {coordinator}: cannot listen there")), "{stderr}");
    let (code, stderr) = wait_all(vec![waiting], Duration::from_secs(60)).remove(0);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("rank 0 of 2: registering with the coordinator") && stderr.contains("no answer within 3 s"),
        "{stderr}"
    );
}

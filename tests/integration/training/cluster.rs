//! Training across processes under MPI (`mpirun`, built with `--features mpi`): 2 ranks over
//! shared memory and 3 over TCP loopback end with bit-identical weights that equal one process
//! trained on the combined batches, for a classifier and a tagger (whose loss is a mean over
//! real tokens, so the ranks' gradients are weighed by their tokens); a rank killed mid-run
//! stops the others with one line each, and the run resumes on fewer ranks; a rank stopped
//! with SIGSTOP times the others out; a rank with other options is refused by every rank.
//!
//! Each rank is this test binary run again by mpirun (`cluster_node`, ignored otherwise) with
//! its part in `SEQLAB_CLUSTER_NODE`, one thread each; a watchdog kills any job that outlives
//! the test's limit.

use seqlab_datasets::Validation;
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

/// One job's part, passed to [`cluster_node`] as `task;dir;data;batch;epochs;timeout;resume;rank1_epochs`:
/// rank `r` writes to `{dir}-{r}` (and its process id to `{dir}-{r}.pid`).
#[derive(Debug, Clone)]
struct Part {
    task: &'static str,
    dir: PathBuf,
    data: PathBuf,
    batch: usize,
    epochs: usize,
    timeout: Duration,
    resume: bool,
    /// Rank 1's epochs when they differ from the others' (a job whose ranks disagree).
    rank1_epochs: Option<usize>,
}

impl Part {
    fn new(task: &'static str, dir: PathBuf, data: &Path, batch: usize, epochs: usize) -> Self {
        Self {
            task,
            dir,
            data: data.to_path_buf(),
            batch,
            epochs,
            timeout: Duration::from_secs(20),
            resume: false,
            rank1_epochs: None,
        }
    }

    fn encode(&self) -> String {
        format!(
            "{};{};{};{};{};{};{};{}",
            self.task,
            self.dir.display(),
            self.data.display(),
            self.batch,
            self.epochs,
            self.timeout.as_secs(),
            self.resume,
            self.rank1_epochs.map_or(String::new(), |e| e.to_string())
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
            timeout: Duration::from_secs(f[5].parse().unwrap()),
            resume: f[6] == "true",
            rank1_epochs: f[7].parse().ok(),
        }
    }

    /// Rank `rank`'s artifacts folder.
    fn rank_dir(&self, rank: usize) -> PathBuf {
        PathBuf::from(format!("{}-{rank}", self.dir.display()))
    }

    fn training(&self, cluster: Option<ClusterConfig>) -> TrainingConfig {
        let epochs = match (&cluster, self.rank1_epochs) {
            (Some(c), Some(epochs)) if c.rank == 1 => epochs,
            _ => self.epochs,
        };
        TrainingConfig {
            epochs,
            batch_size: self.batch,
            optim: OptimConfig { learning_rate: 0.05, ..Default::default() },
            seed: 11,
            resume: self.resume,
            cluster,
            ..Default::default()
        }
    }

    fn classifier(&self, dir: &Path, cluster: Option<ClusterConfig>) -> ClassifierRunConfig {
        let data = self.data.display().to_string();
        ClassifierRunConfig {
            train: data.clone(),
            valid: Validation::File(data),
            test: None,
            training: self.training(cluster),
            ..super::classifier::tiny_classifier(dir)
        }
    }

    fn tagger(&self, dir: &Path, cluster: Option<ClusterConfig>) -> TaggerRunConfig {
        let data = self.data.display().to_string();
        TaggerRunConfig {
            train: data.clone(),
            valid: Validation::File(data),
            test: None,
            word_dropout: 0.0,
            training: self.training(cluster),
            ..super::tagger::tiny_tagger(dir)
        }
    }

    /// Trains in this process, alone, into `self.dir`.
    fn train_alone(&self) {
        let device = Default::default();
        if self.task == "tagger" {
            train_tagger::<TestAutodiff>(&self.tagger(&self.dir, None), &device).unwrap();
        } else {
            train_classifier::<TestAutodiff>(&self.classifier(&self.dir, None), &device).unwrap();
        }
    }
}

/// A rank of the tests below: joins the job mpirun started, trains its part and exits 0, or
/// prints the error and exits 1.
#[test]
#[ignore = "run by the cluster tests under mpirun, in a process of its own"]
fn cluster_node() {
    let Ok(text) = std::env::var("SEQLAB_CLUSTER_NODE") else { return };
    let part = Part::decode(&text);
    // As the commands do: a signal (mpirun stopping the job) ends a wait for the other ranks.
    seqlab_training::interrupt::install().unwrap();
    let result = ClusterConfig::from_launcher(part.timeout).and_then(|cluster| {
        let cluster = cluster.expect("started by mpirun as one of several ranks");
        let dir = part.rank_dir(cluster.rank);
        std::fs::write(format!("{}.pid", dir.display()), std::process::id().to_string()).unwrap();
        let device = Default::default();
        if part.task == "tagger" {
            train_tagger::<TestAutodiff>(&part.tagger(&dir, Some(cluster)), &device).map(|_| ())
        } else {
            train_classifier::<TestAutodiff>(&part.classifier(&dir, Some(cluster)), &device).map(|_| ())
        }
    });
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// How the ranks of a job reach each other.
#[derive(Clone, Copy)]
enum Transport {
    SharedMemory,
    TcpLoopback,
}

/// mpirun starting `ranks` ranks of `part` over `transport`, one thread each. As root (CI's
/// containers) through mpirun's documented switch; `--oversubscribe`: 3 ranks on 2 cores.
fn spawn(part: &Part, ranks: usize, transport: Transport) -> Child {
    let mut mpirun = Command::new("mpirun");
    // /proc/self belongs to the process's effective user.
    if std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0 {
        mpirun.arg("--allow-run-as-root");
    }
    // rtc_hwloc_vmhole none: Open MPI 4.1.4's hardware map shared in memory crashed mpirun once
    // in a network namespace here (hwloc_shmem_topology_write); the tests do without it.
    mpirun.args(["--oversubscribe", "--bind-to", "none", "--mca", "rtc_hwloc_vmhole", "none"]);
    mpirun.args(["-np", &ranks.to_string(), "--mca", "btl"]);
    match transport {
        Transport::SharedMemory => mpirun.arg("self,vader"),
        Transport::TcpLoopback => mpirun.args(["self,tcp", "--mca", "btl_tcp_if_include", "lo"]),
    };
    // Each rank's standard error goes to a file of its own (`{dir}.stderr.{rank}`): what a rank
    // said in its last moment is not lost in mpirun's forwarding while it ends the job.
    mpirun
        .args(["sh", "-c", "exec \"$0\" \"$@\" 2> \"$SEQLAB_CLUSTER_STDERR.$OMPI_COMM_WORLD_RANK\""])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "training::cluster::cluster_node", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("SEQLAB_CLUSTER_NODE", part.encode())
        .env("SEQLAB_CLUSTER_STDERR", format!("{}.stderr", part.dir.display()))
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mpirun (Open MPI: apt-get install openmpi-bin libopenmpi-dev)")
}

/// Waits for mpirun's `child` running `part` up to `limit` (then kills it): its exit code
/// (`None`: killed) and standard error, then every rank's.
fn wait(part: &Part, mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    for rank in 0..8 {
        if let Ok(text) = std::fs::read_to_string(format!("{}.stderr.{rank}", part.dir.display())) {
            stderr.push_str(&text);
        }
    }
    (output.status.code(), stderr)
}

/// Runs a job of `ranks` ranks of `part` to the end; panics with its errors if it fails.
fn run_job(part: &Part, ranks: usize, transport: Transport) {
    let (code, stderr) = wait(part, spawn(part, ranks, transport), Duration::from_secs(300));
    assert_eq!(code, Some(0), "{}: {stderr}", part.encode());
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every float parameter's values, in visiting order.
struct Collect(Vec<f32>);

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.extend(values(&param.val()));
    }
}

/// `log.csv`'s columns `names`, each epoch's as written.
fn logged(dir: &Path, names: &[&str]) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("log.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at: Vec<usize> = names.iter().map(|n| header.iter().position(|h| h == n).unwrap()).collect();
    lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .map(|f| at.iter().map(|&i| f[i].to_string()).collect())
        .collect()
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

/// 2 ranks (shared memory) and 3 (TCP loopback) against one process with the combined batch,
/// per task: one optimiser step an epoch (the batches of all ranks make up the whole split),
/// two epochs.
#[test]
fn two_and_three_ranks_equal_one_process_on_the_combined_batches() {
    let root = scratch("cluster");
    let classifier_data = root.join("train.tsv");
    write_classifier_data(&classifier_data, 24);
    let tagger_data = root.join("train.conll");
    write_tagger_data(&tagger_data, 12);
    for (task, data, examples) in [("classifier", &classifier_data, 24), ("tagger", &tagger_data, 12)] {
        let single = Part::new(task, root.join(format!("{task}-single")), data, examples, 2);
        single.train_alone();
        let expected = weights(&single.dir);
        for (ranks, transport) in [(2, Transport::SharedMemory), (3, Transport::TcpLoopback)] {
            let part = Part::new(task, root.join(format!("{task}-{ranks}")), data, examples / ranks, 2);
            run_job(&part, ranks, transport);
            let first = weights(&part.rank_dir(0));
            for rank in 1..ranks {
                assert!(
                    weights(&part.rank_dir(rank)) == first,
                    "{task}, {ranks} ranks: rank {rank} differs from rank 0"
                );
            }
            let worst = first.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst < 1e-6, "{task}, {ranks} ranks: {worst} from one process on the combined batches");
            // Each rank scores its part of the validation batches; the epoch's means are the
            // whole split's on every rank. A classifier's losses and accuracies are means over
            // examples, so they are one process's whatever the batches (a tagger's loss is a mean
            // of its batches' token means, which depends on the batches).
            let columns = ["train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "valid_entity_f1"];
            let logs: Vec<_> = (0..ranks).map(|rank| logged(&part.rank_dir(rank), &columns)).collect();
            assert_eq!(logs[0].len(), 2, "{task}, {ranks} ranks: two epochs logged");
            assert!(logs.iter().all(|log| *log == logs[0]), "{task}, {ranks} ranks: the ranks logged {logs:?}");
            if task == "classifier" {
                let alone = logged(&single.dir, &columns[..4]);
                for (epoch, (job, one)) in logs[0].iter().zip(&alone).enumerate() {
                    for (column, (a, b)) in columns.iter().zip(job.iter().zip(one)) {
                        let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                        assert!(
                            (a - b).abs() <= 2e-6,
                            "{ranks} ranks, epoch {}, {column}: {a} against {b} alone",
                            epoch + 1
                        );
                    }
                }
            }
        }
    }
}

/// Waits until `path` (a rank's folder) records at least `epochs` epochs.
fn wait_for_epochs(path: &Path, epochs: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while seqlab_training::epochs::Progress::load(path).ok().flatten().is_none_or(|p| p.last_epoch < epochs) {
        assert!(Instant::now() < deadline, "{} completed no epoch in time", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The process id rank `rank` of `part` wrote.
fn pid(part: &Part, rank: usize) -> String {
    std::fs::read_to_string(format!("{}.pid", part.rank_dir(rank).display())).unwrap()
}

/// Each of `ranks` said in one line what ended its run, with its step, and that the checkpoint
/// is kept; no rank panicked.
fn assert_each_rank_said_why(stderr: &str, ranks: &[usize], of: usize, why: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    for rank in ranks {
        let name = format!("rank {rank} of {of}: the all-reduce of step ");
        let line = stderr.lines().find(|l| l.contains(&name)).unwrap_or_else(|| panic!("rank {rank}: {stderr}"));
        assert!(line.contains(why) && line.contains("continue with --resume"), "rank {rank}: {line}\n{stderr}");
    }
}

/// Kill one of three ranks mid-run (SIGKILL): the job ends within seconds, each other rank
/// saying why in one line; the run then resumes on two ranks, which end bit-identical.
#[test]
fn a_rank_killed_mid_run_stops_the_others_and_the_run_resumes_on_two() {
    let root = scratch("cluster-fault");
    let data = root.join("train.tsv");
    write_classifier_data(&data, 600);
    let part = Part { timeout: Duration::from_secs(10), ..Part::new("classifier", root.join("fault"), &data, 4, 30) };
    let job = spawn(&part, 3, Transport::TcpLoopback);
    wait_for_epochs(&part.rank_dir(2), 1, Duration::from_secs(120));
    let killed = Instant::now();
    assert!(Command::new("kill").args(["-KILL", &pid(&part, 2)]).status().unwrap().success());
    let (code, stderr) = wait(&part, job, Duration::from_secs(60));
    assert!(killed.elapsed() < Duration::from_secs(10), "the others took {:?} to stop", killed.elapsed());
    assert_ne!(code, Some(0), "{stderr}");
    // mpirun stops the others when one ends (SIGTERM), or MPI reports the lost connection.
    assert_each_rank_said_why(&stderr, &[0, 1], 3, "");
    // Resume on two ranks, from each survivor's last complete checkpoint.
    let two = Part { resume: true, ..part.clone() };
    run_job(&two, 2, Transport::SharedMemory);
    assert!(weights(&two.rank_dir(0)) == weights(&two.rank_dir(1)), "the resumed ranks differ");
    let progress = seqlab_training::epochs::Progress::load(&two.rank_dir(0)).unwrap().unwrap();
    assert_eq!(progress.last_epoch, 30);
}

/// A rank stopped (SIGSTOP) for longer than the time-out: the other says so within it, in one
/// line, and the job ends.
#[test]
fn a_stopped_rank_times_the_others_out() {
    let root = scratch("cluster-stopped");
    let data = root.join("train.tsv");
    write_classifier_data(&data, 600);
    let part = Part { timeout: Duration::from_secs(3), ..Part::new("classifier", root.join("stopped"), &data, 4, 30) };
    let job = spawn(&part, 2, Transport::SharedMemory);
    wait_for_epochs(&part.rank_dir(1), 1, Duration::from_secs(120));
    let stopped = Instant::now();
    assert!(Command::new("kill").args(["-STOP", &pid(&part, 1)]).status().unwrap().success());
    let (code, stderr) = wait(&part, job, Duration::from_secs(60));
    let _ = Command::new("kill").args(["-KILL", &pid(&part, 1)]).status();
    assert!(stopped.elapsed() < Duration::from_secs(20), "the job took {:?} to end", stopped.elapsed());
    assert_ne!(code, Some(0), "{stderr}");
    assert_each_rank_said_why(&stderr, &[0], 2, "no answer from every rank within 3 s");
}

/// A rank with other options is refused by every rank, before any training.
#[test]
fn a_rank_with_other_options_is_refused_by_every_rank() {
    let root = scratch("cluster-refused");
    let data = root.join("train.tsv");
    write_classifier_data(&data, 24);
    let part = Part { rank1_epochs: Some(2), ..Part::new("classifier", root.join("differ"), &data, 12, 1) };
    let (code, stderr) = wait(&part, spawn(&part, 2, Transport::SharedMemory), Duration::from_secs(120));
    assert_ne!(code, Some(0), "{stderr}");
    for rank in 0..2 {
        assert!(
            stderr.contains(&format!("rank {rank} of 2: the ranks do not all run the same options on the same data")),
            "rank {rank}: {stderr}"
        );
        assert!(seqlab_training::epochs::Progress::load(&part.rank_dir(rank))
            .ok()
            .flatten()
            .is_none_or(|p| p.last_epoch == 0));
    }
}

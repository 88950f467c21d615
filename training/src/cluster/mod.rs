//! Data-parallel training across processes and machines on burn-collective 0.21, Burn's
//! collective engine (the crate its own multi-GPU example and DDP used).
//!
//! `N` processes ("nodes", ranks `0..N`) train one model. Each reads its own share of the
//! training batches ([`seqlab_datasets::batch::BatchPlan::shard`]); every step each computes
//! its local gradients, [`AllReduced`] sums them over the nodes in one flattened all-reduce
//! (weighted by the loss terms each node averaged over, so that `N` nodes compute what one
//! process computes on the combined batches), and every node applies the same optimiser step.
//! All nodes start from the same weights: the same seed on the same backend initialises them
//! bit for bit alike (burn-collective 0.21 has no global broadcast).
//!
//! The engine: rank 0 starts burn-collective's global orchestrator (the *coordinator*) at
//! `--coordinator`; every node registers with it and serves tensors to the others from its
//! data service at `--node-address`; the all-reduce runs peer to peer over websockets (ring).
//! burn-collective has no timeouts and no authentication; [`with_timeout`] bounds every call,
//! and [`join`] checks that every node runs the same options on the same data (a fingerprint
//! all-reduced at registration), so a node that dies, never arrives or differs stops the run
//! with an error instead of a hang or a wrong model. Its servers listen only on the addresses
//! given (loopback by default), but its traffic is unauthenticated plain websockets: run it only
//! on a private network.

mod all_reduce;

use std::net::SocketAddr;
use std::time::Duration;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};
use burn_collective::{CollectiveConfig, PeerId, ReduceOperation};

pub use all_reduce::{record_step_weight, traffic, AllReduced, Traffic};

use crate::error::RunError;

/// Where this process stands in a cluster of training processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Processes in the cluster.
    pub nodes: usize,
    /// This process's rank, `0..nodes`; rank 0 starts the coordinator, and its artifacts folder
    /// is the run's (every rank writes the same checkpoints into its own).
    pub rank: usize,
    /// The coordinator (burn-collective's global orchestrator), which rank 0 starts.
    pub coordinator: SocketAddr,
    /// This node's data service, where the other nodes fetch its tensors.
    pub node: SocketAddr,
    /// How long registration or one all-reduce may wait before the run stops.
    pub timeout: Duration,
}

impl ClusterConfig {
    /// Checks the ranks and addresses; errors name the option.
    pub fn check(&self) -> Result<(), RunError> {
        if self.nodes < 2 {
            return Err(RunError::invalid("nodes", format!("must be at least 2 for a cluster, got {}", self.nodes)));
        }
        if self.rank >= self.nodes {
            return Err(RunError::invalid("rank", format!("must be below --nodes {}, got {}", self.nodes, self.rank)));
        }
        if self.node.port() == self.coordinator.port() && self.node.ip() == self.coordinator.ip() {
            return Err(RunError::invalid("node-address", "must differ from --coordinator"));
        }
        if self.timeout.is_zero() {
            return Err(RunError::invalid("cluster-timeout", "must be at least 1 second"));
        }
        Ok(())
    }

    /// This process's name in messages: `rank 1 of 3`.
    pub fn name(&self) -> String {
        format!("rank {} of {}", self.rank, self.nodes)
    }
}

/// What every node of a cluster must agree on, as one number: the run's options as `run.json`
/// records them (less the paths, which differ between machines, but with the data files' sizes
/// and CRC-32s), and the vocabulary and label files.
pub fn fingerprint(run: &serde_json::Value, vocab: &impl serde::Serialize, labels: &impl serde::Serialize) -> u64 {
    let mut run = run.clone();
    if let Some(fields) = run.as_object_mut() {
        for path in ["artifacts", "train", "valid", "test", "embeddings"] {
            fields.remove(path);
        }
        // How each process was started, not what it trains.
        if let Some(training) = fields.get_mut("training").and_then(serde_json::Value::as_object_mut) {
            for flag in ["tui", "resume", "overwrite"] {
                training.remove(flag);
            }
        }
    }
    let text = [run, serde_json::to_value(vocab).unwrap_or_default(), serde_json::to_value(labels).unwrap_or_default()]
        .map(|v| v.to_string())
        .join("\n");
    crate::artifacts::fnv1a64(text.as_bytes())
}

/// The peer id of this process's one device (burn-collective numbers the devices of a node).
const PEER: usize = 0;

/// Joins the cluster (the engine's log going to `artifacts/experiment.log`): rank 0 starts the
/// coordinator; every node registers its device and checks, with one all-reduce, that every
/// node has the same `fingerprint` (of its options, vocabulary and data). Errors: the
/// coordinator's port in use (another job), a node missing after the timeout, a node with
/// another fingerprint.
pub fn join<B: Backend>(
    config: &ClusterConfig,
    fingerprint: u64,
    device: &B::Device,
    artifacts: &std::path::Path,
) -> Result<(), RunError> {
    config.check()?;
    // The engine's websocket servers install a logger on standard output for their every
    // transfer unless one is installed: burn-train's own, into the run's `experiment.log`, first.
    let log = artifacts.join("experiment.log");
    let _ = burn::train::ApplicationLoggerInstaller::install(&burn::train::FileApplicationLoggerInstaller::new(log));
    if config.rank == 0 {
        start_coordinator(config.coordinator)?;
    }
    let collective = CollectiveConfig::default()
        .with_num_devices(1)
        .with_num_nodes(config.nodes as u32)
        .with_global_address(websocket(config.coordinator))
        .with_node_address(websocket(config.node))
        .with_data_service_port(config.node.port());
    let registered = device.clone();
    let what = format!(
        "{}: registering with the coordinator at {} ({} nodes expected; is every rank started, and rank 0?)",
        config.name(),
        config.coordinator,
        config.nodes
    );
    with_timeout(config.timeout, &what, move || {
        burn_collective::register::<B>(PeerId::from(PEER), registered, collective).map_err(|e| format!("{e:?}"))
    })?;
    check_fingerprints::<B>(config, fingerprint, device)
}

/// All-reduces (sums) `tensor` over the nodes, waiting at most `timeout`.
pub(crate) fn sum<B: Backend>(tensor: Tensor<B, 1>, timeout: Duration, what: &str) -> Result<Tensor<B, 1>, RunError> {
    let primitive = tensor.into_primitive().tensor();
    let reduced = with_timeout(timeout, what, move || {
        burn_collective::all_reduce::<B>(PeerId::from(PEER), primitive, ReduceOperation::Sum)
            .map_err(|e| format!("{e:?}"))
    })?;
    Ok(Tensor::from_primitive(TensorPrimitive::Float(reduced)))
}

/// Every node's fingerprint the same, seen through one all-reduce of its bytes and their
/// squares: the sums satisfy `N·Σx² = (Σx)²` for every byte exactly when all nodes agree
/// (small integers, so the sums are exact in `f32`).
fn check_fingerprints<B: Backend>(
    config: &ClusterConfig,
    fingerprint: u64,
    device: &B::Device,
) -> Result<(), RunError> {
    let bytes = fingerprint.to_le_bytes();
    let values: Vec<f32> =
        bytes.iter().map(|&b| f32::from(b)).chain(bytes.iter().map(|&b| f32::from(b) * f32::from(b))).collect();
    let tensor = Tensor::<B, 1>::from_data(TensorData::new(values, [16]), device);
    let what = format!("{}: checking that every node runs the same options on the same data", config.name());
    let sums = sum(tensor, config.timeout, &what)?
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| RunError::Other(format!("{e:?}")))?;
    let n = config.nodes as f64;
    let agree = (0..8).all(|i| (n * f64::from(sums[8 + i]) - f64::from(sums[i]).powi(2)).abs() < 0.5);
    if agree {
        Ok(())
    } else {
        Err(RunError::Other(format!(
            "{}: the nodes do not all run the same options on the same data (run.json, vocabulary, labels and \
             the training file's checksum must agree; this node's fingerprint is {fingerprint:016x})",
            config.name()
        )))
    }
}

/// Starts burn-collective's global orchestrator on `address` (that interface only), in a thread
/// of its own for the life of the process; refuses an address already in use (another job's
/// coordinator).
fn start_coordinator(address: SocketAddr) -> Result<(), RunError> {
    // The orchestrator only logs a failure to listen: try first.
    drop(std::net::TcpListener::bind(address).map_err(|e| {
        RunError::invalid("coordinator", format!("{address}: cannot listen there ({e}); another job's coordinator?"))
    })?);
    let (host, port) = (address.ip().to_string(), address.port());
    let host = if address.is_ipv6() { format!("[{host}]") } else { host };
    std::thread::Builder::new()
        .name("coordinator".into())
        .spawn(move || match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
            Ok(runtime) => runtime.block_on(burn_collective::start_global_orchestrator_on(&host, port)),
            Err(e) => crate::note!("error: the coordinator cannot start: {e}"),
        })
        .map_err(|e| RunError::Other(format!("the coordinator cannot start: {e}")))?;
    Ok(())
}

/// `ws://host:port` for burn-communication.
fn websocket(address: SocketAddr) -> burn_communication::Address {
    format!("ws://{address}").parse().expect("a socket address makes a websocket URL")
}

/// Runs `call` on a thread of its own and waits at most `timeout` for it: burn-collective's
/// calls wait forever for a node that never answers. On time-out the call is left behind (the
/// process is expected to stop) and the error says `what` was waiting.
pub(crate) fn with_timeout<T: Send + 'static>(
    timeout: Duration,
    what: &str,
    call: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, RunError> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(call());
    });
    match receive.recv_timeout(timeout) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(RunError::Other(format!("{what}: {e}"))),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err(RunError::Other(format!("{what}: no answer within {} s", timeout.as_secs())))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(RunError::Other(format!("{what}: the collective engine failed (see above)")))
        }
    }
}

//! Dynamic batching: each model has a bounded queue of requests and one or more worker threads,
//! each holding its own copy of the model. A worker takes the oldest request, then every request
//! that arrives within `max_wait` (up to `max_batch` texts in all), and answers them in one model
//! call per `nbest` value; each request gets back its own texts' answers, which are exactly the
//! answers it would get alone (the model's batches are length-sorted and masked, so an answer
//! does not depend on its neighbours). A request whose client has gone is skipped.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use seqlab_training::backend::{self, Device, Inner};
use seqlab_training::inference::{LabelPrediction, Loaded, ReadText, TagPrediction};
use tokio::sync::oneshot;

use super::models::{ModelInfo, ModelSpec};
use super::prometheus::ModelMetrics;

/// How requests are queued and batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Texts in one model call at most (a request larger than this runs alone).
    pub max_batch: usize,
    /// How long a worker waits for more requests after the first (zero: it takes those
    /// already queued, which under load are the ones that came while it computed the last batch).
    pub max_wait: Duration,
    /// Requests waiting per model at most; past it a request is refused (503).
    pub queue: usize,
    /// Worker threads per model, each with its own copy of the model.
    pub workers: usize,
}

impl Default for Batching {
    fn default() -> Self {
        Self { max_batch: 256, max_wait: Duration::ZERO, queue: 256, workers: 1 }
    }
}

/// One answer, serialised exactly as `predict --json` writes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Prediction {
    /// A classifier's.
    Label(LabelPrediction),
    /// A tagger's.
    Tags(TagPrediction),
}

/// What a worker answers a request with: one prediction per text, or why not.
pub type Answer = Result<Vec<Prediction>, String>;

/// A request for a model's worker: its texts as the model reads them (read once, by the HTTP
/// side).
struct Job {
    texts: Vec<ReadText>,
    nbest: usize,
    reply: oneshot::Sender<Answer>,
}

/// Why a request was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full.
    Full,
    /// The workers have stopped.
    Stopped,
}

/// A model's queue: the HTTP side's end of it. The workers stop once it is dropped (and every
/// request they had taken is answered).
pub struct ModelQueue {
    jobs: SyncSender<Job>,
    metrics: ModelMetrics,
}

/// A model's worker threads.
pub struct Workers(Vec<JoinHandle<()>>);

impl Workers {
    /// Waits for the workers, which end once their queue is dropped.
    pub fn join(self) {
        for worker in self.0 {
            let _ = worker.join();
        }
    }
}

impl ModelQueue {
    /// Loads the model once per worker (each on its own thread) and starts them; returns what
    /// the HTTP side needs to know of it. A model that does not load is an error naming it.
    pub fn start(
        spec: &ModelSpec,
        batching: Batching,
        metrics: ModelMetrics,
    ) -> Result<(Self, ModelInfo, Workers), String> {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(batching.queue.max(1));
        let queue = Arc::new(Mutex::new(queue));
        let mut workers = Vec::new();
        let mut info = None;
        for _ in 0..batching.workers.max(1) {
            let (ready, started) = std::sync::mpsc::channel();
            let (model, queue, metrics) = (spec.clone(), Arc::clone(&queue), metrics.clone());
            workers.push(std::thread::spawn(move || {
                seqlab_models::subnormal::flush_this_thread();
                let device = Device::default();
                let loaded = match backend::load(&model.dir, &device) {
                    Ok(loaded) => loaded,
                    Err(e) => return drop(ready.send(Err(format!("model {}: {e}", model.name)))),
                };
                let _ = ready.send(Ok(ModelInfo::of(&model.name, &model.dir, &loaded)));
                work(&loaded, &queue, batching, &metrics, &device);
            }));
            info = Some(started.recv().map_err(|_| format!("model {}: its worker failed to start", spec.name))??);
        }
        Ok((Self { jobs, metrics }, info.expect("at least one worker"), Workers(workers)))
    }

    /// Queues texts, as the model reads them; the receiver gets their answers.
    pub fn submit(&self, texts: Vec<ReadText>, nbest: usize) -> Result<oneshot::Receiver<Answer>, Refused> {
        let (reply, answer) = oneshot::channel();
        self.metrics.queue.inc();
        match self.jobs.try_send(Job { texts, nbest, reply }) {
            Ok(()) => Ok(answer),
            Err(e) => {
                self.metrics.queue.dec();
                Err(match e {
                    TrySendError::Full(_) => Refused::Full,
                    TrySendError::Disconnected(_) => Refused::Stopped,
                })
            }
        }
    }
}

/// A worker's loop: take a batch of requests, answer it, until the queue closes.
fn work(
    loaded: &Loaded<Inner>,
    queue: &Mutex<Receiver<Job>>,
    batching: Batching,
    metrics: &ModelMetrics,
    device: &Device,
) {
    loop {
        // One worker gathers a batch at a time; the others wait for the queue.
        let batch = {
            let Ok(jobs) = queue.lock() else { return };
            gather(&jobs, batching, metrics)
        };
        let Some(batch) = batch else { return };
        answer(loaded, batch, metrics, device);
    }
}

/// The oldest request and those that follow within `max_wait`, up to `max_batch` texts; `None`
/// once the queue is closed and empty.
fn gather(jobs: &Receiver<Job>, batching: Batching, metrics: &ModelMetrics) -> Option<Vec<Job>> {
    let first = jobs.recv().ok()?;
    metrics.queue.dec();
    let deadline = Instant::now() + batching.max_wait;
    let mut texts = first.texts.len();
    let mut batch = vec![first];
    while texts < batching.max_batch {
        let wait = deadline.saturating_duration_since(Instant::now());
        match jobs.recv_timeout(wait) {
            Ok(job) => {
                metrics.queue.dec();
                texts += job.texts.len();
                batch.push(job);
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(batch)
}

/// Answers a batch: one model call per `nbest` value over the texts of the requests still
/// waiting, each request's answers sent back to it.
fn answer(loaded: &Loaded<Inner>, batch: Vec<Job>, metrics: &ModelMetrics, device: &Device) {
    let mut jobs: Vec<Job> = batch.into_iter().filter(|job| !job.reply.is_closed()).collect();
    while let Some(nbest) = jobs.first().map(|job| job.nbest) {
        let (mut same, rest): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|job| job.nbest == nbest);
        jobs = rest;
        let counts: Vec<usize> = same.iter().map(|job| job.texts.len()).collect();
        let texts: Vec<ReadText> = same.iter_mut().flat_map(|job| std::mem::take(&mut job.texts)).collect();
        metrics.batch.observe(texts.len() as f64);
        match predict(loaded, texts, nbest, device) {
            Ok(answers) => {
                let mut answers = answers.into_iter();
                for (job, count) in same.into_iter().zip(counts) {
                    let own: Vec<Prediction> = answers.by_ref().take(count).collect();
                    let _ = job.reply.send(Ok(own));
                }
            }
            Err(e) => {
                for job in same {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// The model's answers for texts, in order.
fn predict(
    loaded: &Loaded<Inner>,
    texts: Vec<ReadText>,
    nbest: usize,
    device: &Device,
) -> Result<Vec<Prediction>, String> {
    match loaded {
        Loaded::Classifier(c) => {
            let tokens = texts.iter().map(ReadText::words).collect();
            Ok(backend::predict_label_tokens(c, tokens, device).into_iter().map(Prediction::Label).collect())
        }
        Loaded::Tagger(t) => Ok(backend::predict_read(t, &texts, nbest, device)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(Prediction::Tags)
            .collect()),
    }
}

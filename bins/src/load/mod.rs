//! The load and fault run behind `load-test`: closed-loop clients against one or more servers
//! that answer `POST /v1/models/{name}/predict` (`serve`, and its Python twin), level by level
//! with the servers alternating within a level, bounded in requests and in time, loopback only.
//! [`faults`] sends malformed requests, oversized bodies and hang-ups beside a well-formed client.

pub mod faults;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// An HTTP/1 client with a connection pool.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A new pooled client.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1024).build_http()
}

/// A server under load: a name for the table and its base URL (`http://127.0.0.1:8080`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The table's name for it.
    pub name: String,
    /// Its base URL; must be a loopback address.
    pub url: String,
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `NAME=URL`, the URL on loopback.
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, url) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=URL"))?;
        let host = url.strip_prefix("http://").unwrap_or_default().split(['/', ':']).next().unwrap_or_default();
        let loopback = host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!("{url}: the load run only sends to http:// loopback addresses"));
        }
        Ok(Self { name: name.to_string(), url: url.trim_end_matches('/').to_string() })
    }
}

/// One level of the run.
#[derive(Debug, Clone, Copy)]
pub struct Level {
    /// Clients, each sending its next request when the last is answered.
    pub concurrency: usize,
    /// Requests in the level at most.
    pub requests: usize,
    /// Time for the level at most.
    pub seconds: f64,
    /// Texts in each request.
    pub texts_per_request: usize,
}

/// What one target did at one level.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    /// The target's name.
    pub target: String,
    /// Clients.
    pub concurrency: usize,
    /// Requests sent.
    pub requests: usize,
    /// Texts answered per second (answered requests only).
    pub texts_per_s: f64,
    /// Median latency of answered requests.
    pub p50_ms: f64,
    /// 99th percentile latency of answered requests.
    pub p99_ms: f64,
    /// Answers with status 503.
    pub refused_503: usize,
    /// Other errors (other statuses, failed connections).
    pub other_errors: usize,
}

/// One request's outcome: its latency and status (0: no answer).
type Outcome = (Duration, u16);

/// Runs one level against one target with `texts` (taken in order, cycling).
pub async fn run_level(client: &HttpClient, target: &Target, model: &str, texts: &[String], level: Level) -> Measured {
    let uri = format!("{}/v1/models/{model}/predict", target.url);
    let next = Arc::new(AtomicUsize::new(0));
    let bodies: Arc<Vec<Bytes>> = Arc::new(bodies(texts, level.texts_per_request));
    let deadline = Instant::now() + Duration::from_secs_f64(level.seconds);
    let start = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..level.concurrency {
        let (client, uri, next, bodies) = (client.clone(), uri.clone(), Arc::clone(&next), Arc::clone(&bodies));
        clients.push(tokio::spawn(async move {
            let mut outcomes: Vec<Outcome> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= level.requests || Instant::now() >= deadline {
                    return outcomes;
                }
                outcomes.push(send(&client, &uri, bodies[i % bodies.len()].clone()).await);
            }
        }));
    }
    let mut outcomes = Vec::new();
    for c in clients {
        outcomes.extend(c.await.unwrap_or_default());
    }
    summarise(&target.name, level, &outcomes, start.elapsed())
}

/// Request bodies of `per` texts each.
fn bodies(texts: &[String], per: usize) -> Vec<Bytes> {
    texts.chunks(per.max(1)).map(|chunk| Bytes::from(serde_json::json!({ "texts": chunk }).to_string())).collect()
}

/// Sends one request and reads its whole answer.
pub async fn send(client: &HttpClient, uri: &str, body: Bytes) -> Outcome {
    let start = Instant::now();
    let request = hyper::Request::post(uri).header("content-type", "application/json").body(Full::new(body));
    let Ok(request) = request else { return (start.elapsed(), 0) };
    match client.request(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let read = response.into_body().collect().await.is_ok();
            (start.elapsed(), if read { status } else { 0 })
        }
        Err(_) => (start.elapsed(), 0),
    }
}

fn summarise(target: &str, level: Level, outcomes: &[Outcome], elapsed: Duration) -> Measured {
    let mut ok: Vec<f64> = outcomes.iter().filter(|o| o.1 == 200).map(|o| o.0.as_secs_f64() * 1e3).collect();
    ok.sort_by(f64::total_cmp);
    let quantile = |q: f64| if ok.is_empty() { f64::NAN } else { ok[((ok.len() - 1) as f64 * q).round() as usize] };
    let refused = outcomes.iter().filter(|o| o.1 == 503).count();
    Measured {
        target: target.to_string(),
        concurrency: level.concurrency,
        requests: outcomes.len(),
        texts_per_s: (ok.len() * level.texts_per_request) as f64 / elapsed.as_secs_f64(),
        p50_ms: quantile(0.5),
        p99_ms: quantile(0.99),
        refused_503: refused,
        other_errors: outcomes.len() - ok.len() - refused,
    }
}

/// The results as a Markdown table, with each target's throughput next to the first target's.
pub fn table(model: &str, rows: &[Measured]) -> String {
    let mut out = format!(
        "model {model}\n\n| server | clients | requests | texts/s | vs {} | p50 ms | p99 ms | 503 | other errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        rows.first().map_or("-", |r| r.target.as_str())
    );
    for row in rows {
        let base = rows.iter().find(|r| r.concurrency == row.concurrency).map_or(f64::NAN, |r| r.texts_per_s);
        out += &format!(
            "| {} | {} | {} | {:.0} | {:.2}× | {:.2} | {:.2} | {} | {} |\n",
            row.target,
            row.concurrency,
            row.requests,
            row.texts_per_s,
            row.texts_per_s / base,
            row.p50_ms,
            row.p99_ms,
            row.refused_503,
            row.other_errors
        );
    }
    out
}

/// Resident memory of a process in KiB (`VmRSS` in `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

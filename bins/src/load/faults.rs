//! The fault run: every kind of malformed request 200 times, bodies of 10 MB, and clients that
//! hang up mid-request, all while a well-formed client keeps asking; what each fault got back,
//! and whether the well-formed client was answered throughout.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{send, HttpClient};

/// The malformed bodies, by name (the model is a tagger or a classifier; both refuse these).
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let long = format!("{{\"texts\": [\"{}\"]}}", "word ".repeat(5000));
    let many = serde_json::json!({ "texts": vec!["a"; 5000] }).to_string();
    vec![
        ("truncated JSON", b"{\"texts\": [\"EU rejects".to_vec()),
        ("not JSON", b"texts=EU+rejects".to_vec()),
        ("invalid UTF-8", b"{\"texts\": [\"caf\xe9\"]}".to_vec()),
        ("missing texts", b"{\"nbest\": 1}".to_vec()),
        ("texts not a list", b"{\"texts\": \"EU rejects\"}".to_vec()),
        ("a text not a string", b"{\"texts\": [\"EU\", 42]}".to_vec()),
        ("unknown field", b"{\"texts\": [\"EU\"], \"n_best\": 2}".to_vec()),
        ("negative nbest", b"{\"texts\": [\"EU\"], \"nbest\": -3}".to_vec()),
        ("empty texts", b"{\"texts\": []}".to_vec()),
        ("too many texts", many.into_bytes()),
        ("too many tokens", long.into_bytes()),
    ]
}

/// A fault's outcome: how many were sent and the statuses they got (0: no answer).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FaultRow {
    /// What was sent.
    pub fault: String,
    /// How many.
    pub sent: usize,
    /// Status → count.
    pub statuses: BTreeMap<u16, usize>,
}

/// What the well-formed client saw while the faults ran.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Steady {
    /// Requests answered 200.
    pub answered: usize,
    /// Requests not answered 200.
    pub failed: usize,
    /// Slowest answer.
    pub max_ms: f64,
}

/// Runs the faults against `url` (a server's base URL) and model `model`, with `good` the body
/// of a well-formed request sent in a loop meanwhile.
pub async fn run(client: &HttpClient, url: &str, model: &str, good: Bytes) -> (Vec<FaultRow>, Steady) {
    let uri = format!("{url}/v1/models/{model}/predict");
    let addr = url.trim_start_matches("http://").split('/').next().unwrap_or_default().to_string();
    let done = Arc::new(AtomicBool::new(false));
    let steady = tokio::spawn(steady_client(client.clone(), uri.clone(), good, Arc::clone(&done)));
    let mut rows = Vec::new();
    for (name, body) in malformed() {
        rows.push(repeat(name, 200, 16, || raw(addr.clone(), model.to_string(), body.clone())).await);
    }
    let big = vec![b'x'; 10 << 20];
    rows.push(repeat("10 MB body", 20, 4, || raw(addr.clone(), model.to_string(), big.clone())).await);
    rows.push(repeat("hang-up mid-body", 100, 100, || hang_up(addr.clone(), model.to_string(), false)).await);
    rows.push(repeat("hang-up before the answer", 100, 100, || hang_up(addr.clone(), model.to_string(), true)).await);
    done.store(true, Ordering::Relaxed);
    (rows, steady.await.unwrap_or_default())
}

/// Sends `count` requests made by `make`, `parallel` at a time; tallies their statuses.
async fn repeat<F, Fut>(fault: &str, count: usize, parallel: usize, make: F) -> FaultRow
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u16> + Send + 'static,
{
    let mut statuses = BTreeMap::new();
    for start in (0..count).step_by(parallel) {
        let tasks: Vec<_> = (start..count.min(start + parallel)).map(|_| tokio::spawn(make())).collect();
        for task in tasks {
            *statuses.entry(task.await.unwrap_or(0)).or_insert(0) += 1;
        }
    }
    FaultRow { fault: fault.to_string(), sent: count, statuses }
}

/// One request of raw bytes on a connection of its own; the answer's status (0: none).
async fn raw(addr: String, model: String, body: Vec<u8>) -> u16 {
    let Ok(mut stream) = TcpStream::connect(&addr).await else { return 0 };
    let head = format!(
        "POST /v1/models/{model}/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    // A server may answer 413 and close before the body is all sent.
    let _ = stream.write_all(&body).await;
    status_of(&mut stream).await
}

/// A client that sends half a request (or all of it) and hangs up without reading the answer;
/// 0 means, as intended, no answer was read.
async fn hang_up(addr: String, model: String, whole: bool) -> u16 {
    let Ok(mut stream) = TcpStream::connect(&addr).await else { return 0 };
    let body = "{\"texts\": [\"EU rejects German call to boycott British lamb .\"]}";
    let sent = if whole { body } else { &body[..20] };
    let head = format!(
        "POST /v1/models/{model}/predict HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{sent}",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    0
}

/// The status code of the response on `stream` (0: none within 30 s).
async fn status_of(stream: &mut TcpStream) -> u16 {
    let mut head = vec![0; 64];
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut head)).await;
    let Ok(Ok(n)) = read else { return 0 };
    let text = String::from_utf8_lossy(&head[..n]);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

async fn steady_client(client: HttpClient, uri: String, body: Bytes, done: Arc<AtomicBool>) -> Steady {
    let mut steady = Steady::default();
    while !done.load(Ordering::Relaxed) {
        let start = Instant::now();
        let (_, status) = send(&client, &uri, body.clone()).await;
        steady.max_ms = steady.max_ms.max(start.elapsed().as_secs_f64() * 1e3);
        if status == 200 {
            steady.answered += 1;
        } else {
            steady.failed += 1;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    steady
}

/// The fault table.
pub fn table(rows: &[FaultRow], steady: &Steady, rss: Option<(u64, u64)>) -> String {
    let mut out = String::from("| fault | sent | answers (status × count; 0 = none read) |\n|---|---:|---|\n");
    for row in rows {
        let statuses: Vec<String> = row.statuses.iter().map(|(s, n)| format!("{s} × {n}")).collect();
        out += &format!("| {} | {} | {} |\n", row.fault, row.sent, statuses.join(", "));
    }
    out += &format!(
        "\nwell-formed client meanwhile: {} answered 200, {} not, slowest {:.1} ms\n",
        steady.answered, steady.failed, steady.max_ms
    );
    if let Some((before, after)) = rss {
        out +=
            &format!("server RSS: {:.1} MiB before, {:.1} MiB after\n", before as f64 / 1024.0, after as f64 / 1024.0);
    }
    out
}

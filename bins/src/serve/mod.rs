//! `serve`: trained models kept loaded behind an HTTP API (tokio, axum, tower-http) and a page
//! for a person.
//!
//! Each model has a bounded queue and worker threads that batch the texts of concurrent requests
//! ([`batcher`]); the routes check every request before it is queued and answer refusals with
//! one JSON error shape ([`api`], [`error`]); `/metrics` is Prometheus text ([`prometheus`]). A
//! bearer token, when set, guards the API and the metrics (the page and `/healthz` stay open, so
//! probes and a person's browser reach them). [`Server::run`] keeps at most a cap of
//! connections, closing the longest-silent one to make room ([`connections`]); it stops accepting
//! when its shutdown future completes, answers what is in flight, then stops the workers.

pub mod api;
pub mod batcher;
pub mod connections;
pub mod error;
pub mod models;
pub mod prometheus;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use seqlab_training::note;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

pub use api::Limits;
use api::{AppState, Served};
pub use batcher::Batching;
use batcher::{ModelQueue, Workers};
use connections::Connections;
use error::ApiError;
pub use models::ModelSpec;
use prometheus::Metrics;

/// How the server runs.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Request limits.
    pub limits: Limits,
    /// Queueing and batching.
    pub batching: Batching,
    /// The bearer token the API asks for, if any.
    pub token: Option<String>,
}

/// Loaded models with their workers, ready to serve.
pub struct Server {
    router: Router,
    workers: Vec<Workers>,
    limits: Limits,
}

impl Server {
    /// Loads every model (once per worker) and starts its workers; a model that does not load,
    /// or a name given twice, is an error naming it.
    pub fn load(specs: &[ModelSpec], settings: &Settings) -> Result<Self, String> {
        let metrics = Arc::new(Metrics::default());
        let mut models = BTreeMap::new();
        let mut workers = Vec::new();
        for spec in specs {
            if models.contains_key(&spec.name) {
                return Err(format!("--model {}: the name is given twice", spec.name));
            }
            let (queue, info, started) = ModelQueue::start(spec, settings.batching, metrics.model(&spec.name))?;
            workers.push(started);
            models.insert(spec.name.clone(), Served { info, queue });
        }
        if models.is_empty() {
            return Err("no model to serve: give --artifacts DIR or --model NAME=DIR".into());
        }
        let state = Arc::new(AppState { models, limits: settings.limits, metrics: Arc::clone(&metrics) });
        Ok(Self { router: router(state, settings), workers, limits: settings.limits })
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting, answers what is
    /// in flight (each connection closed after its answer; a request head still arriving has
    /// until its `header_timeout`), stops the workers and returns. Connections still open
    /// `limits.timeout` after the shutdown began are dropped.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self { router, workers, limits } = self;
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
        let connections = GracefulShutdown::new();
        let mut open = Connections::new(limits.max_connections.unwrap_or_else(connections::default_cap));
        tokio::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    // Out of descriptors (or a connection reset before it was taken): what is
                    // open goes on; accept again once some may have closed.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            open.make_room();
            let head_seen = Arc::new(AtomicBool::new(false));
            let seen = Arc::clone(&head_seen);
            let service = TowerToHyperService::new(router.clone());
            let service = hyper::service::service_fn(move |request| {
                seen.store(true, Ordering::Release);
                hyper::service::Service::call(&service, request)
            });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            open.add(head_seen, tokio::spawn(connections.watch(connection)).abort_handle());
        }
        drop(listener);
        drop(router);
        if tokio::time::timeout(limits.timeout, connections.shutdown()).await.is_err() {
            note!("connections still open {} s after the stop were dropped", limits.timeout.as_secs());
        }
        // The router (and with it every queue) is gone: the workers finish and end.
        tokio::task::spawn_blocking(move || workers.into_iter().for_each(Workers::join)).await.ok();
        Ok(())
    }
}

/// The routes with their layers: metrics around everything, the token around the API.
fn router(state: Arc<AppState>, settings: &Settings) -> Router {
    let mut api = Router::new()
        .route("/v1/models", get(api::models))
        .route("/v1/models/{name}", get(api::model_info))
        .route("/v1/models/{name}/predict", post(api::predict))
        .route("/metrics", get(api::metrics));
    if let Some(token) = settings.token.clone() {
        api = api.route_layer(middleware::from_fn_with_state(Arc::new(token), require_token));
    }
    let metrics = Arc::clone(&state.metrics);
    Router::new()
        .route("/", get(api::page))
        .route("/healthz", get(api::healthz))
        .merge(api)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(settings.limits.max_body))
        .layer(RequestBodyTimeoutLayer::new(settings.limits.body_timeout))
        .layer(middleware::from_fn_with_state(settings.limits, check_head))
        .layer(middleware::from_fn_with_state(metrics, count))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the request failed inside the server")
                .into_response()
        }))
}

/// Counts every answer by route pattern and status, with its latency.
async fn count(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    metrics.request(&route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

/// What the request's head alone refuses, before any of its body is read: an HTTP/1.1 request
/// without `Host` (400, RFC 9112 §3.2), a body in a `Content-Encoding` other than `identity`
/// (415, naming it), and a `Content-Length` over `--max-body` (413 at once; a client that sent
/// `Expect: 100-continue` is not told to go on).
async fn check_head(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if request.version() == axum::http::Version::HTTP_11 && !headers.contains_key(header::HOST) {
        return ApiError::bad_request("no_host", "an HTTP/1.1 request must name its Host").into_response();
    }
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING) {
        let name = String::from_utf8_lossy(encoding.as_bytes()).trim().to_string();
        if !name.eq_ignore_ascii_case("identity") {
            let message = format!("the body is encoded as {name:?}; send it unencoded (no Content-Encoding)");
            return ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_encoding", message).into_response();
        }
    }
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > limits.max_body as u64) {
        let message = format!("the body is over {} bytes (--max-body)", limits.max_body);
        return ApiError::too_large("body_too_large", message).into_response();
    }
    next.run(request).await
}

/// 401 unless the request carries `Authorization: Bearer <token>`.
async fn require_token(State(token): State<Arc<String>>, request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let presented = given.and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
    if same_secret(presented.as_bytes(), token.as_bytes()) {
        return next.run(request).await;
    }
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "this server needs Authorization: Bearer <token>")
            .into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

/// Compares two secrets in time that depends on their lengths only.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A listener on `addr` and the address it got: the one to announce, not the one asked for
/// (port 0 asks the OS for a free one). An error names `--addr`.
pub async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("--addr {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| format!("--addr {addr}: {e}"))?;
    Ok((listener, bound))
}

/// A server running on a thread of its own on a loopback port (for tests and benchmarks).
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Loads the models and starts serving on `127.0.0.1`, on a port the OS picks.
    pub fn start(specs: &[ModelSpec], settings: &Settings) -> Result<Self, String> {
        let server = Server::load(specs, settings)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| format!("binding a loopback port: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(server.run(listener, async {
                let _ = stopped.await;
            }))
        });
        Ok(Self { addr, stop: Some(stop), thread: Some(thread) })
    }

    /// Asks the server to stop and waits until it has answered what was in flight.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| Err(std::io::Error::other("the server thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

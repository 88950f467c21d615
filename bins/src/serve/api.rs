//! The routes: `POST /v1/models/{name}/predict`, `GET /v1/models`, `GET /v1/models/{name}`,
//! `GET /healthz`, `GET /metrics` and the page at `/`. A request is checked completely (body,
//! JSON, fields, limits, model) before it is queued, and every refusal is an [`ApiError`] that
//! names what was wrong.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::batcher::{ModelQueue, Prediction, Refused};
use super::error::ApiError;
use super::models::ModelInfo;
use super::prometheus::Metrics;
use seqlab_datasets::text::Tokenizer;
use seqlab_training::inference::ReadText;
use strum::VariantNames;

/// What a request may ask for at most, and how long it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in a request body (413 past it).
    pub max_body: usize,
    /// Texts in one request (413 past it).
    pub max_texts: usize,
    /// Tokens in one text, as the model reads it (413 past it).
    pub max_tokens: usize,
    /// `nbest` at most (422 past it).
    pub max_nbest: usize,
    /// Time from a request being queued to its answer (503 past it).
    pub timeout: Duration,
    /// Time to receive a request's body (400 past it, the connection closed).
    pub body_timeout: Duration,
    /// Time to receive a request's head, from the connection's start or its previous answer
    /// (the connection closed past it).
    pub header_timeout: Duration,
    /// Open connections at most (`None`: the descriptor limit less a reserve); past it, the
    /// oldest connection that has not sent a whole request head is closed.
    pub max_connections: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 1 << 20,
            max_texts: 1000,
            max_tokens: 1000,
            max_nbest: 20,
            timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(5),
            max_connections: None,
        }
    }
}

/// A served model: what is known of it, and its queue.
pub struct Served {
    /// Its name, task, labels and how it reads text.
    pub info: ModelInfo,
    /// Its workers' queue.
    pub queue: ModelQueue,
}

/// What every handler shares.
pub struct AppState {
    /// The models by name.
    pub models: BTreeMap<String, Served>,
    /// The request limits.
    pub limits: Limits,
    /// The metrics.
    pub metrics: Arc<Metrics>,
}

/// The body of a prediction request.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PredictRequest {
    /// Raw texts (sentences for a tagger).
    texts: Vec<String>,
    /// A CRF tagger's n best taggings per sentence.
    #[serde(default)]
    nbest: usize,
    /// A tagger: cut each text into sentences first (offsets still count from the text's start).
    #[serde(default)]
    sentences: bool,
    /// Read the texts with this tokenizer instead of the model's (`whitespace`, `basic`, `ptb`,
    /// `words`).
    #[serde(default)]
    tokenizer: Option<String>,
}

/// The answer to a prediction request: one object per text, as `predict --json` writes them.
#[derive(Debug, serde::Serialize)]
struct PredictResponse<'a> {
    model: &'a str,
    predictions: Vec<Prediction>,
}

/// `POST /v1/models/{name}/predict`.
pub async fn predict(
    State(state): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let served = model(&state, name)?;
    let request = parse(body, &state.limits)?;
    let tokens = check(&request, &served.info, &state.limits)?;
    let answer = served.queue.submit(tokens, request.nbest).map_err(|refused| match refused {
        Refused::Full => ApiError::unavailable(
            "queue_full",
            format!("model {}'s queue is full (--queue); try again shortly", served.info.name),
            1,
        ),
        Refused::Stopped => ApiError::unavailable("stopping", "the server is stopping", 5),
    })?;
    let predictions = match tokio::time::timeout(state.limits.timeout, answer).await {
        Err(_) => {
            return Err(ApiError::unavailable(
                "timeout",
                format!("no answer within {} ms (--timeout-ms)", state.limits.timeout.as_millis()),
                1,
            ))
        }
        Ok(Err(_)) => return Err(ApiError::unavailable("stopping", "the model's worker stopped", 5)),
        Ok(Ok(Err(e))) => return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "model_error", e)),
        Ok(Ok(Ok(predictions))) => predictions,
    };
    Ok(Json(PredictResponse { model: &served.info.name, predictions }).into_response())
}

/// The model a path names, or 404 listing the ones there are.
fn model(state: &AppState, name: Result<Path<String>, PathRejection>) -> Result<&Served, ApiError> {
    let Path(name) = name.map_err(|e| ApiError::bad_request("bad_path", e.body_text()))?;
    state.models.get(&name).ok_or_else(|| {
        let names: Vec<&str> = state.models.keys().map(String::as_str).collect();
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_model",
            format!("no model named {name:?}; this server has: {}", names.join(", ")),
        )
    })
}

/// The body as a request: 413 over the size limit, 400 for invalid UTF-8 or JSON, 422 for a
/// missing, unknown or wrongly typed field (named with its path, as `texts[2]`).
fn parse(body: Result<Bytes, BytesRejection>, limits: &Limits) -> Result<PredictRequest, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large("body_too_large", format!("the body is over {} bytes (--max-body)", limits.max_body))
        } else {
            ApiError::bad_request("body_unreadable", format!("the body could not be read: {}", e.body_text()))
        }
    })?;
    if let Err(e) = std::str::from_utf8(&body) {
        return Err(ApiError::bad_request(
            "invalid_utf8",
            format!("the body is not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        ));
    }
    let mut json = serde_json::Deserializer::from_slice(&body);
    let request: PredictRequest = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            ApiError::unprocessable("bad_field", format!("{path}: {inner}"))
        } else {
            ApiError::bad_request("bad_json", format!("the body is not a JSON request: {inner}"))
        }
    })?;
    json.end().map_err(|e| ApiError::bad_request("bad_json", format!("the body is not a JSON request: {e}")))?;
    Ok(request)
}

/// The limits and the model's abilities: texts per request, tokens per text, empty texts for a
/// classifier, `nbest` for a model without a CRF, sentences for a tagger, a tokenizer by its
/// name. Returns the texts as the model reads them (the worker predicts from these).
fn check(request: &PredictRequest, info: &ModelInfo, limits: &Limits) -> Result<Vec<ReadText>, ApiError> {
    let tokenizer = match &request.tokenizer {
        None => None,
        Some(name) => Some(name.parse::<Tokenizer>().map_err(|_| {
            ApiError::unprocessable(
                "bad_field",
                format!("tokenizer: {name:?} is none of {}", Tokenizer::VARIANTS.join(", ")),
            )
        })?),
    };
    if request.sentences && !info.tags() {
        return Err(ApiError::unprocessable(
            "bad_field",
            format!("sentences: model {} is a classifier, which reads each text whole", info.name),
        ));
    }
    if request.texts.is_empty() {
        return Err(ApiError::unprocessable("bad_field", "texts: give at least one text"));
    }
    if request.texts.len() > limits.max_texts {
        return Err(ApiError::too_large(
            "too_many_texts",
            format!("texts: {} texts; the limit is {} a request (--max-texts)", request.texts.len(), limits.max_texts),
        ));
    }
    let mut all = Vec::with_capacity(request.texts.len());
    for (i, text) in request.texts.iter().enumerate() {
        let read = info.reader.read(text, tokenizer, request.sentences);
        let tokens = read.tokens.len();
        if tokens > limits.max_tokens {
            return Err(ApiError::too_large(
                "text_too_long",
                format!("texts[{i}]: {tokens} tokens; the limit is {} a text (--max-text-tokens)", limits.max_tokens),
            ));
        }
        if tokens == 0 && !info.tags() {
            return Err(ApiError::unprocessable(
                "bad_field",
                format!("texts[{i}]: no tokens; a classifier needs a word"),
            ));
        }
        all.push(read);
    }
    if request.nbest > 0 && !info.nbest {
        return Err(ApiError::unprocessable(
            "bad_field",
            format!("nbest: model {} gives no n best taggings (only a tagger trained with --output crf)", info.name),
        ));
    }
    if request.nbest > limits.max_nbest {
        return Err(ApiError::unprocessable(
            "bad_field",
            format!("nbest: {}; the limit is {} (--max-nbest)", request.nbest, limits.max_nbest),
        ));
    }
    Ok(all)
}

/// `GET /v1/models`.
pub async fn models(State(state): State<Arc<AppState>>) -> Json<Value> {
    let models: Vec<&Value> = state.models.values().map(|m| &m.info.summary).collect();
    Json(serde_json::json!({ "models": models }))
}

/// `GET /v1/models/{name}`.
pub async fn model_info(
    State(state): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(model(&state, name)?.info.summary.clone()))
}

/// `GET /healthz`.
pub async fn healthz() -> Json<Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.encode())
}

/// `GET /`: the page.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("page.html"))
}

/// Any other path.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see GET /v1/models, POST /v1/models/{name}/predict, /healthz, /metrics",
    )
}

/// A known path with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}

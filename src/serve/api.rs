//! The edge of the server: JSON errors (design/serve.md "Errors"), request bodies read
//! under the size limit, and JSON answers.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

/// An error answer: `{"code", "message", "errors"}` with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (`bad_request`, `invalid_profile`, …).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Details: profile problems, diagnostics, failing policies.
    pub errors: Vec<Value>,
}

impl ApiError {
    /// An error without details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// The same error with details.
    pub fn with_errors(mut self, errors: Vec<Value>) -> ApiError {
        self.errors = errors;
        self
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 413 `too_large`.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 503 `unavailable`.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 400 `invalid_profile` with one entry per problem.
    pub fn invalid_profile(e: &crate::ProfileError) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_profile", e.to_string())
            .with_errors(profile_problems(e))
    }

    /// 400 `invalid_policy` with the diagnostics of a source that does not check.
    pub fn invalid_policy(d: &crate::Diagnostics) -> ApiError {
        let errors = d.errors().count();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_policy",
            format!(
                "the policy does not check: {errors} error{}",
                if errors == 1 { "" } else { "s" }
            ),
        )
        .with_errors(super::diagnostics_json(d))
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"code": self.code, "message": self.message, "errors": self.errors})
    }
}

/// A profile's problems as `{code: "invalid_profile", message, fact}`.
pub fn profile_problems(e: &crate::ProfileError) -> Vec<Value> {
    e.problems
        .iter()
        .map(|p| json!({"code": "invalid_profile", "message": p.message, "fact": p.fact}))
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

/// A JSON answer with a status.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    json_response_sized(status, 128, value)
}

/// [`json_response`] into a buffer of `capacity` bytes reserved up front.
pub fn json_response_sized<T: Serialize + ?Sized>(
    status: StatusCode,
    capacity: usize,
    value: &T,
) -> Response {
    let mut bytes = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut bytes, value) {
        Ok(()) => json_bytes(status, bytes),
        Err(e) => {
            let body = json!({"code": "internal", "message": format!("cannot write JSON: {e}"), "errors": []});
            json_bytes(
                StatusCode::INTERNAL_SERVER_ERROR,
                body.to_string().into_bytes(),
            )
        }
    }
}

/// Serialized JSON bytes as an answer.
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A text answer with its content type.
pub fn text_response(content_type: &'static str, text: String) -> Response {
    let mut r = Response::new(Body::from(text));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// How much of an over-limit body is read and thrown away before answering 413, and for
/// how long. Closing a connection with unread bytes makes the kernel send a reset, so a
/// client that writes its whole body before reading (most do) would see "broken pipe"
/// instead of the 413; reading on for a while ("lingering close", as nginx does) lets it
/// read the answer. Beyond these bounds the connection is closed.
const DRAIN_BYTES: u64 = 64 << 20;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Read a request body of at most `limit` bytes: 413 `too_large` over it (after draining
/// the rest within [`DRAIN_BYTES`] / [`DRAIN_TIME`]), 400 when the body cannot be read.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let too_large = || {
        ApiError::too_large(format!(
            "the request body is larger than the limit of {limit} bytes (--max-body)"
        ))
    };
    let unreadable =
        |e: axum::Error| ApiError::bad_request(format!("cannot read the request body: {e}"));
    let mut body = body;
    let declared = axum::body::HttpBody::size_hint(&body).exact();
    if declared.is_some_and(|n| n > DRAIN_BYTES) {
        return Err(too_large());
    }
    // Sized once from Content-Length (when it is within the limit): no regrowth copies.
    let mut buf: Vec<u8> = Vec::with_capacity(declared.map_or(0, |n| n.min(limit as u64) as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if buf.len() + data.len() > limit {
            let mut seen = (buf.len() + data.len()) as u64;
            drop(buf);
            let drain = async {
                while let Some(Ok(f)) = body.frame().await {
                    seen += f.data_ref().map_or(0, |d| d.len() as u64);
                    if seen > DRAIN_BYTES {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
            return Err(too_large());
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// Parse a JSON body into `T`, answering 400 `bad_request` when it is not JSON of that
/// shape.
pub fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not the expected JSON: {e}")))
}

/// 404 for a route that does not exist.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// 405 for a known route with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not answer that method",
    )
}

/// Run `f` on the blocking pool once `limit` gives a permit (held until `f` returns):
/// large decision batches and the authoring endpoints, off the HTTP threads. The time a
/// request waits for its permit counts toward its timeout, like any other. The server
/// never closes its semaphores (a graceful shutdown lets the requests in flight finish,
/// including those still waiting), so the "shutting down" answer is only a guard.
pub async fn on_pool<F>(
    limit: &std::sync::Arc<tokio::sync::Semaphore>,
    f: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Result<Response, ApiError> + Send + 'static,
{
    let permit = limit
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::unavailable("shutting down"))?;
    tokio::task::spawn_blocking(move || {
        let r = f();
        drop(permit);
        r
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request's work failed",
        )
    })?
}

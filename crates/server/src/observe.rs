//! What an operator sees of each request: its id, its log lines and its metrics.
//!
//! [`layer`] wraps the whole router, the limits included, so that every answer (a 503 of the
//! in-flight cap too) carries `x-request-id`: the caller's when it sent a valid one
//! ([`is_valid_request_id`]), else a new UUID. Everything logged while the request is handled is
//! inside the span `request`, whose fields name the id, the method and the operation: the
//! operation id of the spec, or the route's template for the server's own routes, never the
//! request's path or query string (a key pasted into a URL must not reach the log). One INFO line
//! per request records the status and the latency, and the same figures go to
//! [`crate::metrics`].

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use tracing::Instrument;

use crate::metrics;

/// The header that carries a request's id, in both directions.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The longest request id taken from a caller.
pub const MAX_REQUEST_ID_LEN: usize = 128;
/// The operation label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// `router` with request ids, the request span and its log line, and the request metrics.
pub fn layer(router: Router) -> Router {
    router.layer(middleware::from_fn(observe))
}

/// A request's id, as answered in `x-request-id` (also in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether a caller's `x-request-id` is kept: 1 to [`MAX_REQUEST_ID_LEN`] characters among ASCII
/// letters, digits, `-`, `_`, `.` and `:` (a UUID, a trace id, a load balancer's id), so that it
/// can be logged as it is.
pub fn is_valid_request_id(value: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The caller's id if it sent exactly one valid `x-request-id`, else a new one.
fn request_id(request: &Request) -> String {
    let mut sent = request.headers().get_all(&REQUEST_ID).iter();
    match (sent.next().and_then(|value| value.to_str().ok()), sent.next()) {
        (Some(id), None) if is_valid_request_id(id) => id.to_owned(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

/// The spec's operation ids by method and path template.
static OPERATIONS: LazyLock<HashMap<(Method, String), String>> = LazyLock::new(|| {
    let mut operations = HashMap::new();
    for (path, item) in rainbond_api::api::openapi().paths.paths {
        let methods = [
            (Method::GET, item.get),
            (Method::PUT, item.put),
            (Method::POST, item.post),
            (Method::DELETE, item.delete),
            (Method::OPTIONS, item.options),
            (Method::HEAD, item.head),
            (Method::PATCH, item.patch),
            (Method::TRACE, item.trace),
        ];
        for (method, operation) in methods {
            if let Some(id) = operation.and_then(|operation| operation.operation_id) {
                operations.insert((method, path.clone()), id);
            }
        }
    }
    operations
});

/// The operation a request is for: the spec's operation id, else the route's template (the
/// server's own routes), else [`UNMATCHED`]. A bounded set: it labels metrics.
fn operation(request: &Request) -> String {
    let Some(route) = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str) else {
        return UNMATCHED.to_owned();
    };
    OPERATIONS.get(&(request.method().clone(), route.to_owned())).cloned().unwrap_or_else(|| route.to_owned())
}

async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let metrics = metrics::global();
    let _in_flight = metrics.in_flight();
    let id = request_id(&request);
    let operation = operation(&request);
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), operation = %operation);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    let elapsed = started.elapsed();
    metrics.record_request(&operation, status, elapsed);
    span.in_scope(|| tracing::info!(status = status.as_u16(), latency_ms = elapsed.as_secs_f64() * 1e3, "answered"));
    let id = HeaderValue::from_str(&id).expect("request ids are visible ASCII");
    response.headers_mut().insert(REQUEST_ID.clone(), id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_kept() {
        for kept in ["a", "0f8b7c2e-1d4a-4b5e-9c3f-2a1b0c9d8e7f", "lb:1.2_x-y", &"x".repeat(MAX_REQUEST_ID_LEN)] {
            assert!(is_valid_request_id(kept), "{kept}");
        }
        for refused in ["", " ", "a b", "a\nb", "ключ", "a\"b", "{}", &"x".repeat(MAX_REQUEST_ID_LEN + 1)] {
            assert!(!is_valid_request_id(refused), "{refused:?}");
        }
    }

    #[test]
    fn operations_are_named_by_the_spec() {
        let path = "/openapi/v1/teams/{team_id}/regions/{region_name}/apps/{app_id}/copy".to_owned();
        assert_eq!(OPERATIONS.get(&(Method::POST, path.clone())).map(String::as_str), Some("copy_app"));
        assert_eq!(OPERATIONS.get(&(Method::GET, path)).map(String::as_str), Some("list_copy_services"));
    }
}

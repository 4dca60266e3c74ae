//! Limits against slow and greedy clients, and the layers that enforce the per-request ones.
//!
//! Each limit is a `serve` flag (README, "Limits"). The connection-level ones (header-read
//! timeout, connection cap, shutdown deadline) are enforced by [`crate::http::serve`]; the
//! request-level ones by the layers [`Limits::apply`] adds to a router:
//!
//! - more than `max_in_flight` requests at once: 503 with `Retry-After`, answered at once;
//! - a request body not received within `body_read_timeout`: 408, and the connection is closed;
//! - a request not answered within `request_timeout`: 503 with `Retry-After`.
//!
//! Every 503 the server answers carries `Retry-After` (also those of a busy database).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tokio::time::Sleep;

use crate::error::ApiError;
use crate::metrics::{self, UnavailableCause};

/// Seconds a client is told to wait (`Retry-After`) before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The limits of a server. [`Limits::default`] holds the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed to receive a request's headers (from the first poll for them); also how long
    /// an idle keep-alive connection stays open. The connection is closed when it runs out.
    pub header_read_timeout: Duration,
    /// Time allowed to receive a request's body once its headers are in: 408, connection closed.
    pub body_read_timeout: Duration,
    /// Time allowed for a whole request once its headers are in: 503.
    pub request_timeout: Duration,
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Requests handled at once at most; more are answered 503 at once.
    pub max_in_flight: usize,
    /// After a shutdown signal, time the server goes on accepting and serving requests while
    /// `/readyz` answers 503, so that a load balancer stops sending it requests.
    pub drain_period: Duration,
    /// After the drain period, time given to requests in flight before connections are dropped.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 512,
            max_in_flight: 128,
            drain_period: Duration::ZERO,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// `router` with the per-request limits enforced.
    pub fn apply(&self, router: Router) -> Router {
        let in_flight = Arc::new(Semaphore::new(self.max_in_flight));
        router
            .layer(middleware::from_fn_with_state(self.body_read_timeout, limit_body_read))
            .layer(middleware::from_fn_with_state(self.request_timeout, limit_request_time))
            .layer(middleware::from_fn_with_state(in_flight, limit_in_flight))
            .layer(middleware::map_response(retry_after_on_503))
    }
}

/// An error answered by a limit, in the spec's error body.
fn error_response(error: ApiError) -> Response {
    (error.status, axum::Json(error.body)).into_response()
}

fn unavailable(msg: &str) -> Response {
    error_response(ApiError::unavailable(msg))
}

async fn limit_in_flight(State(slots): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    match slots.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => {
            metrics::global().unavailable(UnavailableCause::InFlight);
            unavailable("too many requests in flight; retry later")
        }
    }
}

async fn limit_request_time(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout = ?limit, "request timed out");
            metrics::global().unavailable(UnavailableCause::RequestTimeout);
            unavailable("the request took longer than the server allows; retry later")
        }
    }
}

async fn limit_body_read(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(DeadlineBody { inner: body, deadline: Box::pin(tokio::time::sleep(limit)), expired: expired.clone() })
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Acquire) {
        return response;
    }
    tracing::warn!(timeout = ?limit, "request body timed out");
    let mut response = error_response(ApiError::new(
        crate::error::code::BODY_TIMEOUT,
        "the request body was not received in time",
        "请求体接收超时",
    ));
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn retry_after_on_503(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().entry(header::RETRY_AFTER).or_insert(HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    response
}

/// A request body that fails once its deadline passes, and records that it did.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(axum::Error::new("the request body was not received in time"))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

//! The whole HTTP surface: the generated router serving [`CopyService`], plus `GET /openapi.json`
//! (the document built from the code), `/docs` (Swagger UI, served from the binary), and for
//! operators `GET /healthz` (the process serves), `GET /readyz` (this instance can take a copy
//! now) and `GET /metrics` (Prometheus).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use utoipa_swagger_ui::SwaggerUi;

use crate::limits::Limits;
use crate::service::CopyService;
use crate::store::Repository;
use rainbond_api::api;

/// The largest request body the server reads; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// How long the accept loop pauses after an accept error (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// How long `/readyz` waits for the database's write check; past it the instance is not ready.
pub const READINESS_CHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// The application's router. [`serve`] adds the limits and [`crate::observe`]'s layer.
pub fn router<R: Repository>(service: Arc<CopyService<R>>) -> Router {
    let mut operations = Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz::<R>));
    if crate::metrics::recording() {
        operations = operations.route("/metrics", get(metrics::<R>));
    }
    let operations = operations.with_state(service.clone());
    api::router(service)
        .merge(operations)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", served_document()))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The document served at `/openapi.json`: the one built from the code, with one relative server
/// (`/`) in place of the spec's, so that "Try it out" in `/docs` calls the server that served the
/// page, whatever address it listens on.
fn served_document() -> utoipa::openapi::OpenApi {
    let mut document = api::openapi();
    document.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    document
}

/// 200 while the process serves requests.
async fn healthz() -> &'static str {
    "ok"
}

/// Set when the server starts shutting down (`/readyz` answers 503 from then on).
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether the server is shutting down.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// 200 when this instance can take a copy now: it is not shutting down, and the database takes a
/// write within [`READINESS_CHECK_TIMEOUT`] (the schema is migrated before the server listens).
/// 503 (with `Retry-After`) otherwise, saying why.
async fn readyz<R: Repository>(
    State(service): State<Arc<CopyService<R>>>,
    draining: Option<Extension<Draining>>,
) -> (StatusCode, &'static str) {
    if draining.is_some_and(|Extension(draining)| draining.is_set()) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match tokio::time::timeout(READINESS_CHECK_TIMEOUT, service.store().ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!(timeout = ?READINESS_CHECK_TIMEOUT, "readiness check timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// The process's metrics in the Prometheus text format.
async fn metrics<R: Repository>(State(service): State<Arc<CopyService<R>>>) -> impl IntoResponse {
    let text = crate::metrics::global().render(service.store().pool_stats());
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then `/readyz`
/// answers 503 while the server goes on serving for `limits.drain_period` (a load balancer stops
/// sending requests), stops accepting, lets requests in flight finish for up to
/// `limits.shutdown_deadline`, and drops the connections that remain.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let draining = Draining::default();
    let router = crate::observe::layer(limits.apply(router).layer(Extension(draining.clone())));
    let shutdown = async move {
        shutdown.await;
        draining.set();
        tracing::info!(drain_period = ?limits.drain_period, "draining: /readyz answers 503");
        tokio::time::sleep(limits.drain_period).await;
    };
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let connection_slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = connection_slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::trace!(%peer, "connection accepted");
                    stream
                }
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http1.serve_connection(TokioIo::new(stream), service));
        connections.spawn(async move {
            match connection.await {
                Ok(()) => tracing::trace!("connection closed"),
                Err(error) => tracing::debug!(%error, "connection closed with an error"),
            }
            drop(slot);
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_deadline, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            deadline = ?limits.shutdown_deadline,
            "dropping the connections still open at the shutdown deadline"
        );
    }
    connections.shutdown().await;
    Ok(())
}

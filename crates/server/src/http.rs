//! The whole HTTP surface: the generated router serving [`CopyService`], plus `GET /openapi.json`
//! (the document built from the code), `/docs` (Swagger UI, served from the binary) and
//! `GET /healthz`.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_swagger_ui::SwaggerUi;

use crate::limits::Limits;
use crate::service::CopyService;
use crate::store::Repository;
use rainbond_api::api;

/// The largest request body the server reads; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// How long the accept loop pauses after an accept error (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// The application's router.
pub fn router<R: Repository>(service: Arc<CopyService<R>>) -> Router {
    let health = Router::new().route("/healthz", get(healthz::<R>)).with_state(service.clone());
    api::router(service)
        .merge(health)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", served_document()))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // One line per request at INFO (method, path, status, latency); headers, and so access
        // keys, are never recorded.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// The document served at `/openapi.json`: the one built from the code, with one relative server
/// (`/`) in place of the spec's, so that "Try it out" in `/docs` calls the server that served the
/// page, whatever address it listens on.
fn served_document() -> utoipa::openapi::OpenApi {
    let mut document = api::openapi();
    document.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    document
}

/// 200 when the database answers and accepts writes, 503 (with `Retry-After`) otherwise.
async fn healthz<R: Repository>(State(service): State<Arc<CopyService<R>>>) -> (StatusCode, &'static str) {
    match service.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets requests in flight finish for up to `limits.shutdown_deadline`, and drops the
/// connections that remain.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = limits.apply(router);
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

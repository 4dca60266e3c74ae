//! The whole HTTP surface: the generated router serving [`CopyService`], plus `GET /openapi.json`
//! (the document built from the code), `/docs` (Swagger UI, served from the binary) and
//! `GET /healthz`.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_swagger_ui::SwaggerUi;

use crate::service::CopyService;
use crate::store::Repository;
use rainbond_api::api;

/// The largest request body the server reads; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

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

/// 200 when the database answers, 503 otherwise.
async fn healthz<R: Repository>(State(service): State<Arc<CopyService<R>>>) -> (StatusCode, &'static str) {
    match service.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

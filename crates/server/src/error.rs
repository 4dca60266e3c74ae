//! Errors the API answers with: a status and the spec's error body (`code`, `msg`, `msg_show`).
//! Codes follow the Rainbond console where it has one.

use axum::http::StatusCode;

use rainbond_api::models::ErrorBody;

/// The Rainbond console's error codes this API answers with; other errors carry their HTTP status
/// as the code.
pub mod code {
    /// The region does not exist.
    pub const REGION_NOT_FOUND: i32 = 3000;
    /// The team is not initialised in the region.
    pub const TEAM_NOT_IN_REGION: i32 = 2001;
    /// The app does not exist (in the team and region of the request).
    pub const APP_NOT_FOUND: i32 = 4000;
    /// The request is malformed or breaks a rule.
    pub const INVALID_REQUEST: i32 = 20400;
    /// The server failed.
    pub const SERVER_ERROR: i32 = 10401;
    /// The database is busy or cannot be reached (503).
    pub const DATABASE_UNAVAILABLE: i32 = 10402;
    /// Concurrent copies into the same target kept clashing.
    pub const CONTENDED: i32 = 10409;
    /// A copy with the same `Idempotency-Key` is still running (409).
    pub const IDEMPOTENCY_KEY_IN_PROGRESS: i32 = 10410;
    /// The `Idempotency-Key` was used for another request (422).
    pub const IDEMPOTENCY_KEY_REUSED: i32 = 20422;
}

/// An error answered to the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
}

impl ApiError {
    /// An error with a status, a Rainbond code, an English message and a message for display.
    pub fn new(status: StatusCode, code: i32, msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        ApiError { status, body: ErrorBody { code, msg: msg.into(), msg_show: msg_show.into() } }
    }

    /// 400 with the console's validation code.
    pub fn bad_request(msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::INVALID_REQUEST, msg, msg_show)
    }

    /// 401: no usable access key.
    pub fn unauthorized(msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 401, msg, msg_show)
    }

    /// 404 with a code.
    pub fn not_found(code: i32, msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, msg, msg_show)
    }

    /// 503: the server cannot take the request now; retrying later may work (every 503 is
    /// answered with `Retry-After`, see [`crate::limits`]).
    pub fn unavailable(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, 503, msg, "服务器繁忙，请稍后重试")
    }

    /// 500: the server failed. The cause is logged, not sent.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(cause), "request failed");
        Self::server_error()
    }

    /// 500, for a failure already logged.
    pub fn server_error() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, code::SERVER_ERROR, "internal server error", "服务器内部错误")
    }

    /// 503 with code 10402: the database cannot be used for now (it restarts, or its lock stayed
    /// held past the busy timeout). Nothing was changed; the same request can be sent again. The
    /// cause is logged, not sent.
    pub fn database_unavailable(cause: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %ErrorChain(cause), "the database is unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::DATABASE_UNAVAILABLE,
            "the database is busy or unavailable; nothing was changed, retry later",
            "数据库暂时不可用，请稍后重试",
        )
    }

    /// 409 with code 10409: concurrent copies into the same target kept clashing with this one
    /// beyond the retry bound. Nothing was changed; the same request can be sent again.
    pub fn contended(cause: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %ErrorChain(cause), "copy given up after repeated clashes");
        Self::new(
            StatusCode::CONFLICT,
            code::CONTENDED,
            "concurrent changes to the target kept clashing with this copy; try again",
            "目标正被并发修改，请稍后重试",
        )
    }
}

/// Displays an error and its sources, `: `-separated.
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        if error.is_unavailable() { ApiError::database_unavailable(&error) } else { ApiError::internal(&error) }
    }
}

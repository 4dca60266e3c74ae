//! Errors the API answers with: a status and the spec's error body (`code`, `msg`, `msg_show`).
//! Codes follow the Rainbond console where it has one.

use axum::http::StatusCode;

use rainbond_api::models::ErrorBody;

/// The error codes this API answers, each with its status (`rainbond_api::codes`: the list
/// `rainbond-check` holds the spec to).
pub use rainbond_api::codes as code;
use rainbond_api::codes::ErrorCode;

/// An error answered to the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
}

impl ApiError {
    /// An error with a documented code (and its status), an English message and a message for
    /// display.
    pub fn new(code: ErrorCode, msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(code.status).expect("every documented code has a valid status");
        ApiError { status, body: ErrorBody { code: code.code, msg: msg.into(), msg_show: msg_show.into() } }
    }

    /// 400 with the console's validation code.
    pub fn bad_request(msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        Self::new(code::INVALID_REQUEST, msg, msg_show)
    }

    /// 401: no usable access key.
    pub fn unauthorized(msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        Self::new(code::UNAUTHORIZED, msg, msg_show)
    }

    /// 503: the server cannot take the request now; retrying later may work (every 503 is
    /// answered with `Retry-After`, see [`crate::limits`]).
    pub fn unavailable(msg: impl Into<String>) -> Self {
        Self::new(code::BUSY, msg, "服务器繁忙，请稍后重试")
    }

    /// 500: the server failed. The cause is logged, not sent.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(cause), "request failed");
        Self::server_error()
    }

    /// 500, for a failure already logged.
    pub fn server_error() -> Self {
        Self::new(code::SERVER_ERROR, "internal server error", "服务器内部错误")
    }

    /// 503 with code 10402: the database cannot be used for now (it restarts, or its lock stayed
    /// held past the busy timeout). Nothing was changed; the same request can be sent again. The
    /// cause is logged, not sent.
    pub fn database_unavailable(cause: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %ErrorChain(cause), "the database is unavailable");
        crate::metrics::global().unavailable(crate::metrics::UnavailableCause::Database);
        Self::new(
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

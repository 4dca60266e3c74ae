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

    /// 503: the database stayed locked past the busy timeout; nothing was changed. The cause is
    /// logged, not sent.
    pub fn busy(cause: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %ErrorChain(cause), "database busy");
        Self::unavailable("the database is busy; nothing was changed, retry later")
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
        if error.is_busy() { ApiError::busy(&error) } else { ApiError::internal(&error) }
    }
}

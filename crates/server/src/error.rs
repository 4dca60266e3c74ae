//! Errors the API answers with: a status and the spec's error body (`code`, `msg`, `msg_show`).
//! Codes follow the Rainbond console where it has one.

use axum::http::StatusCode;

use rainbond_api::models::ErrorBody;

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
        Self::new(StatusCode::BAD_REQUEST, 20400, msg, msg_show)
    }

    /// 401: no usable access key.
    pub fn unauthorized(msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 401, msg, msg_show)
    }

    /// 404 with a code.
    pub fn not_found(code: i32, msg: impl Into<String>, msg_show: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, msg, msg_show)
    }

    /// 500: the server failed. The cause is logged, not sent.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(cause), "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, 10401, "internal server error", "服务器内部错误")
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
        ApiError::internal(&error)
    }
}

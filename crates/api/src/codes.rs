//! Every error code the server answers in `ErrorBody.code`, with the HTTP status it comes with.
//!
//! Written by hand, not generated: it is what the implementation answers, which the spec cannot
//! decide. The server builds every error body from these constants (its `ApiError` takes an
//! [`ErrorCode`], not a number), and `rainbond-check check` compares [`ALL`] with the list in
//! the description of `ErrorBody.code` in openapi.yaml, both ways: a code answered but not
//! documented, or documented but never answered, is a finding.

/// An error code and the status it is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ErrorCode {
    /// `ErrorBody.code`: a Rainbond console code, or the HTTP status where the console has none.
    pub code: i32,
    /// The HTTP status.
    pub status: u16,
}

/// The request is malformed or breaks a rule of the operation.
pub const INVALID_REQUEST: ErrorCode = ErrorCode { code: 20400, status: 400 };
/// The access key is missing, unknown or expired.
pub const UNAUTHORIZED: ErrorCode = ErrorCode { code: 401, status: 401 };
/// The caller is not a member of the source team.
pub const FORBIDDEN: ErrorCode = ErrorCode { code: 403, status: 403 };
/// A team, target app or component does not exist, or the path names nothing.
pub const NOT_FOUND: ErrorCode = ErrorCode { code: 404, status: 404 };
/// The region does not exist.
pub const REGION_NOT_FOUND: ErrorCode = ErrorCode { code: 3000, status: 404 };
/// The app does not exist in the team and region of the request.
pub const APP_NOT_FOUND: ErrorCode = ErrorCode { code: 4000, status: 404 };
/// The path does not have the method.
pub const METHOD_NOT_ALLOWED: ErrorCode = ErrorCode { code: 405, status: 405 };
/// The request body did not arrive within the body-read timeout.
pub const BODY_TIMEOUT: ErrorCode = ErrorCode { code: 408, status: 408 };
/// The team is not initialised in the region.
pub const TEAM_NOT_IN_REGION: ErrorCode = ErrorCode { code: 2001, status: 409 };
/// Concurrent copies into the same target kept clashing with this one.
pub const CONTENDED: ErrorCode = ErrorCode { code: 10409, status: 409 };
/// A copy with the same `Idempotency-Key` is still running.
pub const IDEMPOTENCY_KEY_IN_PROGRESS: ErrorCode = ErrorCode { code: 10410, status: 409 };
/// The request body is too large.
pub const BODY_TOO_LARGE: ErrorCode = ErrorCode { code: 413, status: 413 };
/// The request body is not JSON.
pub const UNSUPPORTED_MEDIA_TYPE: ErrorCode = ErrorCode { code: 415, status: 415 };
/// The `Idempotency-Key` was used for another request.
pub const IDEMPOTENCY_KEY_REUSED: ErrorCode = ErrorCode { code: 20422, status: 422 };
/// The server failed.
pub const SERVER_ERROR: ErrorCode = ErrorCode { code: 10401, status: 500 };
/// Too many requests in flight, or the request ran past the request timeout.
pub const BUSY: ErrorCode = ErrorCode { code: 503, status: 503 };
/// The database is busy or cannot be reached.
pub const DATABASE_UNAVAILABLE: ErrorCode = ErrorCode { code: 10402, status: 503 };

/// Every code the server answers, by status.
pub const ALL: [ErrorCode; 17] = [
    INVALID_REQUEST,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    REGION_NOT_FOUND,
    APP_NOT_FOUND,
    METHOD_NOT_ALLOWED,
    BODY_TIMEOUT,
    TEAM_NOT_IN_REGION,
    CONTENDED,
    IDEMPOTENCY_KEY_IN_PROGRESS,
    BODY_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    IDEMPOTENCY_KEY_REUSED,
    SERVER_ERROR,
    BUSY,
    DATABASE_UNAVAILABLE,
];

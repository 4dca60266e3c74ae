//! Opt-in retries of transient failures: [`RetryPolicy`].
//!
//! The generated client sends every request through progenitor's `ClientHooks::exec`; this
//! module implements that hook for [`Client`]. Without a policy in scope it sends the request
//! once, as progenitor does; inside [`RetryPolicy::run`] it resends a copy of the same request
//! (same method, URL, headers and body) while the answer is transient and the request is safe to
//! send again.

use std::future::Future;
use std::time::{Duration, Instant};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::HeaderValue;
use reqwest::{Method, Request, Response, StatusCode};

use crate::Client;

/// The header that makes a `POST` safe to resend (the IETF httpapi draft's name).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The error code of a `409` that says concurrent copies kept clashing: nothing changed, retry.
pub const CODE_COPY_CONFLICT: i64 = 10409;
/// The error code of a `409` that says a copy with the same idempotency key is still running:
/// retry later.
pub const CODE_KEY_IN_PROGRESS: i64 = 10410;

tokio::task_local! {
    static SCOPE: Scope;
}

/// What [`RetryPolicy::run`] and [`RetryPolicy::run_idempotent`] put in scope.
#[derive(Clone)]
struct Scope {
    policy: RetryPolicy,
    /// Sent as `Idempotency-Key` on requests that are not idempotent by their method.
    idempotency_key: Option<HeaderValue>,
}

/// When and how long to retry a request: attempts, exponential backoff with jitter, a total
/// deadline, and how far to follow a server's `Retry-After`.
///
/// A request is retried only when it is safe to send twice: `GET`, `HEAD`, `OPTIONS`, `PUT`,
/// `DELETE` always, and any other method (`POST …/copy`) because the policy gives it an
/// `Idempotency-Key` header: the caller's (the builder's `idempotency_key`, or
/// [`RetryPolicy::run_idempotent`]'s), else a random UUID made once per call, so that every
/// resend of one call carries the same key and the server makes the copy once. The answers retried are: no answer at all (connection refused or
/// dropped, timeout), `408`, `503` (after its `Retry-After`, capped by
/// [`RetryPolicy::max_retry_after`]) and `409` with code 10409 (copies kept clashing) or 10410 (a
/// copy with the same key is still running). Anything else is returned at once.
///
/// ```no_run
/// use std::time::Duration;
/// use rainbond_client::{Client, RetryPolicy};
///
/// # async fn list(client: &Client) -> Result<(), rainbond_client::Error<rainbond_client::types::ErrorBody>> {
/// let policy = RetryPolicy::default().attempts(5).deadline(Duration::from_secs(20));
/// let components = policy
///     .run(client.list_copy_services().team_id("o19p6wen").region_name("rainbond").app_id("1").send())
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    deadline: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 100 ms doubling up to 2 s, 30 s in all, `Retry-After` up to 10 s.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            deadline: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// How many times a request is sent at most, the first included (at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; each later one doubles it, up to `max`. The wait is drawn
    /// between half of that and all of it (jitter), so that clients failed together do not retry
    /// together.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The total time allowed for retries, from the first attempt: no retry is made whose wait
    /// would end after it. An attempt already sent runs to its answer or to the HTTP client's
    /// own timeout (15 s for `Client::new`), which may end after the deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The longest `Retry-After` (in seconds) followed; a longer one is waited for this long.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Runs `request` (typically an operation's `send()`) with this policy: every request the
    /// client sends inside it is retried as the policy says. A `POST` without an
    /// `Idempotency-Key` gets a random one, the same for each of its resends.
    pub async fn run<F: Future>(&self, request: F) -> F::Output {
        SCOPE.scope(Scope { policy: self.clone(), idempotency_key: None }, request).await
    }

    /// [`RetryPolicy::run`], with `key` sent as the `Idempotency-Key` header of the requests that
    /// are not idempotent by their method (`POST`) and carry none. Give one key per logical
    /// operation (a copy), and the same key when that operation is tried again later, after the
    /// policy gave up or the program restarted: the server answers the first copy again.
    ///
    /// **The server must recognise the key for retries of a `POST` to be safe.** This workspace's
    /// server does (for the key's lifetime, 24 hours by default); Rainbond's published API ignores
    /// the header, so there a retried copy whose first answer was lost is made twice.
    pub async fn run_idempotent<F: Future>(&self, key: &str, request: F) -> Result<F::Output, InvalidKey> {
        let key = HeaderValue::from_str(key).map_err(|_| InvalidKey)?;
        Ok(SCOPE.scope(Scope { policy: self.clone(), idempotency_key: Some(key) }, request).await)
    }

    /// The wait before retry number `retry` (1 for the first), jitter included.
    fn backoff_before(&self, retry: u32) -> Duration {
        let doubled = self.initial_backoff.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        let ceiling = doubled.min(self.max_backoff);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// Sends `request` with `client`, again while the answer is transient, the request can be
    /// resent, attempts remain and the wait ends before the deadline.
    async fn execute(&self, client: &reqwest::Client, mut request: Request) -> reqwest::Result<Response> {
        let started = Instant::now();
        let resendable = can_resend(&request);
        for attempt in 1.. {
            let again = if resendable && attempt < self.attempts { request.try_clone() } else { None };
            let answer = client.execute(request).await;
            let Some(again) = again else { return answer };
            let (answer, transient) = classify(answer).await;
            let Some(retry_after) = transient else { return answer };
            let wait = match retry_after {
                Some(server_wait) => server_wait.min(self.max_retry_after),
                None => self.backoff_before(attempt),
            };
            if started.elapsed() + wait >= self.deadline {
                return answer;
            }
            tokio::time::sleep(wait).await;
            request = again;
        }
        unreachable!("the loop returns by its last attempt")
    }
}

/// Whether sending `request` twice does what sending it once does.
fn can_resend(request: &Request) -> bool {
    idempotent_method(request.method()) || request.headers().contains_key(IDEMPOTENCY_KEY)
}

/// The methods HTTP defines as idempotent.
fn idempotent_method(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::OPTIONS, Method::PUT, Method::DELETE, Method::TRACE].contains(method)
}

/// `answer`, rebuilt when its body had to be read, and whether it is transient: `None` when it
/// is not, `Some(Some(wait))` when the server said how long to wait, `Some(None)` otherwise.
async fn classify(answer: reqwest::Result<Response>) -> (reqwest::Result<Response>, Option<Option<Duration>>) {
    let response = match answer {
        Err(error) => {
            let no_answer = error.is_connect() || error.is_timeout() || error.is_request();
            return (Err(error), no_answer.then_some(None));
        }
        Ok(response) => response,
    };
    match response.status() {
        StatusCode::REQUEST_TIMEOUT => (Ok(response), Some(None)),
        StatusCode::SERVICE_UNAVAILABLE => {
            let wait = retry_after(&response);
            (Ok(response), Some(wait))
        }
        StatusCode::CONFLICT => {
            let (response, code) = error_code(response).await;
            let transient =
                code.is_some_and(|code| [CODE_COPY_CONFLICT, CODE_KEY_IN_PROGRESS].contains(&code)).then_some(None);
            (response, transient)
        }
        _ => (Ok(response), None),
    }
}

/// The `Retry-After` of `response` in seconds (the HTTP-date form is not followed: the
/// policy's backoff applies).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Reads the body of `response` for its error body's `code`, and gives back an equal response
/// (status, version, headers, the same bytes) for the caller to decode.
async fn error_code(response: Response) -> (reqwest::Result<Response>, Option<i64>) {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(error) => return (Err(error), None),
    };
    let code = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|value| value["code"].as_i64());
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    (Ok(Response::from(rebuilt)), code)
}

/// A new idempotency key: a random UUID (version 4), which the server's key rules accept.
fn fresh_key() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid header value")
}

/// An idempotency key that cannot be sent as a header value (control characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key must be printable ASCII (a header value)")]
pub struct InvalidKey;

/// Every request of the generated client passes here: retried inside [`RetryPolicy::run`], sent
/// once elsewhere. (An impl for `Client` takes precedence over progenitor's default one for
/// `&Client`.)
impl ClientHooks<()> for Client {
    async fn exec(&self, mut request: Request, _: &OperationInfo) -> reqwest::Result<Response> {
        let Ok(Scope { policy, idempotency_key }) = SCOPE.try_with(Clone::clone) else {
            return self.client().execute(request).await;
        };
        if !idempotent_method(request.method()) {
            request.headers_mut().entry(IDEMPOTENCY_KEY).or_insert_with(|| idempotency_key.unwrap_or_else(fresh_key));
        }
        policy.execute(self.client(), request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_ceiling_with_jitter_in_the_upper_half() {
        let policy = RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(500));
        for (retry, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 500), (30, 500)] {
            for _ in 0..50 {
                let wait = policy.backoff_before(retry);
                let ceiling = Duration::from_millis(ceiling);
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "retry {retry}: {wait:?} not in [{:?}, {ceiling:?}]",
                    ceiling / 2
                );
            }
        }
    }

    #[test]
    fn only_idempotent_methods_and_keyed_requests_are_resent() {
        let request = |method: Method, key: bool| {
            let mut request = Request::new(method, "http://127.0.0.1/".parse().unwrap());
            if key {
                request.headers_mut().insert(IDEMPOTENCY_KEY, "k1".parse().unwrap());
            }
            request
        };
        assert!(can_resend(&request(Method::GET, false)));
        assert!(!can_resend(&request(Method::POST, false)));
        assert!(can_resend(&request(Method::POST, true)));
        assert!(!can_resend(&request(Method::PATCH, false)));
    }

    #[test]
    fn at_least_one_attempt() {
        assert_eq!(RetryPolicy::default().attempts(0).attempts, 1);
    }
}

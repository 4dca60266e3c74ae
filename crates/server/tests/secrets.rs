//! Access keys stay secret: a run of the real binary at `RUST_LOG=trace` that goes through every
//! error path the API has must not print any key (logs and any panic message go to stderr), nor
//! answer one in a body; and a wrong key is refused the same way whether or not it shares a prefix
//! with a real key, because only fixed-length digests are ever compared.

mod common;

use std::path::Path;
use std::process::Child;

use common::raw_http::{RawRequest, RawResponse, send};
use common::{ADMIN, EXPIRED, GUEST};
use rainbond_server::access_key::digest as key_digest;
use serde_json::json;

/// A key no user has, sent on purpose.
const UNKNOWN: &str = "rbd-demo-unknown-8c1f";
const COPY: &str = "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy";

/// The binary at `RUST_LOG=trace`, its stdout and stderr in a file.
struct TracedServer {
    child: Child,
    url: String,
}

impl TracedServer {
    fn start(database: &Path, log: &Path) -> TracedServer {
        let log_file = std::fs::File::create(log).unwrap();
        let (child, url) = common::binary::serve_demo_logging(database, &[], "trace", log_file);
        TracedServer { child, url }
    }

    /// SIGTERM, then wait (the shutdown lines are logged too).
    fn stop(mut self) {
        common::binary::terminate(&self.child);
        common::binary::wait_for_clean_exit(&mut self.child);
    }
}

impl Drop for TracedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn request(
    method: &'static str,
    target: &str,
    key: Option<&str>,
    body: Option<serde_json::Value>,
) -> RawRequest<'static> {
    let mut headers = Vec::new();
    if let Some(key) = key {
        headers.push(("authorization", key.to_owned()));
    }
    if body.is_some() {
        headers.push(("content-type", "application/json".to_owned()));
    }
    RawRequest {
        method,
        target: target.to_owned(),
        headers,
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    }
}

fn copy_to(team: &str, region: &str, app: i32, services: &[&str]) -> serde_json::Value {
    let services: Vec<_> = services.iter().map(|id| json!({"service_id": id})).collect();
    json!({"services": services, "target_team_name": team, "target_region_name": region, "target_app_id": app})
}

/// A key a caller pastes into a URL: a query string or a path segment.
const PASTED: &str = "rbd-pasted-into-a-url-7d2e";

/// Requests that reach every answer the API has, each carrying a key (valid, expired or unknown)
/// in `Authorization`, and requests with a key pasted into the URL (the log names a request's
/// operation, never its path or query string). (A key put in a body field is the caller's own
/// input: error messages may repeat body values, cut to 64 characters.)
fn every_error_path() -> Vec<(RawRequest<'static>, u16)> {
    let valid = || Some(copy_to("o19p6wen", "rainbond", 2, &[common::WEB]));
    let bearer = format!("Bearer {ADMIN}");
    vec![
        (request("GET", COPY, None, None), 401),
        (request("GET", COPY, Some(UNKNOWN), None), 401),
        (request("POST", COPY, Some(&format!("Bearer {UNKNOWN}")), valid()), 401),
        (request("GET", COPY, Some(EXPIRED), None), 401),
        (request("GET", COPY, Some(GUEST), None), 403),
        (request("GET", "/openapi/v1/teams/nope/regions/rainbond/apps/1/copy", Some(ADMIN), None), 404),
        (request("GET", "/openapi/v1/teams/o19p6wen/regions/nope/apps/1/copy", Some(ADMIN), None), 404),
        (request("GET", "/openapi/v1/teams/k2x9qa7d/regions/rainbond-east/apps/4/copy", Some(ADMIN), None), 409),
        (request("GET", "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/999/copy", Some(&bearer), None), 404),
        (request("POST", COPY, Some(ADMIN), Some(copy_to("nope", "rainbond", 2, &[]))), 404),
        (request("POST", COPY, Some(ADMIN), Some(copy_to("o19p6wen", "rainbond", 999, &[]))), 404),
        (request("POST", COPY, Some(ADMIN), Some(copy_to("o19p6wen", "rainbond", 3, &[]))), 400),
        (request("POST", COPY, Some(ADMIN), Some(copy_to("o19p6wen", "rainbond", 2, &["nope"]))), 404),
        (
            request(
                "POST",
                "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/5/copy",
                Some(ADMIN),
                Some(copy_to("o19p6wen", "rainbond", 2, &[])),
            ),
            400,
        ),
        (request("POST", COPY, Some(ADMIN), Some(json!({"target_team_name": "o19p6wen"}))), 400),
        (request("POST", COPY, Some(ADMIN), None), 400),
        (
            RawRequest {
                headers: vec![("authorization", ADMIN.to_owned()), ("content-type", "text/plain".to_owned())],
                ..request("POST", COPY, None, valid())
            },
            415,
        ),
        (
            RawRequest {
                body: vec![b' '; rainbond_server::http::MAX_BODY_BYTES + 1],
                ..request("POST", COPY, Some(ADMIN), valid())
            },
            413,
        ),
        (
            RawRequest {
                headers: vec![("authorization", ADMIN.to_owned()), ("authorization", GUEST.to_owned())],
                ..request("GET", COPY, None, None)
            },
            401,
        ),
        (request("DELETE", COPY, Some(ADMIN), None), 405),
        (request("GET", "/openapi/v1/nothing", Some(ADMIN), None), 404),
        (request("POST", COPY, Some(&bearer), valid()), 200),
        (request("GET", &format!("{COPY}?access_key={ADMIN}"), Some(ADMIN), None), 200),
        (request("GET", &format!("{COPY}?token={PASTED}&key={PASTED}"), None, None), 401),
        (request("GET", &format!("/openapi/v1/teams/{PASTED}/regions/rainbond/apps/1/copy"), Some(ADMIN), None), 404),
        (request("GET", &format!("/openapi/v1/teams/o19p6wen/regions/{PASTED}/apps/1/copy"), Some(ADMIN), None), 404),
        (
            request("POST", &format!("/openapi/v1/teams/o19p6wen/regions/rainbond/apps/{PASTED}/copy"), None, valid()),
            401,
        ),
        (request("GET", &format!("/openapi/v1/{PASTED}?k={PASTED}"), None, None), 404),
    ]
}

#[tokio::test]
async fn no_access_key_is_logged_or_answered() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("secrets.db");
    let log = dir.path().join("server.log");
    let server = TracedServer::start(&database, &log);
    let mut answers: Vec<RawResponse> = Vec::new();
    for (request, status) in every_error_path() {
        let response = send(&server.url, &request).await;
        assert_eq!(
            response.status,
            status,
            "{} {}: {}",
            request.method,
            request.target,
            String::from_utf8_lossy(&response.body)
        );
        answers.push(response);
    }
    // A server failure (500): a table the copy writes is gone.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", database.display())).await.unwrap();
    sqlx::query("DROP TABLE service_ports").execute(&pool).await.unwrap();
    pool.close().await;
    let failed = send(
        &server.url,
        &request("POST", COPY, Some(ADMIN), Some(copy_to("o19p6wen", "rainbond", 2, &[common::WEB]))),
    )
    .await;
    assert_eq!(failed.status, 500, "{}", String::from_utf8_lossy(&failed.body));
    answers.push(failed);
    server.stop();

    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("TRACE") && log.contains("DEBUG"), "the run logs at every level:\n{log}");
    assert!(log.contains("request failed"), "the 500's cause is logged:\n{log}");
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    let pasted: Vec<&str> = log.lines().filter(|line| line.contains(PASTED)).collect();
    assert!(pasted.is_empty(), "a key pasted into a URL is in the log:\n{}", pasted.join("\n"));
    for key in [ADMIN, GUEST, EXPIRED, UNKNOWN] {
        let lines: Vec<&str> = log.lines().filter(|line| line.contains(key)).collect();
        assert!(lines.is_empty(), "the key {key} is in the log:\n{}", lines.join("\n"));
        for answer in &answers {
            let body = String::from_utf8_lossy(&answer.body);
            assert!(!body.contains(key), "the key {key} is in an answer: {body}");
        }
    }
}

/// The only comparison a key takes part in is of its SHA-256 digest: 32 bytes whatever the key's
/// length, compared in constant time (`subtle`) after an indexed lookup of the whole digest. A key
/// that shares a long prefix with a real key shares nothing with its digest, so it is looked up and
/// refused exactly as an unrelated key is, with the same answer.
#[tokio::test]
async fn a_key_sharing_a_prefix_is_refused_like_any_other() {
    let real = key_digest(ADMIN);
    let mut near_misses: Vec<String> = (1..ADMIN.len()).map(|end| ADMIN[..end].to_owned()).collect();
    near_misses.push(format!("{ADMIN}x"));
    near_misses.push(format!("{}X", &ADMIN[..ADMIN.len() - 1]));
    for key in &near_misses {
        let digest = key_digest(key);
        assert_eq!(digest.len(), 32);
        assert_ne!(digest[..2], real[..2], "{key}: its digest shares a prefix with the real key's");
    }
    assert_eq!(key_digest(&"k".repeat(1 << 20)).len(), 32, "a 1 MiB key is 32 bytes too");

    let database = common::TestDatabase::sqlite();
    let server = common::TestServer::demo(&database).await;
    let unrelated = send(&server.url, &request("GET", COPY, Some(UNKNOWN), None)).await;
    assert_eq!(unrelated.status, 401);
    for key in &near_misses {
        let answer = send(&server.url, &request("GET", COPY, Some(key), None)).await;
        assert_eq!((answer.status, &answer.body), (unrelated.status, &unrelated.body), "{key}");
    }
    server.stop().await;
}

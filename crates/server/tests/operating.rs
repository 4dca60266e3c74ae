//! What an operator relies on, tried on the real binary: request ids that join a client's failure
//! to the JSON log lines of the instance that answered it, `/metrics` read by Prometheus' own
//! parser (Python `prometheus_client`) with counters that match the requests sent, `/readyz`
//! against `/healthz` during a database outage and a graceful shutdown, and the PostgreSQL
//! statement timeout.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::process::COPY_SHOP;
use common::{ADMIN, SHOP_TEAM, TestDatabase};
use rainbond_client::{Client, RequestId, types};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

/// `rainbond-server serve --demo --log-format json` with its log in a file.
struct LoggedServer {
    child: Child,
    url: String,
    log: PathBuf,
}

impl LoggedServer {
    fn start(database: &str, log: PathBuf, flags: &[&str]) -> LoggedServer {
        let file = std::fs::File::create(&log).unwrap();
        let mut flags = flags.to_vec();
        flags.extend(["--log-format", "json"]);
        let (child, url) = common::binary::serve_demo_logging(database, &flags, "info", file);
        LoggedServer { child, url, log }
    }

    fn client(&self) -> Client {
        Client::with_access_key(&self.url, ADMIN).unwrap()
    }

    /// The log lines so far, each a JSON object.
    fn log_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap();
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
    }

    /// The log lines of the request with this id.
    fn lines_of(&self, request_id: &str) -> Vec<Value> {
        self.log_lines().into_iter().filter(|line| line["span"]["request_id"] == request_id).collect()
    }

    fn signal_terminate(&self) {
        common::binary::terminate(&self.child);
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_body(target_app_id: i32) -> types::AppCopyC {
    types::AppCopyC {
        services: Vec::new(),
        target_team_name: SHOP_TEAM.to_owned(),
        target_region_name: "rainbond".to_owned(),
        target_app_id,
    }
}

/// Copies app 1 into `target_app_id` with the client, sending `request_id` when given.
async fn copy_with_id(
    server: &LoggedServer,
    target_app_id: i32,
    request_id: Option<&str>,
) -> Result<rainbond_client::ResponseValue<types::AppCopyCRes>, rainbond_client::Error<types::ErrorBody>> {
    let client = match request_id {
        Some(id) => {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(rainbond_client::REQUEST_ID_HEADER, id.parse().unwrap());
            headers.insert("authorization", ADMIN.parse().unwrap());
            let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
            Client::new_with_client(&server.url, http)
        }
        None => server.client(),
    };
    client.copy_app().team_id(SHOP_TEAM).region_name("rainbond").app_id("1").body(copy_body(target_app_id)).send().await
}

/// The `request_id` of every log line that is not about the process (start, stop).
fn assert_request_lines_name_their_request(server: &LoggedServer) {
    for line in server.log_lines() {
        let about_a_request = ["answered", "copied components", "the database is unavailable"]
            .contains(&line["message"].as_str().unwrap_or_default());
        if about_a_request {
            assert!(line["span"]["request_id"].is_string(), "a request's line without its id: {line}");
        }
    }
}

#[tokio::test]
async fn request_ids_are_answered_and_name_the_requests_log_lines() {
    let database = TestDatabase::sqlite();
    let server = LoggedServer::start(&database.location, database.dir().unwrap().join("server.log"), &[]);

    // A caller's valid id is kept, on an error (404: no app 999) and on a success.
    let failed = copy_with_id(&server, 999, Some("checkout-7f3a:retry.2")).await.expect_err("no app 999");
    assert_eq!(failed.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(failed.request_id(), Some("checkout-7f3a:retry.2"));
    let copied = copy_with_id(&server, 2, Some("checkout-7f3a")).await.unwrap();
    assert_eq!(copied.request_id(), Some("checkout-7f3a"));

    // Without an id, or with one the server does not log as it is, each answer gets a new one.
    let mut fresh = Vec::new();
    for sent in [None, Some("has space"), Some(&*"x".repeat(129))] {
        let error = copy_with_id(&server, 999, sent).await.expect_err("no app 999");
        let id = error.request_id().expect("an id on every answer").to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{sent:?} → {id}");
        fresh.push(id);
    }
    fresh.dedup();
    assert_eq!(fresh.len(), 3, "ids are not reused: {fresh:?}");

    // A refusal before the handler (malformed JSON) and an unknown path carry one too.
    let raw = reqwest::Client::new()
        .post(format!("{}{COPY_SHOP}", server.url))
        .header("authorization", ADMIN)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    assert!(raw.headers().contains_key("x-request-id"));
    let unknown = reqwest::get(format!("{}/nowhere", server.url)).await.unwrap();
    assert!(unknown.headers().contains_key("x-request-id"));

    let failed_lines = server.lines_of("checkout-7f3a:retry.2");
    assert!(
        failed_lines.iter().any(|line| line["message"] == "answered" && line["status"] == 404),
        "the failed copy's answer is logged under its id: {failed_lines:?}"
    );
    assert!(failed_lines.iter().all(|line| line["span"]["operation"] == "copy_app"), "{failed_lines:?}");
    let copy_lines = server.lines_of("checkout-7f3a");
    assert!(copy_lines.iter().any(|line| line["message"] == "copied components"), "{copy_lines:?}");
    assert!(copy_lines.iter().any(|line| line["message"] == "answered" && line["status"] == 200), "{copy_lines:?}");
    for id in &fresh {
        assert!(!server.lines_of(id).is_empty(), "the generated id {id} is in the log");
    }
    assert_request_lines_name_their_request(&server);
}

/// The tools venv's Python, when `prometheus_client` is importable there (`cargo xtask tools`).
fn python_with_prometheus_client() -> Option<PathBuf> {
    if let Some(python) = common::binary::tools_python("prometheus_client.parser") {
        return Some(python);
    }
    let message = "prometheus_client (`cargo xtask tools`) is missing: /metrics was not parsed";
    if std::env::var("RAINBOND_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{message}, and RAINBOND_REQUIRE_TOOLS=1 requires it");
    }
    eprintln!("notice: {message}");
    None
}

/// One sample of a scrape.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Sample {
    family: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// `GET /metrics`, parsed by `prometheus_client.parser.text_string_to_metric_families`.
async fn scrape(python: &Path, url: &str) -> Vec<Sample> {
    let response = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4");
    let text = response.text().await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/metrics/parse.py");
    let mut child =
        Command::new(python).arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python runs");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the parser refused the page:\n{text}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The value of the sample `name` with exactly these labels, if there is one.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    samples.iter().find(|s| s.name == name && s.labels == labels).map(|s| s.value)
}

/// Every `rainbond_http_requests_total` sample, as (operation, status) → count.
fn request_counts(samples: &[Sample]) -> BTreeMap<(String, String), f64> {
    samples
        .iter()
        .filter(|s| s.name == "rainbond_http_requests_total")
        .map(|s| ((s.labels["operation"].clone(), s.labels["status"].clone()), s.value))
        .collect()
}

#[tokio::test]
async fn metrics_parse_and_count_the_requests_sent() {
    let Some(python) = python_with_prometheus_client() else { return };
    let database = TestDatabase::sqlite();
    let server = LoggedServer::start(&database.location, database.dir().unwrap().join("server.log"), &[]);
    let client = server.client();
    let list = || client.list_copy_services().team_id(SHOP_TEAM).region_name("rainbond").app_id("1").send();
    for _ in 0..3 {
        list().await.unwrap();
    }
    let anonymous = Client::new(&server.url);
    for _ in 0..2 {
        let error = anonymous.list_copy_services().team_id(SHOP_TEAM).region_name("rainbond").app_id("1").send();
        assert_eq!(error.await.unwrap_err().status(), Some(StatusCode::UNAUTHORIZED));
    }
    copy_with_id(&server, 2, None).await.unwrap();
    copy_with_id(&server, 999, None).await.unwrap_err();
    assert_eq!(reqwest::get(format!("{}/nowhere?x=1", server.url)).await.unwrap().status(), StatusCode::NOT_FOUND);

    let samples = scrape(&python, &server.url).await;
    let expected: BTreeMap<(String, String), f64> = [
        ("list_copy_services", "200", 3.0),
        ("list_copy_services", "401", 2.0),
        ("copy_app", "200", 1.0),
        ("copy_app", "404", 1.0),
        ("unmatched", "404", 1.0),
    ]
    .into_iter()
    .map(|(operation, status, n)| ((operation.to_owned(), status.to_owned()), n))
    .collect();
    assert_eq!(request_counts(&samples), expected, "the scrape itself is counted after it is answered");
    let family_type = |family: &str| samples.iter().find(|s| s.family == family).map(|s| s.kind.clone());
    assert_eq!(family_type("rainbond_http_requests").as_deref(), Some("counter"));
    assert_eq!(family_type("rainbond_http_request_duration_seconds").as_deref(), Some("histogram"));
    let latency_count = |operation| {
        value(&samples, "rainbond_http_request_duration_seconds_count", &[("operation", operation)]).unwrap()
    };
    assert_eq!((latency_count("list_copy_services"), latency_count("copy_app")), (5.0, 2.0));
    let infinite_bucket = [("operation", "copy_app"), ("le", "+Inf")];
    assert_eq!(value(&samples, "rainbond_http_request_duration_seconds_bucket", &infinite_bucket), Some(2.0));
    assert_eq!(value(&samples, "rainbond_http_requests_in_flight", &[]), Some(1.0), "the scrape");
    assert_eq!(value(&samples, "rainbond_copy_components_count", &[]), Some(1.0));
    assert_eq!(value(&samples, "rainbond_copy_components_sum", &[]), Some(3.0), "the shop app has 3 components");
    for cause in ["in_flight", "database", "request_timeout"] {
        assert_eq!(value(&samples, "rainbond_http_unavailable_total", &[("cause", cause)]), Some(0.0), "{cause}");
    }
    assert_eq!(value(&samples, "rainbond_pool_connections", &[("state", "in_use")]), Some(0.0));
    assert_eq!(value(&samples, "rainbond_pool_connections_max", &[]), Some(8.0), "SQLite's pool");
    assert_eq!(value(&samples, "rainbond_postgres_copy_retries_total", &[]), Some(0.0));
    assert_eq!(value(&samples, "rainbond_copies_contended_total", &[]), Some(0.0));

    let again = scrape(&python, &server.url).await;
    let mut expected = expected;
    expected.insert(("/metrics".to_owned(), "200".to_owned()), 1.0);
    assert_eq!(request_counts(&again), expected, "the first scrape is counted");
}

#[tokio::test]
async fn without_metrics_the_server_serves_no_metrics_and_copies_as_before() {
    let database = TestDatabase::sqlite();
    let log = database.dir().unwrap().join("server.log");
    let server = LoggedServer::start(&database.location, log, &["--no-metrics"]);
    copy_with_id(&server, 2, None).await.unwrap();
    assert_eq!(status_of(&server.url, "metrics").await, 404, "no /metrics");
    assert_eq!(status_of(&server.url, "readyz").await, 200, "the other probes stay");
}

/// Takes SQLite's write lock from another connection and keeps it until dropped.
async fn lock_sqlite(location: &str) -> sqlx::SqliteConnection {
    let mut locker = sqlx::SqliteConnection::connect(&format!("sqlite:{location}")).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut locker).await.unwrap();
    locker
}

/// Sends a copy of app 1 into app 2 with a raw client; its status.
async fn raw_copy(url: &str) -> StatusCode {
    let body =
        json!({"services": [], "target_team_name": SHOP_TEAM, "target_region_name": "rainbond", "target_app_id": 2});
    let response = reqwest::Client::new()
        .post(format!("{url}{COPY_SHOP}"))
        .header("authorization", ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    response.status()
}

#[tokio::test]
async fn answers_503_are_counted_by_cause() {
    let Some(python) = python_with_prometheus_client() else { return };
    let database = TestDatabase::sqlite();
    let dir = database.dir().unwrap();
    // The database stays locked for longer than the busy timeout (2 s), and one request may run
    // at a time: a copy waits for the lock and is answered 503/10402; a request sent while it
    // waits is refused by the in-flight cap.
    let server =
        LoggedServer::start(&database.location, dir.join("a.log"), &["--busy-timeout", "2", "--max-in-flight", "1"]);
    let locker = lock_sqlite(&database.location).await;
    let url = server.url.clone();
    let waiting = tokio::spawn(async move { raw_copy(&url).await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(raw_copy(&server.url).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(waiting.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
    drop(locker);
    let samples = scrape(&python, &server.url).await;
    let caused = |cause| value(&samples, "rainbond_http_unavailable_total", &[("cause", cause)]).unwrap();
    assert_eq!((caused("database"), caused("in_flight"), caused("request_timeout")), (1.0, 1.0, 0.0));
    assert_eq!(request_counts(&samples).get(&("copy_app".to_owned(), "503".to_owned())), Some(&2.0));

    // A request that outlives the request timeout (0.5 s): its body stops halfway, and the body-read
    // timeout (10 s) is longer.
    let other = TestDatabase::sqlite();
    let server = LoggedServer::start(
        &other.location,
        dir.join("b.log"),
        &["--body-read-timeout", "10", "--request-timeout", "0.5"],
    );
    assert_eq!(copy_with_a_stalled_body(&server.url).await, 503);
    let samples = scrape(&python, &server.url).await;
    let caused = |cause| value(&samples, "rainbond_http_unavailable_total", &[("cause", cause)]).unwrap();
    assert_eq!((caused("database"), caused("in_flight"), caused("request_timeout")), (0.0, 0.0, 1.0));
}

/// Sends a copy whose body stops after its first byte (the connection stays open); the status of
/// the answer.
async fn copy_with_a_stalled_body(url: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {COPY_SHOP} HTTP/1.1\r\nhost: {address}\r\nauthorization: {ADMIN}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer)).await.unwrap().unwrap();
    let status_line = String::from_utf8_lossy(&answer[..read]).lines().next().unwrap_or_default().to_owned();
    status_line.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{status_line}"))
}

/// Polls `GET {url}/{probe}` every 50 ms until it answers `status`; how long that took.
async fn until_status(url: &str, probe: &str, status: u16, within: Duration) -> Duration {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let started = Instant::now();
    loop {
        if let Ok(response) = http.get(format!("{url}/{probe}")).send().await
            && response.status().as_u16() == status
        {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "/{probe} did not answer {status} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status_of(url: &str, probe: &str) -> u16 {
    reqwest::get(format!("{url}/{probe}")).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn readiness_follows_a_locked_database_while_liveness_stays() {
    let database = TestDatabase::sqlite();
    let server = LoggedServer::start(&database.location, database.dir().unwrap().join("server.log"), &[]);
    assert_eq!(status_of(&server.url, "readyz").await, 200);
    let locker = lock_sqlite(&database.location).await;
    let took = until_status(&server.url, "readyz", 503, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(1), "503 {took:?} after the lock");
    assert_eq!(status_of(&server.url, "healthz").await, 200);
    drop(locker);
    let took = until_status(&server.url, "readyz", 200, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(1), "200 {took:?} after the lock went");
    assert_eq!(raw_copy(&server.url).await, StatusCode::OK, "it takes copies again");
}

#[tokio::test]
async fn on_sigterm_readiness_turns_503_first_and_the_drain_period_still_serves() {
    let database = TestDatabase::sqlite();
    let mut server =
        LoggedServer::start(&database.location, database.dir().unwrap().join("server.log"), &["--drain-period", "3"]);
    assert_eq!(status_of(&server.url, "readyz").await, 200);
    let signalled = Instant::now();
    server.signal_terminate();
    let took = until_status(&server.url, "readyz", 503, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(1), "503 {took:?} after SIGTERM");
    // Still serving during the drain period: alive, and a copy sent now is made.
    assert_eq!(status_of(&server.url, "healthz").await, 200);
    assert_eq!(raw_copy(&server.url).await, StatusCode::OK);
    assert!(signalled.elapsed() < Duration::from_secs(3), "the checks above ran within the drain period");
    common::binary::wait_for_clean_exit(&mut server.child);
    assert!(signalled.elapsed() >= Duration::from_secs(3), "it served for the whole drain period");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_copys_request_id_finds_its_log_lines_on_either_of_two_instances() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let first = LoggedServer::start(&database.location, dir.path().join("first.log"), &[]);
    let second = LoggedServer::start(&database.location, dir.path().join("second.log"), &[]);
    let instances = [&first, &second];

    // A caller retries a failed copy with the same id on the other instance; each instance logs it.
    for server in instances {
        let error = copy_with_id(server, 999, Some("order-17")).await.expect_err("no app 999");
        assert_eq!(error.request_id(), Some("order-17"));
    }
    // Ids the instances made up are found on the instance that answered, and only there.
    let mut made_up = Vec::new();
    for server in instances {
        let error = copy_with_id(server, 999, None).await.expect_err("no app 999");
        made_up.push(error.request_id().unwrap().to_owned());
    }
    for (server, other, id) in [(&first, &second, &made_up[0]), (&second, &first, &made_up[1])] {
        let lines = server.lines_of(id);
        assert!(lines.iter().any(|line| line["message"] == "answered" && line["status"] == 404), "{id}: {lines:?}");
        assert!(other.lines_of(id).is_empty(), "{id} is only on the instance that answered it");
    }
    for server in instances {
        let lines = server.lines_of("order-17");
        assert!(lines.iter().any(|line| line["message"] == "answered" && line["status"] == 404), "{lines:?}");
        assert_request_lines_name_their_request(server);
    }
}

/// Rows in the tables a copy writes.
async fn written_rows(connection: &mut sqlx::PgConnection) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in std::iter::once("tenant_services").chain(common::ATTACHED_TABLES) {
        let query = format!("SELECT count(*) FROM {table}");
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(query)).fetch_one(&mut *connection).await.unwrap();
        counts.push(n);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_statement_held_past_the_statement_timeout_answers_503_and_writes_nothing() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = LoggedServer::start(&database.location, dir.path().join("server.log"), &["--statement-timeout", "1"]);
    let mut locker = sqlx::PgConnection::connect(&database.location).await.unwrap();
    let before = written_rows(&mut locker).await;
    // Another session holds a lock on the components' table: the copy's read of the source app
    // waits for it, past the statement timeout.
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE tenant_services IN ACCESS EXCLUSIVE MODE").execute(&mut locker).await.unwrap();
    let started = Instant::now();
    let error = copy_with_id(&server, 2, Some("held-by-a-lock")).await.expect_err("the statement times out");
    let waited = started.elapsed();
    let rainbond_client::Error::ErrorResponse(response) = &error else { panic!("{error:?}") };
    assert_eq!((response.status().as_u16(), response.code), (503, 10402), "{error:?}");
    assert!(waited >= Duration::from_secs(1), "answered after the statement timeout, not before: {waited:?}");
    assert!(waited < Duration::from_secs(10), "answered near the statement timeout (1 s), not the default: {waited:?}");
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    assert_eq!(written_rows(&mut locker).await, before, "nothing was written");
    let lines = server.lines_of("held-by-a-lock");
    assert!(
        lines.iter().any(|line| line["message"] == "the database is unavailable"),
        "the cause is logged: {lines:?}"
    );
    locker.close().await.unwrap();
}

//! Slow and greedy clients against the real binary: every limit of `serve` (README, "Limits")
//! holds, slow connections cannot starve a normal client, and their file descriptors come back.
//!
//! Timings are bounds with generous margins, not measurements.

mod common;

use std::time::{Duration, Instant};

use common::ADMIN;
use common::process::{
    COPY_SHOP, ServerProcess, connect_and_send, copy_all_into, copy_headers, one_shot_http, raise_open_file_limit,
    read_to_close, status_of,
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

/// The slow-client test runs this many times in a row, each on a new server.
const ROUNDS: usize = 3;
const SLOW_LORIS: usize = 500;
const SILENT_BODIES: usize = 100;
/// The header-read and body-read timeouts the slow-client test serves with.
const TIMEOUT: Duration = Duration::from_secs(2);
/// The margin allowed around a timeout and on top of a normal copy's time.
const MARGIN: Duration = Duration::from_secs(1);

/// One copy with a fresh connection: its status and how long it took.
async fn timed_copy(url: String, target_app_id: i32) -> (StatusCode, Duration) {
    let started = Instant::now();
    let response = one_shot_http()
        .post(format!("{url}{COPY_SHOP}"))
        .header("authorization", ADMIN)
        .json(&copy_all_into(target_app_id))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let _ = response.bytes().await;
    (status, started.elapsed())
}

/// Sends the headers of a request one byte per second until the server closes the connection;
/// returns when (since `started`) it did.
async fn slow_loris(address: String, started: Instant) -> Duration {
    let headers = copy_headers(2);
    let mut stream = connect_and_send(&address, &headers.as_bytes()[..1]).await;
    let (mut reader, mut writer) = stream.split();
    let mut buffer = [0u8; 256];
    for byte in headers.as_bytes()[1..].iter() {
        tokio::select! {
            _ = tokio::io::AsyncReadExt::read(&mut reader, &mut buffer) => return started.elapsed(),
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if writer.write_all(&[*byte]).await.is_err() {
                    return started.elapsed();
                }
            }
        }
    }
    panic!("the server read all of a request's headers at one byte per second");
}

/// Sends a request's headers and never its body; returns the status answered and when (since
/// `started`) the server closed the connection.
async fn silent_body(address: String, started: Instant) -> (Option<u16>, Duration) {
    let mut stream = connect_and_send(&address, copy_headers(100).as_bytes()).await;
    let response = read_to_close(&mut stream).await;
    (status_of(&response), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_cannot_starve_a_normal_copy_and_are_closed_at_the_timeout() {
    raise_open_file_limit(4096);
    for round in 1..=ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let timeout = TIMEOUT.as_secs_f64().to_string();
        let database = dir.path().join("slow.db");
        let server = ServerProcess::start(
            &database,
            &["--header-read-timeout", &timeout, "--body-read-timeout", &timeout, "--max-connections", "1000"],
        );
        // Warm up, then the normal time of a copy and the descriptors of an idle server.
        timed_copy(server.url.clone(), 2).await;
        let mut normal = Duration::ZERO;
        for _ in 0..3 {
            let (status, took) = timed_copy(server.url.clone(), 2).await;
            assert_eq!(status, StatusCode::OK);
            normal = normal.max(took);
        }
        let baseline = server.open_files_besides(&database);

        let started = Instant::now();
        let mut slow = JoinSet::new();
        for _ in 0..SLOW_LORIS {
            slow.spawn(slow_loris(server.address.clone(), started));
        }
        let mut silent = JoinSet::new();
        for _ in 0..SILENT_BODIES {
            silent.spawn(silent_body(server.address.clone(), started));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (status, took) = timed_copy(server.url.clone(), 2).await;
        assert_eq!(status, StatusCode::OK, "round {round}: a normal copy among slow clients");
        assert!(took <= normal + MARGIN, "round {round}: the copy took {took:?}, normally {normal:?}");

        let too_late = TIMEOUT + MARGIN * 3;
        while let Some(closed_at) = slow.join_next().await {
            let closed_at = closed_at.unwrap();
            assert!(
                closed_at + MARGIN >= TIMEOUT && closed_at <= too_late,
                "round {round}: a slow-loris connection was closed after {closed_at:?} (timeout {TIMEOUT:?})"
            );
        }
        while let Some(result) = silent.join_next().await {
            let (status, closed_at) = result.unwrap();
            assert_eq!(status, Some(408), "round {round}: a request whose body never comes");
            assert!(
                closed_at + MARGIN >= TIMEOUT && closed_at <= too_late,
                "round {round}: a silent-body connection was closed after {closed_at:?} (timeout {TIMEOUT:?})"
            );
        }
        let open = server.settle_open_files(&database, baseline.len(), Duration::from_secs(10)).await;
        assert!(
            open.len() <= baseline.len(),
            "round {round}: open after the slow clients left: {open:?}; before: {baseline:?}"
        );
        server.terminate(Duration::from_secs(30));
    }
}

/// A request holding the only slot, then another: 503 with `Retry-After` and the error body.
#[tokio::test]
async fn requests_beyond_max_in_flight_get_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("in-flight.db"), &["--max-in-flight", "1"]);
    let holder = connect_and_send(&server.address, copy_headers(100).as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = one_shot_http()
        .post(format!("{}{COPY_SHOP}", server.url))
        .header("authorization", ADMIN)
        .json(&copy_all_into(2))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 503, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("in flight"), "{body}");
    drop(holder);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(timed_copy(server.url.clone(), 2).await.0, StatusCode::OK, "the slot is free again");
}

/// With the body timeout longer than the request timeout, a request whose body never comes is
/// answered 503 at the request timeout.
#[tokio::test]
async fn a_request_past_the_request_timeout_gets_503() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &dir.path().join("request-timeout.db"),
        &["--request-timeout", "1", "--body-read-timeout", "60", "--header-read-timeout", "60"],
    );
    let started = Instant::now();
    let mut stream = connect_and_send(&server.address, copy_headers(100).as_bytes()).await;
    let mut response = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(30), tokio::io::AsyncReadExt::read(&mut stream, &mut response))
        .await
        .expect("answered")
        .unwrap();
    let response = String::from_utf8_lossy(&response[..read]).into_owned();
    assert_eq!(status_of(response.as_bytes()), Some(503), "{response}");
    assert!(response.to_ascii_lowercase().contains("retry-after: 1"), "{response}");
    assert!(response.contains("\"msg_show\""), "{response}");
    assert!(started.elapsed() >= Duration::from_millis(900), "answered before the timeout");
}

/// Connections beyond the cap wait: a request on a further connection is answered only once an
/// earlier connection is closed.
#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("cap.db"), &["--max-connections", "2"]);
    let first = connect_and_send(&server.address, b"").await;
    let second = connect_and_send(&server.address, b"").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = tokio::spawn(timed_copy(server.url.clone(), 2));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!waiting.is_finished(), "a third connection was served while two were open (cap 2)");
    drop(first);
    let (status, _) = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("served").unwrap();
    assert_eq!(status, StatusCode::OK);
    drop(second);
}

/// On SIGTERM a request in flight that completes is still answered, and the server stops within
/// the shutdown deadline even if another request never finishes (its body never comes, and the
/// body and request timeouts are a minute).
#[tokio::test]
async fn shutdown_answers_requests_in_flight_and_stops_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &dir.path().join("shutdown.db"),
        &["--shutdown-deadline", "2", "--body-read-timeout", "60", "--request-timeout", "60"],
    );
    let body = copy_all_into(2).to_string();
    let (head, tail) = body.split_at(10);
    let mut finishing = connect_and_send(&server.address, (copy_headers(body.len()) + head).as_bytes()).await;
    let _stuck = connect_and_send(&server.address, copy_headers(100).as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal_terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    finishing.write_all(tail.as_bytes()).await.unwrap();
    let response = read_to_close(&mut finishing).await;
    assert_eq!(status_of(&response), Some(200), "{}", String::from_utf8_lossy(&response));
    let took = server.wait_for_exit(Duration::from_secs(20));
    assert!(took < Duration::from_secs(10), "stopping took {took:?} more with a 2 s deadline");
}

/// The body timeout closes the connection with 408 even when the headers came in quickly.
#[tokio::test]
async fn a_body_that_stops_midway_gets_408() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("body.db"), &["--body-read-timeout", "1"]);
    let mut stream = connect_and_send(&server.address, (copy_headers(100) + "{\"services\": [").as_bytes()).await;
    let response = read_to_close(&mut stream).await;
    let text = String::from_utf8_lossy(&response);
    assert_eq!(status_of(&response), Some(408), "{text}");
    assert!(text.contains("\"code\":408"), "{text}");
    assert_eq!(timed_copy(server.url.clone(), 2).await.0, StatusCode::OK);
}

//! `RetryPolicy` against local servers that fail the first attempts: which answers are retried,
//! how long the client waits, and that a `POST` is resent with one idempotency key.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rainbond_client::types::{AppCopyC, AppCopyModify};
use rainbond_client::{Client, Error, RetryPolicy};
use serde_json::json;
use support::{Reply, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Retries without waiting long, so that the tests are quick.
fn quick() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(4))
}

fn error_body(code: i64) -> serde_json::Value {
    json!({"code": code, "msg": "busy", "msg_show": "稍后重试"})
}

/// Answers the first `failures` requests with `failure`, then 200 with `success`.
async fn failing_first(
    failures: usize,
    failure: impl Fn() -> Reply + Send + Sync + 'static,
    success: serde_json::Value,
) -> TestServer {
    let seen = AtomicUsize::new(0);
    TestServer::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < failures { failure() } else { Reply::json(200, &success) }
    })
    .await
}

async fn list(client: &Client) -> Result<usize, Error<rainbond_client::types::ErrorBody>> {
    let sent = client.list_copy_services().team_id("t").region_name("r").app_id("1").send().await?;
    Ok(sent.into_inner().len())
}

fn copy_body() -> AppCopyC {
    AppCopyC {
        services: vec![AppCopyModify { service_id: "0c1f5b2a9e7d4c3b8a6f1e2d3c3a9c1d".into(), change: None }],
        target_team_name: "team2".into(),
        target_region_name: "region2".into(),
        target_app_id: 7,
    }
}

#[tokio::test]
async fn a_busy_server_is_retried_after_its_retry_after_capped_by_the_policy() {
    let busy = || Reply::json(503, &error_body(10402)).header("retry-after", "30");
    let server = failing_first(2, busy, json!([])).await;
    let client = Client::new(&server.url);
    let policy = quick().max_retry_after(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(policy.run(list(&client)).await.unwrap(), 0);
    assert_eq!(server.requests().len(), 3, "two 503s, then the answer");
    assert!(started.elapsed() >= Duration::from_millis(300), "waited the capped Retry-After twice");
}

#[tokio::test]
async fn without_a_policy_nothing_is_retried() {
    let server = failing_first(1, || Reply::json(503, &error_body(10402)), json!([])).await;
    let error = list(&Client::new(&server.url)).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_408_and_a_copy_conflict_are_retried_other_conflicts_are_not() {
    let timeout = failing_first(1, || Reply::json(408, &error_body(408)), json!([])).await;
    assert_eq!(quick().run(list(&Client::new(&timeout.url))).await.unwrap(), 0);
    assert_eq!(timeout.requests().len(), 2);

    let clashing = failing_first(2, || Reply::json(409, &error_body(10409)), json!([])).await;
    assert_eq!(quick().run(list(&Client::new(&clashing.url))).await.unwrap(), 0);
    assert_eq!(clashing.requests().len(), 3);

    // Another 409 (a team not initialised in the region) is final, and still decodes.
    let refused = failing_first(5, || Reply::json(409, &error_body(10403)), json!([])).await;
    match quick().run(list(&Client::new(&refused.url))).await {
        Err(Error::ErrorResponse(response)) => assert_eq!(response.code, 10403),
        other => panic!("the 409 comes back as the error body: {other:?}"),
    }
    assert_eq!(refused.requests().len(), 1);
}

#[tokio::test]
async fn the_attempts_bound_the_retries() {
    let server = failing_first(10, || Reply::json(503, &error_body(10402)), json!([])).await;
    let client = Client::new(&server.url);
    // A retried request is a `Send` future: it can be spawned.
    let spawned = tokio::spawn(async move { quick().attempts(3).run(list(&client)).await });
    let error = spawned.await.unwrap().unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "the last answer is returned");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_post_is_resent_with_one_key_the_callers_or_a_random_one() {
    let copied = json!({"services": []});
    let busy_once = || failing_first(1, || Reply::json(503, &error_body(10402)), copied.clone());

    // Without a key of the caller's, the policy makes one, and every resend carries it.
    let server = busy_once().await;
    let client = Client::new(&server.url);
    let copy = client.copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send();
    assert!(quick().run(copy).await.unwrap().services.is_empty());
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "resent after the 503");
    let key = requests[0].header("idempotency-key").expect("a key is made").to_owned();
    assert!(uuid::Uuid::parse_str(&key).is_ok_and(|id| id.get_version_num() == 4), "a random UUID: {key}");
    assert_eq!(requests[1].header("idempotency-key"), Some(key.as_str()), "the same key on the resend");
    for request in &requests {
        assert_eq!(request.json(), serde_json::to_value(copy_body()).unwrap(), "the same body");
    }

    // Two calls are two copies: two keys.
    let server = failing_first(0, || Reply::json(503, &error_body(10402)), copied.clone()).await;
    let client = Client::new(&server.url);
    for _ in 0..2 {
        let copy = client.copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send();
        quick().run(copy).await.unwrap();
    }
    let keys: Vec<_> = server.requests().iter().map(|r| r.header("idempotency-key").unwrap().to_owned()).collect();
    assert_ne!(keys[0], keys[1]);

    // The caller's key, from the builder or from `run_idempotent`, is kept.
    let server = busy_once().await;
    let client = Client::new(&server.url);
    let copy =
        client.copy_app().team_id("t").region_name("r").app_id("1").idempotency_key("mine-1").body(copy_body()).send();
    quick().run_idempotent("not-this-one", copy).await.expect("a valid key").unwrap();
    assert!(server.requests().iter().all(|r| r.header("idempotency-key") == Some("mine-1")));
    let server = busy_once().await;
    let client = Client::new(&server.url);
    let copy = client.copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send();
    quick().run_idempotent("copy-7f3a", copy).await.expect("a valid key").unwrap();
    assert_eq!(server.requests().len(), 2);
    assert!(server.requests().iter().all(|r| r.header("idempotency-key") == Some("copy-7f3a")));

    // Without a policy the request is sent as built: once, with no key made up.
    let server = busy_once().await;
    let client = Client::new(&server.url);
    let copy = client.copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send();
    assert_eq!(copy.await.unwrap_err().status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.only_request().header("idempotency-key"), None);

    let listing = failing_first(0, || Reply::json(503, &error_body(10402)), json!([])).await;
    let client = Client::new(&listing.url);
    assert_eq!(quick().run_idempotent("copy-7f3a", list(&client)).await.unwrap().unwrap(), 0);
    assert_eq!(listing.only_request().header("idempotency-key"), None, "a GET needs no key");
    let invalid = quick().run_idempotent("line\nbreak", list(&client)).await;
    assert!(invalid.is_err(), "a key that is no header value is refused");
}

#[tokio::test]
async fn a_copy_still_running_elsewhere_is_retried() {
    let running = failing_first(1, || Reply::json(409, &error_body(10410)), json!({"services": []})).await;
    let client = Client::new(&running.url);
    let copy = client.copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send();
    assert!(quick().run(copy).await.unwrap().services.is_empty());
    assert_eq!(running.requests().len(), 2);
}

/// A raw HTTP server that closes the first `dropped` connections without answering and answers
/// the others `200` with `body`; returns its URL and the number of connections it accepted.
async fn dropping_first(dropped: usize, body: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let number = count.fetch_add(1, Ordering::SeqCst);
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            if number >= dropped {
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_a_get_and_for_a_keyed_post() {
    let (url, accepted) = dropping_first(2, "[]").await;
    let client = Client::new(&url);
    assert_eq!(quick().run(list(&client)).await.unwrap(), 0);
    assert_eq!(accepted.load(Ordering::SeqCst), 3);

    let (url, accepted) = dropping_first(1, r#"{"services":[]}"#).await;
    let client = Client::new(&url);
    let copy = client.copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send();
    assert!(quick().run(copy).await.unwrap().services.is_empty());
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "the copy carried a key: resent");
}

#[tokio::test]
async fn the_deadline_stops_retries_that_would_end_after_it() {
    let (url, accepted) = dropping_first(usize::MAX, "[]").await;
    let client = Client::new(&url);
    let policy = RetryPolicy::default()
        .attempts(1000)
        .backoff(Duration::from_millis(100), Duration::from_millis(100))
        .deadline(Duration::from_millis(500));
    assert!(matches!(policy.run(list(&client)).await, Err(Error::CommunicationError(_))));
    // Waits of 50–100 ms within 500 ms: at most 11 attempts, and never the 1000 allowed.
    let attempts = accepted.load(Ordering::SeqCst);
    assert!((2..=11).contains(&attempts), "{attempts} attempts");
}

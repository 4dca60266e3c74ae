//! Copies sent with an `Idempotency-Key`: the generated client against the real server over
//! HTTP, on SQLite and on PostgreSQL (two instances of one database at the end).

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use rainbond_client::types::{AppCopyCRes, ErrorBody};
use rainbond_server::idempotency::{EXPIRED_DELETED_PER_COPY, MAX_KEY_CHARS};

/// The app the tests copy into (o19p6wen, rainbond).
const STAGING: i32 = 2;

/// Copies `services` of app 1 into app 2 as `access_key`, with `idempotency_key`.
async fn keyed_copy(
    server: &TestServer,
    access_key: &str,
    idempotency_key: &str,
    services: &[&str],
) -> Result<AppCopyCRes, (u16, ErrorBody)> {
    let result = server
        .client(access_key)
        .copy_app()
        .team_id(SHOP_TEAM)
        .region_name("rainbond")
        .app_id("1")
        .idempotency_key(idempotency_key)
        .body(copy_body(SHOP_TEAM, "rainbond", STAGING, services))
        .send()
        .await;
    copy_outcome(result)
}

/// The ids of a copy's components.
fn ids(copy: &AppCopyCRes) -> Vec<&str> {
    copy.services.iter().map(|c| c.service_id.as_str()).collect()
}

async fn staging_components(server: &TestServer) -> usize {
    let db = server.inspect().await;
    let count = db.app_components(STAGING).await.len();
    db.close().await;
    count
}

async fn a_copy_sent_twice_with_one_key_makes_one_copy(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let before = staging_components(&server).await;
    let first = keyed_copy(&server, ADMIN, "copy-web-1", &[WEB, API]).await.expect("the first copy");
    assert_eq!(first.services.len(), 2);
    let again = keyed_copy(&server, ADMIN, "copy-web-1", &[WEB, API]).await.expect("the repeated copy");
    assert_eq!(again, first, "the repeated copy answers the same components");
    assert_eq!(staging_components(&server).await, before + 2, "one copy was made");
    server.stop().await;
}

async fn eight_concurrent_copies_with_one_key_make_one_copy(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let before = staging_components(&server).await;
    let results = futures::future::join_all((0..8).map(|_| keyed_copy(&server, ADMIN, "concurrent", &[WEB]))).await;
    let answers: Vec<AppCopyCRes> = results.into_iter().map(|r| r.expect("every request is answered 200")).collect();
    assert!(answers.iter().all(|a| *a == answers[0]), "every request gets the same components: {answers:?}");
    assert_eq!(staging_components(&server).await, before + 1, "one copy was made");
    server.stop().await;
}

async fn a_reused_key_with_another_request_is_refused(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    keyed_copy(&server, ADMIN, "reused", &[WEB]).await.expect("the first copy");
    let db = server.inspect().await;
    let counts = db.counts().await;
    let (status, body) = keyed_copy(&server, ADMIN, "reused", &[API]).await.expect_err("another body");
    assert_eq!((status, body.code), (422, 20422), "{body:?}");
    assert!(body.msg.contains("Idempotency-Key"), "{body:?}");
    assert_eq!(db.counts().await, counts, "nothing was copied");
    db.close().await;
    server.stop().await;
}

/// The guest joins the admin's team, so that both may make the same copy.
async fn guest_joins_the_shop_team(server: &TestServer) {
    let db = server.inspect().await;
    sqlx::query("INSERT INTO tenant_members (tenant_id, user_id) VALUES ($1, 2)")
        .bind(SHOP_TEAM_ID)
        .execute(&db.0)
        .await
        .unwrap();
    db.close().await;
}

async fn keys_of_one_user_never_match_another_users(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    guest_joins_the_shop_team(&server).await;
    let before = staging_components(&server).await;
    let admin = keyed_copy(&server, ADMIN, "shared-key", &[WEB]).await.expect("the admin's copy");
    let guest = keyed_copy(&server, GUEST, "shared-key", &[WEB]).await.expect("the guest's copy");
    assert_ne!(ids(&admin), ids(&guest), "the guest's copy is its own");
    // Another request under the same key is the guest's to make: not a reuse of the admin's key.
    assert_eq!(staging_components(&server).await, before + 2);
    server.stop().await;
}

async fn malformed_keys_are_refused_and_change_nothing(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;
    let counts = db.counts().await;
    let url = format!("{}/openapi/v1/teams/{SHOP_TEAM}/regions/rainbond/apps/1/copy", server.url);
    let body = serde_json::to_value(copy_body(SHOP_TEAM, "rainbond", STAGING, &[WEB])).unwrap();
    let too_long = "k".repeat(MAX_KEY_CHARS + 1);
    for key in ["", "a b", "a/b", "key,other", "ключ", too_long.as_str()] {
        let response = reqwest::Client::new()
            .post(&url)
            .header("Authorization", ADMIN)
            .header("Idempotency-Key", reqwest::header::HeaderValue::from_bytes(key.as_bytes()).unwrap())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "key {key:?}");
        let error: ErrorBody = response.json().await.unwrap();
        assert_eq!(error.code, 20400, "key {key:?}: {error:?}");
        assert!(error.msg.contains("Idempotency-Key"), "key {key:?}: {error:?}");
    }
    assert_eq!(db.counts().await, counts, "nothing was copied");
    assert_eq!(db.count("idempotency_keys").await, 0, "no key was remembered");
    let longest = "k".repeat(MAX_KEY_CHARS);
    keyed_copy(&server, ADMIN, &longest, &[WEB]).await.expect("the longest key is accepted");
    db.close().await;
    server.stop().await;
}

async fn a_key_is_remembered_across_a_restart(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let first = keyed_copy(&server, ADMIN, "restart", &[WEB]).await.expect("the first copy");
    let before = staging_components(&server).await;
    server.stop().await;
    let server = TestServer::on(&database).await;
    let again = keyed_copy(&server, ADMIN, "restart", &[WEB]).await.expect("the repeated copy");
    assert_eq!(again, first);
    assert_eq!(staging_components(&server).await, before, "nothing was copied after the restart");
    let (status, body) = keyed_copy(&server, ADMIN, "restart", &[API]).await.expect_err("another body");
    assert_eq!((status, body.code), (422, 20422));
    server.stop().await;
}

/// Makes every remembered key expired, as if its lifetime had passed.
async fn expire_every_key(db: &Inspector) {
    sqlx::query("UPDATE idempotency_keys SET expires_at = 0").execute(&db.0).await.unwrap();
}

async fn an_expired_key_makes_a_new_copy_and_expired_keys_are_deleted(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;
    let first = keyed_copy(&server, ADMIN, "expiring", &[WEB]).await.expect("the first copy");
    // Expired keys of earlier copies, more than one copy deletes.
    let stale = EXPIRED_DELETED_PER_COPY * 2 + 3;
    for n in 0..stale {
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idempotency_key, fingerprint, status, body, expires_at) \
             VALUES (1, $1, 'f', 200, '{}', $2)",
        )
        .bind(format!("stale-{n}"))
        .bind(n)
        .execute(&db.0)
        .await
        .unwrap();
    }
    expire_every_key(&db).await;
    let before = staging_components(&server).await;
    let second = keyed_copy(&server, ADMIN, "expiring", &[API]).await.expect("an expired key is free again");
    assert_ne!(ids(&second), ids(&first));
    assert_eq!(staging_components(&server).await, before + 1, "the expired key made a new copy");
    let remaining = db.count("idempotency_keys").await;
    // `stale` + the expired "expiring" row, minus one copy's deletions, plus the new "expiring" row.
    assert_eq!(remaining, stale + 1 - EXPIRED_DELETED_PER_COPY + 1, "one copy deletes a bounded number");
    for n in 0.. {
        let remaining = db.count("idempotency_keys").await;
        if remaining == 1 {
            break;
        }
        assert!(n < 10, "expired keys are deleted by later copies: {remaining} left");
        keyed_copy(&server, ADMIN, "expiring", &[API]).await.expect("a repeated copy");
    }
    assert_eq!(keyed_copy(&server, ADMIN, "expiring", &[API]).await.expect("remembered"), second);
    db.close().await;
    server.stop().await;
}

/// One HTTP/1.1 message read from `stream` (headers, and a body of `content-length` bytes), or
/// `None` when the peer closed the connection first.
async fn read_message(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut message = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        if let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&message[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            if message.len() >= end + 4 + length {
                return Some(message);
            }
        }
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        message.extend_from_slice(&buffer[..read]);
    }
}

/// A proxy on 127.0.0.1 in front of `upstream` (host:port) that passes every exchange on, except
/// that it closes the client's connection once the server has answered the first `POST`, whose
/// answer it keeps (returned by the handle) instead of passing on.
async fn dropping_proxy(upstream: String) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dropped: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>> = Default::default();
    let kept = dropped.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let dropped = dropped.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                while let Some(request) = read_message(&mut client).await {
                    server.write_all(&request).await.unwrap();
                    let Some(answer) = read_message(&mut server).await else { return };
                    let lose = request.starts_with(b"POST") && {
                        let mut dropped = dropped.lock().unwrap();
                        dropped.is_empty() && {
                            dropped.push(answer.clone());
                            true
                        }
                    };
                    if lose {
                        return; // the connection closes: the client never sees the answer
                    }
                    client.write_all(&answer).await.unwrap();
                }
            });
        }
    });
    (url, kept)
}

/// The body of a raw HTTP message.
fn message_body(message: &[u8]) -> serde_json::Value {
    let end = message.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    serde_json::from_slice(&message[end + 4..]).unwrap()
}

async fn a_copy_whose_answer_is_lost_is_retried_and_made_once(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let before = server.inspect().await.app_components(STAGING).await;
    let (proxy, dropped) = dropping_proxy(server.url.trim_start_matches("http://").to_owned()).await;
    let client = rainbond_client::Client::with_access_key(&proxy, ADMIN).unwrap();
    let copy = client
        .copy_app()
        .team_id(SHOP_TEAM)
        .region_name("rainbond")
        .app_id("1")
        .body(copy_body(SHOP_TEAM, "rainbond", STAGING, &[WEB, API]))
        .send();
    let policy = rainbond_client::RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(50));
    let answer = policy.run(copy).await.expect("the retry is answered").into_inner();

    let lost: AppCopyCRes = serde_json::from_value(message_body(&dropped.lock().unwrap()[0])).unwrap();
    assert_eq!(answer, lost, "the retry answers the components of the lost answer");
    let db = server.inspect().await;
    let after = db.app_components(STAGING).await;
    let new: HashSet<&str> = after.iter().filter(|c| !before.contains(c)).map(|(id, _)| id.as_str()).collect();
    assert_eq!(new, ids(&answer).into_iter().collect(), "the app holds exactly one copy, the one answered");
    assert_eq!(after.len(), before.len() + 2);
    db.close().await;
    server.stop().await;
}

on_both_backends!(
    a_copy_whose_answer_is_lost_is_retried_and_made_once,
    a_copy_sent_twice_with_one_key_makes_one_copy,
    eight_concurrent_copies_with_one_key_make_one_copy,
    a_reused_key_with_another_request_is_refused,
    keys_of_one_user_never_match_another_users,
    malformed_keys_are_refused_and_change_nothing,
    a_key_is_remembered_across_a_restart,
    an_expired_key_makes_a_new_copy_and_expired_keys_are_deleted,
);

/// Two instances of one PostgreSQL database: eight requests with one key, spread over both, make
/// one copy; each is answered the copy, or 409/10410 while it is still running on the other
/// instance, and the same copy afterwards on either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_the_keys() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let first = TestServer::demo(&database).await;
    let second = TestServer::on(&database).await;
    let instances = [&first, &second];
    let before = staging_components(&first).await;
    let results =
        futures::future::join_all((0..8).map(|i| keyed_copy(instances[i % 2], ADMIN, "two-instances", &[WEB]))).await;
    let mut answers = HashSet::new();
    for result in results {
        match result {
            Ok(copy) => {
                answers.insert(ids(&copy).join(","));
            }
            Err((status, body)) => assert_eq!((status, body.code), (409, 10410), "{body:?}"),
        }
    }
    assert_eq!(answers.len(), 1, "every copy answered is the same one: {answers:?}");
    assert_eq!(staging_components(&first).await, before + 1, "one copy was made");
    let on_first = keyed_copy(&first, ADMIN, "two-instances", &[WEB]).await.expect("the first instance");
    let on_second = keyed_copy(&second, ADMIN, "two-instances", &[WEB]).await.expect("the second instance");
    assert_eq!(on_first, on_second);
    assert!(answers.contains(&ids(&on_first).join(",")));
    let (status, body) = keyed_copy(&second, ADMIN, "two-instances", &[API]).await.expect_err("another body");
    assert_eq!((status, body.code), (422, 20422));
    assert_eq!(staging_components(&first).await, before + 1);
    first.stop().await;
    second.stop().await;
}

/// `serve --idempotency-ttl` sets how long a key is remembered: a repeat within it answers the
/// first copy, one after it makes a new copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serve_flag_sets_how_long_a_key_is_remembered() {
    let database = TestDatabase::sqlite();
    let server =
        common::process::ServerProcess::start(std::path::Path::new(&database.location), &["--idempotency-ttl", "1"]);
    let send = || async {
        let response = reqwest::Client::new()
            .post(format!("{}{}", server.url, common::process::COPY_SHOP))
            .header("Authorization", ADMIN)
            .header("Idempotency-Key", "short-lived")
            .json(&copy_body(SHOP_TEAM, "rainbond", STAGING, &[WEB]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<serde_json::Value>().await.unwrap()["services"][0]["service_id"].clone()
    };
    // Keys expire on whole seconds: the first copy goes just after one, so that the repeat falls
    // within the one-second lifetime however the two requests straddle the clock.
    let past_the_second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(1000 - past_the_second) + 20)).await;
    let first = send().await;
    assert_eq!(send().await, first, "within the lifetime: the same copy");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_ne!(send().await, first, "after the lifetime: a new copy");
    server.kill();
}

/// On PostgreSQL a key is held by the transaction of the copy using it: while another
/// transaction holds it (a copy running on another instance) the request is answered 409/10410
/// and copies nothing; once that transaction ends, even by its connection dying, the key is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_held_elsewhere_is_409_until_its_transaction_ends() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let server = TestServer::demo(&database).await;
    let before = staging_components(&server).await;
    let key_lock = rainbond_server::store::KEY_LOCK_CLASS;
    let elsewhere = common::backend::holding_advisory_lock(&database.location, key_lock, "hashtext('1:held')").await;
    let (status, body) = keyed_copy(&server, ADMIN, "held", &[WEB]).await.expect_err("the key is held");
    assert_eq!((status, body.code), (409, 10410), "{body:?}");
    assert_eq!(staging_components(&server).await, before, "nothing was copied");
    // Another user's key of the same text is not held.
    guest_joins_the_shop_team(&server).await;
    keyed_copy(&server, GUEST, "held", &[WEB]).await.expect("the guest's key is its own");
    // The holder's connection dies: once PostgreSQL ends its backend, its transaction and the key
    // with it are gone.
    common::backend::close_hard_and_wait_until_its_backend_ends(elsewhere, &database.location).await;
    let copy = keyed_copy(&server, ADMIN, "held", &[WEB]).await.expect("the key is free");
    assert_eq!(keyed_copy(&server, ADMIN, "held", &[WEB]).await.expect("remembered"), copy);
    assert_eq!(staging_components(&server).await, before + 2);
    server.stop().await;
}

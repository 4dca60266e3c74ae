//! Copies competing for the database: many at once, and a database locked by another process.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::checks::{self, add_apps};
use common::process::{COPY_SHOP, ServerProcess, copy_all_into, one_shot_http};
use common::{ADMIN, TestDatabase, TestServer};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

/// The concurrency test runs this many times in a row, each on a new database.
const ROUNDS: usize = 3;
const CONCURRENT: usize = 64;
/// Statuses the copy operation documents.
const DOCUMENTED: [u16; 11] = [200, 400, 401, 403, 404, 408, 409, 413, 415, 500, 503];

/// Sends a copy from `source` (team, app id) and returns its status and body.
async fn copy(http: &reqwest::Client, url: &str, source: (&str, i32), body: &Value) -> (StatusCode, Value) {
    let response = http
        .post(format!("{url}/openapi/v1/teams/{}/regions/rainbond/apps/{}/copy", source.0, source.1))
        .header("authorization", ADMIN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(!text.to_lowercase().contains("locked"), "a database lock reached the client: {status} {text}");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// How many components a 200 copy created.
fn copied(status: StatusCode, body: &Value) -> usize {
    assert!(DOCUMENTED.contains(&status.as_u16()), "undocumented status {status}: {body}");
    if status == StatusCode::OK { body["services"].as_array().unwrap().len() } else { 0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_copies_keep_every_rule_and_exact_counts() {
    for round in 1..=ROUNDS {
        let database = TestDatabase::sqlite();
        let server = TestServer::demo(&database).await;
        let db = checks::open(Path::new(&database.location)).await;
        let targets: Vec<i32> = (100..100 + CONCURRENT as i32).collect();
        add_apps(&db, targets.iter().copied()).await;
        let http = reqwest::Client::new();

        // 64 copies from two source apps (the shop in o19p6wen, the blog in k2x9qa7d) into app 2.
        let sources = [(common::SHOP_TEAM, 1, 3usize), (common::BLOG_TEAM, 4, 1usize)];
        let into_one = (0..CONCURRENT).map(|i| {
            let (team, app, _) = sources[i % 2];
            let (http, url) = (http.clone(), server.url.clone());
            async move { copy(&http, &url, (team, app), &copy_all_into(2)).await }
        });
        let answers = join_all(into_one).await;
        let mut expected = 0;
        for (i, (status, body)) in answers.iter().enumerate() {
            let created = copied(*status, body);
            assert!(created == 0 || created == sources[i % 2].2, "round {round}: {body}");
            expected += created;
        }
        assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::OK).count(), CONCURRENT, "round {round}");
        assert_eq!(checks::components_of(&db, 2).await.len(), expected, "round {round}: components in app 2");

        // 64 copies of the shop into 64 apps, one each.
        let into_many = targets.iter().map(|&target| {
            let (http, url) = (http.clone(), server.url.clone());
            async move { copy(&http, &url, (common::SHOP_TEAM, 1), &copy_all_into(target)).await }
        });
        for (status, body) in join_all(into_many).await {
            assert_eq!(copied(status, &body), 3, "round {round}: {status} {body}");
        }
        for &target in &targets {
            assert_eq!(checks::components_of(&db, target).await.len(), 3, "round {round}: app {target}");
        }
        assert_eq!(checks::uniqueness_violations(&db).await, Vec::<String>::new(), "round {round}");
        db.close().await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_locked_database_gets_503_in_time_and_nothing_is_written() {
    const BUSY_TIMEOUT_SECONDS: u64 = 1;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("locked.db");
    let server = ServerProcess::start(&database, &["--busy-timeout", &BUSY_TIMEOUT_SECONDS.to_string()]);
    let http = one_shot_http();
    let readyz = || http.get(format!("{}/readyz", server.url)).send();
    let healthz = || http.get(format!("{}/healthz", server.url)).send();
    assert_eq!(readyz().await.unwrap().status(), StatusCode::OK);

    // Another process (this test) takes the database's write lock and keeps it.
    let mut locker = sqlx::SqliteConnection::connect(&format!("sqlite:{}", database.display())).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut locker).await.unwrap();
    let counts_before = table_counts(&mut locker).await;

    let started = Instant::now();
    let body = copy_all_into(2);
    let copies = (0..12).map(|_| copy(&http, &server.url, (common::SHOP_TEAM, 1), &body));
    let (answers, ready, health) = futures::join!(join_all(copies), readyz(), healthz());
    let waited = started.elapsed();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], 10402, "the database-unavailable code: {body}");
    }
    let ready = ready.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "not ready while the database is locked");
    assert_eq!(ready.headers()["retry-after"], "1");
    assert_eq!(health.unwrap().status(), StatusCode::OK, "the process still serves");
    // Each waits one busy timeout for a connection or the lock, never more than both.
    assert!(waited < Duration::from_secs(BUSY_TIMEOUT_SECONDS * 2 + 5), "answered after {waited:?}");
    let response = http
        .post(format!("{}{COPY_SHOP}", server.url))
        .header("authorization", ADMIN)
        .json(&json!({"services": [], "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1", "every 503 says when to retry");
    assert_eq!(table_counts(&mut locker).await, counts_before, "nothing was written");

    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    let (status, body) = copy(&http, &server.url, (common::SHOP_TEAM, 1), &copy_all_into(2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(readyz().await.unwrap().status(), StatusCode::OK);
}

async fn table_counts(connection: &mut sqlx::SqliteConnection) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in std::iter::once("tenant_services").chain(checks::CHILD_TABLES.iter().copied()) {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *connection)
            .await
            .unwrap();
        counts.push(n);
    }
    counts
}

//! The `rainbond-server` binary as a user runs it: `serve --demo` spoken to in plain HTTP (no
//! generated client) across a graceful restart, and `seed`. What each request gets is tested in
//! process in router.rs. Every test runs on SQLite and on PostgreSQL.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use common::process::COPY_SHOP as COPY;
use common::{ADMIN, TestDatabase};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The server binary, started on a free port.
struct Server {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Server {
    fn start(database: &str) -> Server {
        let (child, url) = common::binary::serve_demo(database);
        Server { child, url, http: reqwest::Client::new() }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn stop(mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        for _ in 0..300 {
            if let Some(exit) = self.child.try_wait().unwrap() {
                assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("the server did not stop within 30 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Sends a request and returns the status and the JSON body, checking that errors carry exactly
/// the spec's error body as `application/json`.
async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        assert_eq!(content_type.as_deref(), Some("application/json"), "{status}: {body}");
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["code", "msg", "msg_show"], "{status}: {body}");
        assert!(body["code"].is_i64() && body["msg"].is_string() && body["msg_show"].is_string(), "{body}");
    }
    (status, body)
}

fn copy_body(services: Value) -> Value {
    json!({"services": services, "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": 2})
}

async fn the_binary_serves_the_demo_and_a_copy_survives_a_graceful_restart(database: TestDatabase) {
    let database = database.location.as_str();
    let server = Server::start(database);
    let (status, listed) = send(server.request(reqwest::Method::GET, COPY).header("authorization", ADMIN)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    let (status, copied) = send(
        server
            .request(reqwest::Method::POST, COPY)
            .header("authorization", ADMIN)
            .json(&copy_body(json!([{"service_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f1"}]))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{copied}");
    let copy_id = copied["services"][0]["service_id"].as_str().unwrap().to_owned();
    let (status, _) =
        send(server.request(reqwest::Method::GET, "/openapi/v1/nothing").header("authorization", ADMIN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "errors carry the spec's error body over the wire");
    server.stop();

    // `--demo` again on the same database loads nothing and keeps the copy.
    let server = Server::start(database);
    let (status, staging) = send(
        server
            .request(reqwest::Method::GET, "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/2/copy")
            .header("authorization", ADMIN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = staging.as_array().unwrap().iter().map(|c| c["service_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [copy_id.as_str()]);
    server.stop();
}

/// `rainbond-server seed FILE --database DB`, run as a user would.
fn seed(file: &Path, database: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rainbond-server"))
        .arg("seed")
        .arg(file)
        .arg("--database")
        .arg(database)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the seed command runs")
}

async fn seed_loads_a_fixture_once_and_refuses_an_inconsistent_one(database: TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let database = database.location.as_str();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo.yaml");

    let first = seed(&demo, database);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("loaded fixture `demo`"));
    let again = seed(&demo, database);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already loaded"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    // A second fixture whose team name is taken: refused, and nothing of it is written.
    let clash = dir.path().join("clash.yaml");
    std::fs::write(
        &clash,
        "name: clash\nenterprise_id: e\nusers: [{user_id: 9, nick_name: carol}]\n\
         teams: [{tenant_id: 99999999999999999999999999999999, tenant_name: o19p6wen, members: [carol]}]\n",
    )
    .unwrap();
    let refused = seed(&clash, database);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("clash.yaml") && message.to_lowercase().contains("unique"), "{message}");
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "name: typo\nenterprise_id: e\nuserz: []\n").unwrap();
    let refused = seed(&typo, database);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("userz"));

    // The refused fixture left no user behind: `carol` can be loaded on its own afterwards.
    let carol = dir.path().join("carol.yaml");
    std::fs::write(&carol, "name: carol\nenterprise_id: e\nusers: [{user_id: 9, nick_name: carol}]\n").unwrap();
    let loaded = seed(&carol, database);
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
}

on_both_backends!(
    the_binary_serves_the_demo_and_a_copy_survives_a_graceful_restart,
    seed_loads_a_fixture_once_and_refuses_an_inconsistent_one,
);

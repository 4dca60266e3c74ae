//! `rainbond-server serve --demo`, spoken to in plain HTTP (no generated client): what a caller
//! of the real binary sees, including the bodies of requests the router rejects.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

const COPY: &str = "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy";
const ADMIN: &str = "rbd-demo-admin";

/// The server binary, started on a free port.
struct Server {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Server {
    fn start(database: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rainbond-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--database"])
            .arg(database)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().unwrap();
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let line = line_rx.recv_timeout(Duration::from_secs(60)).expect("the server prints its address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
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

#[tokio::test]
async fn the_demo_server_answers_as_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("demo.db");
    let server = Server::start(&database);
    let post = |body: Value| server.request(reqwest::Method::POST, COPY).header("authorization", ADMIN).json(&body);

    // The listing: every component with its build source, never its credentials.
    let response = server.request(reqwest::Method::GET, COPY).header("authorization", ADMIN).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(!text.contains("registry-secret") && !text.contains("password"), "credentials leak: {text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let api = listed.iter().find(|c| c["service_cname"] == "api").unwrap();
    assert_eq!(api["build_source"]["image"], "images.example.com/shop/api:2.4.1");
    assert_eq!(api["min_memory"], "512");
    assert_eq!(api["copyable"], true);
    assert_eq!(api["not_copyable_reason"], Value::Null);
    let (status, legacy) = send(
        server
            .request(reqwest::Method::GET, "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/5/copy")
            .header("authorization", ADMIN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for component in legacy.as_array().unwrap() {
        assert_eq!(component["copyable"], false, "{component}");
        let reason = component["not_copyable_reason"].as_str().unwrap();
        assert!(
            reason.contains(if component["service_cname"] == "worker" { "not complete" } else { "uploaded package" }),
            "{reason}"
        );
    }

    // A copy; `change` is read-only and ignored, whatever its shape.
    let (status, copied) = send(post(copy_body(json!([
        {"service_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f1", "change": {"build_source": {"version": "v2"}, "envs": {"A": "B"}}}
    ]))))
    .await;
    assert_eq!(status, StatusCode::OK, "{copied}");
    let web = &copied["services"][0];
    assert_eq!(web["service_cname"], "web-copy");
    assert_eq!(web["version"], "3.11", "change is ignored");
    assert_eq!(web["access_infos"], json!([]));
    assert_eq!(web["desc"], "Storefront");

    // Bodies the router rejects: 400 (415 for the media type) with the error body.
    let rejected: &[(&str, reqwest::RequestBuilder, StatusCode, &str)] = &[
        ("malformed JSON", post(Value::Null).body("{\"services\": ["), StatusCode::BAD_REQUEST, "EOF"),
        (
            "trailing data",
            post(Value::Null).body(copy_body(json!([])).to_string() + " x"),
            StatusCode::BAD_REQUEST,
            "trailing",
        ),
        ("null body", post(Value::Null), StatusCode::BAD_REQUEST, "invalid request body"),
        (
            "empty body",
            server
                .request(reqwest::Method::POST, COPY)
                .header("authorization", ADMIN)
                .header("content-type", "application/json"),
            StatusCode::BAD_REQUEST,
            "required",
        ),
        (
            "missing field",
            post(json!({"services": [], "target_team_name": "o19p6wen", "target_region_name": "rainbond"})),
            StatusCode::BAD_REQUEST,
            "target_app_id",
        ),
        (
            "string for an integer",
            post(
                json!({"services": [], "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": "2"}),
            ),
            StatusCode::BAD_REQUEST,
            "target_app_id",
        ),
        (
            "int32 overflow",
            post(
                json!({"services": [], "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": 2147483648u64}),
            ),
            StatusCode::BAD_REQUEST,
            "target_app_id",
        ),
        ("services not a list", post(copy_body(json!("web"))), StatusCode::BAD_REQUEST, "services"),
        ("item without service_id", post(copy_body(json!([{}]))), StatusCode::BAD_REQUEST, "service_id"),
        (
            "wrong media type",
            server
                .request(reqwest::Method::POST, COPY)
                .header("authorization", ADMIN)
                .header("content-type", "text/plain")
                .body(copy_body(json!([])).to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
    ];
    for (case, request, expected, mentions) in rejected {
        let (status, body) = send(request.try_clone().unwrap()).await;
        assert_eq!(status, *expected, "{case}: {body}");
        assert!(body["msg"].as_str().unwrap().contains(mentions), "{case}: {body}");
    }

    // Who may call: 401 without a usable key, 403 outside the team.
    for (key, expected) in [
        (None, 401),
        (Some("Token rbd-demo-admin"), 401),
        (Some("rbd-demo-expired"), 401),
        (Some("rbd-demo-guest"), 403),
    ] {
        let mut request = server.request(reqwest::Method::GET, COPY);
        if let Some(key) = key {
            request = request.header("authorization", key);
        }
        let (status, body) = send(request).await;
        assert_eq!(status.as_u16(), expected, "{key:?}: {body}");
    }
    // Where: 404 unknown region, 409 team not in the region, 404 app not of the team or region.
    for (path, expected, code) in [
        ("/openapi/v1/teams/o19p6wen/regions/nowhere/apps/1/copy", 404, 3000),
        ("/openapi/v1/teams/k2x9qa7d/regions/rainbond-east/apps/4/copy", 409, 2001),
        ("/openapi/v1/teams/o19p6wen/regions/rainbond/apps/abc/copy", 404, 4000),
        ("/openapi/v1/teams/o19p6wen/regions/rainbond-east/apps/1/copy", 404, 4000),
    ] {
        let (status, body) = send(server.request(reqwest::Method::GET, path).header("authorization", ADMIN)).await;
        assert_eq!((status.as_u16(), body["code"].as_i64()), (expected, Some(code)), "{path}: {body}");
    }
    // Copy rules: unknown ids 404, package_build 400, target app of another team 400.
    let (status, body) = send(post(copy_body(json!([{"service_id": "deadbeef"}])))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("deadbeef"));
    let (status, _) = send(
        server
            .request(reqwest::Method::POST, "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/5/copy")
            .header("authorization", ADMIN)
            .json(&copy_body(json!([{"service_id": "4e5f60718293a4b5c6d7e8f90a1b2c35"}]))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = send(post(
        json!({"services": [], "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": 4}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Paths and methods the spec does not have.
    let (status, _) =
        send(server.request(reqwest::Method::GET, "/openapi/v1/nothing").header("authorization", ADMIN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = server.request(reqwest::Method::PUT, COPY).header("authorization", ADMIN).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers()["allow"].to_str().unwrap().contains("POST"));

    // The document built from the code, the docs page and the health check.
    let (status, document) = send(server.request(reqwest::Method::GET, "/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let operations: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    assert_eq!(operations, ["list_copy_services", "copy_app"]);
    let docs = server.request(reqwest::Method::GET, "/docs/").send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
    assert_eq!(server.request(reqwest::Method::GET, "/healthz").send().await.unwrap().status(), StatusCode::OK);
    server.stop();

    // `--demo` again on the same database loads nothing and keeps the copy.
    let server = Server::start(&database);
    let (status, staging) = send(
        server
            .request(reqwest::Method::GET, "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/2/copy")
            .header("authorization", ADMIN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = staging.as_array().unwrap().iter().map(|c| c["service_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [web["service_id"].as_str().unwrap()]);
    server.stop();
}

/// `rainbond-server seed FILE --database DB`, run as a user would.
fn seed(file: &Path, database: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rainbond-server"))
        .arg("seed")
        .arg(file)
        .arg("--database")
        .arg(database)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the seed command runs")
}

#[test]
fn seed_loads_a_fixture_once_and_refuses_an_inconsistent_one() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("seeded.db");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo.yaml");

    let first = seed(&demo, &database);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("loaded fixture `demo`"));
    let again = seed(&demo, &database);
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
    let refused = seed(&clash, &database);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("clash.yaml") && message.contains("UNIQUE"), "{message}");
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "name: typo\nenterprise_id: e\nuserz: []\n").unwrap();
    let refused = seed(&typo, &database);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("userz"));

    // The refused fixture left no user behind: `carol` can be loaded on its own afterwards.
    let carol = dir.path().join("carol.yaml");
    std::fs::write(&carol, "name: carol\nenterprise_id: e\nusers: [{user_id: 9, nick_name: carol}]\n").unwrap();
    let loaded = seed(&carol, &database);
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
}

//! A crate outside the workspace (`tests/downstream`) depends on rainbond-client by path and
//! calls `copy_app` with nothing but the crate's public API; this test builds and runs it
//! against a local server.
//!
//! It runs `cargo run --offline` with its own target directory (`target/downstream`) and a copy
//! of the workspace's `Cargo.lock`, so the first run compiles the dependency tree once.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Reply, TestServer, operation, response_example, spec};

/// Bound on the build and run; a cold build on two busy cores takes a few minutes.
const TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[tokio::test]
async fn a_crate_outside_the_workspace_can_copy_an_app() {
    let spec = spec();
    let (_, _, copy_app) = operation(&spec, "copy_app");
    let ok = response_example(&spec, &copy_app, "200");
    let not_found = response_example(&spec, &copy_app, "404");
    let server = TestServer::start(move |request| {
        if request.uri.path().contains("/apps/404/") { Reply::json(404, &not_found) } else { Reply::json(200, &ok) }
    })
    .await;

    let client_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = client_dir.join("../..");
    let crate_dir = client_dir.join("tests/downstream");
    std::fs::copy(workspace.join("Cargo.lock"), crate_dir.join("Cargo.lock")).expect("copy Cargo.lock");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let run = tokio::process::Command::new(cargo)
        .args(["run", "--offline", "--quiet", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--")
        .arg(&server.url)
        .env("CARGO_TARGET_DIR", workspace.join("target/downstream"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("cargo run did not finish within {TIMEOUT:?}"))
        .expect("cargo runs");
    eprintln!("downstream build and run: {:.1?}", started.elapsed());

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    assert_eq!(stdout, "copied string string\nerror 404 4000 the app is not found 应用不存在\n");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let paths: Vec<&str> = requests.iter().map(|r| r.uri.path()).collect();
    assert_eq!(paths, ["/openapi/v1/teams/t/regions/r/apps/1/copy", "/openapi/v1/teams/t/regions/r/apps/404/copy"]);
    assert_eq!(requests[0].header("authorization"), None, "Client::new sends no key");
    assert_eq!(requests[1].header("authorization"), Some("downstream-key"));
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.json(),
            json!({
                "services": [{"service_id": "0c1f5b2a9e7d4c3b8a6f1e2d3c3a9c1d"}],
                "target_team_name": "o19p6wen",
                "target_region_name": "rainbond",
                "target_app_id": 2
            })
        );
    }
}

//! The `rainbond` binary as a user runs it: against `rainbond-server serve --demo` (list, copy,
//! the server's errors), against the client's generated mock, and on its own (help, usage).
//!
//! The server binary is the workspace's `target/debug/rainbond-server`, next to `rainbond`
//! (`cargo test --workspace` builds it; with `-p rainbond-cli` alone, the test builds it first).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use rainbond_client::mock::{MockServerExt, httpmock::MockServer};
use rainbond_client::types;
use serde_json::{Value, json};

#[path = "../../server/tests/binary/address.rs"]
mod address;

fn rainbond() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rainbond"));
    command.env_remove("RAINBOND_URL").env_remove("RAINBOND_ACCESS_KEY").env("RUST_BACKTRACE", "0");
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("rainbond runs")
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("stdout is JSON ({e}):\n{}\nstderr:\n{}", text(&output.stdout), text(&output.stderr))
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `target/debug/rainbond-server`, built by this test when missing.
fn server_binary() -> PathBuf {
    let directory = Path::new(env!("CARGO_BIN_EXE_rainbond")).parent().unwrap();
    let binary = directory.join(format!("rainbond-server{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--package", "rainbond-server", "--bin", "rainbond-server"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building rainbond-server failed");
    }
    binary
}

/// `rainbond-server serve --demo` on 127.0.0.1:0 with a fresh database, killed when dropped.
struct DemoServer {
    child: Child,
    url: String,
    _folder: tempfile::TempDir,
}

impl DemoServer {
    fn start() -> DemoServer {
        let folder = tempfile::tempdir().unwrap();
        let mut child = Command::new(server_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--database"])
            .arg(folder.path().join("demo.db"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let url = address::read_address(&mut child);
        DemoServer { child, url, _folder: folder }
    }

    /// `rainbond` with this server's URL and the demo admin's key in the environment.
    fn rainbond_as_admin(&self) -> Command {
        let mut command = rainbond();
        command.env("RAINBOND_URL", &self.url).env("RAINBOND_ACCESS_KEY", "rbd-demo-admin");
        command
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const APP_1: [&str; 6] = ["--team-id", "o19p6wen", "--region-name", "rainbond", "--app-id", "1"];

fn names(components: &Value, field: &str) -> Vec<String> {
    let mut names: Vec<String> =
        components.as_array().unwrap().iter().map(|c| c[field].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

#[test]
fn lists_and_copies_an_app_of_the_demo_server() {
    let server = DemoServer::start();
    let listed = run(server.rainbond_as_admin().arg("list-copy-services").args(APP_1));
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert_eq!(names(&stdout_json(&listed), "service_cname"), ["api", "db", "web"]);

    // The file says app 3 (which is in region rainbond-east, so that copy would be refused); the
    // flag given on the command line wins.
    let body = tempfile::NamedTempFile::new().unwrap();
    let file_body =
        json!({"services": [], "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": 3});
    std::fs::write(body.path(), file_body.to_string()).unwrap();
    let copied = run(server
        .rainbond_as_admin()
        .arg("copy-app")
        .args(APP_1)
        .arg("--json-body")
        .arg(body.path())
        .args(["--target-app-id", "2"]));
    assert!(copied.status.success(), "{}", text(&copied.stderr));
    assert_eq!(names(&stdout_json(&copied)["services"], "service_cname"), ["api-copy", "db-copy", "web-copy"]);

    let target = run(server.rainbond_as_admin().arg("list-copy-services").args(&APP_1[..4]).args(["--app-id", "2"]));
    assert_eq!(
        names(&stdout_json(&target), "service_cname"),
        ["api-copy", "db-copy", "web-copy"],
        "app 2 holds the copy"
    );
}

#[test]
fn the_servers_errors_go_to_stderr_as_its_error_body_with_exit_code_1() {
    let server = DemoServer::start();
    let unknown_app =
        run(server.rainbond_as_admin().arg("list-copy-services").args(&APP_1[..4]).args(["--app-id", "999"]));
    assert_eq!(unknown_app.status.code(), Some(1));
    assert!(unknown_app.stdout.is_empty(), "{}", text(&unknown_app.stdout));
    let body: types::ErrorBody = serde_json::from_slice(&unknown_app.stderr).expect("stderr is the error body");
    assert_eq!(body.code, 4000, "{body:?}");

    // Flags instead of the environment; no key.
    let no_key = run(rainbond().args(["--url", &server.url, "list-copy-services"]).args(APP_1));
    assert_eq!(no_key.status.code(), Some(1));
    let body: types::ErrorBody = serde_json::from_slice(&no_key.stderr).expect("stderr is the error body");
    assert_eq!(body.code, 401);

    let unreadable =
        run(server.rainbond_as_admin().arg("copy-app").args(APP_1).args(["--json-body", "/no/such/file.json"]));
    assert_eq!(unreadable.status.code(), Some(3));
    assert!(text(&unreadable.stderr).contains("failed to read /no/such/file.json"), "{}", text(&unreadable.stderr));
    let target = run(server.rainbond_as_admin().arg("list-copy-services").args(&APP_1[..4]).args(["--app-id", "2"]));
    assert_eq!(stdout_json(&target), json!([]), "nothing was copied");
}

#[test]
fn an_unreachable_server_exits_3_and_a_missing_url_is_a_usage_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let unreachable = run(rainbond().args(["--url", &closed, "list-copy-services"]).args(APP_1));
    assert_eq!(unreachable.status.code(), Some(3));
    assert!(
        text(&unreachable.stderr).starts_with("rainbond: error: Communication Error"),
        "{}",
        text(&unreachable.stderr)
    );

    let no_url = run(rainbond().arg("list-copy-services").args(APP_1));
    assert_eq!(no_url.status.code(), Some(2));
    assert!(text(&no_url.stderr).contains("--url URL or RAINBOND_URL"), "{}", text(&no_url.stderr));
    let missing_flag = run(rainbond().args(["--url", &closed, "list-copy-services", "--team-id", "o19p6wen"]));
    assert_eq!(missing_flag.status.code(), Some(2), "{}", text(&missing_flag.stderr));
}

#[test]
fn every_operation_is_a_kebab_case_subcommand_with_its_own_help() {
    let help = run(rainbond().arg("--help"));
    assert!(help.status.success());
    let help = text(&help.stdout);
    assert!(help.contains("--url <URL>") && help.contains("[env: RAINBOND_URL"), "{help}");
    for (operation, flags) in [
        ("list-copy-services", &["--team-id", "--region-name", "--app-id"][..]),
        ("copy-app", &["--team-id", "--region-name", "--app-id", "--json-body <JSON-FILE>", "--target-app-id"][..]),
    ] {
        assert!(help.contains(operation), "{help}");
        let own = run(rainbond().args([operation, "--help"]));
        assert!(own.status.success(), "{operation} --help");
        let own = text(&own.stdout);
        for flag in flags {
            assert!(own.contains(flag), "{operation} --help names {flag}:\n{own}");
        }
        assert!(!own.contains("XXX"), "progenitor's placeholder help is hidden:\n{own}");
    }
}

#[test]
fn prints_what_the_generated_mock_answers() {
    let server = MockServer::start();
    let component: types::AppCopyL = serde_json::from_value(json!({
        "build_source": {"service_source": "docker_image", "version": "8.0", "language": null, "code_from": "image_manual"},
        "update_time": "2026-11-20 09:30:00", "deploy_version": null, "create_status": "complete",
        "service_alias": "gr000001", "service_cname": "db", "version": "8.0", "service_type": "application",
        "service_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "app_name": "shop", "min_memory": "512",
        "copyable": true, "not_copyable_reason": null,
    }))
    .unwrap();
    let listing = server.list_copy_services(|when, then| {
        when.team_id("o19p6wen").region_name("rainbond").app_id("1");
        then.ok(&vec![component.clone()]);
    });
    let output = run(rainbond().args(["--url", &server.base_url(), "list-copy-services"]).args(APP_1));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(stdout_json(&output), serde_json::to_value(vec![component]).unwrap());
    listing.assert();
}

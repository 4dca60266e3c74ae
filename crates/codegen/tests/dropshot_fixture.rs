//! dropshot's extensions end to end, on tests/fixtures/relay.yaml (a paginated list and two
//! websocket operations, one secured and answered `101`, one written with only `default`):
//!
//! - copies of `rainbond-client` and `rainbond-api`, with their real manifests and the files
//!   generated from the spec, compile in a throwaway workspace (see `common`), and a program
//!   (fixtures/relay_use.rs) serves the generated router with a hand-written `impl Api` on
//!   127.0.0.1 and calls it with the generated client: `stream()` walks every page, and the
//!   upgrade methods open websockets that carry messages both ways;
//! - `rainbond-check check`, built in the same workspace, finds that the generated code says what
//!   the spec says (the one warning: the `default`-only operation documents no 426);
//! - the generated API is snapshotted.

mod common;

use rainbond_codegen::{API_OUTPUT_DIR, CLIENT_OUTPUT, Spec};

const SPEC: &str = include_str!("fixtures/relay.yaml");
const SPEC_FILE: &str = "relay.yaml";
const PROGRAM: &str = include_str!("fixtures/relay_use.rs");
const PROGRAM_PACKAGE: &str = "relay-fixture";
const PROGRAM_DEPENDENCIES: &str = r#"rainbond-api.workspace = true
rainbond-client.workspace = true
axum = { workspace = true, features = ["ws"] }
futures.workspace = true
serde_json.workspace = true
tokio.workspace = true
# The client side of the websocket, over the connection progenitor's upgrade method returns (the
# version axum's `ws` feature locks).
tokio-tungstenite = { version = "0.29", default-features = false }
"#;

fn spec() -> Spec {
    Spec::parse(SPEC_FILE, SPEC).expect("the fixture spec loads")
}

fn generated_file(path: &str) -> String {
    common::generated_file(&spec(), path)
}

#[test]
fn pages_and_websockets_work_end_to_end_and_check_finds_no_drift() {
    let program = common::ClientProgram {
        spec: (SPEC_FILE, SPEC),
        package: PROGRAM_PACKAGE,
        dependencies: PROGRAM_DEPENDENCIES,
        main: PROGRAM,
    };
    let report = common::assert_runs_and_checks(&program, "relay fixture: pages and websockets work end to end");
    assert!(report.contains("`clock` documents no 426"), "the one undocumented status is a warning:\n{report}");
    assert!(!report.contains("`echo` documents"), "{report}");
}

#[test]
fn the_client_has_the_stream_and_upgrade_methods() {
    let client = generated_file(CLIENT_OUTPUT);
    assert!(client.contains("pub fn stream("), "the paginated operation has a stream method");
    let upgrades = client.matches("Result<ResponseValue<reqwest::Upgraded>").count();
    assert_eq!(upgrades, 2, "both websocket operations return the upgraded connection");
    let undocumented = rainbond_codegen::server_warnings(&spec()).unwrap();
    let messages: Vec<&str> = undocumented.iter().map(|u| u.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("`clock` documents no 426 (nor 4XX or default)"), "{messages:?}");
}

#[test]
fn the_generated_api_is_as_reviewed() {
    let api = generated_file(&format!("{API_OUTPUT_DIR}/api.rs"));
    // The handler gets the upgrade with the parameters; the 101 variant carries its response.
    assert!(api.contains("upgrade: WebSocketUpgrade,"), "{api}");
    assert!(api.contains("SwitchingProtocols(Response),"), "{api}");
    insta::assert_snapshot!("relay_api_rs", api);
}

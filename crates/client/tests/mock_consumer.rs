//! `rainbond_client::mock` as a downstream crate uses it: the client packed (`cargo package`),
//! unpacked, and a crate outside the workspace (tests/mock_consumer/lib.rs) whose own tests
//! mock the copy with `server.copy_app(|when, then| …)`, built and run offline, no server.
//!
//! Builds in `target/packaged-client`, shared with the server's packaged-client test (cargo
//! locks it), so the client's dependencies are built once for both.

#[path = "support/packaged.rs"]
mod packaged;

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn consumer_manifest(client: &Path) -> String {
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mock_consumer/lib.rs");
    format!(
        r#"[package]
name = "mock-consumer"
version = "0.0.0"
edition = "2024"
publish = false

[lib]
path = {library:?}

[dependencies]
rainbond-client = {{ path = {client:?} }}

[dev-dependencies]
rainbond-client = {{ path = {client:?}, features = ["mock"] }}
serde_json = "1"
tokio = {{ version = "1.48", features = ["macros", "rt"] }}

[profile.dev]
debug = false

[workspace]
"#
    )
}

#[test]
fn a_crate_outside_the_workspace_tests_its_code_against_the_generated_mock() {
    let root = workspace_root();
    let work = packaged::work_folder(&root);
    let target = work.join("target");
    // Verified by the server's packaged-client test; here only the packed files matter.
    let crate_file = packaged::package_client(&root, &target, false);
    let client = packaged::unpack(&crate_file, &work.join("unpacked-mock"));
    assert!(client.join("src/mock.rs").is_file() && client.join("src/mock/generated.rs").is_file(), "packed");
    let consumer = work.join("mock-consumer");
    packaged::write_consumer(&consumer, &consumer_manifest(&client), &root);

    let tested = packaged::cargo(&["test", "--offline", "--quiet"], &consumer, &target);
    let report = String::from_utf8_lossy(&tested.stdout);
    assert!(report.contains("test result: ok. 2 passed"), "{report}");
    assert!(packaged::built_from(&consumer, &target, &client), "built from the unpacked crate");
}

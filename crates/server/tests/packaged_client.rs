//! `rainbond-client` as a user takes it from a registry: `cargo package -p rainbond-client`
//! (which verifies that the packed sources build on their own), the `.crate` file unpacked, and a
//! program outside the workspace that depends on the unpacked crate, built offline and run
//! against `rainbond-server serve --demo` (tests/packaged_consumer/consumer.rs).
//!
//! Everything builds in `target/packaged-client`, shared by the verification and the consumer,
//! so a rerun only rebuilds the client.

mod binary;
#[path = "../../client/tests/support/packaged.rs"]
mod packaged;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use binary::DemoServer;

/// What `cargo package` must put in the `.crate` file, besides its own metadata.
const PACKED: [&str; 11] = [
    "Cargo.toml",
    "LICENSE-APACHE",
    "LICENSE-MIT",
    "README.md",
    "src/access_key.rs",
    "src/generated.rs",
    "src/lib.rs",
    "src/mock.rs",
    "src/mock/generated.rs",
    "src/retry.rs",
    "src/schemas.rs",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The consumer's manifest, depending on the unpacked crate (not the workspace path).
fn consumer_manifest(client: &Path) -> String {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packaged_consumer/consumer.rs");
    format!(
        r#"[package]
name = "packaged-client-consumer"
version = "0.0.0"
edition = "2024"
publish = false

[[bin]]
name = "consumer"
path = {program:?}

[dependencies]
rainbond-client = {{ path = {client:?} }}
tokio = {{ version = "1.48", features = ["macros", "rt-multi-thread"] }}

[profile.dev]
debug = false

[workspace]
"#
    )
}

#[test]
fn a_program_built_on_the_packaged_crate_lists_and_copies_on_the_demo_server() {
    let root = workspace_root();
    let work = packaged::work_folder(&root);
    let target = work.join("target");
    let started = Instant::now();
    let crate_file = packaged::package_client(&root, &target, true);
    eprintln!("cargo package (with verification): {:.1?}", started.elapsed());

    let client = packaged::unpack(&crate_file, &work.join("unpacked"));
    for file in PACKED {
        assert!(client.join(file).is_file(), "the package lacks {file}");
    }
    let readme = std::fs::read_to_string(client.join("README.md")).unwrap();
    assert!(readme.contains("# rainbond-client"), "README.md is the client's");
    let consumer = work.join("consumer");
    packaged::write_consumer(&consumer, &consumer_manifest(&client), &root);
    let started = Instant::now();
    packaged::cargo(&["build", "--offline", "--quiet"], &consumer, &target);
    eprintln!("consumer build: {:.1?}", started.elapsed());
    assert!(packaged::built_from(&consumer, &target, &client), "built from the unpacked crate");

    let server = DemoServer::start();
    let output = Command::new(target.join("debug/consumer")).arg(&server.url).output().expect("the consumer runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        "without a key: 401 (code 401)\nlisted 3 components, 3 copyable\ncopied into app 2: api-copy, db-copy, web-copy\n"
    );
}

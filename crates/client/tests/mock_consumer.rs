//! `rainbond_client::mock` as a downstream crate uses it: the client packed (`cargo package`),
//! unpacked, and a crate outside the workspace (tests/mock_consumer/lib.rs) whose own tests
//! mock the copy with `server.copy_app(|when, then| …)`, built and run offline, no server.
//!
//! Builds in `target/packaged-client`, shared with the server's packaged-client test (cargo
//! locks it), so the client's dependencies are built once for both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Runs cargo with `args` (offline, no terminal input) and fails the test with its output when
/// it fails.
fn cargo(args: &[&str], current_dir: &Path, target_dir: &Path) -> Output {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(current_dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "cargo {} failed ({}):\n{all}", args.join(" "), output.status);
    output
}

/// `cargo package -p rainbond-client`, unpacked into `into`: the unpacked crate's folder.
fn packaged_client(root: &Path, target: &Path, into: &Path) -> PathBuf {
    cargo(&["package", "--offline", "--allow-dirty", "--no-verify", "-p", "rainbond-client"], root, target);
    let name = format!("rainbond-client-{}", env!("CARGO_PKG_VERSION"));
    let crate_file = target.join(format!("package/{name}.crate"));
    let _ = std::fs::remove_dir_all(into);
    std::fs::create_dir_all(into).unwrap();
    let status = Command::new("tar").arg("-xzf").arg(&crate_file).arg("-C").arg(into).status().expect("tar runs");
    assert!(status.success(), "tar -xzf {} failed", crate_file.display());
    into.join(name)
}

fn write_consumer(folder: &Path, client: &Path, root: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    let library = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mock_consumer/lib.rs");
    let manifest = format!(
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
    );
    std::fs::write(folder.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock, so that the offline build picks versions that are already downloaded.
    std::fs::copy(root.join("Cargo.lock"), folder.join("Cargo.lock")).unwrap();
}

#[test]
fn a_crate_outside_the_workspace_tests_its_code_against_the_generated_mock() {
    let root = workspace_root();
    let work = root.join("target/packaged-client");
    let target = work.join("target");
    let client = packaged_client(&root, &target, &work.join("unpacked-mock"));
    assert!(client.join("src/mock.rs").is_file() && client.join("src/mock/generated.rs").is_file(), "packed");
    let consumer = work.join("mock-consumer");
    write_consumer(&consumer, &client, &root);

    let tested = cargo(&["test", "--offline", "--quiet"], &consumer, &target);
    let report = String::from_utf8_lossy(&tested.stdout);
    assert!(report.contains("test result: ok. 2 passed"), "{report}");
    let tree = cargo(&["tree", "--offline", "--invert", "rainbond-client", "--depth", "0"], &consumer, &target);
    assert!(String::from_utf8_lossy(&tree.stdout).contains(client.to_str().unwrap()), "built from the package");
}

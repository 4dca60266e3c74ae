//! `rainbond-client` as a user takes it from a registry: `cargo package -p rainbond-client`
//! (which verifies that the packed sources build on their own), the `.crate` file unpacked, and a
//! program outside the workspace that depends on the unpacked crate, built offline and run
//! against `rainbond-server serve --demo` (tests/packaged_consumer/consumer.rs).
//!
//! Everything builds in `target/packaged-client`, shared by the verification and the consumer,
//! so a rerun only rebuilds the client.

mod binary;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use binary::DemoServer;

/// What `cargo package` must put in the `.crate` file, besides its own metadata.
const PACKED: [&str; 8] = [
    "Cargo.toml",
    "LICENSE-APACHE",
    "LICENSE-MIT",
    "README.md",
    "src/access_key.rs",
    "src/generated.rs",
    "src/lib.rs",
    "src/schemas.rs",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Runs cargo with `args` (offline, no terminal input) and fails the test with its output when
/// it fails.
fn cargo(args: &[&str], current_dir: &Path, target_dir: &Path) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(args)
        .current_dir(current_dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo {} failed ({}):\n{stderr}", args.join(" "), output.status);
    output
}

/// `cargo package -p rainbond-client` and the path of the `.crate` file it wrote.
fn package_client(root: &Path, target: &Path) -> PathBuf {
    let started = Instant::now();
    // --allow-dirty: the test runs on working trees too; CI's clone is clean anyway.
    cargo(&["package", "--offline", "--allow-dirty", "-p", "rainbond-client"], root, target);
    eprintln!("cargo package (with verification): {:.1?}", started.elapsed());
    let version = env!("CARGO_PKG_VERSION");
    let file = target.join(format!("package/rainbond-client-{version}.crate"));
    assert!(file.is_file(), "cargo package wrote no {}", file.display());
    file
}

/// Unpacks `crate_file` (a gzipped tar) into `folder` and returns the crate's folder.
fn unpack(crate_file: &Path, folder: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(folder);
    std::fs::create_dir_all(folder).unwrap();
    let status = Command::new("tar").arg("-xzf").arg(crate_file).arg("-C").arg(folder).status().expect("tar runs");
    assert!(status.success(), "tar -xzf {} failed", crate_file.display());
    folder.join(crate_file.file_stem().unwrap())
}

/// Writes the consumer's manifest, depending on the unpacked crate (not the workspace path).
fn write_consumer(folder: &Path, client: &Path, root: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packaged_consumer/consumer.rs");
    let manifest = format!(
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
    );
    std::fs::write(folder.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock, so that the offline build picks versions that are already downloaded.
    std::fs::copy(root.join("Cargo.lock"), folder.join("Cargo.lock")).unwrap();
}

#[test]
fn a_program_built_on_the_packaged_crate_lists_and_copies_on_the_demo_server() {
    let root = workspace_root();
    let work = root.join("target/packaged-client");
    let target = work.join("target");
    let crate_file = package_client(&root, &target);

    let client = unpack(&crate_file, &work.join("unpacked"));
    for file in PACKED {
        assert!(client.join(file).is_file(), "the package lacks {file}");
    }
    let readme = std::fs::read_to_string(client.join("README.md")).unwrap();
    assert!(readme.contains("# rainbond-client"), "README.md is the client's");
    let consumer = work.join("consumer");
    write_consumer(&consumer, &client, &root);
    let started = Instant::now();
    cargo(&["build", "--offline", "--quiet"], &consumer, &target);
    eprintln!("consumer build: {:.1?}", started.elapsed());
    let tree = cargo(&["tree", "--offline", "--invert", "rainbond-client", "--depth", "0"], &consumer, &target);
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(tree.contains(client.to_str().unwrap()), "built from the unpacked crate: {tree}");

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

//! rainbond-client as a user takes it from a registry: `cargo package`, the `.crate` unpacked,
//! and a crate outside the workspace built on it, offline. Shared by the client's mock consumer
//! test and the server's packaged-client test (`#[path]`), which build in one target folder.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Where the packaged-client tests work: `target/packaged-client` of the workspace at `root`.
pub fn work_folder(root: &Path) -> PathBuf {
    root.join("target/packaged-client")
}

/// Runs cargo with `args` (no terminal input) in `current_dir` with `target_dir`, and fails the
/// test with its output when it fails.
pub fn cargo(args: &[&str], current_dir: &Path, target_dir: &Path) -> Output {
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

/// `cargo package -p rainbond-client` (offline; with `verify`, cargo also builds the packed
/// sources on their own) and the path of the `.crate` file it wrote. The client's version is
/// the workspace's, which every crate here inherits.
pub fn package_client(root: &Path, target: &Path, verify: bool) -> PathBuf {
    // --allow-dirty: the tests run on working trees too; CI's clone is clean anyway.
    let mut args = vec!["package", "--offline", "--allow-dirty", "-p", "rainbond-client"];
    if !verify {
        args.push("--no-verify");
    }
    cargo(&args, root, target);
    let file = target.join(format!("package/rainbond-client-{}.crate", env!("CARGO_PKG_VERSION")));
    assert!(file.is_file(), "cargo package wrote no {}", file.display());
    file
}

/// Unpacks `crate_file` (a gzipped tar) into a fresh `folder` and returns the crate's folder.
pub fn unpack(crate_file: &Path, folder: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(folder);
    std::fs::create_dir_all(folder).unwrap();
    let status = Command::new("tar").arg("-xzf").arg(crate_file).arg("-C").arg(folder).status().expect("tar runs");
    assert!(status.success(), "tar -xzf {} failed", crate_file.display());
    folder.join(crate_file.file_stem().unwrap())
}

/// Writes a consumer crate's `manifest` into `folder`, with the workspace's lock, so that the
/// offline build picks versions that are already downloaded.
pub fn write_consumer(folder: &Path, manifest: &str, root: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(folder.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), folder.join("Cargo.lock")).unwrap();
}

/// `cargo tree` in `consumer`: whether rainbond-client comes from the unpacked `client`.
pub fn built_from(consumer: &Path, target: &Path, client: &Path) -> bool {
    let tree = cargo(&["tree", "--offline", "--invert", "rainbond-client", "--depth", "0"], consumer, target);
    String::from_utf8_lossy(&tree.stdout).contains(client.to_str().unwrap())
}

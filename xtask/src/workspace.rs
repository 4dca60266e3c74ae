//! Building the workspace and running its binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::OnceLock;

use anyhow::{Context, bail};

/// The workspace root of the tree xtask is run in (the folder of openapi.yaml), found at run time.
pub fn root() -> anyhow::Result<PathBuf> {
    Ok(rainbond_codegen::workspace_root()?)
}

/// The target directory xtask builds in and runs binaries from: [`checkout_target_dir`] of the
/// one cargo is configured with.
///
/// cargo gives a workspace crate the same identity in every checkout, and decides freshness from
/// file times: two checkouts sharing one target directory would reuse each other's builds of
/// the workspace crates, and a binary built and run here could be made from the other tree.
pub fn target_dir() -> anyhow::Result<PathBuf> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    if let Some(dir) = DIR.get() {
        return Ok(dir.clone());
    }
    let root = root()?;
    let dir = checkout_target_dir(&root, &configured_target_dir(&root)?);
    Ok(DIR.get_or_init(|| dir).clone())
}

/// Where builds of the checkout at `root` go when cargo is configured with `configured`: that
/// folder itself when it lies inside the checkout (no other checkout builds there), else a
/// folder of the checkout's own, `configured/checkouts/<folder name>-<hash of root>`.
pub fn checkout_target_dir(root: &Path, configured: &Path) -> PathBuf {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    let configured = configured.canonicalize().unwrap_or_else(|_| configured.to_owned());
    let name = checkout_dir_name(&root);
    let already_own = configured.file_name().is_some_and(|n| *n == *name)
        && configured.parent().and_then(Path::file_name).is_some_and(|n| n == CHECKOUTS_DIR);
    if configured.starts_with(&root) || already_own {
        return configured;
    }
    configured.join(CHECKOUTS_DIR).join(name)
}

/// The folder of a shared target directory that holds each checkout's own builds.
const CHECKOUTS_DIR: &str = "checkouts";

/// `<folder name>-<16 hex digits>`: readable, and unique per checkout path (64-bit FNV-1a,
/// stable across builds of xtask).
fn checkout_dir_name(root: &Path) -> String {
    let hash = crate::sources::fnv1a(crate::sources::FNV_START, root.as_os_str().as_encoded_bytes());
    let name = root.file_name().map_or_else(|| "root".to_owned(), |n| n.to_string_lossy().into_owned());
    format!("{name}-{hash:016x}")
}

/// The target directory cargo is configured with for the checkout at `root` (by
/// `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR` or a config file), as `cargo metadata` says.
fn configured_target_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!("`cargo metadata` failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading the output of cargo metadata")?;
    match metadata.get("target_directory").and_then(serde_json::Value::as_str) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => bail!("`cargo metadata` names no target_directory"),
    }
}

/// The cargo that runs this xtask, in the workspace root, building in [`target_dir`].
pub fn cargo() -> anyhow::Result<Command> {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root()?).env("CARGO_TARGET_DIR", target_dir()?);
    Ok(command)
}

/// `cargo build --workspace` plus `extra` arguments. Building the whole workspace keeps one feature
/// set per dependency, so nothing is compiled twice.
pub fn build(extra: &[&str]) -> anyhow::Result<()> {
    let status = cargo()?.args(["build", "--workspace"]).args(extra).status().context("running cargo build")?;
    if !status.success() {
        bail!("`cargo build --workspace {}` failed", extra.join(" "));
    }
    Ok(())
}

/// `cargo build --package PACKAGE`: only what one package needs, so that a command works while
/// another package does not compile (the server, before a new operation's handler is written).
pub fn build_package(package: &str) -> anyhow::Result<()> {
    let status = cargo()?.args(["build", "--package", package]).status().context("running cargo build")?;
    if !status.success() {
        bail!("`cargo build --package {package}` failed");
    }
    Ok(())
}

/// The path of a workspace binary in the debug profile.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir()?.join("debug").join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// Builds `package` alone, runs its binary `name` with `args` from the root, and passes its exit
/// code on.
pub fn run_binary(package: &str, name: &str, args: &[String]) -> anyhow::Result<ExitCode> {
    build_package(package)?;
    let binary = binary(name)?;
    let status = Command::new(&binary)
        .args(args)
        .current_dir(root()?)
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(crate::EXIT_FAILURE)),
        None => ExitCode::from(crate::EXIT_FAILURE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_dir_inside_the_checkout_is_its_own() {
        let root = Path::new("/work/checkout");
        assert_eq!(checkout_target_dir(root, &root.join("target")), root.join("target"));
    }

    #[test]
    fn a_shared_target_dir_gets_one_folder_per_checkout_and_keeps_it_when_nested() {
        let shared = Path::new("/cache/target");
        let (a, b) = (Path::new("/work/a/repo"), Path::new("/work/b/repo"));
        let dir_a = checkout_target_dir(a, shared);
        let dir_b = checkout_target_dir(b, shared);
        assert!(
            dir_a.starts_with("/cache/target/checkouts") && dir_a.to_string_lossy().contains("/repo-"),
            "{dir_a:?}"
        );
        assert_ne!(dir_a, dir_b, "two checkouts with one folder name build apart");
        assert_eq!(checkout_target_dir(a, &dir_a), dir_a, "an xtask run by xtask stays in the same folder");
        assert_eq!(checkout_target_dir(a, shared), dir_a, "the folder is stable");
    }
}

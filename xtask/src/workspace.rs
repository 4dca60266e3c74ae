//! Building the workspace and running its binaries.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// The workspace root of the tree xtask is run in (the folder of openapi.yaml), found at run time.
pub fn root() -> anyhow::Result<PathBuf> {
    Ok(rainbond_codegen::workspace_root()?)
}

/// The target directory cargo builds into.
pub fn target_dir() -> anyhow::Result<PathBuf> {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(root()?.join("target")),
    }
}

/// The cargo that runs this xtask, in the workspace root.
pub fn cargo() -> anyhow::Result<Command> {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root()?);
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

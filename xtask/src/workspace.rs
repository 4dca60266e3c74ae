//! Building the workspace and running its binaries.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// The workspace root (the folder of openapi.yaml).
pub fn root() -> PathBuf {
    rainbond_codegen::workspace_root()
}

/// The target directory cargo builds into.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// The cargo that runs this xtask.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// `cargo build --workspace` plus `extra` arguments. Building the whole workspace keeps one feature
/// set per dependency, so nothing is compiled twice.
pub fn build(extra: &[&str]) -> anyhow::Result<()> {
    let status = cargo().args(["build", "--workspace"]).args(extra).status().context("running cargo build")?;
    if !status.success() {
        bail!("`cargo build --workspace {}` failed", extra.join(" "));
    }
    Ok(())
}

/// The path of a workspace binary in the debug profile.
pub fn binary(name: &str) -> PathBuf {
    target_dir().join("debug").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Builds the workspace, runs `binary` with `args` from the root, and passes its exit code on.
pub fn run_binary(name: &str, args: &[String]) -> anyhow::Result<ExitCode> {
    build(&[])?;
    let status = Command::new(binary(name))
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("running {}", binary(name).display()))?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(crate::EXIT_FAILURE)),
        None => ExitCode::from(crate::EXIT_FAILURE),
    })
}

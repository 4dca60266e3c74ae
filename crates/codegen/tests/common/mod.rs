//! Throwaway workspaces for the fixture specs: copies of workspace crates whose generated files
//! are replaced, built offline with the workspace's manifest settings and Cargo.lock in
//! `target/codegen-fixture` (one target directory for every fixture, so that their shared
//! dependencies are built once).
//!
//! cargo gives a path package the same identity in every copy of a workspace, so two fixture
//! workspaces would build their different `rainbond-api`s (say) into the same artifacts and link
//! each other's generated code, whichever wrote last. Each fixture workspace therefore tags the
//! workspace version with its own folder's name (`0.3.0+fixture.tmpXyz`): the build metadata
//! makes its crates distinct packages, and the version requirements still match.

#![allow(dead_code)] // Each test binary uses its own part of the helpers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn workspace_root() -> PathBuf {
    rainbond_codegen::workspace_root().expect("run by cargo in the workspace")
}

/// Starts a fixture workspace in `dir`: the root manifest with `members` as its only members,
/// Cargo.lock, and a copy (manifest and `src/`) of each member that is a workspace crate.
pub fn write_workspace(dir: &Path, members: &[&str]) {
    let root = workspace_root();
    for member in members {
        let source = root.join(member);
        if source.is_dir() {
            copy_dir(&source.join("src"), &dir.join(member).join("src"));
            std::fs::copy(source.join("Cargo.toml"), dir.join(member).join("Cargo.toml")).unwrap();
        }
    }
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), fixture_manifest(&root, members, &fixture_tag(dir))).unwrap();
}

/// A semver build-metadata identifier naming the fixture workspace at `dir`.
fn fixture_tag(dir: &Path) -> String {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tag: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("fixture.{tag}")
}

/// The workspace's root manifest with `members` as its members and its version tagged with
/// `tag`; the path dependencies on the other workspace crates are dropped (their folders are not
/// copied).
fn fixture_manifest(root: &Path, members: &[&str], tag: &str) -> String {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut out = String::new();
    let mut version_tagged = false;
    for line in manifest.lines() {
        if !version_tagged && let Some(version) = line.strip_prefix("version = \"").and_then(|v| v.strip_suffix('"')) {
            out.push_str(&format!("version = \"{version}+{tag}\"\n"));
            version_tagged = true;
            continue;
        }
        let other_crate = line.starts_with("rainbond-")
            && line.contains("path = ")
            && !members.iter().any(|member| line.contains(&format!("path = \"{member}\"")));
        if line.starts_with("members = ") {
            let quoted: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
            out.push_str(&format!("members = [{}]\n", quoted.join(", ")));
        } else if !line.starts_with("exclude = ") && !other_crate {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `cargo <args>` in the fixture workspace at `dir`, offline, in `target/codegen-fixture`.
pub fn cargo(dir: &Path, args: &[&str]) -> Output {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        // Before the command, so that arguments after `--` go to the program run.
        .args(["--offline", "--quiet"])
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target.join("codegen-fixture"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

/// stdout and stderr of a finished command.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Writes the program crate `member` of a fixture workspace, package `package`: its manifest (with
/// `dependencies`, the lines of its `[dependencies]`) and `main` as its `src/main.rs`.
pub fn write_program(dir: &Path, member: &str, package: &str, dependencies: &str, main: &str) {
    let program = dir.join(member);
    std::fs::create_dir_all(program.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{dependencies}"
    );
    std::fs::write(program.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(program.join("src/main.rs"), main).unwrap();
}

/// The file at `path` (relative to the workspace root) generated from `spec`.
pub fn generated_file(spec: &rainbond_codegen::Spec, path: &str) -> String {
    let files = rainbond_codegen::generate(spec).expect("the fixture spec generates");
    files.into_iter().find(|file| file.path == path).expect("a generated file").contents
}

/// A program that uses the client and the API generated from a fixture spec.
pub struct ClientProgram<'a> {
    /// The spec's file name, and its text.
    pub spec: (&'a str, &'a str),
    /// The program's package name.
    pub package: &'a str,
    /// The lines of its `[dependencies]`.
    pub dependencies: &'a str,
    /// Its `main.rs`.
    pub main: &'a str,
}

/// Builds `program` with copies of the client and API crates generated from its spec in a
/// throwaway workspace and runs it; then runs `rainbond-check check` on the spec, built in the same
/// workspace. The program's and the check's output, each with whether it succeeded.
pub fn run_with_client_and_check(program: &ClientProgram<'_>) -> ((bool, String), (bool, String)) {
    const PROGRAM_CRATE: &str = "fixture";
    let (spec_file, spec_text) = program.spec;
    let spec = rainbond_codegen::Spec::parse(spec_file, spec_text).expect("the fixture spec loads");
    let dir = tempfile::tempdir().unwrap();
    let members = ["crates/client", "crates/api", "crates/codegen", "crates/check", PROGRAM_CRATE];
    write_workspace(dir.path(), &members);
    rainbond_codegen::write_files(dir.path(), &rainbond_codegen::generate(&spec).unwrap()).unwrap();
    write_program(dir.path(), PROGRAM_CRATE, program.package, program.dependencies, program.main);
    std::fs::write(dir.path().join(spec_file), spec_text).unwrap();
    let run = cargo(dir.path(), &["run", "-p", program.package]);
    let check = cargo(dir.path(), &["run", "-p", "rainbond-check", "--", "check", "--spec", spec_file]);
    ((run.status.success(), text(&run)), (check.status.success(), text(&check)))
}

/// [`run_with_client_and_check`], asserting that the program builds, runs and prints `last_line`,
/// and that the check passes; the check's report, for the caller's own assertions.
pub fn assert_runs_and_checks(program: &ClientProgram<'_>, last_line: &str) -> String {
    let ((ran, output), (checked, report)) = run_with_client_and_check(program);
    assert!(ran, "the fixture program builds and runs:\n{output}");
    assert!(output.contains(last_line), "{output}");
    assert!(checked, "the generated code says what the spec says:\n{report}");
    report
}

//! `cargo xtask tools` and `cargo xtask lint-spec`: the pinned OpenAPI tools.
//!
//! The npm tools (`tools/package.json` + `tools/package-lock.json`) and the two pip tool sets
//! (`tools/requirements-openapi.txt`, `tools/requirements-conformance.txt`) are installed once per
//! machine into `${XDG_CACHE_HOME:-~/.cache}/rainbond-openapi-tools/{npm,venv}-KEY`, where KEY hashes
//! the pinned files and the interpreter versions, and linked into the repository as
//! `tools/node_modules`, `target/tools-venv` and `target/conformance-venv`. A clone whose pins did
//! not change reuses the installs.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::progress::Progress;
use crate::workspace;

/// The npm manifest and lock, relative to the workspace root.
const PACKAGE_JSON: &str = "tools/package.json";
const PACKAGE_LOCK: &str = "tools/package-lock.json";
/// Where the cached npm install is linked into the repository.
const NODE_MODULES_LINK: &str = "tools/node_modules";
/// A venv of fully pinned pip requirements (installed with `--no-deps`), linked into the repository.
struct PipTools {
    requirements: &'static str,
    link: &'static str,
}
/// openapi-spec-validator, for `lint-spec`.
const SPEC_TOOLS: PipTools = PipTools { requirements: "tools/requirements-openapi.txt", link: "target/tools-venv" };
/// schemathesis, for `conformance`.
const CONFORMANCE_TOOLS: PipTools =
    PipTools { requirements: "tools/requirements-conformance.txt", link: "target/conformance-venv" };
/// Written into a cache entry once its install completed; holds the entry's fingerprint.
const STAMP: &str = ".installed";
/// The folder under the user's cache directory.
const CACHE_NAME: &str = "rainbond-openapi-tools";
/// Output lines longer than this are cut (openapi-spec-validator prints the whole spec on one line).
const MAX_LINE_CHARS: usize = 400;

/// Environment for every npm and Node tool call: no telemetry, update checks, audits or ads.
pub const TOOL_ENV: [(&str, &str); 7] = [
    ("REDOCLY_TELEMETRY", "off"),
    ("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true"),
    ("NO_UPDATE_NOTIFIER", "1"),
    ("SCARF_ANALYTICS", "false"),
    ("npm_config_audit", "false"),
    ("npm_config_fund", "false"),
    ("npm_config_update_notifier", "false"),
];

/// The pinned cargo-semver-checks (`cargo xtask tools --semver-checks`).
const SEMVER_CHECKS_VERSION: &str = "0.51.0";

/// Options of `cargo xtask tools`.
#[derive(clap::Args)]
pub struct Args {
    /// Also install cargo-semver-checks (pinned, about 11 minutes of compiling on two cores, at
    /// the lowest CPU priority) into the tool cache; tests/semver_checks.rs then runs wherever it
    /// is installed.
    #[arg(long)]
    semver_checks: bool,
}

/// `cargo xtask tools`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let tools = install()?;
    if args.semver_checks {
        let binary = install_semver_checks()?;
        println!("tools: cargo-semver-checks at {}", binary.display());
    }
    println!("tools: node tools in {}", tools.node_bin_dir().display());
    println!("tools: python tools in {}", tools.venv_bin_dir().display());
    println!("tools: schemathesis in {}", tools.conformance_bin_dir().display());
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask lint-spec`: exit 0 when every linter passes, 1 when one reports an error.
pub fn run_lint_spec() -> anyhow::Result<ExitCode> {
    Ok(if lint_spec()? { ExitCode::SUCCESS } else { ExitCode::from(crate::EXIT_FINDING) })
}

/// The installed tools, as linked into the workspace.
pub struct Tools {
    root: PathBuf,
}

impl Tools {
    /// The tools as linked into the workspace, without installing anything.
    pub fn linked() -> anyhow::Result<Tools> {
        Ok(Tools { root: workspace::root()? })
    }

    /// `tools/node_modules/.bin`.
    pub fn node_bin_dir(&self) -> PathBuf {
        self.root.join(NODE_MODULES_LINK).join(".bin")
    }

    /// `target/tools-venv/bin`.
    pub fn venv_bin_dir(&self) -> PathBuf {
        self.root.join(SPEC_TOOLS.link).join("bin")
    }

    /// `target/conformance-venv/bin`.
    pub fn conformance_bin_dir(&self) -> PathBuf {
        self.root.join(CONFORMANCE_TOOLS.link).join("bin")
    }

    /// `PATH` with both tool folders in front, for commands that look tools up by name.
    pub fn path_env(&self) -> anyhow::Result<OsString> {
        let current = std::env::var_os("PATH").unwrap_or_default();
        let dirs = [self.node_bin_dir(), self.venv_bin_dir()].into_iter().chain(std::env::split_paths(&current));
        std::env::join_paths(dirs).context("building PATH with the tool folders")
    }
}

/// Installs the pinned tools where their cache entries are missing or stale, and links them in.
pub fn install() -> anyhow::Result<Tools> {
    let root = workspace::root()?;
    let cache = cache_dir()?;
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    // One install at a time per machine: clones and engineers share the cache.
    let lock_path = cache.join(".lock");
    let lock = File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;

    let mut progress = Progress::new("tools", 2);
    progress.start("npm tools");
    let npm_dir = install_npm_tools(&root, &cache)?;
    link(&npm_dir.join("node_modules"), &root.join(NODE_MODULES_LINK))?;
    progress.finish_step("ok");
    progress.start("pip tools");
    for tools in [SPEC_TOOLS, CONFORMANCE_TOOLS] {
        let venv_dir = install_pip_tools(&root, &cache, &tools)?;
        link(&venv_dir, &root.join(tools.link))?;
    }
    progress.finish_step("ok");
    Ok(Tools { root })
}

/// The cached cargo-semver-checks, when `cargo xtask tools --semver-checks` installed it.
pub fn installed_semver_checks() -> anyhow::Result<Option<PathBuf>> {
    let binary = semver_checks_root()?.join("bin/cargo-semver-checks");
    Ok(binary.is_file().then_some(binary))
}

fn semver_checks_root() -> anyhow::Result<PathBuf> {
    Ok(cache_dir()?.join(format!("cargo-semver-checks-{SEMVER_CHECKS_VERSION}")))
}

/// `cargo install --locked cargo-semver-checks@PINNED` into its cache entry, unless it is there;
/// returns the binary. Runs under `nice -n 19` when `nice` exists, so that it yields to builds.
fn install_semver_checks() -> anyhow::Result<PathBuf> {
    let root = semver_checks_root()?;
    let binary = root.join("bin/cargo-semver-checks");
    if binary.is_file() {
        println!("tools: cargo-semver-checks {SEMVER_CHECKS_VERSION} up to date ({})", binary.display());
        return Ok(binary);
    }
    println!("tools: installing cargo-semver-checks {SEMVER_CHECKS_VERSION} (about 11 minutes on two cores)");
    let started = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let nice = Command::new("nice").arg("--version").output().is_ok_and(|out| out.status.success());
    let mut command = if nice {
        let mut command = Command::new("nice");
        command.args(["-n", "19"]).arg(&cargo);
        command
    } else {
        Command::new(&cargo)
    };
    command
        .args(["install", "--locked", &format!("cargo-semver-checks@{SEMVER_CHECKS_VERSION}"), "--root"])
        .arg(&root)
        .arg("--target-dir")
        .arg(root.join("build"));
    let status = command.status().context("running cargo install")?;
    if !status.success() {
        bail!("cargo install cargo-semver-checks@{SEMVER_CHECKS_VERSION} failed ({status})");
    }
    let _ = fs::remove_dir_all(root.join("build"));
    println!("tools: cargo-semver-checks installed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(binary)
}

/// `${XDG_CACHE_HOME:-$HOME/.cache}/rainbond-openapi-tools`.
fn cache_dir() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => match std::env::var_os("HOME") {
            Some(home) if !home.is_empty() => PathBuf::from(home).join(".cache"),
            _ => bail!("neither XDG_CACHE_HOME nor HOME is set: cannot place the tool cache"),
        },
    };
    Ok(base.join(CACHE_NAME))
}

/// Runs `npm ci` for the pinned manifest in a cache entry, unless that entry is complete.
fn install_npm_tools(root: &Path, cache: &Path) -> anyhow::Result<PathBuf> {
    let manifest = read(&root.join(PACKAGE_JSON))?;
    let lock = read(&root.join(PACKAGE_LOCK))?;
    let fingerprint = format!(
        "node {}\nnpm {}\n{PACKAGE_JSON} {:016x}\n{PACKAGE_LOCK} {:016x}\n",
        version_of("node", &["-v"])?,
        version_of("npm", &["-v"])?,
        fnv1a(manifest.as_bytes()),
        fnv1a(lock.as_bytes()),
    );
    let dir = cache.join(format!("npm-{:016x}", fnv1a(fingerprint.as_bytes())));
    if is_complete(&dir, &fingerprint) {
        println!("tools: npm tools up to date ({})", dir.display());
        return Ok(dir);
    }
    println!("tools: installing the npm tools into {} (npm ci)", dir.display());
    let started = Instant::now();
    reset_dir(&dir)?;
    fs::write(dir.join("package.json"), &manifest).context("copying package.json into the cache")?;
    fs::write(dir.join("package-lock.json"), &lock).context("copying package-lock.json into the cache")?;
    let mut npm = Command::new("npm");
    npm.args(["ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .envs(TOOL_ENV);
    run_quietly(&mut npm, "npm ci")?;
    write_stamp(&dir, &fingerprint)?;
    println!("tools: npm tools installed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(dir)
}

/// Creates a venv in a cache entry and installs the pinned requirements, unless it is complete.
fn install_pip_tools(root: &Path, cache: &Path, tools: &PipTools) -> anyhow::Result<PathBuf> {
    let requirements_file = tools.requirements;
    let requirements = read(&root.join(requirements_file))?;
    // A venv points at its interpreter, so the interpreter's location is part of the key too.
    let python = version_of("python3", &["-c", "import sys; print(sys.version); print(sys.base_prefix)"])?;
    let fingerprint = format!("python3 {python}\n{requirements_file} {:016x}\n", fnv1a(requirements.as_bytes()));
    let dir = cache.join(format!("venv-{:016x}", fnv1a(fingerprint.as_bytes())));
    if is_complete(&dir, &fingerprint) {
        println!("tools: pip tools of {requirements_file} up to date ({})", dir.display());
        return Ok(dir);
    }
    println!("tools: installing the pip tools of {requirements_file} into {} (venv)", dir.display());
    let started = Instant::now();
    reset_dir(&dir)?;
    // Venvs are not relocatable: create it at its final path.
    run_quietly(Command::new("python3").arg("-m").arg("venv").arg(&dir), "python3 -m venv")?;
    let pip = |args: &[&str]| {
        let mut command = Command::new(dir.join("bin").join("python"));
        command.args(["-m", "pip"]).args(args).env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        command
    };
    let requirements_path = root.join(requirements_file);
    let mut install = pip(&["install", "--quiet", "--no-deps", "--requirement"]);
    install.arg(&requirements_path);
    run_quietly(&mut install, "pip install --no-deps")?;
    run_quietly(&mut pip(&["check"]), "pip check")?;
    write_stamp(&dir, &fingerprint)?;
    println!("tools: pip tools installed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(dir)
}

/// Whether a cache entry finished installing for exactly this fingerprint.
fn is_complete(dir: &Path, fingerprint: &str) -> bool {
    fs::read_to_string(dir.join(STAMP)).is_ok_and(|stamp| stamp == fingerprint)
}

fn write_stamp(dir: &Path, fingerprint: &str) -> anyhow::Result<()> {
    fs::write(dir.join(STAMP), fingerprint).with_context(|| format!("writing the stamp in {}", dir.display()))
}

/// Empties `dir` (a half-finished install) and creates it.
fn reset_dir(dir: &Path) -> anyhow::Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("removing the incomplete {}", dir.display())),
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Points the symlink `link` at `target`, replacing whatever was there (a link, or a folder from a
/// manual `npm install`).
fn link(target: &Path, link: &Path) -> anyhow::Result<()> {
    if fs::read_link(link).is_ok_and(|existing| existing == target) {
        return Ok(());
    }
    match fs::symlink_metadata(link) {
        Ok(meta) if meta.is_dir() => {
            println!("tools: replacing the folder {} with a link to the cache", link.display());
            fs::remove_dir_all(link).with_context(|| format!("removing {}", link.display()))?;
        }
        Ok(_) => fs::remove_file(link).with_context(|| format!("removing {}", link.display()))?,
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("inspecting {}", link.display())),
    }
    if let Some(parent) = link.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("linking {} to {}", link.display(), target.display()))
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The trimmed standard output of a version query such as `node -v`.
fn version_of(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running `{program} {}`: is {program} installed?", args.join(" ")))?;
    if !output.status.success() {
        bail!("`{program} {}` failed ({}): {}", args.join(" "), output.status, tail(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs an install command with its output captured; on failure the error carries the output's end.
fn run_quietly(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("starting `{what}`"))?;
    if !output.status.success() {
        bail!("`{what}` failed ({}):\n{}\n{}", output.status, tail(&output.stdout), tail(&output.stderr));
    }
    Ok(())
}

/// The last 40 lines of a command's output.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// 64-bit FNV-1a. It only names cache entries (the stamp holds the full fingerprint, and npm checks
/// every package against the lock's integrity hashes), so a non-cryptographic hash is enough.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// One linter run by `lint-spec`.
struct Linter {
    name: &'static str,
    program: PathBuf,
    args: &'static [&'static str],
}

/// Runs openapi-spec-validator, Spectral and Redocly on openapi.yaml from the workspace root,
/// printing each tool's output. Returns whether all three passed.
pub fn lint_spec() -> anyhow::Result<bool> {
    let tools = install()?;
    let spec = rainbond_codegen::SPEC_PATH;
    let linters = [
        Linter {
            name: "openapi-spec-validator",
            program: tools.venv_bin_dir().join("openapi-spec-validator"),
            args: &["--validation-errors", "all"],
        },
        Linter {
            name: "spectral",
            program: tools.node_bin_dir().join("spectral"),
            args: &["lint", "--ruleset", ".spectral.yaml", "--fail-severity=error"],
        },
        Linter {
            name: "redocly",
            program: tools.node_bin_dir().join("redocly"),
            args: &["lint", "--config", "redocly.yaml"],
        },
    ];
    let mut failed = Vec::new();
    for linter in &linters {
        println!("lint-spec: {} {} {spec}", linter.name, linter.args.join(" "));
        let started = Instant::now();
        let output = Command::new(&linter.program)
            .args(linter.args)
            .arg(spec)
            .current_dir(&tools.root)
            .envs(TOOL_ENV)
            .output()
            .with_context(|| format!("running {}", linter.program.display()))?;
        print_output(&output);
        let seconds = started.elapsed().as_secs_f64();
        if output.status.success() {
            println!("lint-spec: {}: ok ({seconds:.1} s)", linter.name);
        } else {
            println!("lint-spec: {}: FAILED ({}, {seconds:.1} s)", linter.name, output.status);
            failed.push(linter.name);
        }
    }
    if failed.is_empty() {
        println!("lint-spec: {spec} passes all {} linters", linters.len());
    } else {
        println!("lint-spec: {spec} fails {}", failed.join(", "));
    }
    Ok(failed.is_empty())
}

/// Prints a linter's stdout, then its stderr, indented, with blank runs squeezed, very long lines cut
/// and Redocly's boxed Node.js deprecation banner left out.
fn print_output(output: &Output) {
    let text = [&output.stdout, &output.stderr].map(|stream| String::from_utf8_lossy(stream).into_owned()).join("\n");
    let lines = text.lines().filter(|line| !line.trim_start().starts_with(['╔', '║', '╚']));
    let mut pending_blank = false;
    let mut printed_any = false;
    for line in lines {
        if line.trim().is_empty() {
            pending_blank = printed_any;
            continue;
        }
        if std::mem::take(&mut pending_blank) {
            println!();
        }
        printed_any = true;
        match line.char_indices().nth(MAX_LINE_CHARS) {
            Some((cut, _)) => println!("    {}… ({} more bytes)", &line[..cut], line.len() - cut),
            None => println!("    {line}"),
        }
    }
}

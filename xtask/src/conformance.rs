//! `cargo xtask conformance`: schemathesis against the real server.
//!
//! Each run starts `rainbond-server serve --demo` on a free port of 127.0.0.1 with a fresh
//! database (copies write data, so a run replays exactly from its seed), runs schemathesis on
//! openapi.yaml with `tools/schemathesis.toml`, and stops the server:
//!
//! 1. `fixed seed`: every check, positive and negative modes, the examples, coverage, fuzzing and
//!    stateful phases, with the demo admin's key and seed [`FIXED_SEED`];
//! 2. `random seed`: the same with a seed drawn now and printed (`--seed N` replays it);
//! 3. `wrong key`: the same with a key no user has and `tools/schemathesis-wrong-key.toml`:
//!    every answer must be 401 (`ignored_auth` also replays requests without the header).
//!
//! A JUnit report per run is written under `target/conformance/`.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::Context;

use crate::demo::DemoServer;
use crate::{EXIT_FINDING, tools, workspace};

/// The seed of the reproducible run.
pub const FIXED_SEED: u64 = 42;
/// The schemathesis configurations, relative to the workspace root: the demo key's runs, and the
/// wrong key's (every answer must be 401).
const CONFIG: &str = "tools/schemathesis.toml";
const WRONG_KEY_CONFIG: &str = "tools/schemathesis-wrong-key.toml";
/// Where the JUnit reports go, relative to the target directory.
const REPORT_DIR: &str = "conformance";
/// The demo admin's access key (fixtures/demo.yaml).
const DEMO_KEY: &str = "rbd-demo-admin";
/// A key that no user of the demo data has.
const WRONG_KEY: &str = "rbd-demo-wrong-key";
/// Every phase schemathesis has.
const PHASES: &str = "examples,coverage,fuzzing,stateful";

/// Options of `cargo xtask conformance`.
#[derive(clap::Args)]
pub struct Args {
    /// Replay this seed instead of drawing a random one.
    #[arg(long)]
    seed: Option<u64>,
    /// Test cases per operation and phase.
    #[arg(long, default_value_t = Args::default().max_examples)]
    max_examples: u32,
}

impl Default for Args {
    fn default() -> Self {
        Args { seed: None, max_examples: 300 }
    }
}

/// One schemathesis run.
struct Run {
    name: &'static str,
    seed: u64,
    key: &'static str,
    /// The configuration file, relative to the workspace root.
    config: &'static str,
}

/// `cargo xtask conformance`: exit 0 when every run passes, 1 when schemathesis finds a failure.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let build_args: &[&str] = &["--bins"];
    run_with(args, build_args)
}

/// The runs, building the workspace with `build_args` first (they must include the binaries).
pub fn run_with(args: &Args, build_args: &[&str]) -> anyhow::Result<ExitCode> {
    let tools = tools::install()?;
    workspace::build(build_args)?;
    let random_seed = args.seed.unwrap_or_else(random_seed);
    println!(
        "conformance: fixed seed {FIXED_SEED}, random seed {random_seed} (replay: cargo xtask conformance --seed {random_seed})"
    );
    let runs = [
        Run { name: "fixed-seed", seed: FIXED_SEED, key: DEMO_KEY, config: CONFIG },
        Run { name: "random-seed", seed: random_seed, key: DEMO_KEY, config: CONFIG },
        Run { name: "wrong-key", seed: FIXED_SEED, key: WRONG_KEY, config: WRONG_KEY_CONFIG },
    ];
    let mut failed = Vec::new();
    for (index, run) in runs.iter().enumerate() {
        println!("conformance: [{}/{}] {} (seed {}) ...", index + 1, runs.len(), run.name, run.seed);
        let started = Instant::now();
        let passed = run_once(run, args.max_examples, &tools)?;
        let seconds = started.elapsed().as_secs_f64();
        if passed {
            println!("conformance: [{}/{}] {}: passed in {seconds:.1} s", index + 1, runs.len(), run.name);
        } else {
            println!(
                "conformance: [{}/{}] {}: FAILED in {seconds:.1} s (seed {})",
                index + 1,
                runs.len(),
                run.name,
                run.seed
            );
            failed.push(run.name);
        }
    }
    let reports = workspace::target_dir()?.join(REPORT_DIR);
    if failed.is_empty() {
        println!("conformance: all {} runs passed (JUnit reports in {})", runs.len(), reports.display());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("conformance: FAILED: {} (JUnit reports in {})", failed.join(", "), reports.display());
        Ok(ExitCode::from(EXIT_FINDING))
    }
}

/// Serves a fresh demo database and runs schemathesis once against it. Returns whether it passed.
fn run_once(run: &Run, max_examples: u32, tools: &tools::Tools) -> anyhow::Result<bool> {
    let dir = std::env::temp_dir().join(format!("rainbond-conformance-{}-{}", std::process::id(), run.name));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = serve_and_test(run, max_examples, tools, &dir.join("conformance.db"));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn serve_and_test(run: &Run, max_examples: u32, tools: &tools::Tools, database: &Path) -> anyhow::Result<bool> {
    let mut server = DemoServer::start(database)?;
    println!("conformance: rainbond-server at {} (fresh database {})", server.url, database.display());
    let status = schemathesis(run, max_examples, tools, &server.url)?.status().context("running schemathesis (st)");
    let stopped = server.stop();
    let status = status?;
    stopped?;
    match status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => anyhow::bail!("schemathesis could not run ({status})"),
    }
}

/// `st run` for one run, from the workspace root, with its report under target/.
fn schemathesis(run: &Run, max_examples: u32, tools: &tools::Tools, url: &str) -> anyhow::Result<Command> {
    let root = workspace::root()?;
    let report = workspace::target_dir()?.join(REPORT_DIR).join(format!("{}.xml", run.name));
    let mut command = Command::new(tools.conformance_bin_dir().join("st"));
    command
        .current_dir(&root)
        .env("RAINBOND_CONFORMANCE_URL", url)
        .env("RAINBOND_CONFORMANCE_KEY", run.key)
        .arg("--config-file")
        .arg(root.join(run.config))
        .args(["run", rainbond_codegen::SPEC_PATH, "--checks", "all", "--mode", "all", "--phases", PHASES])
        .arg("--no-color")
        .args(["--seed", &run.seed.to_string(), "--max-examples", &max_examples.to_string()])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(report);
    Ok(command)
}

/// A seed from the clock and the process's hash keys, below 2^32 so that it is short to type.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.finish() & 0xffff_ffff
}

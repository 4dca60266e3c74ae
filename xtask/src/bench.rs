//! `cargo xtask bench [--quick]`: builds the server and the benchmark (release by default) and runs
//! `rainbond-bench`, which prints a table and writes `target/bench/report.json` and the chart.

use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::workspace;

/// What the benchmark writes, under `target/bench/`.
pub const REPORT: &str = "report.json";
pub const CHART: &str = "copy-throughput-latency.svg";

/// The folder the benchmark writes to.
pub fn out_dir() -> anyhow::Result<std::path::PathBuf> {
    Ok(workspace::target_dir()?.join("bench"))
}

/// Options of `cargo xtask bench`.
#[derive(clap::Args)]
#[command(after_help = "Writes target/bench/report.json and the chart target/bench/copy-throughput-latency.svg.\n\
Take the machine-wide build lock around it when others share the machine.")]
pub struct Args {
    /// A short run (under a minute once built) that proves the harness works; figures are not comparable.
    #[arg(long)]
    pub quick: bool,
    /// Measure the dev build (CI's quick run reuses the test build) instead of a release build.
    #[arg(long)]
    pub dev_build: bool,
    /// The server's database: a `sqlite:` URL or a file path, recreated (default target/bench/bench.db).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    run_with(args, &[])
}

/// The benchmark; `build_args` are added to the workspace's dev build (which builds rainbond-check).
pub fn run_with(args: &Args, build_args: &[&str]) -> anyhow::Result<ExitCode> {
    let mut dev_args = vec!["--bins"];
    dev_args.extend(build_args.iter().filter(|arg| **arg != "--bins"));
    workspace::build(&dev_args)?;
    let profile = if args.dev_build { "debug" } else { "release" };
    if !args.dev_build {
        let status = workspace::cargo()?
            .args(["build", "--release", "-p", "rainbond-server", "-p", "rainbond-bench"])
            .status()
            .context("running cargo build --release")?;
        if !status.success() {
            bail!("`cargo build --release -p rainbond-server -p rainbond-bench` failed");
        }
    }
    let target_dir = workspace::target_dir()?;
    let bin = |name: &str| target_dir.join(profile).join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let out_dir = out_dir()?;
    let mut command = Command::new(bin("rainbond-bench"));
    command
        .arg("--server")
        .arg(bin("rainbond-server"))
        .arg("--xtask")
        .arg(workspace::binary("xtask")?)
        .arg("--check")
        .arg(workspace::binary("rainbond-check")?)
        .arg("--cargo")
        .arg(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .arg("--root")
        .arg(workspace::root()?)
        .arg("--out")
        .arg(&out_dir)
        .arg("--report")
        .arg(out_dir.join(REPORT))
        .arg("--chart")
        .arg(out_dir.join(CHART))
        .args(["--profile", if args.dev_build { "dev" } else { "release" }]);
    if args.quick {
        command.arg("--quick");
    }
    if let Some(database) = &args.database {
        command.args(["--database", database]);
    }
    let status = command.status().context("running rainbond-bench")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(ExitCode::SUCCESS)
}

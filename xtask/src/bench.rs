//! `cargo xtask bench [--quick]`: builds the server and the benchmark (release by default) and runs
//! `rainbond-bench`, which prints a table and writes `target/bench/report.json` and the chart.

use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::workspace;

/// What the benchmark writes, under `target/bench/` (`-postgres` before the extension on PostgreSQL).
pub const REPORT: &str = "report.json";
pub const CHART: &str = "copy-throughput-latency.svg";

/// The variable `--postgres` takes the cluster URL from (`.ci/with-postgres` exports it).
pub const POSTGRES_URL_VAR: &str = "RAINBOND_TEST_POSTGRES_URL";

/// The folder the benchmark writes to.
pub fn out_dir() -> anyhow::Result<std::path::PathBuf> {
    Ok(workspace::target_dir()?.join("bench"))
}

/// The report and the chart a run writes: `report.json` and the chart on SQLite,
/// `report-postgres.json` and `copy-throughput-latency-postgres.svg` on PostgreSQL.
pub fn outputs(args: &Args) -> anyhow::Result<[std::path::PathBuf; 2]> {
    let out_dir = out_dir()?;
    let postgres = args.database_location()?.is_some_and(|url| url.starts_with("postgres"));
    Ok([REPORT, CHART].map(|name| match (postgres, name.rsplit_once('.')) {
        (true, Some((stem, extension))) => out_dir.join(format!("{stem}-postgres.{extension}")),
        _ => out_dir.join(name),
    }))
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
    /// The server's database: a `sqlite:` URL or a file path, recreated (default target/bench/bench.db);
    /// or a `postgres://` URL of a cluster whose user may create databases: the database
    /// `rainbond_bench` is recreated in it, and the copies are also measured with two instances.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Benchmark on PostgreSQL: `--database` with the cluster URL in $RAINBOND_TEST_POSTGRES_URL
    /// (run under `.ci/with-postgres`).
    #[arg(long, conflicts_with = "database")]
    pub postgres: bool,
}

impl Args {
    /// The `--database` to pass on, if any.
    pub fn database_location(&self) -> anyhow::Result<Option<String>> {
        if !self.postgres {
            return Ok(self.database.clone());
        }
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.is_empty() => Ok(Some(url)),
            _ => bail!(
                "--postgres needs ${POSTGRES_URL_VAR}: run under .ci/with-postgres, or pass --database postgres://…"
            ),
        }
    }
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
    let database = args.database_location()?;
    let [report, chart] = outputs(args)?;
    let mut command = Command::new(bin("rainbond-bench"));
    command
        .env("CARGO_TARGET_DIR", &target_dir)
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
        .arg(report)
        .arg("--chart")
        .arg(chart)
        .args(["--profile", if args.dev_build { "dev" } else { "release" }]);
    if args.quick {
        command.arg("--quick");
    }
    if let Some(database) = &database {
        command.args(["--database", database]);
    }
    let status = command.status().context("running rainbond-bench")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(ExitCode::SUCCESS)
}

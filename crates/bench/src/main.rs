//! `rainbond-bench`: the benchmark run by `cargo xtask bench`. Every figure is the median and
//! spread of repetitions, and is set against a ceiling or baseline measured in the same run.
//! See the README's Performance section.

mod ceiling;
mod chart;
mod data;
mod database;
mod load;
mod process;
mod profile;
mod report;
mod stats;
mod tooling;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;
use clap::Parser;

use crate::database::Database;
use crate::report::{Machine, Report};
use crate::scale::Scale;

mod scale;
mod steps;

/// Command-line options (`cargo xtask bench` fills in the paths).
#[derive(Parser)]
#[command(name = "rainbond-bench", about = "Benchmarks the copy endpoint and the tooling", version)]
pub struct Cli {
    /// The `rainbond-server` binary to measure.
    #[arg(long)]
    server: PathBuf,
    /// The built xtask binary (timed: `codegen`, `codegen --check`).
    #[arg(long)]
    xtask: PathBuf,
    /// The built `rainbond-check` binary (timed: `check`, `diff --base HEAD`).
    #[arg(long)]
    check: PathBuf,
    /// The cargo used for the incremental rebuilds.
    #[arg(long, default_value = "cargo")]
    cargo: PathBuf,
    /// The workspace root.
    #[arg(long)]
    root: PathBuf,
    /// Where the database and the fixture go.
    #[arg(long)]
    out: PathBuf,
    /// The JSON report to write.
    #[arg(long)]
    report: PathBuf,
    /// The SVG chart to write.
    #[arg(long)]
    chart: PathBuf,
    /// The server's database: a `sqlite:` URL or a file path (recreated), or a `postgres://` URL
    /// of a cluster, in which the database `rainbond_bench` is recreated. Default: OUT/bench.db.
    #[arg(long)]
    database: Option<String>,
    /// The build profile of the server (recorded in the report).
    #[arg(long, default_value = "release")]
    profile: String,
    /// A short run (under a minute) that proves the harness works; its figures are not comparable.
    #[arg(long)]
    quick: bool,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cli.out).with_context(|| format!("creating {}", cli.out.display()))?;
    let location = cli.database.clone().unwrap_or_else(|| cli.out.join("bench.db").display().to_string());
    let database = Database::for_location(&location)?;
    let scale = if cli.quick { Scale::QUICK } else { Scale::FULL };
    let commit = commit(&cli.root);
    let figures = steps::run_all(&cli, &scale, &database)?;
    let report = Report {
        commit,
        machine: Machine::this(),
        backend: database.backend().to_owned(),
        instances: database.instance_counts().to_vec(),
        quick: cli.quick,
        profile: cli.profile.clone(),
        figures: figures.figures,
    };
    report.write_json(&cli.report)?;
    let title = format!(
        "rainbond-server copy ({}, 1 instance, {} build, {} × {}){}",
        report.backend,
        report.profile,
        report.machine.cores,
        report.machine.model,
        if cli.quick { ", --quick" } else { "" }
    );
    chart::draw(&cli.chart, &title, &figures.chart, figures.storage)?;
    println!("\n{}", report.table());
    println!("backend: {}, instances: {:?}", report.backend, report.instances);
    println!("machine: {} cores, {}; commit {}", report.machine.cores, report.machine.model, report.commit);
    println!("report: {}\nchart:  {}", cli.report.display(), cli.chart.display());
    Ok(())
}

/// `git rev-parse HEAD`, with `-dirty` when the work tree has changes.
fn commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|status| !status.is_empty());
    if dirty { format!("{head}-dirty") } else { head }
}

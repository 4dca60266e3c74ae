//! `cargo xtask`: the project's automation. Run `cargo xtask --help`.
//!
//! Exit codes, shared by every command:
//! - 0: success (files fresh, no drift, nothing breaking);
//! - 1: the command's finding (stale generated files, drift, a breaking change);
//! - 2: usage error;
//! - 3: the command could not run (bad spec, I/O, a failed build).

mod bench;
mod bump;
mod ci;
mod codegen;
mod conformance;
mod demo;
mod own_build;
mod progress;
mod sources;
mod tools;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The exit code of a command that found what it looks for (stale files, drift, breakage).
pub const EXIT_FINDING: u8 = 1;
/// The exit code of a command that could not run.
pub const EXIT_FAILURE: u8 = 3;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Automation for the rainbond copy-app workspace", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: serve the demo data and copy app 1 into app 2 with the generated client.
    Demo,
    /// Regenerate the client and server bindings from openapi.yaml.
    Codegen(codegen::Args),
    /// Compare openapi.yaml with what the Rust code says the API is (`rainbond-check check`).
    Check {
        /// Arguments for `rainbond-check check` (see `cargo xtask check -- --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Classify what a spec edit breaks, on the wire and in the Rust API (`rainbond-check diff`).
    Diff {
        /// Arguments for `rainbond-check diff` (see `cargo xtask diff -- --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Install the pinned npm and pip tools (cached per machine, linked into the repo).
    Tools(tools::Args),
    /// Lint openapi.yaml with openapi-spec-validator, Spectral and Redocly.
    LintSpec,
    /// schemathesis against the server: a fixed seed, a random (printed) seed, and a wrong key.
    Conformance(conformance::Args),
    /// Run every CI step in order: the project's test command.
    Ci(ci::Args),
    /// Benchmark the copy endpoint (against ceilings measured in the same run) and the tooling.
    Bench(bench::Args),
    /// Set the workspace's version and its crates' pins in Cargo.toml (what `diff --require-bump` asks).
    Bump(bump::Args),
}

fn main() -> ExitCode {
    match own_build::run_own_build_if_foreign() {
        Ok(None) => {}
        Ok(Some(code)) => return code,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo => demo::run(),
        Command::Codegen(args) => codegen::run(&args),
        Command::Check { args } => workspace::run_binary("rainbond-check", "rainbond-check", &prepend("check", args)),
        Command::Diff { args } => workspace::run_binary("rainbond-check", "rainbond-check", &prepend("diff", args)),
        Command::Tools(args) => tools::run(&args),
        Command::LintSpec => tools::run_lint_spec(),
        Command::Conformance(args) => conformance::run(&args),
        Command::Ci(args) => ci::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Bump(args) => bump::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn prepend(first: &str, rest: Vec<String>) -> Vec<String> {
    std::iter::once(first.to_owned()).chain(rest).collect()
}

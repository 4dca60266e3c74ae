//! `cargo xtask`: the project's automation. Run `cargo xtask --help`.
//!
//! Exit codes, shared by every command:
//! - 0: success (files fresh, no drift, nothing breaking);
//! - 1: the command's finding (stale generated files, drift, a breaking change);
//! - 2: usage error;
//! - 3: the command could not run (bad spec, I/O, a failed build).

mod codegen;

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
    /// Regenerate the client and server bindings from openapi.yaml.
    Codegen(codegen::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen(args) => codegen::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

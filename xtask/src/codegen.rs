//! `cargo xtask codegen [--check]`.

use std::process::ExitCode;

use anyhow::Context;
use rainbond_codegen::{Spec, Staleness};

use crate::EXIT_FINDING;

/// Options of `cargo xtask codegen`.
#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 up to date (or written), 1 stale files (--check), 3 could not run (e.g. an invalid spec).\n\n\
progenitor needs: OpenAPI 3.0.x, a unique operationId per operation, one JSON schema shared by every error \
response, one success type per operation, one request media type."
)]
pub struct Args {
    /// Compare the generated files with the tree instead of writing them.
    #[arg(long)]
    check: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = rainbond_codegen::workspace_root()?;
    let spec = Spec::load(root.join(rainbond_codegen::SPEC_PATH))?;
    let files = rainbond_codegen::generate(&spec)?;
    for undocumented in rainbond_codegen::server_warnings(&spec)? {
        eprintln!("warning: {}: {}", undocumented.location, undocumented.message);
    }
    rainbond_codegen::dependencies::check(&spec, &root, rainbond_codegen::GENERATED_CODE_MANIFESTS)?;
    if args.check {
        let stale = rainbond_codegen::stale_files(&root, &files).context("reading the generated files")?;
        if stale.is_empty() {
            println!("codegen: {} generated files are up to date", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        for file in &stale {
            match &file.staleness {
                Staleness::Missing => eprintln!("stale: {} is missing", file.path),
                Staleness::Extra => eprintln!("stale: {} is no longer generated", file.path),
                Staleness::Changed { diff } => eprintln!("stale: {} differs from openapi.yaml\n{diff}", file.path),
            }
        }
        eprintln!("{} generated file(s) are stale: run `cargo xtask codegen`", stale.len());
        return Ok(ExitCode::from(EXIT_FINDING));
    }
    let touched = rainbond_codegen::write_files(&root, &files).context("writing the generated files")?;
    if touched.is_empty() {
        println!("codegen: {} generated files are up to date", files.len());
    } else {
        for path in &touched {
            println!("codegen: wrote {path}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

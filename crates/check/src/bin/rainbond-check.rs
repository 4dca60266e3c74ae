//! `rainbond-check`: compares openapi.yaml with the Rust code (`check`) and classifies what a
//! spec edit breaks (`diff`). Reached as `cargo xtask check` and `cargo xtask diff`.
//!
//! Exit codes: 0 clean (no drift, nothing breaking); 1 drift (`check`) or a breaking change
//! (`diff`); 2 usage error; 3 could not run (unreadable or invalid spec, git failure).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use rainbond_check::diff::BumpCheck;
use rainbond_check::render::{self, Format};
use rainbond_check::{CheckOptions, CodeView, DiffOptions, Spec};

/// Drift (`check`) or a breaking change (`diff`).
const EXIT_FINDING: u8 = 1;
/// The command could not run.
const EXIT_FAILURE: u8 = 3;

#[derive(Parser)]
#[command(
    name = "rainbond-check",
    version,
    about = "Contract checks: openapi.yaml against the Rust code, and what a spec edit breaks",
    after_help = "Exit codes: 0 clean, 1 drift or breaking change, 2 usage error, 3 could not run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compare the spec with the server's utoipa document and the server's and client's schemars schemas.
    Check(CheckArgs),
    /// Classify the changes between two versions of the spec, on the wire and in the client's Rust API.
    Diff(DiffArgs),
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum FormatArg {
    /// Human text.
    #[default]
    Text,
    /// One JSON document (see README.md for its shape).
    Json,
    /// GitHub Actions annotations (`::error file=...,line=...::`).
    Github,
    /// Markdown: the diff as a changelog (wire and Rust-API changes, the release), for a job summary.
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Github => Format::Github,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

#[derive(Args)]
struct CheckArgs {
    /// The spec.
    #[arg(long, default_value = "openapi.yaml")]
    spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: FormatArg,
    /// Also compare descriptions, summaries and titles.
    #[arg(long)]
    descriptions: bool,
    /// List what a source could not verify, and why.
    #[arg(long, short)]
    verbose: bool,
    /// Fail on warnings too (operations answered with statuses they do not document).
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    /// Fail on ERR changes.
    Err,
    /// Fail on ERR and WARN changes.
    Warn,
}

#[derive(Args)]
struct DiffArgs {
    /// The old spec file.
    #[arg(required_unless_present = "base", requires = "new", conflicts_with = "base")]
    old: Option<PathBuf>,
    /// The new spec file.
    #[arg(requires = "old")]
    new: Option<PathBuf>,
    /// Compare the spec at this git revision (`git show REV:openapi.yaml`) with the working tree.
    /// A revision missing from a shallow clone exits 3 with instructions.
    #[arg(long, value_name = "GIT_REV")]
    base: Option<String>,
    /// The spec in the working tree (with --base).
    #[arg(long, default_value = "openapi.yaml")]
    spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: FormatArg,
    /// The lowest wire level that makes the command fail [default: err, or none with
    /// --require-bump, where a bumped version accepts the break].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Also fail when the generated client's Rust API breaks.
    #[arg(long)]
    fail_on_rust_breaking: bool,
    /// The client crate's manifest, for its current version [default: crates/client/Cargo.toml
    /// next to the spec].
    #[arg(long)]
    client_manifest: Option<PathBuf>,
    /// Fail unless rainbond-client's version in the working tree is at least the one the diff
    /// requires after its version at --base (Cargo's semver rules; the message names the version
    /// to set).
    #[arg(long, requires = "base")]
    require_bump: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => run_check(&args),
        Command::Diff(args) => run_diff(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("rainbond-check: error: {err:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn run_check(args: &CheckArgs) -> anyhow::Result<u8> {
    let spec = Spec::load(&args.spec)?;
    let code = CodeView::current()?;
    let report = rainbond_check::check(&spec, &code, &CheckOptions { descriptions: args.descriptions });
    print!("{}", render::check_report(&report, args.format.into(), args.verbose));
    let passes = if args.strict { report.is_strictly_clean() } else { report.is_clean() };
    Ok(if passes { 0 } else { EXIT_FINDING })
}

fn run_diff(args: &DiffArgs) -> anyhow::Result<u8> {
    if args.require_bump && args.base.is_none() {
        let message = "--require-bump compares with the client's version at --base GIT_REV, which is missing";
        Cli::command().error(clap::error::ErrorKind::MissingRequiredArgument, message).exit();
    }
    let (old, new) = match (&args.old, &args.new, &args.base) {
        (Some(old), Some(new), _) => (Spec::load(old)?, Spec::load(new)?),
        (_, _, Some(base)) => {
            let text = rainbond_check::git::file_at_revision(base, &args.spec)?;
            let old = Spec::parse(format!("{}@{base}", args.spec.display()), &text)?;
            (old, Spec::load(&args.spec)?)
        }
        _ => anyhow::bail!("give OLD and NEW, or --base GIT_REV"),
    };
    let manifest = client_manifest(args, &new.path);
    // With --base, the release is named from the client's version at the base revision, the one
    // the edit starts from; without one (or when the base has no manifest), from the working tree.
    let base_version = match (&args.base, &manifest) {
        (Some(base), Some(manifest)) => rainbond_check::diff::crate_version_at(base, manifest).ok(),
        _ => None,
    };
    let current_version = match &manifest {
        Some(manifest) => Some(
            rainbond_check::diff::crate_version_and_source(manifest)
                .with_context(|| format!("reading the client's version from {}", manifest.display()))?,
        ),
        None => None,
    };
    let client_version = base_version.clone().or_else(|| current_version.as_ref().map(|(v, _)| v.clone()));
    let report = rainbond_check::diff(&old, &new, &DiffOptions { client_version });
    let file = new.path.display().to_string();
    let format: Format = args.format.into();
    print!("{}", render::diff_report(&report, format, &file));
    let fail_on = args.fail_on.or((!args.require_bump).then_some(FailOn::Err));
    let wire_fails = match fail_on {
        None => false,
        Some(FailOn::Err) => report.is_breaking(),
        Some(FailOn::Warn) => report.is_breaking() || report.count(rainbond_check::wire::Level::Warn) > 0,
    };
    let rust_fails = args.fail_on_rust_breaking && report.rust_api.is_breaking();
    let bump_fails = args.require_bump && !require_bump(&report, base_version, current_version, format)?;
    Ok(if wire_fails || rust_fails || bump_fails { EXIT_FINDING } else { 0 })
}

/// `--require-bump`: prints whether the working tree's client version is at least the one the
/// diff requires after the base's, and returns whether it is.
fn require_bump(
    report: &rainbond_check::DiffReport,
    base: Option<semver::Version>,
    current: Option<(semver::Version, PathBuf)>,
    format: Format,
) -> anyhow::Result<bool> {
    let (Some(base), Some((current, source))) = (base, current) else {
        anyhow::bail!(
            "--require-bump needs the client's manifest (--client-manifest) both at --base and in the working tree"
        );
    };
    let pins = rainbond_check::diff::version_pins(&source)?;
    let check = BumpCheck::new(report, base, current, pins).map_err(anyhow::Error::msg)?;
    let location = source.display().to_string();
    let message = check.message(&location);
    match format {
        Format::Github => {
            let level = if check.passes() { "notice" } else { "error" };
            print!("{}", render::annotation(level, &location, None, "require-bump", &message));
        }
        Format::Markdown => println!("\n**Version check:** {message}."),
        Format::Text | Format::Json => eprintln!("rainbond-check: require-bump: {message}"),
    }
    Ok(check.passes())
}

/// The client's manifest: `--client-manifest`, else `crates/client/Cargo.toml` under the current
/// folder or next to the new spec; `None` (with a note) when there is none.
fn client_manifest(args: &DiffArgs, new_spec: &Path) -> Option<PathBuf> {
    if let Some(manifest) = &args.client_manifest {
        return Some(manifest.clone());
    }
    const DEFAULT: &str = "crates/client/Cargo.toml";
    let next_to_spec = new_spec.parent().filter(|p| !p.as_os_str().is_empty()).map(|p| p.join(DEFAULT));
    let found = [Some(PathBuf::from(DEFAULT)), next_to_spec].into_iter().flatten().find(|m| m.is_file());
    if found.is_none() {
        eprintln!("rainbond-check: note: no {DEFAULT} here or next to the spec; the release is named by level only");
    }
    found
}

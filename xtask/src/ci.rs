//! `cargo xtask ci`: the project's test command. Runs every check CI runs, in order, timing each.

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args as _, FromArgMatches as _, ValueEnum};

use crate::progress::Progress;
use crate::{EXIT_FAILURE, EXIT_FINDING, bench, codegen, conformance, demo, tools, workspace};

/// Comma-separated steps to leave out, in addition to `--skip`.
const SKIP_ENV: &str = "RAINBOND_CI_SKIP";

/// Options of `cargo xtask ci`.
#[derive(clap::Args)]
#[command(
    after_help = "Steps, in order: tools, codegen, lint-spec, workflows, fmt, clippy, doc, test, semver-checks, \
check, diff, conformance, bench, demo.\n\n\
Exit codes: 0 every step passed or was skipped, 1 a step failed, 3 a step could not run."
)]
pub struct Args {
    /// Leave out a step (repeatable). RAINBOND_CI_SKIP (comma-separated steps) adds to it.
    #[arg(long, value_name = "STEP")]
    skip: Vec<Step>,
    /// Run only this step (repeatable); --skip still applies.
    #[arg(long, value_name = "STEP")]
    only: Vec<Step>,
    /// Stop at the first step that does not pass.
    #[arg(long)]
    fail_fast: bool,
}

/// The CI steps, in the order they run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Step {
    /// Install the pinned npm and pip tools (`cargo xtask tools`).
    Tools,
    /// The generated files match openapi.yaml (`cargo xtask codegen --check`).
    Codegen,
    /// openapi-spec-validator, Spectral and Redocly on openapi.yaml (`cargo xtask lint-spec`).
    LintSpec,
    /// `.github/workflows/*.yml` against the GitHub workflow schema (check-jsonschema).
    Workflows,
    /// `cargo fmt --all --check`.
    Fmt,
    /// `cargo clippy --workspace --all-targets -- -D warnings`.
    Clippy,
    /// `cargo doc --no-deps` of the published and API crates, with `RUSTDOCFLAGS=-D warnings`.
    Doc,
    /// The workspace's tests (nextest when installed, plus doctests).
    Test,
    /// The cargo-semver-checks cross-check (`crates/check/tests/semver_checks.rs`, an ignored
    /// test) where `cargo xtask tools --semver-checks` installed the tool; skipped elsewhere.
    SemverChecks,
    /// openapi.yaml against the Rust code (`rainbond-check check`).
    Check,
    /// What the last commit's spec edit breaks, and that rainbond-client's version is bumped
    /// as far as it requires (`rainbond-check diff --base HEAD~1 --require-bump`).
    Diff,
    /// schemathesis against the server: fixed seed, random seed, wrong key (`cargo xtask conformance`).
    Conformance,
    /// The benchmark harness runs and writes its report and chart (`cargo xtask bench --quick
    /// --dev-build`, on SQLite and on PostgreSQL); no figure is asserted.
    Bench,
    /// The main job: serve the demo data and copy an app with the generated client (`cargo xtask demo`).
    Demo,
}

impl Step {
    fn name(self) -> String {
        self.to_possible_value().map(|value| value.get_name().to_owned()).unwrap_or_default()
    }
}

/// How a step ended.
enum Outcome {
    Passed,
    /// The step ran and found a problem.
    Failed(String),
    /// The step could not run (a missing program, an install or I/O error).
    CouldNotRun(String),
    /// The step did not apply (the reason says why).
    Skipped(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "ok",
            Outcome::Failed(_) => "FAILED",
            Outcome::CouldNotRun(_) => "COULD NOT RUN",
            Outcome::Skipped(_) => "skipped",
        }
    }

    fn detail(&self) -> &str {
        match self {
            Outcome::Passed => "",
            Outcome::Failed(detail) | Outcome::CouldNotRun(detail) | Outcome::Skipped(detail) => detail,
        }
    }
}

/// `cargo xtask ci`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let skip: Vec<Step> = args.skip.iter().copied().chain(skipped_by_env()?).collect();
    let selected: Vec<Step> = Step::value_variants()
        .iter()
        .copied()
        .filter(|step| args.only.is_empty() || args.only.contains(step))
        .filter(|step| !skip.contains(step))
        .collect();
    let left_out: Vec<Step> = Step::value_variants().iter().copied().filter(|step| !selected.contains(step)).collect();
    println!("ci: steps: {}", join(&selected));
    if !left_out.is_empty() {
        println!("ci: left out (--skip/--only/RAINBOND_CI_SKIP): {}", join(&left_out));
    }
    let started = Instant::now();
    let mut progress = Progress::new("ci", selected.len());
    let mut results: Vec<(Step, Outcome, Duration)> = Vec::new();
    for &step in &selected {
        progress.start(&step.name());
        let outcome = run_step(step, &selected).unwrap_or_else(|err| Outcome::CouldNotRun(format!("{err:#}")));
        let detail = match outcome.detail() {
            "" => String::new(),
            detail => format!(": {detail}"),
        };
        let elapsed = progress.finish_step(&format!("{}{detail}", outcome.label()));
        let stop = args.fail_fast && matches!(outcome, Outcome::Failed(_) | Outcome::CouldNotRun(_));
        results.push((step, outcome, elapsed));
        if stop {
            println!("ci: stopping after the first failure (--fail-fast)");
            break;
        }
    }
    drop(progress);
    Ok(summarize(&results, &selected, started.elapsed()))
}

/// The steps named in `RAINBOND_CI_SKIP` (comma-separated; unset or empty skips nothing).
fn skipped_by_env() -> anyhow::Result<Vec<Step>> {
    let Some(value) = std::env::var_os(SKIP_ENV) else { return Ok(Vec::new()) };
    let value = value.into_string().map_err(|_| anyhow::anyhow!("{SKIP_ENV} is not valid UTF-8"))?;
    value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            Step::from_str(name, true).map_err(|_| {
                let known: Vec<String> = Step::value_variants().iter().map(|step| step.name()).collect();
                anyhow::anyhow!("{SKIP_ENV}: unknown step `{name}` (steps: {})", known.join(", "))
            })
        })
        .collect()
}

/// Step names, comma-separated.
fn join(steps: &[Step]) -> String {
    steps.iter().map(|step| step.name()).collect::<Vec<_>>().join(", ")
}

/// Prints one line per step and the total, and picks the exit code.
fn summarize(results: &[(Step, Outcome, Duration)], selected: &[Step], total: Duration) -> ExitCode {
    println!("\nci summary:");
    for step in Step::value_variants() {
        match results.iter().find(|(ran, _, _)| ran == step) {
            Some((_, outcome, elapsed)) => {
                println!("  {:<10} {:<14} {:>7.1} s", step.name(), outcome.label(), elapsed.as_secs_f64())
            }
            None if selected.contains(step) => println!("  {:<10} not run (--fail-fast)", step.name()),
            None => println!("  {:<10} left out", step.name()),
        }
    }
    let names = |wanted: fn(&Outcome) -> bool| -> Vec<String> {
        results.iter().filter(|(_, outcome, _)| wanted(outcome)).map(|(step, _, _)| step.name()).collect()
    };
    let failed = names(|outcome| matches!(outcome, Outcome::Failed(_)));
    let broken = names(|outcome| matches!(outcome, Outcome::CouldNotRun(_)));
    let seconds = total.as_secs_f64();
    if !failed.is_empty() {
        let all: Vec<String> = failed.into_iter().chain(broken).collect();
        println!("ci: FAILED in {seconds:.1} s: {}", all.join(", "));
        ExitCode::from(EXIT_FINDING)
    } else if !broken.is_empty() {
        println!("ci: COULD NOT RUN in {seconds:.1} s: {}", broken.join(", "));
        ExitCode::from(EXIT_FAILURE)
    } else {
        println!("ci: all green in {seconds:.1} s");
        ExitCode::SUCCESS
    }
}

fn run_step(step: Step, selected: &[Step]) -> anyhow::Result<Outcome> {
    // The test step builds the libraries with the dev-dependencies' features switched on. Building
    // rainbond-check the same way (`--tests`) reuses them instead of recompiling a second set.
    let build_args: &[&str] = if selected.contains(&Step::Test) { &["--bins", "--tests"] } else { &[] };
    match step {
        Step::Tools => tools::install().map(|_| Outcome::Passed),
        Step::Codegen => codegen_check(),
        Step::LintSpec => Ok(if tools::lint_spec()? {
            Outcome::Passed
        } else {
            Outcome::Failed("openapi.yaml has lint errors".into())
        }),
        Step::Workflows => validate_workflows(),
        Step::Fmt => cargo(&["fmt", "--all", "--check"], false),
        Step::Clippy => cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], false),
        Step::Doc => doc(),
        Step::Test => test(),
        Step::SemverChecks => semver_checks(),
        Step::Check => rainbond_check(&["check", "--strict"], build_args),
        Step::Diff => diff(build_args),
        Step::Conformance => {
            let code = conformance::run_with(&conformance::Args::default(), &with_bins(build_args))?;
            Ok(if code == ExitCode::SUCCESS {
                Outcome::Passed
            } else {
                Outcome::Failed("schemathesis found failures (the seeds are printed above)".into())
            })
        }
        Step::Bench => bench_harness(build_args),
        Step::Demo => {
            let mut build_args = with_bins(build_args);
            if !build_args.contains(&"--examples") {
                build_args.push("--examples");
            }
            demo::run_with(&build_args).map(|_| Outcome::Passed)
        }
    }
}

/// `build_args` plus `--bins` when it is missing.
fn with_bins<'a>(build_args: &[&'a str]) -> Vec<&'a str> {
    let mut args = build_args.to_vec();
    if !args.contains(&"--bins") {
        args.push("--bins");
    }
    args
}

/// `cargo xtask codegen --check`, in-process.
fn codegen_check() -> anyhow::Result<Outcome> {
    let command = codegen::Args::augment_args(clap::Command::new("codegen"));
    let matches = command.try_get_matches_from(["codegen", "--check"]).context("building the codegen options")?;
    let args = codegen::Args::from_arg_matches(&matches).context("building the codegen options")?;
    let code = codegen::run(&args)?;
    Ok(if code == ExitCode::SUCCESS {
        Outcome::Passed
    } else if code == ExitCode::from(EXIT_FINDING) {
        Outcome::Failed("generated files are stale: run `cargo xtask codegen`".into())
    } else {
        Outcome::CouldNotRun("codegen --check could not run".into())
    })
}

/// `cargo xtask bench --quick --dev-build` (reusing the test build) on SQLite, then with
/// `--postgres` on the cluster `.ci/with-postgres` started: passes when each run writes a fresh
/// report and chart. Figures are never asserted. Without the cluster the PostgreSQL run is left
/// out with a note, except in CI (`CI` set), where that is a failure.
fn bench_harness(build_args: &[&str]) -> anyhow::Result<Outcome> {
    let sqlite = bench::Args { quick: true, dev_build: true, database: None, postgres: false };
    let outcome = bench_run(&sqlite, build_args)?;
    if !matches!(outcome, Outcome::Passed) {
        return Ok(outcome);
    }
    let var = bench::POSTGRES_URL_VAR;
    if std::env::var_os(var).is_none_or(|url| url.is_empty()) {
        if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) {
            return Ok(Outcome::Failed(format!("${var} is not set: run CI under .ci/with-postgres")));
        }
        println!("ci: ${var} is not set, so the benchmark ran on SQLite only (use .ci/with-postgres)");
        return Ok(Outcome::Passed);
    }
    bench_run(&bench::Args { postgres: true, ..sqlite }, build_args)
}

/// One benchmark run: passes when it writes its report and chart afresh.
fn bench_run(args: &bench::Args, build_args: &[&str]) -> anyhow::Result<Outcome> {
    let outputs = bench::outputs(args)?;
    for output in &outputs {
        if output.exists() {
            std::fs::remove_file(output).with_context(|| format!("removing {}", output.display()))?;
        }
    }
    if let Err(error) = bench::run_with(args, build_args) {
        return Ok(Outcome::Failed(format!("{error:#}")));
    }
    Ok(match outputs.iter().find(|output| !output.exists()) {
        Some(missing) => Outcome::Failed(format!("the benchmark did not write {}", missing.display())),
        None => Outcome::Passed,
    })
}

/// The workspace's tests: doctests then `cargo nextest run` when nextest is installed (nextest does
/// not run doctests; its summary comes last so it closes the log), else `cargo test`.
/// `RAINBOND_REQUIRE_TOOLS=1` makes tests that need the npm tools fail instead of skipping.
fn test() -> anyhow::Result<Outcome> {
    if !nextest_available() {
        println!("ci: cargo-nextest is not installed; using cargo test");
        return cargo(&["test", "--workspace"], true);
    }
    let doctests = cargo(&["test", "--workspace", "--doc"], true)?;
    let nextest = cargo(&["nextest", "run", "--workspace", "--no-tests=warn"], true)?;
    Ok(match (doctests, nextest) {
        (Outcome::Passed, other) | (other, _) => other,
    })
}

/// The cargo-semver-checks cross-check, an ignored test that the test step reports as skipped:
/// run with `--ignored` where the tool is cached, reported as skipped where it is not.
fn semver_checks() -> anyhow::Result<Outcome> {
    let Some(binary) = tools::installed_semver_checks()? else {
        return Ok(Outcome::Skipped(
            "cargo-semver-checks is not installed (`cargo xtask tools --semver-checks`, about 11 minutes): \
             the cross-check did not run"
                .into(),
        ));
    };
    let args = ["test", "-p", "rainbond-check", "--test", "semver_checks", "--", "--ignored"];
    let mut command = workspace::cargo()?;
    command.args(args).env("CARGO_SEMVER_CHECKS", binary);
    run_cargo(command, &args)
}

/// Where the GitHub workflows live, relative to the workspace root.
const WORKFLOWS_DIR: &str = ".github/workflows";

/// Every `.github/workflows/*.yml` against the GitHub workflow schema that check-jsonschema ships
/// (`--builtin-schema vendor.github-workflows`, no download).
fn validate_workflows() -> anyhow::Result<Outcome> {
    let root = workspace::root()?;
    let folder = root.join(WORKFLOWS_DIR);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .with_context(|| format!("listing {}", folder.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Ok(Outcome::Failed(format!("{WORKFLOWS_DIR} has no workflow file")));
    }
    let checker = tools::Tools::linked()?.venv_bin_dir().join("check-jsonschema");
    let status = Command::new(&checker)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(&files)
        .current_dir(&root)
        .status()
        .with_context(|| format!("running {} (installed by `cargo xtask tools`)", checker.display()))?;
    Ok(if status.success() {
        Outcome::Passed
    } else {
        Outcome::Failed(format!("a file in {WORKFLOWS_DIR} does not match the GitHub workflow schema"))
    })
}

/// The crates whose documentation is checked: what users read (the client, the contract checks)
/// and the generated server API.
const DOCUMENTED_CRATES: [&str; 3] = ["rainbond-client", "rainbond-api", "rainbond-check"];

/// `cargo doc --no-deps` of [`DOCUMENTED_CRATES`] (the client with its `mock` feature) with every
/// rustdoc warning an error (broken links, missing docs, bad code blocks).
fn doc() -> anyhow::Result<Outcome> {
    let mut args = vec!["doc", "--no-deps"];
    for name in DOCUMENTED_CRATES {
        args.extend(["-p", name]);
    }
    // The client's optional `mock` module is documented too (docs.rs builds every feature).
    args.extend(["--features", "rainbond-client/mock"]);
    let mut command = workspace::cargo()?;
    command.args(&args).env("RUSTDOCFLAGS", "-D warnings");
    run_cargo(command, &args)
}

fn nextest_available() -> bool {
    let Ok(mut command) = workspace::cargo() else { return false };
    command
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `rainbond-check diff --base HEAD~1`, when HEAD's parent is in the clone.
fn diff(build_args: &[&str]) -> anyhow::Result<Outcome> {
    if git(&["rev-parse", "--verify", "--quiet", "HEAD~1^{commit}"])?.is_some() {
        return rainbond_check(&["diff", "--base", "HEAD~1", "--require-bump"], build_args);
    }
    let shallow = git(&["rev-parse", "--is-shallow-repository"])?.is_some_and(|out| out == "true");
    Ok(Outcome::Skipped(if shallow {
        "HEAD's parent is not in this shallow clone, so there is no base spec to diff against \
         (`git fetch --deepen=1` brings it)"
            .into()
    } else {
        "HEAD has no parent commit, so there is no base spec to diff against".into()
    }))
}

/// Runs git in the workspace root: its trimmed stdout when it succeeds, `None` when it fails.
fn git(args: &[&str]) -> anyhow::Result<Option<String>> {
    let output = Command::new("git")
        .args(args)
        .current_dir(workspace::root()?)
        .stderr(Stdio::null())
        .output()
        .context("running git: is it installed?")?;
    Ok(output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
}

/// Builds the workspace (`cargo build --workspace BUILD_ARGS`) and runs `target/debug/rainbond-check`
/// with `args`, with the tools on PATH.
fn rainbond_check(args: &[&str], build_args: &[&str]) -> anyhow::Result<Outcome> {
    workspace::build(build_args)?;
    let binary = workspace::binary("rainbond-check")?;
    if !binary.exists() {
        return Ok(Outcome::CouldNotRun(format!(
            "the workspace built, but {} does not exist: crates/check has no `rainbond-check` binary",
            binary.display()
        )));
    }
    let mut command = Command::new(&binary);
    command.args(args).current_dir(workspace::root()?);
    with_tools_env(&mut command)?;
    let status = command.status().with_context(|| format!("running {}", binary.display()))?;
    let shown = format!("`rainbond-check {}`", args.join(" "));
    Ok(match status.code() {
        Some(0) => Outcome::Passed,
        Some(1) => Outcome::Failed(format!("{shown} reported findings")),
        _ => Outcome::CouldNotRun(format!("{shown} could not run ({status})")),
    })
}

/// Runs `cargo ARGS` from the workspace root; with `tools_env`, the tools are on PATH and
/// `RAINBOND_REQUIRE_TOOLS=1` is set.
fn cargo(args: &[&str], tools_env: bool) -> anyhow::Result<Outcome> {
    let mut command = workspace::cargo()?;
    command.args(args);
    if tools_env {
        with_tools_env(&mut command)?;
        command.env("RAINBOND_REQUIRE_TOOLS", "1");
    }
    run_cargo(command, args)
}

/// Runs a prepared cargo `command` (`args` name it in messages): passed, failed or stopped.
fn run_cargo(mut command: Command, args: &[&str]) -> anyhow::Result<Outcome> {
    let shown = format!("`cargo {}`", args.join(" "));
    let status = command.status().with_context(|| format!("running {shown}"))?;
    Ok(match status.code() {
        Some(0) => Outcome::Passed,
        Some(code) => Outcome::Failed(format!("{shown} exited with {code}")),
        None => Outcome::CouldNotRun(format!("{shown} was stopped ({status})")),
    })
}

/// Puts the linked tool folders first on PATH and turns tool telemetry and update checks off.
fn with_tools_env(command: &mut Command) -> anyhow::Result<()> {
    let tools = tools::Tools::linked()?;
    command.env("PATH", tools.path_env()?).envs(tools::TOOL_ENV);
    Ok(())
}

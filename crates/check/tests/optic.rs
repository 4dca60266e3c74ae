//! The independent judge: Optic (`optic diff OLD NEW --check`) on every pair of the mutation
//! corpus. Its verdict must be the one recorded in tests/mutations.yaml, `diff` must call
//! breaking every pair Optic calls breaking, and every pair where the two disagree must say why.
//!
//! Optic is found at `$OPTIC_BIN`, else at `tools/node_modules/.bin/optic` (installed by
//! `cargo xtask tools`). Without it the test prints a notice and passes, unless
//! `RAINBOND_REQUIRE_TOOLS=1` (set in CI), where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::OpticVerdict;
use rainbond_check::{DiffOptions, Spec};

/// Optic runs in node and takes 1.6-4 s of CPU per pair; this many run at once (CI machines have
/// two cores).
const PARALLEL_RUNS: usize = 2;
/// One Optic run that takes longer than this has hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

fn optic_binary() -> Option<PathBuf> {
    let candidate = match std::env::var_os("OPTIC_BIN").filter(|path| !path.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => rainbond_codegen::workspace_root()
            .expect("run by cargo in the workspace")
            .join("tools/node_modules/.bin/optic"),
    };
    candidate.is_file().then_some(candidate)
}

/// Runs Optic on one pair in a fresh folder (it writes ci-run-details.json into its cwd).
fn optic_verdict(optic: &Path, old: &str, new: &str) -> Result<OpticVerdict, String> {
    let folder = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(folder.path().join("old.yaml"), old).map_err(|e| e.to_string())?;
    std::fs::write(folder.path().join("new.yaml"), new).map_err(|e| e.to_string())?;
    let mut child = Command::new(optic)
        .args(["diff", "old.yaml", "new.yaml", "--check"])
        .current_dir(folder.path())
        .env("CI", "true")
        .env("NO_UPDATE_NOTIFIER", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", optic.display()))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            return Err(format!("optic took longer than {RUN_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // Exit 0: nothing breaking (no "Checks:" line when no rule applied). Exit 1 is a breaking
    // verdict only with failed checks ("Checks: N/M passed"); otherwise Optic failed to run.
    match (status.code(), text.contains("Checks:")) {
        (Some(0), _) => Ok(OpticVerdict::Compatible),
        (Some(1), true) => Ok(OpticVerdict::Breaking),
        _ => Err(format!("optic exited with {status} without a verdict:\n{text}")),
    }
}

#[test]
fn diff_calls_breaking_every_pair_optic_calls_breaking() {
    let Some(optic) = optic_binary() else {
        let message =
            "Optic is not installed (run `cargo xtask tools`, or set OPTIC_BIN): the Optic comparison did not run";
        if std::env::var("RAINBOND_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{message}, and RAINBOND_REQUIRE_TOOLS=1 requires it");
        }
        eprintln!("notice: {message}");
        return;
    };
    let corpus = common::corpus();
    let text = common::spec_text();
    let original = Spec::parse("openapi.yaml", &text).unwrap();
    let pairs: Vec<(String, String)> = corpus
        .mutations
        .iter()
        .map(|m| (m.id.clone(), common::apply(&text, m).unwrap_or_else(|e| panic!("{e}"))))
        .collect();

    let next = AtomicUsize::new(0);
    let verdicts: Mutex<Vec<Option<Result<OpticVerdict, String>>>> = Mutex::new(vec![None; pairs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_RUNS {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some((_, edited)) = pairs.get(index) else { break };
                    let verdict = optic_verdict(&optic, &text, edited);
                    verdicts.lock().unwrap()[index] = Some(verdict);
                }
            });
        }
    });

    let mut failures = Vec::new();
    let mut table = String::from("mutation | optic | diff | agreement\n");
    for ((mutation, (id, edited)), verdict) in corpus.mutations.iter().zip(&pairs).zip(verdicts.into_inner().unwrap()) {
        let optic_says = match verdict.expect("every pair ran") {
            Ok(verdict) => verdict,
            Err(message) => {
                failures.push(format!("{id}: {message}"));
                continue;
            }
        };
        let mutated = Spec::parse("openapi.yaml", edited).unwrap();
        let ours = rainbond_check::diff(&original, &mutated, &DiffOptions::default()).is_breaking();
        let ours_verdict = if ours { OpticVerdict::Breaking } else { OpticVerdict::Compatible };
        let agree = ours_verdict == optic_says;
        table.push_str(&format!(
            "{id} | {optic_says:?} | {ours_verdict:?} | {}\n",
            if agree { "agree" } else { "disagree (explained)" }
        ));
        if mutation.optic != Some(optic_says) {
            failures.push(format!("{id}: Optic says {optic_says:?}, the corpus records {:?}", mutation.optic));
        }
        if !agree && mutation.disagreement.is_none() {
            failures.push(format!(
                "{id}: Optic says {optic_says:?}, diff says {ours_verdict:?}, and the corpus gives no `disagreement`"
            ));
        }
        if agree && mutation.disagreement.is_some() {
            failures.push(format!("{id}: diff and Optic agree, but the corpus records a `disagreement`"));
        }
    }
    println!("{table}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! `cargo xtask` in copies of the workspace that share one target directory, as git worktrees or
//! a global `CARGO_TARGET_DIR` do: each copy is acted on by the xtask run in it, and in the middle
//! of a spec edit (a new operation, no handler yet) every tool but the server build gives its
//! verdict.
//!
//! The copies build in `target/xtask-copies` (their own dependency build is slow once, then
//! cached; the copies of every test share it). xtask builds the binaries it runs in a folder of
//! each copy's own below it (`checkouts/`), so the copies that run `check` sit at fixed paths
//! (`trees/`) whose builds stay cached.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A GET operation appended to the copy's spec, using the spec's own components.
const NEW_OPERATION: &str = "
  /openapi/v1/teams/{team_id}/regions/{region_name}/apps/{app_id}/copy-preview:
    parameters:
      - $ref: '#/components/parameters/team_id'
      - $ref: '#/components/parameters/region_name'
      - $ref: '#/components/parameters/app_id'
    get:
      operationId: preview_copy
      tags: [apps]
      summary: The components a copy of the app would take.
      security:
        - access_key: []
      responses:
        '200':
          description: The components a copy would take.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/AppCopyL'
        '400':
          $ref: '#/components/responses/BadRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '404':
          $ref: '#/components/responses/NotFound'
";

fn workspace_root() -> PathBuf {
    rainbond_codegen::workspace_root().expect("run by cargo in the workspace")
}

/// The target directory every copy builds in.
fn shared_target() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    target.join("xtask-copies")
}

/// Copies the workspace's sources to `to`: everything but build output, git data, installed tools
/// and symbolic links.
fn copy_workspace(from: &Path, to: &Path) {
    const SKIPPED: &[&str] = &["target", ".git", "node_modules", ".venv"];
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let name = entry.file_name();
        if kind.is_symlink() || SKIPPED.iter().any(|skipped| name == *skipped) {
            continue;
        }
        if kind.is_dir() {
            copy_workspace(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// A fresh copy of the workspace in a temporary folder.
fn fresh_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_workspace(&workspace_root(), dir.path());
    dir
}

/// A fresh copy of the workspace at a fixed place, `target/xtask-copies/trees/NAME`, for tests
/// that build in it: xtask builds each copy in a target folder of its own, derived from the
/// copy's path, so a fixed path keeps that build cached from one run to the next.
fn fixed_copy(name: &str) -> PathBuf {
    let dir = shared_target().join("trees").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    copy_workspace(&workspace_root(), &dir);
    dir
}

/// `cargo ARGS` in `dir`, with the shared target directory.
fn cargo(dir: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

/// `git init` (when needed), then commits everything in `root` with `message`.
fn commit_all(root: &Path, message: &str) {
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(root)
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}:\n{}", text(&output));
    };
    if !root.join(".git").exists() {
        git(&["init", "--quiet"]);
    }
    git(&["add", "--all"]);
    git(&["commit", "--quiet", "--message", message]);
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn assert_exit(output: &Output, code: i32, what: &str) {
    assert_eq!(output.status.code(), Some(code), "{what}:\n{}", text(output));
}

#[test]
fn each_copy_is_checked_by_the_xtask_run_in_it() {
    let (untouched, edited) = (fresh_copy(), fresh_copy());
    let spec = edited.path().join("openapi.yaml");
    let original = std::fs::read_to_string(&spec).unwrap();
    let changed = original.replacen("description: 成功 (the app's components)", "description: the app's components", 1);
    assert_ne!(changed, original, "the edit applies");
    std::fs::write(&spec, changed).unwrap();

    // The edited copy builds xtask first; the untouched copy then reuses that binary from the
    // shared target directory, and must still look at its own tree.
    let stale = cargo(edited.path(), &["xtask", "codegen", "--check"]);
    assert_exit(&stale, 1, "codegen --check fails in the edited copy");
    assert!(text(&stale).contains("crates/api/src/generated/api.rs differs from openapi.yaml"), "{}", text(&stale));
    assert_exit(&cargo(untouched.path(), &["xtask", "codegen", "--check"]), 0, "the untouched copy is fresh");
    assert_exit(&cargo(edited.path(), &["xtask", "codegen", "--check"]), 1, "the edited copy is still stale");
}

#[test]
fn each_copy_gets_its_own_check_verdict_when_they_differ_only_in_generated_code() {
    let (clean, drifted) = (fixed_copy("check-clean"), fixed_copy("check-drifted"));
    let models = drifted.join("crates/api/src/generated/models.rs");
    let code = std::fs::read_to_string(&models).unwrap();
    // The server's `ServiceBaseInfo` loses `service_cname`: the spec still has it.
    let field = "    #[schemars(title = \"Service cname\")]\n    pub service_cname: Option<String>,\n";
    let start = code.find(field).expect("the field is generated");
    let attributes = code[..start].rfind("    /// ").expect("the field has a doc line");
    std::fs::write(&models, format!("{}{}", &code[..attributes], &code[start + field.len()..])).unwrap();

    let finding = "ServiceBaseInfo.service_cname";
    let check = |root: &Path| cargo(root, &["xtask", "check"]);
    let first = check(&clean);
    assert_exit(&first, 0, "the clean copy has no drift");
    let drift = check(&drifted);
    assert_exit(&drift, 1, "the drifted copy has drift");
    assert!(text(&drift).contains(finding), "{}", text(&drift));
    // The clean copy's files are older than the drifted copy's build: cargo alone would reuse it.
    let again = check(&clean);
    assert_exit(&again, 0, "the clean copy is judged on its own code");
    assert!(!text(&again).contains(finding), "{}", text(&again));
    let drift = check(&drifted);
    assert_exit(&drift, 1, "the drifted copy still has its drift");
}

#[test]
fn another_spec_in_place_of_openapi_yaml_generates_and_checks_clean_with_a_warning() {
    let copy = fixed_copy("fixture-spec");
    let fixture = workspace_root().join("crates/codegen/tests/fixtures/shelter.yaml");
    std::fs::copy(fixture, copy.join("openapi.yaml")).unwrap();

    let codegen = cargo(&copy, &["xtask", "codegen"]);
    assert_exit(&codegen, 0, "codegen takes the fixture spec");
    let warning = "warning: ";
    let stderr = String::from_utf8_lossy(&codegen.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|line| line.starts_with(warning)).collect();
    assert_eq!(warnings.len(), 1, "one warning, for the operation that documents no 400:\n{stderr}");
    assert!(
        warnings[0].contains("openapi.yaml:") && warnings[0].contains("`get_pet_name` documents no 400"),
        "{stderr}"
    );

    let check = cargo(&copy, &["xtask", "check"]);
    assert_exit(&check, 0, "the generated code says what the fixture spec says");
    assert!(text(&check).contains("matches the code") && text(&check).contains("get_pet_name"), "{}", text(&check));
    assert_exit(&cargo(&copy, &["xtask", "check", "--", "--strict"]), 1, "--strict fails on the warning");
}

#[test]
fn in_the_middle_of_a_spec_edit_only_the_server_fails_to_build() {
    let copy = fixed_copy("spec-edit");
    let root = copy.as_path();
    commit_all(root, "base");
    let spec = std::fs::read_to_string(root.join("openapi.yaml")).unwrap();
    let old_spec = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(old_spec.path(), &spec).unwrap();
    let grown = spec.replacen("\ncomponents:\n", &format!("{NEW_OPERATION}components:\n"), 1);
    assert_ne!(grown, spec, "the operation is added");
    std::fs::write(root.join("openapi.yaml"), grown).unwrap();

    assert_exit(&cargo(root, &["xtask", "codegen"]), 0, "codegen writes the new bindings");
    assert_exit(&cargo(root, &["xtask", "codegen", "--check"]), 0, "the bindings are fresh");
    assert_exit(&cargo(root, &["xtask", "check"]), 0, "the code says what the spec says");
    for diff_args in [
        vec!["xtask", "diff", old_spec.path().to_str().unwrap(), "openapi.yaml"],
        vec!["xtask", "diff", "--base", "HEAD"],
    ] {
        let diff = cargo(root, &diff_args);
        assert_exit(&diff, 0, "the growth is not breaking");
        let report = String::from_utf8_lossy(&diff.stdout);
        assert!(
            report.contains("preview_copy") || report.contains("copy-preview"),
            "the diff names the operation:\n{report}"
        );
        assert!(report.contains("release: patch (") || report.contains("release: minor ("), "{report}");
    }

    let server = cargo(root, &["check", "--package", "rainbond-server", "--message-format", "short"]);
    assert!(!server.status.success(), "the server has no handler for the new operation");
    let errors = String::from_utf8_lossy(&server.stderr);
    // `--message-format short`: `FILE:LINE:COL: error[CODE]: MESSAGE`, then cargo's own `error: ...`.
    let error_lines: Vec<&str> =
        errors.lines().filter(|line| line.starts_with("error") || line.contains(": error")).collect();
    assert!(
        error_lines.iter().any(|line| line.contains("E0046") && line.contains("preview_copy")),
        "the error names the missing handler:\n{errors}"
    );
    assert!(
        error_lines.iter().all(|line| line.contains("E0046") || line.starts_with("error: could not compile")),
        "the missing handler is the only error:\n{errors}"
    );
}

#[test]
fn following_the_release_gates_advice_makes_it_pass_and_the_workspace_build() {
    let copy = fixed_copy("release-gate");
    let root = copy.as_path();
    // The base revision has one more operation; the working tree (the workspace as it is) removes
    // it, which breaks the client's Rust API: a minor release under 0.x.
    let spec = std::fs::read_to_string(root.join("openapi.yaml")).unwrap();
    let grown = spec.replacen("\ncomponents:\n", &format!("{NEW_OPERATION}components:\n"), 1);
    std::fs::write(root.join("openapi.yaml"), grown).unwrap();
    commit_all(root, "base: one more operation");
    std::fs::write(root.join("openapi.yaml"), &spec).unwrap();
    let manifest_before = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();

    let gate = || cargo(root, &["xtask", "diff", "--base", "HEAD", "--require-bump"]);
    let refused = gate();
    assert_exit(&refused, 1, "the removal needs a release");
    let advice = String::from_utf8_lossy(&refused.stderr).into_owned();
    let command = advice
        .split("(or run `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("the advice names a command:\n{advice}"));
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[..3], ["cargo", "xtask", "bump"], "{advice}");
    assert_exit(&cargo(root, &words[1..]), 0, "the advised command runs");

    assert_exit(&gate(), 0, "the gate passes once its advice is followed");
    assert_exit(&cargo(root, &["check", "--workspace", "--message-format", "short"]), 0, "the workspace builds");
    let manifest_after = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let changed: Vec<(&str, &str)> =
        manifest_before.lines().zip(manifest_after.lines()).filter(|(before, after)| before != after).collect();
    assert_eq!(manifest_before.lines().count(), manifest_after.lines().count(), "no line added or removed");
    let pins = manifest_before.lines().filter(|line| line.starts_with("rainbond-") && line.contains("path =")).count();
    assert_eq!(changed.len(), 1 + pins, "the workspace version and every pin: {changed:#?}");
    for (before, after) in changed {
        assert!(before.starts_with("version = ") || before.starts_with("rainbond-"), "{before}");
        assert!(after.contains(&format!("\"{}\"", words[3])), "{after}");
    }
}

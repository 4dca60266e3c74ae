//! The `rainbond-check` binary: exit codes, the three output formats (insta snapshots), and
//! `diff --base` in a repository and in a shallow clone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    rainbond_codegen::workspace_root().expect("run by cargo in the workspace")
}

fn spec_text() -> String {
    std::fs::read_to_string(workspace().join("openapi.yaml")).unwrap()
}

/// openapi.yaml with each `(find, replace)` applied once (each must match exactly once).
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = spec_text();
    for (find, replace) in edits {
        assert_eq!(text.matches(find).count(), 1, "{find:?}");
        text = text.replacen(find, replace, 1);
    }
    text
}

/// The two acceptance examples: `ServiceBaseInfo.desc` made non-nullable, a required property
/// added to `AppCopyC`.
fn drifted() -> String {
    edited(&[
        (
            "        desc:\n          type: string\n          nullable: true\n",
            "        desc:\n          type: string\n",
        ),
        (
            "      required: [services, target_team_name, target_region_name, target_app_id]\n",
            "      required: [services, target_team_name, target_region_name, target_app_id, note]\n",
        ),
        (
            "        target_app_id:\n          type: integer\n",
            "        note:\n          type: string\n        target_app_id:\n          type: integer\n",
        ),
    ])
}

fn run(folder: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rainbond-check")).args(args).current_dir(folder).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A folder holding `openapi.yaml` with `text`, and a client manifest at version 0.1.0 so that
/// the release named does not depend on the real client's version.
fn folder_with(text: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("openapi.yaml"), text).unwrap();
    std::fs::create_dir_all(folder.path().join("crates/client")).unwrap();
    std::fs::write(
        folder.path().join("crates/client/Cargo.toml"),
        "[package]\nname = \"rainbond-client\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    folder
}

#[test]
fn check_exits_0_on_the_workspace() {
    let output = run(&workspace(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).contains("openapi.yaml matches the code"), "{}", stdout(&output));
}

#[test]
fn check_reports_drift_with_pointer_and_line_in_every_format() {
    let folder = folder_with(&drifted());
    let text = run(folder.path(), &["check"]);
    assert_eq!(text.status.code(), Some(1));
    insta::assert_snapshot!("check_text", stdout(&text));

    let github = run(folder.path(), &["check", "--format", "github"]);
    assert_eq!(github.status.code(), Some(1));
    let annotations: Vec<String> = stdout(&github).lines().filter(|l| l.starts_with("::")).map(str::to_owned).collect();
    assert_eq!(annotations.len(), 2, "{}", stdout(&github));
    assert!(annotations.iter().all(|a| a.starts_with("::error file=openapi.yaml,line=")), "{annotations:#?}");
    insta::assert_snapshot!("check_github", stdout(&github));

    let json = run(folder.path(), &["check", "--format", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("--format json prints valid JSON");
    assert_eq!(value["format"], "rainbond-check/check/v1");
    assert_eq!(value["clean"], false);
    insta::assert_json_snapshot!("check_json_findings", value["findings"]);
}

#[test]
fn check_could_not_run_exits_3_with_the_reason_and_location() {
    let missing = run(&workspace(), &["check", "--spec", "no-such-spec.yaml"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(stderr(&missing).contains("no-such-spec.yaml: cannot read the file"), "{}", stderr(&missing));

    let folder = folder_with(&spec_text().replacen("openapi: 3.0.3", "openapi: 3.1.0", 1));
    let newer = run(folder.path(), &["check"]);
    assert_eq!(newer.status.code(), Some(3));
    assert!(
        stderr(&newer).contains("openapi.yaml:7 (at /openapi): OpenAPI 3.1.0 is not supported"),
        "{}",
        stderr(&newer)
    );

    let folder = folder_with(&spec_text().replacen(
        "          $ref: '#/components/schemas/AppCopyL'",
        "          $ref: '#/components/schemas/Nope'",
        1,
    ));
    let unresolved = run(folder.path(), &["check"]);
    assert_eq!(unresolved.status.code(), Some(3));
    assert!(stderr(&unresolved).contains("unresolved reference"), "{}", stderr(&unresolved));
}

#[test]
fn usage_errors_exit_2() {
    for args in [&["check", "--format", "xml"][..], &["diff"], &["diff", "old.yaml"], &["frobnicate"]] {
        let output = run(&workspace(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn diff_exit_codes_follow_the_wire_and_the_options() {
    let folder = folder_with(&spec_text());
    std::fs::write(folder.path().join("breaking.yaml"), drifted()).unwrap();
    let optional_property = edited(&[(
        "        target_app_id:\n          type: integer\n",
        "        note:\n          type: string\n        target_app_id:\n          type: integer\n",
    )]);
    std::fs::write(folder.path().join("compatible.yaml"), optional_property).unwrap();

    let same = run(folder.path(), &["diff", "openapi.yaml", "openapi.yaml"]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    let breaking = run(folder.path(), &["diff", "openapi.yaml", "breaking.yaml"]);
    assert_eq!(breaking.status.code(), Some(1), "{}", stdout(&breaking));
    let compatible = run(folder.path(), &["diff", "openapi.yaml", "compatible.yaml"]);
    assert_eq!(compatible.status.code(), Some(0), "{}", stdout(&compatible));
    assert!(
        stdout(&compatible).contains("struct literals"),
        "a new optional field breaks struct literals: {}",
        stdout(&compatible)
    );
    let strict = run(folder.path(), &["diff", "openapi.yaml", "compatible.yaml", "--fail-on-rust-breaking"]);
    assert_eq!(strict.status.code(), Some(1));
    let bad = run(folder.path(), &["diff", "openapi.yaml", "missing.yaml"]);
    assert_eq!(bad.status.code(), Some(3));
}

#[test]
fn diff_output_in_every_format() {
    let folder = folder_with(&spec_text());
    std::fs::write(folder.path().join("new.yaml"), drifted()).unwrap();
    let text = run(folder.path(), &["diff", "openapi.yaml", "new.yaml"]);
    insta::assert_snapshot!("diff_text", stdout(&text));
    // The line the text format names for the finding (the spec's length moves it).
    let line = stdout(&text)
        .lines()
        .find(|l| l.contains("new-required-request-property"))
        .and_then(|l| l.rsplit_once("new.yaml:"))
        .map(|(_, line)| line.trim().to_owned())
        .expect("the text format names the line");
    let github = run(folder.path(), &["diff", "openapi.yaml", "new.yaml", "--format", "github"]);
    assert!(
        stdout(&github)
            .lines()
            .any(|l| l.starts_with(&format!("::error file=new.yaml,line={line},title=new-required-request-property::")))
    );
    insta::assert_snapshot!("diff_github", stdout(&github));
    let json = run(folder.path(), &["diff", "openapi.yaml", "new.yaml", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("--format json prints valid JSON");
    assert_eq!(value["breaking"], true);
    assert_eq!(value["rust_api"]["semver"]["next"], "0.2.0");
    insta::assert_json_snapshot!("diff_json", value);
}

fn git(folder: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(folder)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A repository with two commits of openapi.yaml: the workspace's spec, then the drifted one.
fn repository() -> tempfile::TempDir {
    let folder = folder_with(&spec_text());
    git(folder.path(), &["init", "-q"]);
    git(folder.path(), &["add", "openapi.yaml"]);
    git(folder.path(), &["commit", "-q", "-m", "spec"]);
    std::fs::write(folder.path().join("openapi.yaml"), drifted()).unwrap();
    git(folder.path(), &["commit", "-q", "-am", "drift"]);
    folder
}

#[test]
fn diff_base_reads_the_spec_at_a_revision() {
    let repo = repository();
    let last = run(repo.path(), &["diff", "--base", "HEAD~1"]);
    assert_eq!(last.status.code(), Some(1), "{}{}", stdout(&last), stderr(&last));
    assert!(stdout(&last).contains("(openapi.yaml@HEAD~1 -> openapi.yaml)"), "{}", stdout(&last));
    let none = run(repo.path(), &["diff", "--base", "HEAD"]);
    assert_eq!(none.status.code(), Some(0), "{}", stdout(&none));
    let unknown = run(repo.path(), &["diff", "--base", "no-such-revision"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(stderr(&unknown).contains("revision `no-such-revision` is not in this clone"), "{}", stderr(&unknown));
}

#[test]
fn diff_base_in_a_shallow_clone_says_what_to_fetch_and_exits_3() {
    let repo = repository();
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", repo.path().display());
    git(clones.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let shallow = clones.path().join("shallow");
    let output = run(&shallow, &["diff", "--base", "HEAD~1"]);
    assert_eq!(output.status.code(), Some(3), "{}{}", stdout(&output), stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("revision `HEAD~1` is not in this clone (it is a shallow clone)"), "{message}");
    assert!(message.contains("git fetch --deepen=1"), "{message}");
}

/// A repository like the workspace: a `[workspace.package]` version inherited by
/// crates/client, and openapi.yaml, committed; then the spec drifted (breaking) in the working tree.
fn workspace_repository() -> tempfile::TempDir {
    let folder = folder_with(&spec_text());
    let write = |path: &str, text: &str| std::fs::write(folder.path().join(path), text).unwrap();
    write("Cargo.toml", "[workspace]\nmembers = [\"crates/client\"]\n\n[workspace.package]\nversion = \"0.1.0\"\n");
    write("crates/client/Cargo.toml", "[package]\nname = \"rainbond-client\"\nversion.workspace = true\n");
    git(folder.path(), &["init", "-q"]);
    git(folder.path(), &["add", "."]);
    git(folder.path(), &["commit", "-q", "-m", "spec"]);
    write("openapi.yaml", &drifted());
    folder
}

#[test]
fn require_bump_fails_until_the_client_version_is_bumped_as_far_as_the_diff_requires() {
    let repo = workspace_repository();
    let gate = |format: &str| run(repo.path(), &["diff", "--base", "HEAD", "--require-bump", "--format", format]);

    let unbumped = gate("text");
    assert_eq!(unbumped.status.code(), Some(1), "{}{}", stdout(&unbumped), stderr(&unbumped));
    let message = stderr(&unbumped);
    assert!(message.contains("needs a minor release after 0.1.0"), "{message}");
    assert!(message.contains("its version is still 0.1.0: set version = \"0.2.0\" (Cargo.toml)"), "{message}");
    let github = stdout(&gate("github"));
    assert!(github.contains("::error file=Cargo.toml,title=require-bump::"), "{github}");

    // A patch bump is not enough for a breaking change under 0.x.
    let manifest = repo.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("0.1.0", "0.1.1")).unwrap();
    assert_eq!(gate("text").status.code(), Some(1));

    std::fs::write(&manifest, text.replace("0.1.0", "0.2.0")).unwrap();
    let bumped = gate("text");
    assert_eq!(bumped.status.code(), Some(0), "{}{}", stdout(&bumped), stderr(&bumped));
    assert!(stderr(&bumped).contains("rainbond-client 0.2.0 satisfies the minor release"), "{}", stderr(&bumped));
    // The release is named from the base's version, not from the bumped one.
    assert!(stdout(&bumped).contains("release: minor (0.1.0 -> 0.2.0)"), "{}", stdout(&bumped));
    // --fail-on still fails on the wire break when asked to.
    let strict = run(repo.path(), &["diff", "--base", "HEAD", "--require-bump", "--fail-on", "err"]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn require_bump_names_the_workspace_pins_that_move_with_the_version() {
    let repo = workspace_repository();
    let manifest = repo.path().join("Cargo.toml");
    let pinned = format!(
        "{}\n[workspace.dependencies]\nrainbond-client = {{ path = \"crates/client\", version = \"0.1.0\" }}\n\
         serde = \"1.0\"\n",
        std::fs::read_to_string(&manifest).unwrap()
    );
    std::fs::write(&manifest, &pinned).unwrap();
    let gate = || run(repo.path(), &["diff", "--base", "HEAD", "--require-bump"]);

    let unbumped = gate();
    assert_eq!(unbumped.status.code(), Some(1), "{}", stderr(&unbumped));
    assert!(
        stderr(&unbumped).contains(
            "set version = \"0.2.0\" (Cargo.toml) and the version of the [workspace.dependencies] pins of \
             rainbond-client to \"0.2.0\" (or run `cargo xtask bump 0.2.0`, which does both)"
        ),
        "{}",
        stderr(&unbumped)
    );

    // The version alone, as the advice used to say: cargo could not resolve the workspace.
    let version_only = pinned.replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1);
    std::fs::write(&manifest, &version_only).unwrap();
    let stale = gate();
    assert_eq!(stale.status.code(), Some(1), "{}", stderr(&stale));
    assert!(
        stderr(&stale).contains("but the [workspace.dependencies] pins of rainbond-client do not match 0.2.0"),
        "{}",
        stderr(&stale)
    );

    std::fs::write(&manifest, pinned.replace("0.1.0", "0.2.0")).unwrap();
    let bumped = gate();
    assert_eq!(bumped.status.code(), Some(0), "{}", stderr(&bumped));
}

#[test]
fn require_bump_passes_an_unchanged_spec_and_needs_a_base() {
    let repo = workspace_repository();
    git(repo.path(), &["checkout", "-q", "--", "openapi.yaml"]);
    let unchanged = run(repo.path(), &["diff", "--base", "HEAD", "--require-bump"]);
    assert_eq!(unchanged.status.code(), Some(0), "{}{}", stdout(&unchanged), stderr(&unchanged));
    let without_base = run(repo.path(), &["diff", "openapi.yaml", "openapi.yaml", "--require-bump"]);
    assert_eq!(without_base.status.code(), Some(2), "--require-bump needs --base");
}

#[test]
fn diff_markdown_is_a_changelog_of_the_wire_and_rust_api_changes() {
    let folder = folder_with(&spec_text());
    std::fs::write(folder.path().join("new.yaml"), drifted()).unwrap();
    let output = run(folder.path(), &["diff", "openapi.yaml", "new.yaml", "--format", "markdown"]);
    assert_eq!(output.status.code(), Some(1));
    let markdown = stdout(&output);
    assert!(markdown.starts_with("## rainbond-client 0.2.0 (minor release after 0.1.0)\n"), "{markdown}");
    insta::assert_snapshot!("diff_markdown", markdown);
}

#[test]
fn crate_versions_follow_the_workspace() {
    let version = rainbond_check::diff::crate_version(&workspace().join("crates/client/Cargo.toml")).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    let workspace_version = manifest
        .lines()
        .skip_while(|l| l.trim() != "[workspace.package]")
        .find_map(|l| l.trim().strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    assert_eq!(version.to_string(), workspace_version);
}

#[test]
fn the_readme_documents_every_finding_kind_and_rust_change_kind() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let kinds = rainbond_check::FindingKind::ALL.iter().map(|k| k.name());
    let changes = rainbond_check::rust_api::RustChangeKind::ALL.iter().map(|k| k.name());
    let missing: Vec<String> = kinds.chain(changes).filter(|name| !readme.contains(&format!("`{name}`"))).collect();
    assert!(missing.is_empty(), "README.md does not document {missing:?}");
}

/// The cells of the README's table rows that start with a backquoted name, by number of cells.
fn readme_rows(readme: &str, cells: usize) -> Vec<Vec<String>> {
    readme
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| line.trim_matches('|').split(" | ").map(|cell| cell.trim().to_owned()).collect::<Vec<_>>())
        .filter(|row| row.len() == cells)
        .collect()
}

fn level_cell(level: Option<rainbond_check::wire::Level>) -> String {
    level.map_or("—".to_owned(), |level| level.name().to_owned())
}

#[test]
fn the_readme_lists_every_wire_rule_with_its_level() {
    use rainbond_check::wire::rules;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let fixed: Vec<Vec<String>> = rules::OPERATION_RULES
        .iter()
        .map(|rule| vec![format!("`{}`", rule.id), rule.level.name().to_owned(), rule.meaning.to_owned()])
        .collect();
    let documented: Vec<Vec<String>> =
        readme_rows(&readme, 3).into_iter().filter(|row| ["ERR", "WARN", "INFO"].contains(&row[1].as_str())).collect();
    assert_eq!(documented, fixed, "the README's table of rules with a fixed id");
    let schema: Vec<Vec<String>> = rules::SCHEMA_RULES
        .iter()
        .map(|rule| {
            vec![
                format!("`{}`", rule.suffix),
                level_cell(rule.request),
                level_cell(rule.response),
                rule.meaning.to_owned(),
            ]
        })
        .collect();
    assert_eq!(readme_rows(&readme, 4), schema, "the README's table of schema rules");
    let bounds: Vec<Vec<String>> = rules::BOUND_CHANGES
        .iter()
        .map(|(change, upper, lower)| {
            let mut row = vec![format!("`-{change}`")];
            row.extend(upper.iter().chain(lower).map(|level| level.name().to_owned()));
            row
        })
        .collect();
    assert_eq!(readme_rows(&readme, 5), bounds, "the README's table of bound changes");
    for change in rules::ACCESS_MOVES {
        assert!(readme.contains(change), "README.md does not name the access move `{change}`");
    }
    for (_, stem, _) in rules::BOUNDS {
        assert!(readme.contains(&format!("`{stem}`")), "README.md does not name the bound `{stem}`");
    }
}

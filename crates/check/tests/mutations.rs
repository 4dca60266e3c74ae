//! The mutation corpus (tests/mutations.yaml): for every single edit of openapi.yaml, `check`
//! against the unchanged code and `diff` against the unchanged spec say exactly what the corpus
//! expects. The unchanged spec itself is clean and diffs to nothing.

mod common;

use std::fmt::Write as _;

use common::{ExpectedFinding, ExpectedRustChange, ExpectedWire, Mutation};
use rainbond_check::rust_api::RustApiReport;
use rainbond_check::{CheckOptions, CodeView, DiffOptions, Spec};

fn client_version() -> semver::Version {
    semver::Version::parse("0.1.0").unwrap()
}

fn findings(spec: &Spec, code: &CodeView, descriptions: bool) -> Vec<ExpectedFinding> {
    let report = rainbond_check::check(spec, code, &CheckOptions { descriptions });
    let mut found: Vec<ExpectedFinding> = report
        .findings
        .iter()
        .map(|f| ExpectedFinding {
            kind: f.kind.name(),
            pointer: f.pointer.clone(),
            line: f.line.expect("every finding has a line"),
            sources: f.sources.iter().map(|s| s.name().to_owned()).collect(),
        })
        .collect();
    found.sort();
    found
}

struct Actual {
    check: Vec<ExpectedFinding>,
    check_with_descriptions: Vec<ExpectedFinding>,
    wire: Vec<ExpectedWire>,
    bump: String,
    rust: Vec<ExpectedRustChange>,
    breaking: bool,
}

fn actual(original: &Spec, mutated: &Spec, code: &CodeView) -> Actual {
    let report = rainbond_check::diff(original, mutated, &DiffOptions { client_version: Some(client_version()) });
    let mut wire: Vec<ExpectedWire> = report
        .wire
        .iter()
        .map(|c| ExpectedWire { level: c.level.name().to_owned(), id: c.id.clone(), pointer: c.pointer.clone() })
        .collect();
    wire.sort();
    let (bump, mut rust) = match &report.rust_api {
        RustApiReport::GenerationFailed { .. } => ("generation-failed".to_owned(), Vec::new()),
        RustApiReport::Compared { changes, semver, .. } => (
            semver.bump.to_string(),
            changes
                .iter()
                .map(|c| ExpectedRustChange {
                    item: c.item.clone(),
                    member: c.member.clone(),
                    kind: c.kind.name(),
                    breaking: c.breaking,
                })
                .collect(),
        ),
    };
    rust.sort();
    Actual {
        check: findings(mutated, code, false),
        check_with_descriptions: findings(mutated, code, true),
        wire,
        bump,
        rust,
        breaking: report.is_breaking(),
    }
}

/// The actual results as corpus YAML, to review and paste when the spec changes.
fn as_yaml(actual: &Actual) -> String {
    let mut out = String::new();
    let finding_list = |out: &mut String, key: &str, list: &[ExpectedFinding]| {
        if list.is_empty() {
            let _ = writeln!(out, "    {key}: []");
            return;
        }
        let _ = writeln!(out, "    {key}:");
        for f in list {
            let _ = writeln!(
                out,
                "      - {{kind: {}, pointer: \"{}\", line: {}, sources: [{}]}}",
                f.kind,
                f.pointer,
                f.line,
                f.sources.join(", ")
            );
        }
    };
    finding_list(&mut out, "check", &actual.check);
    if actual.check_with_descriptions != actual.check {
        finding_list(&mut out, "check_with_descriptions", &actual.check_with_descriptions);
    }
    if actual.wire.is_empty() {
        let _ = writeln!(out, "    wire: []");
    } else {
        let _ = writeln!(out, "    wire:");
        for w in &actual.wire {
            let _ = writeln!(out, "      - {{level: {}, id: {}, pointer: \"{}\"}}", w.level, w.id, w.pointer);
        }
    }
    let _ = writeln!(out, "    rust:\n      bump: {}", actual.bump);
    if !actual.rust.is_empty() {
        let _ = writeln!(out, "      changes:");
        for r in &actual.rust {
            let member = r.member.as_deref().map(|m| format!(", member: \"{m}\"")).unwrap_or_default();
            let _ =
                writeln!(out, "        - {{item: \"{}\"{member}, kind: {}, breaking: {}}}", r.item, r.kind, r.breaking);
        }
    }
    let _ = writeln!(out, "    # diff calls this {}", if actual.breaking { "breaking" } else { "compatible" });
    out
}

fn compare<T: std::fmt::Debug + PartialEq>(what: &str, expected: &[T], actual: &[T], problems: &mut Vec<String>) {
    if expected != actual {
        let missing: Vec<_> = expected.iter().filter(|e| !actual.contains(e)).collect();
        let unexpected: Vec<_> = actual.iter().filter(|a| !expected.contains(a)).collect();
        problems.push(format!(
            "{what}:\n      expected but not reported: {missing:#?}\n      reported but not expected: {unexpected:#?}"
        ));
    }
}

fn verify(mutation: &Mutation, actual: &Actual) -> Vec<String> {
    let mut problems = Vec::new();
    let sorted = |list: &[ExpectedFinding]| {
        let mut list = list.to_vec();
        list.sort();
        list
    };
    compare("check", &sorted(&mutation.check), &actual.check, &mut problems);
    let with_descriptions = mutation.check_with_descriptions.as_deref().unwrap_or(&mutation.check);
    compare("check --descriptions", &sorted(with_descriptions), &actual.check_with_descriptions, &mut problems);
    let mut wire = mutation.wire.clone();
    wire.sort();
    compare("diff (wire)", &wire, &actual.wire, &mut problems);
    match &mutation.rust {
        None => problems.push("no `rust:` expectation".to_owned()),
        Some(rust) => {
            if rust.bump != actual.bump {
                problems.push(format!("diff (Rust API) bump: expected {}, got {}", rust.bump, actual.bump));
            }
            let mut changes = rust.changes.clone();
            changes.sort();
            compare("diff (Rust API) changes", &changes, &actual.rust, &mut problems);
        }
    }
    if mutation.optic.is_none() {
        problems.push("no `optic:` verdict recorded".to_owned());
    }
    problems
}

#[test]
fn the_clean_tree_has_no_finding_and_no_diff() {
    let spec = Spec::load(common::spec_path()).unwrap();
    let code = CodeView::current().unwrap();
    for descriptions in [false, true] {
        let report = rainbond_check::check(&spec, &code, &CheckOptions { descriptions });
        assert!(report.is_clean(), "check (descriptions: {descriptions}) found drift: {:#?}", report.findings);
    }
    let diff = rainbond_check::diff(&spec, &spec, &DiffOptions { client_version: Some(client_version()) });
    assert!(diff.wire.is_empty(), "{:#?}", diff.wire);
    match diff.rust_api {
        RustApiReport::Compared { changes, code_changed, semver } => {
            assert!(changes.is_empty(), "{changes:#?}");
            assert!(!code_changed);
            assert_eq!(semver.next.as_deref(), Some("0.1.0"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_mutation_is_reported_exactly_as_the_corpus_says() {
    let corpus = common::corpus();
    assert!(corpus.mutations.len() >= 25, "the corpus needs at least 25 mutations");
    let mut ids = std::collections::BTreeSet::new();
    for mutation in &corpus.mutations {
        assert!(ids.insert(mutation.id.as_str()), "duplicate mutation id `{}`", mutation.id);
    }
    let text = common::spec_text();
    let original = Spec::parse("openapi.yaml", &text).unwrap();
    let code = CodeView::current().unwrap();
    let print = std::env::var_os("RAINBOND_CHECK_PRINT_ACTUAL").is_some();
    let mut failures = Vec::new();
    for mutation in &corpus.mutations {
        let edited = match common::apply(&text, mutation) {
            Ok(edited) => edited,
            Err(message) => {
                failures.push(message);
                continue;
            }
        };
        assert_ne!(edited, text, "mutation `{}` changes nothing", mutation.id);
        let mutated = match Spec::parse("openapi.yaml", &edited) {
            Ok(spec) => spec,
            Err(err) => {
                failures.push(format!("mutation `{}`: the edited spec does not load: {err}", mutation.id));
                continue;
            }
        };
        let actual = actual(&original, &mutated, &code);
        if print {
            println!("  - id: {}\n{}", mutation.id, as_yaml(&actual));
        }
        let problems = verify(mutation, &actual);
        if !problems.is_empty() {
            failures.push(format!(
                "mutation `{}` ({}):\n  {}\n  actual, as corpus YAML:\n{}",
                mutation.id,
                mutation.what,
                problems.join("\n  "),
                as_yaml(&actual)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} mutations differ:\n\n{}",
        failures.len(),
        corpus.mutations.len(),
        failures.join("\n\n")
    );
}

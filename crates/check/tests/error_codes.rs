//! `check` holds the list of error codes in openapi.yaml (the description of `ErrorBody.code`)
//! to the codes the server answers (`rainbond_api::codes::ALL`), both ways.

mod common;

use rainbond_check::{CheckOptions, CodeView, FindingKind, Spec};

const CODE_DESCRIPTION: &str = "/components/schemas/ErrorBody/properties/code/description";

fn check(spec: &Spec, code: &CodeView) -> rainbond_check::Report {
    rainbond_check::check(spec, code, &CheckOptions::default())
}

/// The 1-based line of the first line of the spec containing `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|line| line.contains(needle)).expect("the text is in the spec") + 1
}

#[test]
fn every_code_the_server_answers_is_in_the_spec() {
    let spec = Spec::load(common::spec_path()).unwrap();
    let documented = rainbond_check::error_codes::documented(&spec.document);
    assert_eq!(documented, rainbond_check::error_codes::answered());
    assert_eq!(documented.len(), rainbond_api::codes::ALL.len(), "one line per code");
}

#[test]
fn a_code_the_server_answers_and_the_spec_does_not_list_fails_the_check() {
    let spec = Spec::load(common::spec_path()).unwrap();
    let mut code = CodeView::current().unwrap();
    code.error_codes.insert((10499, 503));
    let report = check(&spec, &code);
    assert!(!report.is_clean(), "an undocumented code is drift");
    let [finding] = report.findings.as_slice() else { panic!("{:#?}", report.findings) };
    assert_eq!(finding.kind, FindingKind::UndocumentedErrorCode);
    assert_eq!(finding.pointer, CODE_DESCRIPTION);
    assert_eq!(finding.code, "answers code 10499 with status 503");
    // The line of `description: |`, just above the description's first line.
    let first_line = line_of(&common::spec_text(), "A Rainbond error code, or the HTTP status");
    assert_eq!(finding.line, Some(first_line - 1));
    assert_eq!(finding.sources, [rainbond_check::Source::ServerCodes]);
}

#[test]
fn a_code_removed_from_the_spec_or_given_another_status_fails_the_check() {
    let text = common::spec_text();
    let row = text.lines().find(|line| line.trim_start().starts_with("`10402` (503):")).expect("the 10402 line");
    let code = CodeView::current().unwrap();

    let removed = text.replacen(&format!("{row}\n"), "", 1);
    let report = check(&Spec::parse("openapi.yaml", &removed).unwrap(), &code);
    let kinds: Vec<_> = report.findings.iter().map(|f| (f.kind, f.code.as_str())).collect();
    assert_eq!(kinds, [(FindingKind::UndocumentedErrorCode, "answers code 10402 with status 503")]);

    let moved = text.replacen(row, &row.replacen("(503)", "(500)", 1), 1);
    let report = check(&Spec::parse("openapi.yaml", &moved).unwrap(), &code);
    let kinds: Vec<_> = report.findings.iter().map(|f| (f.kind, f.spec.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (FindingKind::UndocumentedErrorCode, "not in the list of error codes"),
            (FindingKind::UnansweredErrorCode, "lists code 10402 with status 500"),
        ]
    );
}

#[test]
fn a_spec_that_lists_no_code_gets_one_warning_which_strict_makes_a_failure() {
    let text = common::spec_text();
    let first = text.lines().position(|line| line.contains("A Rainbond error code, or the HTTP status")).unwrap();
    let listed: Vec<&str> = text.lines().skip(first).filter(|line| line.trim_start().starts_with('`')).collect();
    let unlisted = listed.iter().fold(text.clone(), |spec, row| spec.replacen(&format!("{row}\n"), "", 1));
    let spec = Spec::parse("openapi.yaml", &unlisted).unwrap();
    assert!(rainbond_check::error_codes::documented(&spec.document).is_empty(), "every code line removed");

    let report = check(&spec, &CodeView::current().unwrap());
    assert!(report.is_clean(), "no finding per code: {:#?}", report.findings);
    let [warning] = report.warnings.as_slice() else { panic!("{:#?}", report.warnings) };
    assert_eq!(warning.pointer, "/components/schemas/ErrorBody/properties/code");
    let answered = rainbond_api::codes::ALL.len();
    assert!(warning.message.contains(&format!("lists none of the {answered} error codes")), "{}", warning.message);
    assert!(!report.is_strictly_clean(), "--strict fails on the warning");
}

//! The mutation corpus (`tests/mutations.yaml`) and how to apply it to openapi.yaml.
#![allow(dead_code)]

use std::path::PathBuf;

use serde::Deserialize;

/// The corpus file.
pub fn corpus_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mutations.yaml")
}

/// openapi.yaml of this workspace.
pub fn spec_path() -> PathBuf {
    rainbond_codegen::workspace_root().expect("run by cargo in the workspace").join(rainbond_codegen::SPEC_PATH)
}

/// The spec's text.
pub fn spec_text() -> String {
    std::fs::read_to_string(spec_path()).expect("openapi.yaml is readable")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corpus {
    pub mutations: Vec<Mutation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    /// A unique name.
    pub id: String,
    /// What the edit does, in words.
    pub what: String,
    /// Text edits of openapi.yaml; each must match exactly once.
    pub edits: Vec<Edit>,
    /// `check` against the unchanged code: exactly these findings.
    #[serde(default)]
    pub check: Vec<ExpectedFinding>,
    /// `check --descriptions`, when it differs from `check`.
    #[serde(default)]
    pub check_with_descriptions: Option<Vec<ExpectedFinding>>,
    /// `diff` on the wire: exactly these changes.
    #[serde(default)]
    pub wire: Vec<ExpectedWire>,
    /// `diff` for the generated client's Rust API (required; an `Option` so that a new entry can
    /// be written edits-first and completed from the printed actual results).
    pub rust: Option<ExpectedRust>,
    /// Optic's verdict (`optic diff OLD NEW --check`): `breaking` (exit 1) or `compatible` (exit 0).
    /// Required, like `rust`.
    pub optic: Option<OpticVerdict>,
    /// Why `diff` and Optic disagree on this pair, when they do.
    #[serde(default)]
    pub disagreement: Option<String>,
    /// The verdict of cargo-semver-checks on the clients generated from both specs, and why it
    /// differs from `diff`'s Rust-API verdict when it does (tests/semver_checks.rs).
    #[serde(default)]
    pub semver_checks: Option<SemverChecksRecord>,
}

/// What cargo-semver-checks says about one pair.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemverChecksRecord {
    /// `breaking` (a major-level lint failed) or `compatible`.
    pub verdict: OpticVerdict,
    /// Why it differs from `diff`'s Rust-API verdict, and which tool is right; required where
    /// they differ.
    #[serde(default)]
    pub disagreement: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Edit {
    /// Replace the one occurrence of `find`.
    Replace { find: String, replace: String },
    /// Remove the one line equal to `remove_block` and every following line indented deeper.
    RemoveBlock { remove_block: String },
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFinding {
    pub kind: String,
    pub pointer: String,
    pub line: usize,
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct ExpectedWire {
    pub level: String,
    pub id: String,
    pub pointer: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRust {
    /// `none`, `patch`, `minor`, `major`, or `generation-failed`.
    pub bump: String,
    #[serde(default)]
    pub changes: Vec<ExpectedRustChange>,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRustChange {
    pub item: String,
    #[serde(default)]
    pub member: Option<String>,
    pub kind: String,
    pub breaking: bool,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OpticVerdict {
    Breaking,
    Compatible,
}

/// Reads the corpus.
pub fn corpus() -> Corpus {
    let text = std::fs::read_to_string(corpus_path()).expect("tests/mutations.yaml is readable");
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("tests/mutations.yaml: {e}"))
}

/// Applies a mutation's edits to `spec`; an edit that does not match exactly once is an error.
pub fn apply(spec: &str, mutation: &Mutation) -> Result<String, String> {
    let mut text = spec.to_owned();
    for (index, edit) in mutation.edits.iter().enumerate() {
        let context = |message: String| format!("mutation `{}`, edit #{}: {message}", mutation.id, index + 1);
        match edit {
            Edit::Replace { find, replace } => {
                let count = text.matches(find.as_str()).count();
                if count != 1 {
                    return Err(context(format!("`find` matches {count} times (must match once): {find:?}")));
                }
                text = text.replacen(find.as_str(), replace, 1);
            }
            Edit::RemoveBlock { remove_block } => {
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                let starts: Vec<usize> =
                    (0..lines.len()).filter(|&i| lines[i].trim_end_matches('\n') == remove_block).collect();
                let [start] = starts.as_slice() else {
                    return Err(context(format!(
                        "`remove_block` matches {} lines (must match one): {remove_block:?}",
                        starts.len()
                    )));
                };
                let indent = indentation(lines[*start]);
                let mut end = start + 1;
                while end < lines.len() && (lines[end].trim().is_empty() || indentation(lines[end]) > indent) {
                    end += 1;
                }
                text = lines[..*start].concat() + &lines[end..].concat();
            }
        }
    }
    Ok(text)
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

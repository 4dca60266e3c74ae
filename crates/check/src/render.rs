//! The reports as human text, JSON and GitHub Actions annotations.
//!
//! The JSON shapes are versioned by their `format` member (`rainbond-check/check/v1`,
//! `rainbond-check/diff/v1`); README.md documents every member.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::check::{Finding, Report};
use crate::diff::DiffReport;
use crate::rust_api::{RustApiReport, RustChange};
use crate::wire::{Level, Side, WireChange};

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human text.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands (`::error file=...,line=...::`), then a summary line.
    Github,
    /// Markdown, for a pull request or a job summary: the diff as a changelog.
    Markdown,
}

/// The `format` member of the check JSON.
pub const CHECK_FORMAT: &str = "rainbond-check/check/v1";
/// The `format` member of the diff JSON.
pub const DIFF_FORMAT: &str = "rainbond-check/diff/v1";

/// Renders a check report.
pub fn check_report(report: &Report, format: Format, verbose: bool) -> String {
    match format {
        Format::Text => check_text(report, verbose),
        Format::Json => pretty(&check_json(report)),
        Format::Github => check_github(report),
        Format::Markdown => check_markdown(report),
    }
}

/// The check report as JSON.
pub fn check_json(report: &Report) -> Value {
    json!({
        "format": CHECK_FORMAT,
        "spec": report.spec,
        "clean": report.is_clean(),
        "findings": report.findings,
        "warnings": report.warnings,
        "unverified": report.unverified,
        "compared": report.compared,
    })
}

fn sources_text(finding: &Finding) -> String {
    finding.sources.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
}

fn location(file: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    }
}

fn check_text(report: &Report, verbose: bool) -> String {
    let mut out = String::new();
    for warning in &report.warnings {
        let _ = writeln!(out, "{}: warning: {}", location(&report.spec, warning.line), warning.message);
        let _ = writeln!(out, "    at   {}", warning.pointer);
    }
    for finding in &report.findings {
        let _ = writeln!(out, "{}: {}: {}", location(&report.spec, finding.line), finding.kind.name(), finding.subject);
        let _ = writeln!(out, "    at   {}", finding.pointer);
        let _ = writeln!(out, "    spec {}", finding.spec);
        let _ = writeln!(out, "    code {} ({})", finding.code, sources_text(finding));
    }
    if verbose && !report.unverified.is_empty() {
        let _ = writeln!(out, "Not verifiable in one source (the other sources still compare these):");
        for unverified in &report.unverified {
            let _ = writeln!(
                out,
                "  {} cannot say {} ({} node(s)): {}",
                unverified.source,
                unverified.facet,
                unverified.pointers.len(),
                unverified.reason
            );
            for pointer in &unverified.pointers {
                let _ = writeln!(out, "      {pointer}");
            }
        }
    }
    let compared = &report.compared;
    let sources = compared.sources.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ");
    if report.is_clean() {
        let _ = write!(
            out,
            "{} matches the code: {} operation(s) and {} schema(s) compared with {sources}",
            report.spec, compared.operations, compared.schemas
        );
    } else {
        let _ = write!(
            out,
            "{} finding(s): {} and the code differ ({} operation(s), {} schema(s) compared with {sources})",
            report.findings.len(),
            report.spec,
            compared.operations,
            compared.schemas
        );
    }
    let unverified: usize = report.unverified.iter().map(|u| u.pointers.len()).sum();
    if unverified > 0 && !verbose {
        let _ = write!(out, "; {unverified} facet(s) not verifiable in one source (--verbose lists them)");
    }
    out.push('\n');
    out
}

fn check_github(report: &Report) -> String {
    let mut out = String::new();
    for warning in &report.warnings {
        out.push_str(&annotation("warning", &report.spec, warning.line, "undocumented-status", &warning.message));
    }
    for finding in &report.findings {
        let message = format!(
            "{}: the spec says {}, the code says {} ({}) [{}]",
            finding.subject,
            finding.spec,
            finding.code,
            sources_text(finding),
            finding.pointer
        );
        out.push_str(&annotation("error", &report.spec, finding.line, &finding.kind.name(), &message));
    }
    let summary = if report.is_clean() {
        format!("{} matches the code", report.spec)
    } else {
        format!("{} finding(s): {} and the code differ", report.findings.len(), report.spec)
    };
    let _ = writeln!(out, "{summary}");
    out
}

fn check_markdown(report: &Report) -> String {
    let mut out = String::from("## Contract check\n\n");
    if report.is_clean() {
        let _ = writeln!(out, "`{}` matches the code.", report.spec);
        return out;
    }
    let _ = writeln!(out, "{} finding(s): `{}` and the code differ.\n", report.findings.len(), report.spec);
    for warning in &report.warnings {
        let _ = writeln!(out, "- **warning** {}: {}", code(&location(&report.spec, warning.line)), warning.message);
    }
    for finding in &report.findings {
        let _ = writeln!(
            out,
            "- **{}** {} ({}): the spec says {}, the code says {} ({})",
            finding.kind.name(),
            code(&finding.subject),
            code(&location(&report.spec, finding.line)),
            code(&finding.spec),
            code(&finding.code),
            sources_text(finding)
        );
    }
    out
}

/// `text` as inline Markdown code, fenced with more backticks than it contains.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The diff as a Markdown changelog: the release, then the wire changes by level, then the
/// changes to the generated client's Rust API, breaking first.
fn diff_markdown(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", release_heading(&report.rust_api));
    let _ = writeln!(
        out,
        "{} → {}: {} ERR, {} WARN, {} INFO on the wire; the Rust API is {}.\n",
        code(&report.old),
        code(&report.new),
        report.count(Level::Err),
        report.count(Level::Warn),
        report.count(Level::Info),
        if report.rust_api.is_breaking() { "**broken**" } else { "compatible" }
    );
    for (level, title) in [
        (Level::Err, "Breaking for clients on the wire"),
        (Level::Warn, "Warnings for clients on the wire"),
        (Level::Info, "Other wire changes"),
    ] {
        let changes: Vec<&WireChange> = report.wire.iter().filter(|c| c.level == level).collect();
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for change in changes {
            out.push_str(&wire_markdown(change, &report.new));
        }
        out.push('\n');
    }
    if report.wire.is_empty() {
        out.push_str("No change on the wire.\n\n");
    }
    out.push_str(&rust_markdown(&report.rust_api));
    out
}

fn release_heading(rust_api: &RustApiReport) -> String {
    match rust_api {
        RustApiReport::Compared { semver, .. } => match (&semver.current, &semver.next) {
            (Some(current), Some(next)) if current != next => {
                format!("rainbond-client {next} ({} release after {current})", semver.bump)
            }
            (Some(current), _) => format!("rainbond-client stays {current}"),
            _ => format!("rainbond-client: {} release", semver.bump),
        },
        RustApiReport::GenerationFailed { .. } => "rainbond-client: cannot be generated".to_owned(),
    }
}

fn wire_markdown(change: &WireChange, file: &str) -> String {
    let mut text =
        format!("- **{}** {}: {} ({}", change.level.name(), code(&change.id), change.message, code(&change.pointer));
    match change.side {
        Side::Old => text.push_str(" in the old spec"),
        Side::New => {
            if let Some(line) = change.line {
                let _ = write!(text, ", {}", code(&location(file, Some(line))));
            }
        }
    }
    text.push(')');
    if !change.operations.is_empty() {
        let operations: Vec<String> = change.operations.iter().map(|o| code(o)).collect();
        let _ = write!(text, "; affects {}", operations.join(", "));
    }
    text.push('\n');
    text
}

fn rust_markdown(rust_api: &RustApiReport) -> String {
    let mut out = String::from("### Rust API of rainbond-client\n\n");
    let (changes, semver) = match rust_api {
        RustApiReport::GenerationFailed { spec, message } => {
            let _ = writeln!(out, "The client cannot be generated from the {spec} spec: {message}");
            return out;
        }
        RustApiReport::Compared { changes, semver, .. } => (changes, semver),
    };
    if changes.is_empty() {
        out.push_str("No change to the public API.\n");
    }
    for breaking in [true, false] {
        for change in changes.iter().filter(|c| c.breaking == breaking) {
            let member = change.member.as_deref().map(|m| format!(" {}", code(m))).unwrap_or_default();
            let label = if breaking { "breaking" } else { "additive" };
            let _ =
                writeln!(out, "- **{label}** {}{member}: {}. {}", code(&change.item), change.kind.name(), change.note);
            for (sign, signature) in [("-", &change.old), ("+", &change.new)] {
                if let Some(signature) = signature {
                    let _ = writeln!(out, "  {sign} {}", code(signature));
                }
            }
        }
    }
    let _ = writeln!(out, "\n**Release:** {} ({}).", semver.bump, semver.reason);
    out
}

/// One GitHub Actions workflow command.
pub fn annotation(command: &str, file: &str, line: Option<usize>, title: &str, message: &str) -> String {
    let mut properties = format!("file={}", escape_property(file));
    if let Some(line) = line {
        let _ = write!(properties, ",line={line}");
    }
    let _ = write!(properties, ",title={}", escape_property(title));
    format!("::{command} {properties}::{}\n", escape_data(message))
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// Renders a diff report. `file` names the spec in annotations (the new spec's path).
pub fn diff_report(report: &DiffReport, format: Format, file: &str) -> String {
    match format {
        Format::Text => diff_text(report),
        Format::Json => pretty(&diff_json(report)),
        Format::Github => diff_github(report, file),
        Format::Markdown => diff_markdown(report),
    }
}

/// The diff report as JSON.
pub fn diff_json(report: &DiffReport) -> Value {
    json!({
        "format": DIFF_FORMAT,
        "old": report.old,
        "new": report.new,
        "breaking": report.is_breaking(),
        "summary": {
            "ERR": report.count(Level::Err),
            "WARN": report.count(Level::Warn),
            "INFO": report.count(Level::Info),
            "rust_api_breaking": report.rust_api.is_breaking(),
        },
        "wire": report.wire,
        "rust_api": report.rust_api,
    })
}

fn wire_line(change: &WireChange, file: &str) -> String {
    let side = match change.side {
        Side::Old => " (in the old spec)",
        Side::New => "",
    };
    let mut text = format!(
        "  {:<4} {}  {}\n       {}\n       at {}{side}",
        change.level.name(),
        change.id,
        location(file, change.line),
        change.message,
        change.pointer
    );
    if !change.operations.is_empty() {
        let _ = write!(text, "\n       in {}", change.operations.join("; "));
    }
    text.push('\n');
    text
}

fn rust_line(change: &RustChange) -> String {
    let member = change.member.as_deref().map(|m| format!(" `{m}`")).unwrap_or_default();
    let mut text = format!(
        "  {:<8} {}{member}: {}",
        if change.breaking { "breaking" } else { "additive" },
        change.item,
        change.kind.name()
    );
    match (&change.old, &change.new) {
        (Some(old), Some(new)) => {
            let _ = write!(text, "\n           {old}\n        -> {new}");
        }
        (Some(old), None) => {
            let _ = write!(text, "\n           was {old}");
        }
        (None, Some(new)) => {
            let _ = write!(text, "\n           {new}");
        }
        (None, None) => {}
    }
    let _ = writeln!(text, "\n           {}", change.note);
    text
}

fn diff_text(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Wire compatibility ({} -> {}):", report.old, report.new);
    if report.wire.is_empty() {
        let _ = writeln!(out, "  no change");
    }
    for change in &report.wire {
        out.push_str(&wire_line(change, &report.new));
    }
    let _ = writeln!(out, "Rust API of rainbond-client:");
    match &report.rust_api {
        RustApiReport::GenerationFailed { spec, message } => {
            let _ = writeln!(out, "  the client cannot be generated from the {spec} spec: {message}");
        }
        RustApiReport::Compared { changes, semver, .. } => {
            if changes.is_empty() {
                let _ = writeln!(out, "  no change to the public API");
            }
            for change in changes {
                out.push_str(&rust_line(change));
            }
            let versions = match (&semver.current, &semver.next) {
                (Some(current), Some(next)) if current != next => format!(" ({current} -> {next})"),
                (Some(current), _) => format!(" (stays {current})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "  release: {}{versions}: {}", semver.bump, semver.reason);
        }
    }
    let _ = writeln!(
        out,
        "{} ERR, {} WARN, {} INFO: {}",
        report.count(Level::Err),
        report.count(Level::Warn),
        report.count(Level::Info),
        if report.is_breaking() { "breaking for clients on the wire" } else { "nothing breaks clients on the wire" }
    );
    out
}

fn diff_github(report: &DiffReport, file: &str) -> String {
    let mut out = String::new();
    for change in &report.wire {
        let command = match change.level {
            Level::Err => "error",
            Level::Warn => "warning",
            Level::Info => "notice",
        };
        let mut message = format!("{} [{}]", change.message, change.pointer);
        if !change.operations.is_empty() {
            let _ = write!(message, " in {}", change.operations.join("; "));
        }
        out.push_str(&annotation(command, file, change.line, &change.id, &message));
    }
    match &report.rust_api {
        RustApiReport::GenerationFailed { spec, message } => {
            let text = format!("the client cannot be generated from the {spec} spec: {message}");
            out.push_str(&annotation("error", file, None, "rust-api", &text));
        }
        RustApiReport::Compared { changes, semver, .. } => {
            for change in changes.iter().filter(|c| c.breaking) {
                let member = change.member.as_deref().map(|m| format!(" `{m}`")).unwrap_or_default();
                let message = format!("{}{member}: {} ({})", change.item, change.kind.name(), change.note);
                out.push_str(&annotation("warning", file, change.line, "rust-api", &message));
            }
            let versions = match (&semver.current, &semver.next) {
                (Some(current), Some(next)) if current != next => format!(": {current} -> {next}"),
                _ => String::new(),
            };
            let message = format!("rainbond-client needs a {} release{versions} ({})", semver.bump, semver.reason);
            out.push_str(&annotation("notice", file, None, "semver", &message));
        }
    }
    let _ = writeln!(
        out,
        "{} ERR, {} WARN, {} INFO on the wire; Rust API {}",
        report.count(Level::Err),
        report.count(Level::Warn),
        report.count(Level::Info),
        if report.rust_api.is_breaking() { "breaking" } else { "compatible" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_their_properties_and_data() {
        assert_eq!(
            annotation("error", "a,b:c.yaml", Some(3), "t", "50% done\nnext"),
            "::error file=a%2Cb%3Ac.yaml,line=3,title=t::50%25 done%0Anext\n"
        );
    }
}

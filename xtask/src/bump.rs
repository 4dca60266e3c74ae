//! `cargo xtask bump LEVEL|VERSION`: releases the workspace's crates under a new version.
//!
//! The crates inherit `[workspace.package] version`, and `[workspace.dependencies]` pins each of
//! them (`rainbond-api = { path = "crates/api", version = "0.2.0" }`). Both must move together:
//! a new workspace version with the old pins leaves no crate matching the pins, and cargo refuses
//! to resolve the workspace. The root manifest is edited in place, its formatting and comments
//! kept; Cargo.lock follows on the next build.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use toml_edit::{DocumentMut, Item, Value};

/// The client crate, whose version `rainbond-check diff --require-bump` checks.
const CLIENT_DIR: &str = "crates/client";

/// Options of `cargo xtask bump`.
#[derive(clap::Args)]
#[command(after_help = "Sets `[workspace.package] version` and the `version` of every `[workspace.dependencies]` \
entry whose `path` crate inherits it, in the root Cargo.toml. `cargo xtask diff --base REV --require-bump` \
names the version to set.")]
pub struct Args {
    /// `major`, `minor` or `patch` (the next such release of the current version), or a version
    /// such as `0.3.0` (not lower than the current one).
    target: String,
}

/// What to bump to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Major,
    Minor,
    Patch,
    Exact(semver::Version),
}

impl Target {
    fn parse(text: &str) -> anyhow::Result<Target> {
        Ok(match text {
            "major" => Target::Major,
            "minor" => Target::Minor,
            "patch" => Target::Patch,
            _ => Target::Exact(
                semver::Version::parse(text)
                    .with_context(|| format!("`{text}` is neither major, minor, patch nor a version such as 0.3.0"))?,
            ),
        })
    }

    /// The version this target names after `current`.
    fn after(&self, current: &semver::Version) -> anyhow::Result<semver::Version> {
        let release = |major, minor, patch| semver::Version::new(major, minor, patch);
        let next = match self {
            Target::Major => release(current.major + 1, 0, 0),
            Target::Minor => release(current.major, current.minor + 1, 0),
            Target::Patch => release(current.major, current.minor, current.patch + 1),
            Target::Exact(version) => version.clone(),
        };
        if next < *current {
            bail!("{next} is lower than the current version {current}");
        }
        Ok(next)
    }
}

/// The edited root manifest and what changed in it.
#[derive(Debug)]
struct Bumped {
    text: String,
    from: semver::Version,
    to: semver::Version,
    /// The `[workspace.dependencies]` entries whose version was set.
    pins: Vec<String>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = crate::workspace::root()?;
    let target = Target::parse(&args.target)?;
    if !inherits_workspace_version(&root, CLIENT_DIR)? {
        bail!("{CLIENT_DIR}/Cargo.toml sets its own version; bump edits the workspace version it would inherit");
    }
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let bumped = bump_manifest(&text, &target, |path| inherits_workspace_version(&root, path))
        .with_context(|| format!("bumping {}", manifest.display()))?;
    std::fs::write(&manifest, &bumped.text).with_context(|| format!("writing {}", manifest.display()))?;
    println!(
        "bump: {} -> {} in Cargo.toml: [workspace.package] version and the [workspace.dependencies] pins of {}",
        bumped.from,
        bumped.to,
        bumped.pins.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Sets `[workspace.package] version` of the manifest `text` to `target` and the `version` of
/// each `[workspace.dependencies]` entry with a `path` for which `inherits(path)` holds.
fn bump_manifest(
    text: &str,
    target: &Target,
    inherits: impl Fn(&str) -> anyhow::Result<bool>,
) -> anyhow::Result<Bumped> {
    let mut document: DocumentMut = text.parse().context("not a TOML document")?;
    let version = document
        .get_mut("workspace")
        .and_then(|w| w.get_mut("package"))
        .and_then(|p| p.get_mut("version"))
        .and_then(Item::as_value_mut)
        .context("no [workspace.package] version")?;
    let from = semver::Version::parse(version.as_str().context("[workspace.package] version is not a string")?)
        .context("[workspace.package] version is not semver")?;
    let to = target.after(&from)?;
    set_string(version, &to.to_string());
    let mut pins = Vec::new();
    if let Some(dependencies) = document.get_mut("workspace").and_then(|w| w.get_mut("dependencies")) {
        let dependencies = dependencies.as_table_like_mut().context("[workspace.dependencies] is not a table")?;
        for (name, entry) in dependencies.iter_mut() {
            let Some(entry) = entry.as_table_like_mut() else { continue };
            let Some(path) = entry.get("path").and_then(Item::as_str) else { continue };
            if !inherits(path)? {
                continue;
            }
            if let Some(pin) = entry.get_mut("version").and_then(Item::as_value_mut) {
                set_string(pin, &to.to_string());
                pins.push(name.get().to_owned());
            }
        }
    }
    Ok(Bumped { text: document.to_string(), from, to, pins })
}

/// Replaces a string value, keeping the spaces and comments around it.
fn set_string(value: &mut Value, text: &str) {
    let decor = value.decor().clone();
    *value = Value::from(text);
    *value.decor_mut() = decor;
}

/// Whether the crate at `path` (relative to `root`) says `version.workspace = true`.
fn inherits_workspace_version(root: &Path, path: &str) -> anyhow::Result<bool> {
    let manifest = root.join(path).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let document: DocumentMut = text.parse().with_context(|| format!("{} is not TOML", manifest.display()))?;
    let version = document.get("package").and_then(|p| p.get("version"));
    Ok(version.and_then(|v| v.get("workspace")).and_then(Item::as_bool) == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[workspace]
members = ["crates/a", "crates/b"]

[workspace.package]
version = "0.2.0"   # the release
edition = "2024"

[workspace.dependencies]
# Workspace crates.
crate-a = { path = "crates/a", version = "0.2.0" }
crate-b = { path = "crates/b", version = "0.2.0" } # its own version
serde = { version = "1.0.228", features = ["derive"] }
tool = "0.2.0"
"#;

    fn bump(target: &str) -> anyhow::Result<Bumped> {
        bump_manifest(MANIFEST, &Target::parse(target)?, |path| Ok(path == "crates/a"))
    }

    #[test]
    fn a_level_moves_the_workspace_version_and_the_pins_of_the_crates_that_inherit_it() {
        let bumped = bump("minor").unwrap();
        assert_eq!((bumped.from.to_string(), bumped.to.to_string()), ("0.2.0".into(), "0.3.0".into()));
        assert_eq!(bumped.pins, ["crate-a"]);
        let expected = MANIFEST
            .replace(r#"version = "0.2.0"   # the release"#, r#"version = "0.3.0"   # the release"#)
            .replace(r#"path = "crates/a", version = "0.2.0""#, r#"path = "crates/a", version = "0.3.0""#);
        assert_eq!(bumped.text, expected, "only those two versions change; comments and spacing stay");
    }

    #[test]
    fn every_level_and_an_exact_version_name_the_expected_release() {
        for (target, expected) in
            [("major", "1.0.0"), ("minor", "0.3.0"), ("patch", "0.2.1"), ("0.4.0-rc.1", "0.4.0-rc.1")]
        {
            assert_eq!(bump(target).unwrap().to.to_string(), expected, "{target}");
        }
        let same = bump("0.2.0").unwrap();
        assert_eq!(same.text, MANIFEST, "the current version is accepted and changes nothing");
    }

    #[test]
    fn a_lower_version_or_an_unknown_level_is_refused() {
        let lower = bump("0.1.9").unwrap_err().to_string();
        assert!(lower.contains("0.1.9 is lower than the current version 0.2.0"), "{lower}");
        let unknown = Target::parse("minro").unwrap_err().to_string();
        assert!(unknown.contains("neither major, minor, patch nor a version"), "{unknown}");
    }

    #[test]
    fn the_workspace_manifest_pins_every_crate_that_inherits_its_version() {
        let root = crate::workspace::root().unwrap();
        let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let bumped = bump_manifest(&text, &Target::Patch, |path| inherits_workspace_version(&root, path)).unwrap();
        for name in ["rainbond-api", "rainbond-client", "rainbond-server", "rainbond-check", "rainbond-codegen"] {
            assert!(bumped.pins.iter().any(|pin| pin == name), "{name} is pinned: {:?}", bumped.pins);
        }
    }
}

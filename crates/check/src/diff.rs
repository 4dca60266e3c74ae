//! `diff`: what an edit of the spec breaks, on the wire and in the generated client's Rust API.

use std::path::{Path, PathBuf};

use rainbond_codegen::Spec;
use serde::Serialize;

use crate::Error;
use crate::rust_api::{self, Bump, RustApiReport};
use crate::wire::{self, Level, WireChange};

/// Inputs of a diff beyond the two specs.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// The version of `rainbond-client` now, to name the next one.
    pub client_version: Option<semver::Version>,
}

/// The result of [`diff`].
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The old spec, as named to the diff.
    pub old: String,
    /// The new spec, as named to the diff.
    pub new: String,
    /// What clients on the wire see, most severe first.
    pub wire: Vec<WireChange>,
    /// What users of the generated Rust client see.
    pub rust_api: RustApiReport,
}

impl DiffReport {
    /// Whether some change breaks clients on the wire (an `ERR`).
    pub fn is_breaking(&self) -> bool {
        self.count(Level::Err) > 0
    }

    /// How many wire changes have `level`.
    pub fn count(&self, level: Level) -> usize {
        self.wire.iter().filter(|c| c.level == level).count()
    }
}

/// Classifies every change from `old` to `new`.
pub fn diff(old: &Spec, new: &Spec, options: &DiffOptions) -> DiffReport {
    DiffReport {
        old: old.path.display().to_string(),
        new: new.path.display().to_string(),
        wire: wire::wire_changes(old, new),
        rust_api: rust_api::compare(old, new, options.client_version.as_ref()),
    }
}

/// The version of the crate whose manifest is `manifest`, following `version.workspace = true`
/// to the workspace's `[workspace.package]`.
pub fn crate_version(manifest: &Path) -> Result<semver::Version, Error> {
    crate_version_and_source(manifest).map(|(version, _)| version)
}

/// [`crate_version`] and the manifest that holds it (the workspace's, for an inherited version).
pub fn crate_version_and_source(manifest: &Path) -> Result<(semver::Version, PathBuf), Error> {
    version_from_manifests(manifest, &|path: &Path| {
        path.is_file().then(|| {
            std::fs::read_to_string(path)
                .map_err(|e| Error::Manifest { path: path.to_owned(), message: format!("cannot read: {e}") })
        })
    })
}

/// The version of the crate whose manifest is `manifest` (a path in the working tree) as it was at
/// git `revision`: the manifest and, for `version.workspace = true`, the workspace manifest are
/// read with `git show`.
pub fn crate_version_at(revision: &str, manifest: &Path) -> Result<semver::Version, Error> {
    let (version, _) = version_from_manifests(manifest, &|path: &Path| {
        // A path that is not in the repository at `revision` (or not in a repository) is absent.
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !directory.is_dir() {
            return None;
        }
        match crate::git::file_at_revision(revision, path) {
            Err(Error::Git { .. }) => None,
            other => Some(other),
        }
    })?;
    Ok(version)
}

/// Reads a file: `None` when it does not exist.
type ReadManifest<'a> = &'a dyn Fn(&Path) -> Option<Result<String, Error>>;

fn version_from_manifests(manifest: &Path, read_file: ReadManifest<'_>) -> Result<(semver::Version, PathBuf), Error> {
    let invalid = |path: &Path, message: String| Error::Manifest { path: path.to_owned(), message };
    let read = |path: &Path| -> Result<Option<toml::Table>, Error> {
        let Some(text) = read_file(path) else { return Ok(None) };
        let table = text?.parse::<toml::Table>().map_err(|e| invalid(path, format!("not valid TOML: {e}")))?;
        Ok(Some(table))
    };
    let parse = |path: &Path, text: &str| {
        let version =
            semver::Version::parse(text).map_err(|e| invalid(path, format!("version `{text}` is not semver: {e}")))?;
        Ok((version, path.to_owned()))
    };
    let table = read(manifest)?.ok_or_else(|| invalid(manifest, "no such manifest".to_owned()))?;
    match table.get("package").and_then(|p| p.get("version")) {
        Some(toml::Value::String(text)) => parse(manifest, text),
        Some(toml::Value::Table(inherit)) if inherit.get("workspace").and_then(toml::Value::as_bool) == Some(true) => {
            let directory = manifest.parent().unwrap_or(Path::new("."));
            for ancestor in directory.ancestors().skip(1) {
                let candidate = ancestor.join("Cargo.toml");
                let Some(workspace) = read(&candidate)? else { continue };
                if let Some(workspace) = workspace.get("workspace") {
                    return match workspace.get("package").and_then(|p| p.get("version")).and_then(toml::Value::as_str) {
                        Some(text) => parse(&candidate, text),
                        None => Err(invalid(&candidate, "no [workspace.package] version".to_owned())),
                    };
                }
            }
            Err(invalid(manifest, "version.workspace = true, but no workspace manifest above it".to_owned()))
        }
        _ => Err(invalid(manifest, "no [package] version".to_owned())),
    }
}

/// A `[workspace.dependencies]` entry that pins, by `path` and `version`, a crate whose version
/// is read from the same manifest as the client's. Cargo resolves the workspace only when each
/// pin still matches that version, so a bump must move the pins too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionPin {
    /// The dependency's name.
    pub name: String,
    /// Its `version` requirement.
    pub requirement: String,
}

/// The pins that move with the version held by `source` (the manifest
/// [`crate_version_and_source`] names): the entries of the nearest workspace's
/// `[workspace.dependencies]` (at or above `source`) whose `path` crate takes its version from
/// `source`. None when there is no workspace manifest.
pub fn version_pins(source: &Path) -> Result<Vec<VersionPin>, Error> {
    let invalid = |path: &Path, message: String| Error::Manifest { path: path.to_owned(), message };
    let directory = source.parent().unwrap_or(Path::new(""));
    let mut workspace = None;
    for ancestor in directory.ancestors() {
        let candidate = ancestor.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&candidate) else { continue };
        let table = text.parse::<toml::Table>().map_err(|e| invalid(&candidate, format!("not valid TOML: {e}")))?;
        if table.contains_key("workspace") {
            workspace = Some((ancestor.to_owned(), table));
            break;
        }
    }
    let Some((root, table)) = workspace else { return Ok(Vec::new()) };
    let same_file = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let dependencies = table.get("workspace").and_then(|w| w.get("dependencies")).and_then(toml::Value::as_table);
    let mut pins = Vec::new();
    for (name, entry) in dependencies.into_iter().flatten() {
        let (Some(path), Some(requirement)) =
            (entry.get("path").and_then(toml::Value::as_str), entry.get("version").and_then(toml::Value::as_str))
        else {
            continue;
        };
        let Ok((_, member_source)) = crate_version_and_source(&root.join(path).join("Cargo.toml")) else { continue };
        if same_file(&member_source, source) {
            pins.push(VersionPin { name: name.clone(), requirement: requirement.to_owned() });
        }
    }
    Ok(pins)
}

/// The outcome of `diff --require-bump`: whether the working tree's client version is at least
/// the one the diff requires, and whether the workspace's pins of its crates still match it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BumpCheck {
    /// The client's version at the base revision.
    pub base: semver::Version,
    /// The client's version in the working tree.
    pub current: semver::Version,
    /// The lowest version the diff allows (`base` when nothing changed).
    pub required: semver::Version,
    /// The release the diff needs.
    pub bump: Bump,
    /// Why.
    pub reason: String,
    /// The pins that move with the client's version ([`version_pins`]).
    pub pins: Vec<VersionPin>,
}

impl BumpCheck {
    /// Compares `current` (and the `pins` that move with it) with what `report` requires of a
    /// crate released as `base`.
    pub fn new(
        report: &DiffReport,
        base: semver::Version,
        current: semver::Version,
        pins: Vec<VersionPin>,
    ) -> Result<BumpCheck, String> {
        let RustApiReport::Compared { changes, code_changed, .. } = &report.rust_api else {
            return Err("the client could not be generated, so the release it needs is unknown".to_owned());
        };
        let verdict = rust_api::verdict(changes, *code_changed, Some(&base));
        let required =
            verdict.next.as_deref().and_then(|next| semver::Version::parse(next).ok()).unwrap_or(base.clone());
        Ok(BumpCheck { base, current, required, bump: verdict.bump, reason: verdict.reason, pins })
    }

    /// Whether the working tree's version is at least the required one and every pin matches it.
    pub fn passes(&self) -> bool {
        self.current >= self.required && self.stale_pins().is_empty()
    }

    /// The pins whose requirement the current version does not meet.
    fn stale_pins(&self) -> Vec<&str> {
        let meets =
            |pin: &VersionPin| semver::VersionReq::parse(&pin.requirement).is_ok_and(|r| r.matches(&self.current));
        self.pins.iter().filter(|pin| !meets(pin)).map(|pin| pin.name.as_str()).collect()
    }

    /// One sentence: the versions and, when the check fails, every edit that makes it pass and
    /// keeps the workspace resolvable (the version, and the pins that move with it).
    pub fn message(&self, manifest: &str) -> String {
        let satisfied = format!(
            "rainbond-client {} satisfies the {} release the diff needs after {} ({})",
            self.current, self.bump, self.base, self.reason
        );
        let pins: Vec<&str> = self.pins.iter().map(|pin| pin.name.as_str()).collect();
        if self.current < self.required {
            let mut message = format!(
                "rainbond-client needs a {} release after {} ({}), but its version is still {}: set version = \"{}\" \
                 ({manifest})",
                self.bump, self.base, self.reason, self.current, self.required
            );
            if !pins.is_empty() {
                message.push_str(&format!(
                    " and the version of the [workspace.dependencies] pins of {} to \"{}\" (or run `cargo xtask bump {}`, \
                     which does both)",
                    pins.join(", "),
                    self.required,
                    self.required
                ));
            }
            message
        } else if !self.stale_pins().is_empty() {
            format!(
                "{satisfied}, but the [workspace.dependencies] pins of {} do not match {}, so cargo cannot resolve the \
                 workspace: set their version to \"{}\" ({manifest}), or run `cargo xtask bump {}`",
                self.stale_pins().join(", "),
                self.current,
                self.current,
                self.current
            )
        } else {
            satisfied
        }
    }
}

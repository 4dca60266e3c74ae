//! `diff`: what an edit of the spec breaks, on the wire and in the generated client's Rust API.

use std::path::Path;

use rainbond_codegen::Spec;
use serde::Serialize;

use crate::Error;
use crate::rust_api::{self, RustApiReport};
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
    let invalid = |path: &Path, message: String| Error::Manifest { path: path.to_owned(), message };
    let read = |path: &Path| -> Result<toml::Table, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| invalid(path, format!("cannot read: {e}")))?;
        text.parse::<toml::Table>().map_err(|e| invalid(path, format!("not valid TOML: {e}")))
    };
    let parse = |path: &Path, text: &str| {
        semver::Version::parse(text).map_err(|e| invalid(path, format!("version `{text}` is not semver: {e}")))
    };
    let table = read(manifest)?;
    match table.get("package").and_then(|p| p.get("version")) {
        Some(toml::Value::String(text)) => parse(manifest, text),
        Some(toml::Value::Table(inherit)) if inherit.get("workspace").and_then(toml::Value::as_bool) == Some(true) => {
            let directory = manifest.parent().unwrap_or(Path::new("."));
            for ancestor in directory.ancestors().skip(1) {
                let candidate = ancestor.join("Cargo.toml");
                if !candidate.is_file() {
                    continue;
                }
                let workspace = read(&candidate)?;
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

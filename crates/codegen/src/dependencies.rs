//! The crates the generated code needs beyond its generators' runtimes: typify maps
//! `format: date` and `format: date-time` to chrono types and `format: uuid` to `uuid::Uuid`, and
//! the server models use the same types; progenitor's methods for dropshot's extensions call
//! `futures` (paginated operations) and `base64` and `rand` (websocket operations). A spec that
//! needs a crate the client or the server crate does not depend on is refused, naming the first
//! spec line that needs it, rather than written out as code that does not compile.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::CodegenError;
use crate::spec::{Spec, escape_token};

/// A crate that some string formats need.
struct FormatCrate {
    /// The dependency name in Cargo.toml.
    name: &'static str,
    /// The formats that need it.
    formats: &'static [&'static str],
    /// What the formats become.
    rust_types: &'static str,
}

const FORMAT_CRATES: &[FormatCrate] = &[
    FormatCrate {
        name: "chrono",
        formats: &["date", "date-time"],
        rust_types: "chrono::NaiveDate / chrono::DateTime<chrono::Utc>",
    },
    FormatCrate { name: "uuid", formats: &["uuid"], rust_types: "uuid::Uuid" },
];

/// The crate typify's code checks a string's `pattern` with.
const PATTERN_CRATE: &str = "regress";

/// The crates progenitor's client methods for an operation extension call.
struct ExtensionCrates {
    /// The operation's extension.
    extension: &'static str,
    /// The crates, by their names in Cargo.toml.
    crates: &'static [&'static str],
    /// What progenitor generates for such an operation.
    methods: &'static str,
}

const EXTENSION_CRATES: &[ExtensionCrates] = &[
    ExtensionCrates {
        extension: "x-dropshot-pagination",
        crates: &["futures"],
        methods: "a paginated operation gets progenitor's stream methods",
    },
    ExtensionCrates {
        extension: "x-dropshot-websocket",
        crates: &["base64", "rand"],
        methods: "a websocket operation gets a progenitor method that sends a random base64 `Sec-WebSocket-Key`",
    },
];

/// Checks that each manifest (a path relative to `root`) depends on every crate the spec's
/// formats need, and that the client's ([`crate::CLIENT_MANIFEST`]) depends on the crates that
/// progenitor's methods for dropshot's extensions call ([`check_extensions`]).
pub fn check(spec: &Spec, root: &Path, manifests: &[&str]) -> Result<(), CodegenError> {
    for manifest in manifests {
        let path = root.join(manifest);
        let text = std::fs::read_to_string(&path)
            .map_err(|err| CodegenError::Manifest { path: path.clone(), message: err.to_string() })?;
        check_manifest(spec, &path, &text)?;
        if *manifest == crate::CLIENT_MANIFEST {
            check_extensions(spec, &path, &text)?;
        }
    }
    Ok(())
}

/// Refuses a paginated operation (`x-dropshot-pagination`) when the client's manifest (given as
/// text) lacks `futures`, and a websocket operation (`x-dropshot-websocket`) when it lacks
/// `base64` or `rand`, naming the first such operation's extension.
pub fn check_extensions(spec: &Spec, manifest: &Path, text: &str) -> Result<(), CodegenError> {
    let has = dependency_names(manifest, text)?;
    let operations = crate::progenitor_limits::operations(spec);
    for needed in EXTENSION_CRATES {
        let Some(missing) = needed.crates.iter().find(|name| !has.contains(**name)) else { continue };
        if let Some(op) = operations.iter().find(|op| op.operation.get(needed.extension).is_some()) {
            return Err(CodegenError::Unsupported {
                location: spec.location(&format!("{}/{}", op.pointer, needed.extension)),
                message: format!(
                    "{}, which use `{missing}`, but {} does not depend on it: add `{missing} = {{ workspace = true }}` \
                     to its [dependencies], or drop `{}`",
                    needed.methods,
                    display(manifest),
                    needed.extension
                ),
            });
        }
    }
    Ok(())
}

/// The names under `[dependencies]` of a manifest (given as text).
fn dependency_names(manifest: &Path, text: &str) -> Result<std::collections::BTreeSet<String>, CodegenError> {
    let parsed: toml::Table = toml::from_str(text)
        .map_err(|err| CodegenError::Manifest { path: manifest.to_owned(), message: err.to_string() })?;
    let dependencies = parsed.get("dependencies").and_then(toml::Value::as_table);
    Ok(dependencies.map(|deps| deps.keys().cloned().collect()).unwrap_or_default())
}

/// Checks one manifest's `[dependencies]` (given as text) against the spec's formats.
pub fn check_manifest(spec: &Spec, manifest: &Path, text: &str) -> Result<(), CodegenError> {
    let has = dependency_names(manifest, text)?;
    for needed in FORMAT_CRATES {
        if has.contains(needed.name) {
            continue;
        }
        if let Some((pointer, format)) = first_format(&spec.document, String::new(), needed.formats) {
            return Err(CodegenError::Unsupported {
                location: spec.location(&pointer),
                message: format!(
                    "`format: {format}` is generated as {}, but {} does not depend on `{}`: add \
                     `{} = {{ workspace = true }}` to its [dependencies], or drop the format",
                    needed.rust_types,
                    display(manifest),
                    needed.name,
                    needed.name
                ),
            });
        }
    }
    if !has.contains(PATTERN_CRATE)
        && let Some((pointer, _)) = first_string_keyword(&spec.document, String::new(), "pattern", &|_| true)
    {
        return Err(CodegenError::Unsupported {
            location: spec.location(&pointer),
            message: format!(
                "typify checks a `pattern` with `regress`, but {} does not depend on it: add \
                 `{PATTERN_CRATE} = {{ workspace = true }}` to its [dependencies], or drop the pattern",
                display(manifest)
            ),
        });
    }
    Ok(())
}

fn display(manifest: &Path) -> String {
    let components: Vec<_> = manifest.components().collect();
    let tail = &components[components.len().saturating_sub(3)..];
    tail.iter().collect::<PathBuf>().display().to_string()
}

/// The pointer (to its `format`) and the format of the first string schema using one of `formats`.
fn first_format(value: &Value, pointer: String, formats: &[&str]) -> Option<(String, String)> {
    first_string_keyword(value, pointer, "format", &|format| formats.contains(&format))
}

/// The pointer (to `keyword`) and the value of the first string schema whose `keyword` `accept`s.
fn first_string_keyword(
    value: &Value,
    pointer: String,
    keyword: &str,
    accept: &dyn Fn(&str) -> bool,
) -> Option<(String, String)> {
    let child = |child: &Value, key: String| first_string_keyword(child, format!("{pointer}/{key}"), keyword, accept);
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("string")
                && let Some(found) = map.get(keyword).and_then(Value::as_str)
                && accept(found)
            {
                return Some((format!("{pointer}/{keyword}"), found.to_owned()));
            }
            map.iter().find_map(|(key, value)| child(value, escape_token(key)))
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(index, value)| child(value, index.to_string())),
        _ => None,
    }
}

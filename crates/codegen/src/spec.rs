//! Reading an OpenAPI 3.0 document: YAML → JSON tree → [`openapiv3::OpenAPI`], with errors that
//! name the file, the line and the problem, and a locator from JSON pointers to source lines.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A loaded, structurally valid OpenAPI 3.0.x document.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Where the document was read from (as given).
    pub path: PathBuf,
    /// The document as a JSON tree, for pointer lookups.
    pub document: Value,
    /// The document as openapiv3's typed model.
    pub openapi: openapiv3::OpenAPI,
    locator: Locator,
}

/// Why a document could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("{path}: cannot read the file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid document; `location` says where when it is known.
    #[error("{location}: {message}")]
    Invalid {
        /// File, line and JSON pointer of the problem.
        location: Location,
        /// What is wrong, in words.
        message: String,
    },
}

/// A place in a spec file: the file, a 1-based line when known, and a JSON pointer when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: Option<usize>,
    /// JSON pointer into the document (`""` is the root).
    pub pointer: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(pointer) = &self.pointer {
            write!(f, " (at {})", display_pointer(pointer))?;
        }
        Ok(())
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "the document root" } else { pointer }
}

impl Spec {
    /// Reads and validates the document at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SpecError> {
        let path = path.as_ref();
        let source =
            std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.to_owned(), source })?;
        Self::parse(path, &source)
    }

    /// Parses `source` as the document found at `path` (used in messages only).
    pub fn parse(path: impl AsRef<Path>, source: &str) -> Result<Self, SpecError> {
        let path = path.as_ref().to_owned();
        let invalid = |line: Option<usize>, pointer: Option<String>, message: String| SpecError::Invalid {
            location: Location { path: path.clone(), line, pointer },
            message,
        };

        let document: Value = yaml_serde::from_str(source).map_err(|err| {
            let line = err.location().map(|l| l.line());
            invalid(line, None, format!("invalid YAML: {err}"))
        })?;
        let locator = Locator::new(source);
        let at = |pointer: &str| locator.line(pointer);

        if !document.is_object() {
            return Err(invalid(Some(1), Some(String::new()), "the document is not a YAML mapping".into()));
        }
        match document.get("openapi") {
            Some(Value::String(version)) if version.starts_with("3.0.") => {}
            Some(Value::String(version)) => {
                return Err(invalid(
                    at("/openapi"),
                    Some("/openapi".into()),
                    format!(
                        "OpenAPI {version} is not supported: the generators read OpenAPI 3.0.x only \
                         (write `openapi: 3.0.3`; express nullability with `nullable: true`)"
                    ),
                ));
            }
            Some(_) => {
                return Err(invalid(
                    at("/openapi"),
                    Some("/openapi".into()),
                    "`openapi` must be a version string such as 3.0.3".into(),
                ));
            }
            None => {
                return Err(invalid(
                    Some(1),
                    Some(String::new()),
                    "missing `openapi: 3.0.x`: this is not an OpenAPI 3.0 document".into(),
                ));
            }
        }

        let mut refs = Vec::new();
        collect_refs(&document, String::new(), &mut refs);
        for (pointer, target) in refs {
            let resolved = target.strip_prefix('#').filter(|p| p.is_empty() || p.starts_with('/'));
            let Some(target_pointer) = resolved else {
                return Err(invalid(
                    at(&pointer),
                    Some(pointer),
                    format!("`$ref: {target}` points outside this file; only local references (`#/…`) are supported"),
                ));
            };
            if document.pointer(target_pointer).is_none() {
                return Err(invalid(
                    at(&pointer),
                    Some(pointer),
                    format!("unresolved reference `$ref: {target}`: nothing is defined at {target_pointer}"),
                ));
            }
        }

        let openapi: openapiv3::OpenAPI = serde_path_to_error::deserialize(&document).map_err(|err| {
            let pointer = path_to_pointer(err.path());
            invalid(at(&pointer), Some(pointer), format!("not a valid OpenAPI 3.0 document: {}", err.inner()))
        })?;

        Ok(Spec { path, document, openapi, locator })
    }

    /// The 1-based line of the node at `pointer`, or of its nearest ancestor present in the file.
    pub fn line(&self, pointer: &str) -> Option<usize> {
        self.locator.line(pointer)
    }

    /// A [`Location`] in this document.
    pub fn location(&self, pointer: &str) -> Location {
        Location { path: self.path.clone(), line: self.line(pointer), pointer: Some(pointer.to_owned()) }
    }

    /// Follows a local `$ref` (`#/components/...`) to its target.
    pub fn resolve(&self, reference: &str) -> Option<&Value> {
        self.document.pointer(reference.strip_prefix('#')?)
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn collect_refs(value: &Value, pointer: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_pointer = format!("{pointer}/{}", escape_token(key));
                if holds_literal_data(&pointer, key) {
                    continue;
                }
                if key == "$ref" {
                    if let Value::String(target) = child {
                        out.push((child_pointer, target.clone()));
                    }
                } else {
                    collect_refs(child, child_pointer, out);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_refs(child, format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// Whether the member `key` of the object at `pointer` is data rather than OpenAPI (an example's
/// value, a default, enum values, an extension), where a `$ref` key is just a key.
fn holds_literal_data(pointer: &str, key: &str) -> bool {
    const LITERAL_KEYWORDS: &[&str] = &["example", "default", "enum", "const"];
    let in_example_object = pointer.rsplit('/').nth(1) == Some("examples");
    LITERAL_KEYWORDS.contains(&key) || key.starts_with("x-") || (key == "value" && in_example_object)
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&escape_token(key));
            }
            Segment::Unknown => break,
        }
    }
    pointer
}

/// Maps JSON pointers to the 1-based line where the node (or its mapping key) starts.
#[derive(Debug, Clone, Default)]
struct Locator {
    lines: BTreeMap<String, usize>,
}

impl Locator {
    fn new(source: &str) -> Self {
        let mut lines = BTreeMap::new();
        // A file marked-yaml cannot read (anchors, aliases) still loads; it just has no lines.
        if let Ok(node) = marked_yaml::parse_yaml(0, source) {
            lines.insert(String::new(), 1);
            index_node(&node, String::new(), &mut lines);
        }
        Locator { lines }
    }

    fn line(&self, pointer: &str) -> Option<usize> {
        let mut current = pointer;
        loop {
            if let Some(line) = self.lines.get(current) {
                return Some(*line);
            }
            let cut = current.rfind('/')?;
            current = &current[..cut];
        }
    }
}

fn index_node(node: &marked_yaml::Node, pointer: String, lines: &mut BTreeMap<String, usize>) {
    match node {
        marked_yaml::Node::Mapping(map) => {
            for (key, child) in map.iter() {
                let child_pointer = format!("{pointer}/{}", escape_token(key.as_str()));
                let line = key.span().start().or(child.span().start()).map(|m| m.line());
                if let Some(line) = line {
                    lines.insert(child_pointer.clone(), line);
                }
                index_node(child, child_pointer, lines);
            }
        }
        marked_yaml::Node::Sequence(items) => {
            for (index, child) in items.iter().enumerate() {
                let child_pointer = format!("{pointer}/{index}");
                if let Some(mark) = child.span().start() {
                    lines.insert(child_pointer.clone(), mark.line());
                }
                index_node(child, child_pointer, lines);
            }
        }
        marked_yaml::Node::Scalar(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "openapi: 3.0.3\ninfo:\n  title: t\n  version: '1'\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: object\n      properties:\n        b:\n          $ref: '#/components/schemas/B'\n    B:\n      type: string\n";

    #[test]
    fn locates_pointers_at_their_key_lines() {
        let spec = Spec::parse("t.yaml", MINIMAL).unwrap();
        assert_eq!(spec.line(""), Some(1));
        assert_eq!(spec.line("/components/schemas/A"), Some(8));
        assert_eq!(spec.line("/components/schemas/A/properties/b"), Some(11));
        // Missing nodes fall back to the nearest ancestor.
        assert_eq!(spec.line("/components/schemas/A/properties/zzz"), Some(10));
    }

    #[test]
    fn unresolved_ref_names_file_line_and_target() {
        let source = MINIMAL.replace("schemas/B'", "schemas/Missing'");
        let err = Spec::parse("t.yaml", &source).unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:12 (at /components/schemas/A/properties/b/$ref)"), "{err}");
        assert!(err.contains("#/components/schemas/Missing"), "{err}");
    }

    #[test]
    fn a_ref_key_in_example_data_is_data_but_a_real_external_ref_is_refused() {
        let data = "      example:\n        $ref: https://example.com/not/a/reference\n";
        let source = format!("{MINIMAL}{data}");
        assert_ne!(source, MINIMAL);
        Spec::parse("t.yaml", &source).expect("an example's `$ref` key is data");
        let external = MINIMAL.replace("'#/components/schemas/B'", "'https://example.com/B'");
        let err = Spec::parse("t.yaml", &external).unwrap_err().to_string();
        assert!(err.contains("points outside this file"), "{err}");
    }

    #[test]
    fn openapi_3_1_is_refused_with_the_line() {
        let err = Spec::parse("t.yaml", &MINIMAL.replace("3.0.3", "3.1.0")).unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:1 (at /openapi): OpenAPI 3.1.0 is not supported"), "{err}");
    }

    #[test]
    fn invalid_yaml_names_the_line() {
        let err = Spec::parse("t.yaml", "openapi: 3.0.3\ninfo: [unclosed\n").unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:"), "{err}");
        assert!(err.contains("invalid YAML"), "{err}");
    }

    #[test]
    fn structural_errors_carry_a_pointer() {
        let source = MINIMAL.replace("type: string\n", "type: 12\n");
        let err = Spec::parse("t.yaml", &source).unwrap_err().to_string();
        assert!(err.contains("/components/schemas/B"), "{err}");
        assert!(err.contains("not a valid OpenAPI 3.0 document"), "{err}");
    }
}

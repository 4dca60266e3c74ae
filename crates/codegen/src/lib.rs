//! Generates the Rust bindings of openapi.yaml: the client crate's modules (with progenitor: the
//! client, its `httpmock` helpers, and the CLI crate's commands) and
//! the generated modules of the `rainbond-api` crate (models, the API trait, the axum router and
//! the code-built OpenAPI document).
//!
//! Everything here is deterministic: the same spec and the same pinned generator versions give
//! byte-identical files. [`generate`] returns the files in memory; [`stale_files`] compares them
//! with the tree and [`write_files`] writes the ones that changed.

pub mod client;
pub mod dependencies;
pub mod progenitor_limits;
pub mod server;
pub mod spec;

use std::path::{Path, PathBuf};

pub use spec::{Location, Spec, SpecError};

/// The spec's path, relative to the workspace root.
pub const SPEC_PATH: &str = "openapi.yaml";
/// The client crate's generated module, relative to the workspace root.
pub const CLIENT_OUTPUT: &str = "crates/client/src/generated.rs";
/// The client crate's generated schema registry, relative to the workspace root.
pub const CLIENT_SCHEMAS_OUTPUT: &str = "crates/client/src/schemas.rs";
/// The client crate's generated `httpmock` helpers (its `mock` feature), relative to the
/// workspace root.
pub const CLIENT_MOCK_OUTPUT: &str = "crates/client/src/mock/generated.rs";
/// The CLI crate's generated commands, relative to the workspace root.
pub const CLI_OUTPUT: &str = "crates/cli/src/generated.rs";
/// The client crate's manifest, relative to the workspace root.
pub const CLIENT_MANIFEST: &str = "crates/client/Cargo.toml";
/// The manifests of the crates that compile generated code, relative to the workspace root:
/// [`dependencies::check`] makes sure they depend on what the spec's formats need.
pub const GENERATED_CODE_MANIFESTS: &[&str] = &[CLIENT_MANIFEST, "crates/api/Cargo.toml"];
/// The `rainbond-api` crate's generated folder, relative to the workspace root. The generator owns
/// every file in it; the rest of the crate (its `runtime` module) is written by hand.
pub const API_OUTPUT_DIR: &str = "crates/api/src/generated";

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The spec could not be read or is not a valid OpenAPI 3.0 document.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The spec uses something a generator cannot express; `location` says where.
    #[error("{location}: {message}")]
    Unsupported {
        /// Where in the spec.
        location: Location,
        /// What is unsupported and what to write instead.
        message: String,
    },
    /// Two different schemas would get one Rust type name (typify would silently use the first
    /// for both); `location` says where the second one is.
    #[error("{location}: {message}")]
    NameClash {
        /// Where in the spec.
        location: Location,
        /// Which names clash and what to do.
        message: String,
    },
    /// A generator failed (progenitor reports some unsupported constructs by panicking).
    #[error("{generator} could not generate code from the spec: {message}")]
    Generator {
        /// Which generator.
        generator: &'static str,
        /// Its message.
        message: String,
    },
    /// A crate manifest could not be read.
    #[error("{path}: cannot read the crate manifest: {message}")]
    Manifest {
        /// The Cargo.toml.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Generated tokens did not parse as Rust (a bug in a generator).
    #[error("{generator} produced invalid Rust: {message}")]
    InvalidOutput {
        /// Which generator.
        generator: &'static str,
        /// The parse error.
        message: String,
    },
}

/// One generated file: its path relative to the workspace root, and its full contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to the workspace root, with `/` separators.
    pub path: String,
    /// The complete contents, header included.
    pub contents: String,
}

/// Every file generated from `spec`: the client module and the api crate's generated folder.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, CodegenError> {
    let spec_name = spec_display_name(spec);
    // What progenitor would panic on is refused first, with its line; then the server generator
    // checks the spec's shape, with its own refusals.
    progenitor_limits::check(spec)?;
    // The server generator's refusals (with their lines) come before progenitor's errors.
    let api = in_server_generator(|| server::ir::read(spec))?;
    let (client_tokens, type_space) = client::client_and_type_space_tokens(spec)?;
    let server_files = in_server_generator(|| server::emit(&api, || Ok(type_space)))?;
    let mut files = vec![GeneratedFile {
        path: CLIENT_OUTPUT.to_owned(),
        contents: render("progenitor", &spec_name, client_tokens)?,
    }];
    files.push(GeneratedFile {
        path: CLIENT_SCHEMAS_OUTPUT.to_owned(),
        contents: render("rainbond-codegen", &spec_name, client::schema_registry_tokens(spec))?,
    });
    files.push(GeneratedFile {
        path: CLIENT_MOCK_OUTPUT.to_owned(),
        contents: render("progenitor", &spec_name, client::mock_tokens(spec)?)?,
    });
    files.push(GeneratedFile {
        path: CLI_OUTPUT.to_owned(),
        contents: render("progenitor", &spec_name, client::cli_tokens(spec)?)?,
    });
    for (name, tokens) in server_files {
        files.push(GeneratedFile {
            path: format!("{API_OUTPUT_DIR}/{name}"),
            contents: render("rainbond-codegen", &spec_name, tokens)?,
        });
    }
    Ok(files)
}

/// Runs the server generator, a panic in it (a bug) reported as an error without panic output.
fn in_server_generator<T>(run: impl FnOnce() -> Result<T, CodegenError>) -> Result<T, CodegenError> {
    progenitor_limits::catch_panic(run).map_err(|message| CodegenError::Generator {
        generator: "rainbond-codegen",
        message: progenitor_limits::panic_reason(&message),
    })?
}

/// What the generated router does that the spec does not say, in spec order: the rejections an
/// operation answers with a status it does not document (one entry per operation), and the
/// response media types it does not answer with. Generation goes on, and `codegen` and
/// `rainbond-check check` report them as warnings.
pub fn server_warnings(spec: &Spec) -> Result<Vec<server::ir::Undocumented>, CodegenError> {
    Ok(server::ir::read(spec)?.warnings())
}

/// The names under `components/schemas`, in spec order.
pub(crate) fn spec_schema_names(spec: &Spec) -> Vec<String> {
    spec.document
        .pointer("/components/schemas")
        .and_then(|s| s.as_object())
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default()
}

fn spec_display_name(spec: &Spec) -> String {
    spec.path.file_name().map_or_else(|| SPEC_PATH.to_owned(), |name| name.to_string_lossy().into_owned())
}

/// Keywords that the crates' edition (2024) reserves but syn reads as identifiers, and that
/// progenitor and typify write bare (`gen: &mut schemars::gen::SchemaGenerator`, a property `gen`).
pub const EDITION_KEYWORDS: &[&str] = &["gen"];

/// `tokens` with every identifier in [`EDITION_KEYWORDS`] made raw (`r#gen`), which means the same
/// and compiles in the 2024 edition.
fn raw_edition_keywords(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Ident, TokenTree};
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Ident(ident) if EDITION_KEYWORDS.iter().any(|keyword| ident == keyword) => {
                TokenTree::Ident(Ident::new_raw(&ident.to_string(), ident.span()))
            }
            TokenTree::Group(group) => {
                let mut raw = Group::new(group.delimiter(), raw_edition_keywords(group.stream()));
                raw.set_span(group.span());
                TokenTree::Group(raw)
            }
            other => other,
        })
        .collect()
}

/// Formats `tokens` with prettyplease under the header every generated file starts with.
pub fn render(
    generator: &'static str,
    spec_name: &str,
    tokens: proc_macro2::TokenStream,
) -> Result<String, CodegenError> {
    let tokens = raw_edition_keywords(tokens);
    let file: syn::File =
        syn::parse2(tokens).map_err(|err| CodegenError::InvalidOutput { generator, message: err.to_string() })?;
    Ok(format!("{}{}", header(spec_name), space_out_items(&prettyplease::unparse(&file))))
}

/// Puts a blank line between items, which prettyplease prints back to back. Only blank lines are
/// inserted (string literals never span lines in prettyplease output), so the code is unchanged.
fn space_out_items(code: &str) -> String {
    const ITEM_STARTS: &[&str] = &[
        "#[", "///", "pub ", "pub(", "impl", "fn ", "async fn", "struct ", "enum ", "mod ", "trait ", "type ",
        "const ", "static ", "use ",
    ];
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    let mut previous = "";
    for line in code.lines() {
        let current = line.trim_start();
        let after_item = previous == "}"
            || previous.ends_with("});")
            || (previous.ends_with(';')
                && !previous.starts_with("use ")
                && !previous.starts_with("pub use ")
                && line.len() - current.len() == 0);
        let after_header = (previous.starts_with("//!") || previous.starts_with("#!["))
            && !current.starts_with("//!")
            && !current.starts_with("#![");
        let after_uses = (previous.starts_with("use ") || previous.starts_with("pub use "))
            && previous.ends_with(';')
            && !current.starts_with("use ")
            && !current.starts_with("pub use ");
        if (after_item || after_header || after_uses) && ITEM_STARTS.iter().any(|start| current.starts_with(start)) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = current;
    }
    out
}

/// The header of every generated file. `@generated` also makes rustfmt leave the file alone.
pub fn header(spec_name: &str) -> String {
    format!(
        "// @generated by `cargo xtask codegen` from {spec_name}. Do not edit by hand:\n\
         // edit {spec_name} and run `cargo xtask codegen`. `cargo xtask codegen --check` fails when\n\
         // this file is stale.\n\n"
    )
}

/// How a file on disk differs from what the generator produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    /// The file does not exist.
    Missing,
    /// The file's contents differ; the unified diff (committed → generated) is attached.
    Changed {
        /// A unified diff, cut to a readable length.
        diff: String,
    },
    /// The file sits in a generated folder but the generator no longer produces it.
    Extra,
}

/// A generated file that is not up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleFile {
    /// Relative to the workspace root.
    pub path: String,
    /// How it differs.
    pub staleness: Staleness,
}

/// The most diff lines shown per stale file.
const DIFF_LINES: usize = 40;

/// Compares `files` with the tree under `root`: which are missing, different or extra.
pub fn stale_files(root: &Path, files: &[GeneratedFile]) -> std::io::Result<Vec<StaleFile>> {
    let mut stale = Vec::new();
    for file in files {
        match std::fs::read_to_string(root.join(&file.path)) {
            Ok(current) if normalize_newlines(&current) == file.contents => {}
            Ok(current) => {
                stale.push(StaleFile {
                    path: file.path.clone(),
                    staleness: Staleness::Changed { diff: short_diff(&file.path, &current, &file.contents) },
                });
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                stale.push(StaleFile { path: file.path.clone(), staleness: Staleness::Missing });
            }
            Err(err) => return Err(err),
        }
    }
    for path in extra_files(root, files)? {
        stale.push(StaleFile { path, staleness: Staleness::Extra });
    }
    Ok(stale)
}

/// Writes the files whose contents changed and removes extra files from generated folders.
/// Returns the paths it touched; files already up to date are left alone (so cargo does not
/// rebuild them).
pub fn write_files(root: &Path, files: &[GeneratedFile]) -> std::io::Result<Vec<String>> {
    let mut touched = Vec::new();
    for stale in stale_files(root, files)? {
        let target = root.join(&stale.path);
        match stale.staleness {
            Staleness::Extra => std::fs::remove_file(&target)?,
            Staleness::Missing | Staleness::Changed { .. } => {
                let file = files.iter().find(|f| f.path == stale.path).expect("stale files come from `files`");
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&target, &file.contents)?;
            }
        }
        touched.push(stale.path);
    }
    Ok(touched)
}

fn extra_files(root: &Path, files: &[GeneratedFile]) -> std::io::Result<Vec<String>> {
    let dir = root.join(API_OUTPUT_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut extra = Vec::new();
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let path = format!("{API_OUTPUT_DIR}/{name}");
        if !files.iter().any(|f| f.path == path) {
            extra.push(path);
        }
    }
    extra.sort();
    Ok(extra)
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn short_diff(path: &str, current: &str, generated: &str) -> String {
    let current = normalize_newlines(current);
    let diff = similar::TextDiff::from_lines(current.as_str(), generated);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(&format!("{path} (on disk)"), &format!("{path} (generated)"))
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= DIFF_LINES {
        return text;
    }
    let mut out = lines[..DIFF_LINES].join("\n");
    out.push_str(&format!("\n... {} more diff lines\n", lines.len() - DIFF_LINES));
    out
}

/// No folder at or above the start holds both openapi.yaml and Cargo.toml.
#[derive(Debug, thiserror::Error)]
#[error("no folder at or above {} holds {SPEC_PATH} and Cargo.toml: run this inside the workspace", start.display())]
pub struct WorkspaceRootNotFound {
    /// Where the search started.
    pub start: PathBuf,
}

/// The workspace root of the tree this process runs in: the nearest folder at or above
/// `CARGO_MANIFEST_DIR` (which `cargo run` and `cargo test` set for the process they start) or,
/// without it, the current directory, that holds openapi.yaml and Cargo.toml.
///
/// Found at run time, never at compile time: a binary built in one checkout and reused from a
/// shared target directory by another acts on the tree it is run in.
pub fn workspace_root() -> Result<PathBuf, WorkspaceRootNotFound> {
    let start = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    find_workspace_root(&start).ok_or(WorkspaceRootNotFound { start })
}

/// The nearest folder at or above `start` that holds openapi.yaml and Cargo.toml.
pub fn find_workspace_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(SPEC_PATH).is_file() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_is_the_nearest_folder_with_the_spec_and_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checkout");
        let nested = root.join("crates/codegen/src");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(root.join("crates/Cargo.toml"), "").unwrap();
        assert_eq!(find_workspace_root(&nested), None, "Cargo.toml alone is not the root");
        std::fs::write(root.join(SPEC_PATH), "").unwrap();
        std::fs::write(root.join("Cargo.toml"), "").unwrap();
        assert_eq!(find_workspace_root(&nested), Some(root.clone()));
        assert_eq!(find_workspace_root(&root), Some(root));
    }
}

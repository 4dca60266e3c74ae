//! Contract checks for the copy-app API.
//!
//! - [`check`](check::check): openapi.yaml against what the Rust code says the API is: the
//!   server's utoipa document (OpenAPI 3.1, served at `/openapi.json`) and the schemars 0.8
//!   schemas of the server's models and of the client's types ([`CodeView`]). Both sides are read
//!   into one canonical form ([`schema::Shape`]) first, so dialect differences (3.0 `nullable`,
//!   3.1 type arrays, null branches, `allOf` wrappers, `definitions` paths, unsigned formats) are
//!   not drift. Every difference is a [`Finding`] with a JSON pointer and a line in the spec.
//!   It also holds the table of error codes in the spec to the codes the server answers
//!   ([`error_codes`]).
//! - [`diff`](diff::diff): what an edit of the spec breaks, for clients on the wire (oasdiff's
//!   ERR/WARN/INFO levels and rule ids, [`wire`]) and for the Rust API of the generated client
//!   ([`rust_api`]), with the semver bump `rainbond-client` needs.
//!
//! The `rainbond-check` binary (`cargo xtask check`, `cargo xtask diff`) prints either report
//! as text, JSON or GitHub annotations ([`render`]). See README.md for the finding kinds, the
//! rule ids, the JSON shapes and the exit codes.

pub mod check;
pub mod code;
pub mod diff;
pub mod error_codes;
pub mod git;
pub mod openapi;
pub mod pointer;
pub mod render;
pub mod rust_api;
pub mod schema;
pub mod wire;

use std::path::PathBuf;

pub use check::{CheckOptions, Finding, FindingKind, Report, Unverified, check};
pub use code::{CodeView, Source};
pub use diff::{DiffOptions, DiffReport, diff};
pub use rainbond_codegen::{Spec, SpecError};

/// Why a check or diff could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A spec could not be read or is not a valid OpenAPI 3.0 document.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A code source could not be turned into JSON.
    #[error("cannot read the code's schemas as JSON: {0}")]
    CodeToJson(#[source] serde_json::Error),
    /// [`CodeView::set_schemars`] was given a source that is not a schema registry.
    #[error("{0} is not a schema registry")]
    NotARegistry(Source),
    /// `git` failed.
    #[error("git {command}: {message}")]
    Git {
        /// The git command line, after `git`.
        command: String,
        /// What git said.
        message: String,
    },
    /// The base revision is not in this clone.
    #[error(
        "revision `{revision}` is not in this clone{shallow}: fetch it (`git fetch --deepen=1`, \
         `git fetch --unshallow` or `git fetch origin {revision}`) or compare files with \
         `diff OLD NEW`",
        shallow = if *.shallow { " (it is a shallow clone)" } else { "" }
    )]
    MissingRevision {
        /// The revision asked for.
        revision: String,
        /// Whether the repository is a shallow clone.
        shallow: bool,
    },
    /// A Cargo manifest could not be read.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

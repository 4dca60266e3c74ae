//! The server half of the Rainbond copy-app API, generated from openapi.yaml.
//!
//! - [`models`]: one type per schema of the spec;
//! - [`api`]: the [`api::Api`] trait (one method per operation), one response enum per operation,
//!   [`api::router`] that serves any implementation of the trait, and [`api::ApiDoc`], the
//!   OpenAPI document the code describes;
//! - [`runtime`]: what the generated code needs and the spec does not decide: rejections, JSON
//!   body and credential extraction, JSON responses, serde and schemars helpers;
//! - [`codes`]: every error code the server answers, with its status (checked against the spec
//!   by `rainbond-check`).
//!
//! `models` and `api` are written by `cargo xtask codegen` (never edited by hand); `runtime` and
//! `codes` are written by hand. Implement [`api::Api`] in another crate and serve it with [`api::router`].

#[rustfmt::skip]
mod generated;

pub mod codes;
pub mod runtime;

pub use generated::{api, models};

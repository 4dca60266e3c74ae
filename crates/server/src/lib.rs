//! The reference server of the Rainbond copy-app API.
//!
//! - [`generated`]: models, the `Api` trait and its router, generated from openapi.yaml by
//!   `cargo xtask codegen` (never edited by hand);
//! - [`service`]: the hand-written implementation of that trait (auth, validation, the copy);
//! - [`copy`]: the copy semantics, independent of storage;
//! - [`store`]: persistence (SQLite) behind the [`store::Repository`] trait;
//! - [`fixture`]: demo and test data sets; [`http`]: the full HTTP surface.

#[rustfmt::skip]
pub mod generated;

pub mod clock;
pub mod copy;
pub mod error;
pub mod fixture;
pub mod http;
pub mod model;
pub mod service;
pub mod store;

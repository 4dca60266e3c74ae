//! The reference server of the Rainbond copy-app API.
//!
//! - [`service`]: the implementation of `rainbond_api`'s generated `Api` trait (auth,
//!   validation, the copy);
//! - [`copy`]: the copy semantics, independent of storage; [`idempotency`]: the rules of
//!   `Idempotency-Key`;
//! - [`store`]: persistence (SQLite) behind the [`store::Repository`] trait;
//! - [`fixture`]: demo and test data sets; [`http`]: the full HTTP surface, served within the
//!   [`limits`] against slow and greedy clients;
//! - [`observe`]: request ids, the request's log span and line; [`metrics`]: `GET /metrics`.

pub mod access_key;
pub mod clock;
pub mod copy;
pub mod error;
pub mod fixture;
pub mod http;
pub mod idempotency;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod observe;
pub mod service;
pub mod store;

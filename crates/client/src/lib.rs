//! Typed client for the Rainbond copy-app API.
#[allow(missing_docs)]
#[rustfmt::skip]
mod generated;
#[rustfmt::skip]
pub mod schemas;

pub use generated::*;

//! Typed client for the Rainbond copy-app API.
#[allow(missing_docs)]
#[rustfmt::skip]
mod generated;
pub use generated::*;

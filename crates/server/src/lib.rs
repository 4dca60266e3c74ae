//! The reference server of the copy-app API.
#[rustfmt::skip]
pub mod generated;

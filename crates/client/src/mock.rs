//! Typed [`httpmock`] helpers for testing code that uses the client, without a Rainbond server
//! (feature `mock`).
//!
//! [`MockServerExt`] adds one method per operation to [`httpmock::MockServer`]; its closure gets
//! the operation's `When` and `Then` wrappers ([`operations`]), whose methods take the
//! operation's own parameter and response types, so a mock cannot drift from the spec:
//!
//! ```
//! use rainbond_client::mock::{MockServerExt, httpmock::MockServer};
//! use rainbond_client::{Client, types};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = MockServer::start_async().await;
//! let listing = server.list_copy_services(|when, then| {
//!     when.team_id("o19p6wen").region_name("rainbond").app_id("1");
//!     then.ok(&vec![]);
//! });
//! let client = Client::new(&server.base_url());
//! let components = client.list_copy_services().team_id("o19p6wen").region_name("rainbond").app_id("1").send().await;
//! assert_eq!(components.unwrap().into_inner(), Vec::<types::AppCopyL>::new());
//! listing.assert_async().await;
//! # }
//! ```
//!
//! `httpmock` is re-exported, so the version matches the generated code. Each wrapper's
//! `into_inner()` gives the plain `When`/`Then`, to send what the spec does not describe.

pub use httpmock;

#[allow(missing_docs, clippy::all)]
#[rustfmt::skip]
mod generated;

pub use generated::*;

//! The server generator: from a spec, the models, an `Api` trait with one method per operation,
//! the axum router that serves any implementation of it, and the code-built OpenAPI document.
//!
//! Output files (in `rainbond-api`'s `src/generated/`), which use the crate's hand-written
//! `runtime` module for everything that does not depend on the spec:
//! - `models.rs`: one type per schema, with serde, `utoipa::ToSchema` and `schemars::JsonSchema`
//!   derives that describe exactly what the spec says (required, nullable, readOnly, formats);
//! - `api.rs`: per operation a path/query struct and a response enum with one variant per
//!   documented status; the `Api` trait; `router()`, which turns every extractor rejection into
//!   the spec's error body; `ApiDoc`, the utoipa document of the same operations;
//! - `mod.rs`: the module declarations.

mod emit_api;
mod emit_models;
mod foreign;
pub mod ir;

use proc_macro2::TokenStream;
use quote::quote;

use crate::{CodegenError, spec::Spec};

/// The generated server files (name within the generated folder, tokens), in a fixed order.
pub fn generate(spec: &Spec) -> Result<Vec<(&'static str, TokenStream)>, CodegenError> {
    emit(&ir::read(spec)?, || crate::client::type_space_tokens(spec))
}

/// The generated server files for `api` (the spec as [`ir::read`] reads it), with typify's types
/// for the spec from `type_space` (run only when the spec has schemas the server takes from
/// typify).
pub fn emit(
    api: &ir::Api,
    type_space: impl FnOnce() -> Result<TokenStream, CodegenError>,
) -> Result<Vec<(&'static str, TokenStream)>, CodegenError> {
    let foreign = foreign::emit(api, type_space)?;
    let models = emit_models::emit(api, foreign)?;
    let api_tokens = emit_api::emit(api);
    let module = quote! {
        //! The spec's models, the `Api` trait and its router.
        //!
        //! Implement [`api::Api`] in hand-written code and serve it with [`api::router`].

        pub mod api;
        pub mod models;
    };
    Ok(vec![("mod.rs", module), ("models.rs", models), ("api.rs", api_tokens)])
}

/// `#[doc = "..."]` attributes for a text, one per line, so that it prints as `///` comments.
pub(crate) fn doc_lines(text: &str) -> TokenStream {
    let lines = text.trim_end().lines().map(|line| {
        let line = if line.is_empty() { String::new() } else { format!(" {line}") };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// An identifier, raw when it is a Rust keyword.
pub(crate) fn ident(name: &str) -> proc_macro2::Ident {
    if syn::parse_str::<syn::Ident>(name).is_ok() && !crate::EDITION_KEYWORDS.contains(&name) {
        proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
    } else {
        proc_macro2::Ident::new_raw(name, proc_macro2::Span::call_site())
    }
}

//! The client generator: progenitor's `Generator`, builder interface, merged tags.

use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle, TagStyle};

use crate::{CodegenError, progenitor_limits, spec::Spec};

/// Derives added to every generated client type, beyond progenitor's own
/// (`Serialize`, `Deserialize`, `Debug`, `Clone`).
///
/// `schemars::JsonSchema` lets `rainbond-check` compare the client's types with the spec;
/// `PartialEq` lets users compare values in their tests.
pub const CLIENT_DERIVES: &[&str] = &["schemars::JsonSchema", "PartialEq"];

/// The progenitor settings used for the client crate.
pub fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings.with_interface(InterfaceStyle::Builder).with_tag(TagStyle::Merged);
    for derive in CLIENT_DERIVES {
        settings.with_derive(*derive);
    }
    settings
}

/// Generates the client's Rust source (unformatted tokens) for `spec` (see [`run_progenitor`]
/// for how progenitor's panics are reported).
pub fn generate_tokens(spec: &Spec) -> Result<proc_macro2::TokenStream, CodegenError> {
    run_progenitor(spec, |generator, openapi| generator.generate_tokens(openapi))
}

/// typify's types for `spec` as progenitor makes them for the client (its `types` module's
/// contents), for the server's foreign models (`server::foreign`).
pub fn type_space_tokens(spec: &Spec) -> Result<proc_macro2::TokenStream, CodegenError> {
    Ok(client_and_type_space_tokens(spec)?.1)
}

/// The client's source and typify's types (see [`type_space_tokens`]), from one progenitor run.
pub fn client_and_type_space_tokens(
    spec: &Spec,
) -> Result<(proc_macro2::TokenStream, proc_macro2::TokenStream), CodegenError> {
    let type_space = std::cell::RefCell::new(None);
    let client = run_progenitor(spec, |generator, openapi| {
        let client = generator.generate_tokens(openapi)?;
        type_space.replace(Some(generator.get_type_space().to_stream()));
        Ok(client)
    })?;
    let type_space = type_space.into_inner().expect("progenitor ran");
    Ok((client, type_space))
}

/// The path under which the client crate's own code refers to itself, for the mock module.
const CLIENT_CRATE_PATH_INSIDE: &str = "crate";
/// The client crate's name as a dependency of the CLI crate.
const CLIENT_CRATE_NAME: &str = "rainbond_client";

/// progenitor's typed `httpmock` helpers for `spec` (`Generator::httpmock`): the `operations`
/// module (a `When`/`Then` wrapper per operation) and `MockServerExt`, compiled inside the client
/// crate as `rainbond_client::mock`. Same settings as the client, so the type names agree.
pub fn mock_tokens(spec: &Spec) -> Result<proc_macro2::TokenStream, CodegenError> {
    run_progenitor(spec, |generator, openapi| generator.httpmock(openapi, CLIENT_CRATE_PATH_INSIDE))
}

/// progenitor's clap CLI for `spec` (`Generator::cli`): `Cli`, `CliCommand` (one per operation)
/// and the `CliConfig` trait, compiled in the `rainbond` CLI crate on top of `rainbond_client`.
pub fn cli_tokens(spec: &Spec) -> Result<proc_macro2::TokenStream, CodegenError> {
    run_progenitor(spec, |generator, openapi| generator.cli(openapi, CLIENT_CRATE_NAME))
}

/// Runs one of progenitor's generators on `spec` with the client's [`settings`].
///
/// progenitor reports some unsupported constructs by panicking. Those that
/// [`crate::progenitor_limits::check`] does not refuse first are caught without printing
/// anything and traced back to the operation that causes them: an
/// [`CodegenError::Unsupported`] at its location, else [`CodegenError::Generator`].
fn run_progenitor(
    spec: &Spec,
    generate: impl Fn(&mut Generator, &openapiv3::OpenAPI) -> progenitor_impl::Result<proc_macro2::TokenStream>,
) -> Result<proc_macro2::TokenStream, CodegenError> {
    let settings = settings();
    let generate = |openapi: &openapiv3::OpenAPI| generate(&mut Generator::new(&settings), openapi);
    let result = progenitor_limits::catch_panic(|| generate(&spec.openapi)).map_err(|message| {
        match progenitor_limits::find_panicking_operation(spec, generate) {
            Some((location, reason)) => CodegenError::Unsupported {
                location,
                message: format!("progenitor cannot generate this operation: {reason}"),
            },
            None => {
                CodegenError::Generator { generator: "progenitor", message: progenitor_limits::panic_reason(&message) }
            }
        }
    })?;
    result.map_err(|err| CodegenError::Generator { generator: "progenitor", message: err.to_string() })
}

/// The client's schema registry: `json_schemas()` lists the JSON Schema (schemars, draft 7) of
/// every type that the spec names under `components/schemas`, keyed by that name.
pub fn schema_registry_tokens(spec: &Spec) -> proc_macro2::TokenStream {
    let names = crate::spec_schema_names(spec);
    let entries = names.iter().map(|name| {
        let ty = quote::format_ident!("{}", crate::server::ir::type_ident(name));
        quote::quote!((#name, schema_for::<crate::types::#ty>()))
    });
    quote::quote! {
        //! The JSON Schema of every type the spec names, for contract checks and validation.

        /// The JSON Schema (schemars, draft 7) of every [`crate::types`] type that the spec names
        /// under `components/schemas`, keyed by that name, in spec order.
        pub fn json_schemas() -> Vec<(&'static str, schemars::schema::RootSchema)> {
            Vec::from([#(#entries),*])
        }

        fn schema_for<T: schemars::JsonSchema>() -> schemars::schema::RootSchema {
            schemars::r#gen::SchemaGenerator::default().into_root_schema_for::<T>()
        }
    }
}

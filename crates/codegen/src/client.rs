//! The client generator: progenitor's `Generator`, builder interface, merged tags.

use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle, TagStyle};

use crate::{CodegenError, spec::Spec};

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

/// Generates the client's Rust source (unformatted tokens) for `spec`.
///
/// progenitor reports some unsupported constructs by panicking; those panics become
/// [`CodegenError::Generator`] with progenitor's message.
pub fn generate_tokens(spec: &Spec) -> Result<proc_macro2::TokenStream, CodegenError> {
    let settings = settings();
    let result = crate::catch_generator_panic(|| {
        let mut generator = Generator::new(&settings);
        generator.generate_tokens(&spec.openapi)
    })?;
    result.map_err(|err| CodegenError::Generator { generator: "progenitor", message: err.to_string() })
}

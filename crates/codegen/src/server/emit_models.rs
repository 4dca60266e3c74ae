//! `models.rs`: one Rust type per schema.
//!
//! How a property's shape maps to Rust, so that serde, utoipa and schemars all say what the
//! spec says:
//!
//! | spec                     | Rust                | on input                  |
//! |--------------------------|---------------------|---------------------------|
//! | required                 | `T`                 | must be present, not null |
//! | optional                 | `Option<T>`         | absent → `None`; null is refused |
//! | required, nullable       | `Option<T>`         | must be present; null → `None` |
//! | optional, nullable       | `Option<Option<T>>` | absent → `None`, null → `Some(None)` |
//! | readOnly                 | `Option<T>`         | ignored                   |

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::ir::{Api, Field, IntegerFormat, Model, ModelKind, NumberFormat, TypeRef};
use super::{doc_lines, ident};
use crate::CodegenError;

/// The Rust type of `ty`; `prefix` qualifies model names (`models::` outside models.rs).
pub(crate) fn rust_type(ty: &TypeRef, prefix: &TokenStream) -> TokenStream {
    match ty {
        TypeRef::Named(name) => {
            let name = model_ident(name);
            quote!(#prefix #name)
        }
        TypeRef::String => quote!(String),
        TypeRef::DateTime => quote!(chrono::DateTime<chrono::Utc>),
        TypeRef::Date => quote!(chrono::NaiveDate),
        TypeRef::Uuid => quote!(uuid::Uuid),
        TypeRef::Integer(IntegerFormat::I8) => quote!(i8),
        TypeRef::Integer(IntegerFormat::U8) => quote!(u8),
        TypeRef::Integer(IntegerFormat::I16) => quote!(i16),
        TypeRef::Integer(IntegerFormat::U16) => quote!(u16),
        TypeRef::Integer(IntegerFormat::I32) => quote!(i32),
        TypeRef::Integer(IntegerFormat::U32) => quote!(u32),
        TypeRef::Integer(IntegerFormat::I64) => quote!(i64),
        TypeRef::Integer(IntegerFormat::U64) => quote!(u64),
        TypeRef::Number(NumberFormat::Float) => quote!(f32),
        TypeRef::Number(NumberFormat::Double) => quote!(f64),
        TypeRef::Boolean => quote!(bool),
        TypeRef::Array(item) => {
            let item = rust_type(item, prefix);
            quote!(Vec<#item>)
        }
        TypeRef::Map(value) => {
            let value = rust_type(value, prefix);
            quote!(std::collections::BTreeMap<String, #value>)
        }
        TypeRef::Nullable(inner) => {
            let inner = rust_type(inner, prefix);
            quote!(Option<#inner>)
        }
        TypeRef::Any => quote!(serde_json::Value),
        TypeRef::Bytes | TypeRef::AnyBytes => quote!(axum::body::Bytes),
        TypeRef::Null(_) => quote!(()),
        TypeRef::IpAddr(format) => match format.as_str() {
            "ipv4" => quote!(std::net::Ipv4Addr),
            "ipv6" => quote!(std::net::Ipv6Addr),
            _ => quote!(std::net::IpAddr),
        },
    }
}

/// Type names utoipa's derives read as a primitive or a container whatever the type is (utoipa-gen's
/// `schema_type.rs`, with the chrono and uuid features), e.g. a model named `Duration` as a
/// duration string.
const NAMES_UTOIPA_READS_AS_ITS_OWN: &[&str] = &[
    "String",
    "str",
    "char",
    "bool",
    "DateTime",
    "Date",
    "NaiveDate",
    "NaiveTime",
    "NaiveDateTime",
    "Duration",
    "Uuid",
    "Value",
    "Vec",
    "Option",
    "Box",
    "Arc",
    "Rc",
    "Cow",
    "RefCell",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "LinkedList",
    "VecDeque",
    "IndexMap",
    "IndexSet",
];

/// The identifier generated code uses for the model `name`: the model itself, or for a name
/// utoipa would misread, an alias of it (`Duration_`) that `models.rs` declares.
pub(crate) fn model_ident(name: &str) -> proc_macro2::Ident {
    if NAMES_UTOIPA_READS_AS_ITS_OWN.contains(&name) { format_ident!("{name}_") } else { format_ident!("{name}") }
}

/// The aliases [`model_ident`] uses.
fn utoipa_aliases(api: &Api) -> TokenStream {
    let aliases = api.models.iter().filter(|m| NAMES_UTOIPA_READS_AS_ITS_OWN.contains(&m.name.as_str())).map(|m| {
        let (name, alias) = (format_ident!("{}", m.name), model_ident(&m.name));
        let doc = format!(" [`{}`] under a name utoipa does not read as a type of its own.", m.name);
        quote!(#[doc = #doc] #[allow(non_camel_case_types)] pub type #alias = #name;)
    });
    quote!(#(#aliases)*)
}

/// The struct models that check constraints at run time (their own, or their fields').
pub(crate) fn validating_models(api: &Api) -> BTreeSet<String> {
    let mut validating = BTreeSet::new();
    loop {
        let before = validating.len();
        for model in &api.models {
            if let ModelKind::Struct { fields, .. } = &model.kind
                && fields.iter().any(|f| !f.constraints.is_empty() || validated_model(&f.ty, &validating).is_some())
            {
                validating.insert(model.name.clone());
            }
        }
        if validating.len() == before {
            return validating;
        }
    }
}

/// The validating model that `ty` is, or holds as array items.
fn validated_model<'t>(ty: &'t TypeRef, validating: &BTreeSet<String>) -> Option<&'t str> {
    match ty {
        TypeRef::Named(name) if validating.contains(name) => Some(name),
        TypeRef::Array(item) => validated_model(item, validating),
        _ => None,
    }
}

/// Whether a field uses `rainbond_api::runtime::support` (models.rs imports it only then).
#[derive(Default)]
struct Support {
    used: bool,
}

pub(crate) fn emit(api: &Api, foreign: TokenStream) -> Result<TokenStream, CodegenError> {
    let validating = validating_models(api);
    let mut support = Support::default();
    let mut items = Vec::new();
    let inline_models: BTreeSet<String> = api.models.iter().filter(|m| m.inline).map(|m| m.name.clone()).collect();
    for model in &api.models {
        items.push(emit_model(model, &validating, &inline_models, &mut support));
    }
    let mut imports = TokenStream::new();
    if support.used {
        imports.extend(quote!(
            use crate::runtime::support;
        ));
    }
    let aliases = utoipa_aliases(api);
    let registry = api.models.iter().filter(|m| !m.inline).map(|m| {
        let schema_name = &m.schema_name;
        let ty = format_ident!("{}", m.name);
        quote!((#schema_name, schema_for::<#ty>()))
    });
    Ok(quote! {
        //! One type per schema of the spec.
        #![allow(missing_docs, clippy::option_option, clippy::large_enum_variant)]

        use serde::{Deserialize, Serialize};
        #imports

        #(#items)*

        #foreign

        #aliases

        /// The JSON Schema (schemars, draft 7) of every model the spec names under
        /// `components/schemas`, keyed by that name, in spec order.
        pub fn json_schemas() -> Vec<(&'static str, schemars::schema::RootSchema)> {
            Vec::from([#(#registry),*])
        }

        fn schema_for<T: schemars::JsonSchema>() -> schemars::schema::RootSchema {
            schemars::r#gen::SchemaGenerator::default().into_root_schema_for::<T>()
        }
    })
}

fn emit_model(
    model: &Model,
    validating: &BTreeSet<String>,
    inline_models: &BTreeSet<String>,
    support: &mut Support,
) -> TokenStream {
    let name = format_ident!("{}", model.name);
    let doc = model.description.as_deref().map(doc_lines).unwrap_or_default();
    let title_attrs = match &model.title {
        Some(title) => quote!(#[schema(title = #title)] #[schemars(title = #title)]),
        None => TokenStream::new(),
    };
    let rename = if model.schema_name != model.name {
        let schema_name = &model.schema_name;
        // utoipa takes the document's name as a path: the spec's name where it is an
        // identifier, else the Rust name (and `check` reports the difference).
        let document_name =
            syn::parse_str::<syn::Ident>(schema_name).map_or_else(|_| name.clone(), |_| ident(schema_name));
        quote!(#[schema(as = #document_name)] #[schemars(rename = #schema_name)])
    } else {
        TokenStream::new()
    };
    match &model.kind {
        ModelKind::Struct { fields, deny_unknown_fields, extra } => {
            let deny = if *deny_unknown_fields { quote!(#[serde(deny_unknown_fields)]) } else { TokenStream::new() };
            let fields_tokens = fields.iter().map(|f| emit_field(f, inline_models, support));
            let extra = extra.as_ref().map(|ty| {
                let ty = rust_type(ty, &TokenStream::new());
                quote! {
                    /// The members other than the properties above (`additionalProperties`).
                    #[serde(flatten)]
                    pub extra: std::collections::BTreeMap<String, #ty>,
                }
            });
            let validate = if validating.contains(&model.name) {
                emit_validate(&name, fields, validating)
            } else {
                TokenStream::new()
            };
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
                #deny
                #title_attrs
                #rename
                pub struct #name {
                    #(#fields_tokens)*
                    #extra
                }
                #validate
            }
        }
        ModelKind::StringEnum { values } => {
            let mut seen = BTreeSet::new();
            let variants = values.iter().enumerate().map(|(index, value)| {
                let mut variant = heck::ToUpperCamelCase::to_upper_camel_case(value.as_str());
                if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
                    variant = format!("V{variant}");
                }
                if !seen.insert(variant.clone()) {
                    variant = format!("{variant}{index}");
                }
                let variant = format_ident!("{variant}");
                quote!(#[serde(rename = #value)] #variant,)
            });
            quote! {
                #doc
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
                #title_attrs
                #rename
                pub enum #name {
                    #(#variants)*
                }
            }
        }
        // Written by `foreign.rs`.
        ModelKind::Foreign => TokenStream::new(),
        ModelKind::Alias(ty) => {
            let inner = rust_type(ty, &TokenStream::new());
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
                #[serde(transparent)]
                #title_attrs
                #rename
                pub struct #name(pub #inner);
            }
        }
    }
}

/// Whether `ty` refers to a model defined inline in another schema (utoipa must inline it).
pub(crate) fn mentions_inline_model(ty: &TypeRef, inline_models: &BTreeSet<String>) -> bool {
    match ty {
        TypeRef::Named(name) => inline_models.contains(name),
        TypeRef::Array(item) | TypeRef::Map(item) | TypeRef::Nullable(item) => {
            mentions_inline_model(item, inline_models)
        }
        _ => false,
    }
}

fn emit_field(field: &Field, inline_models: &BTreeSet<String>, support: &mut Support) -> TokenStream {
    let ident = ident(&field.ident);
    let json_name = &field.json_name;
    let rename =
        if field.ident != field.json_name { quote!(#[serde(rename = #json_name)]) } else { TokenStream::new() };
    let doc = field.description.as_deref().map(doc_lines).unwrap_or_default();
    let base = rust_type(&field.ty, &TokenStream::new());
    let title = field.title.as_deref().map(|t| quote!(#[schemars(title = #t)])).unwrap_or_default();
    // schemars folds single newlines of doc comments and reads a leading `#` as a title: give it
    // such descriptions verbatim.
    let description = field
        .description
        .as_deref()
        .filter(|d| d.contains('\n') || d.starts_with('#'))
        .map(|d| quote!(#[schemars(description = #d)]))
        .unwrap_or_default();
    let constraints = constraint_attrs(field);
    // `support::ReadOnly<String>` rather than `support :: ReadOnly < String >`.
    let with = |ty: TokenStream| ty.to_string().replace(' ', "");

    let (ty, attrs) = if field.read_only {
        support.used = true;
        if field.nullable {
            let schemars_with = with(quote!(support::ReadOnly<Option<#base>>));
            (
                quote!(Option<Option<#base>>),
                quote! {
                    #[serde(default, deserialize_with = "support::ignore_input", serialize_with = "support::double_option::serialize", skip_serializing_if = "Option::is_none")]
                    #[schema(read_only, value_type = Option<#base>)]
                    #[schemars(with = #schemars_with)]
                },
            )
        } else {
            let schemars_with = with(quote!(support::ReadOnly<#base>));
            (
                quote!(Option<#base>),
                quote! {
                    #[serde(default, deserialize_with = "support::ignore_input", skip_serializing_if = "Option::is_none")]
                    #[schema(read_only, nullable = false)]
                    #[schemars(with = #schemars_with)]
                },
            )
        }
    } else {
        match (field.required, field.nullable) {
            (true, false) => (base.clone(), TokenStream::new()),
            (false, false) => {
                support.used = true;
                let schemars_with = with(base.clone());
                (
                    quote!(Option<#base>),
                    quote! {
                        #[serde(default, deserialize_with = "support::non_null", skip_serializing_if = "Option::is_none")]
                        #[schema(nullable = false)]
                        #[schemars(with = #schemars_with)]
                    },
                )
            }
            (true, true) => {
                support.used = true;
                let schemars_with = with(quote!(support::RequiredNullable<#base>));
                (
                    quote!(Option<#base>),
                    quote! {
                        #[serde(deserialize_with = "Option::deserialize")]
                        #[schema(required = true)]
                        #[schemars(with = #schemars_with)]
                    },
                )
            }
            (false, true) => {
                support.used = true;
                let schemars_with = with(quote!(Option<#base>));
                (
                    quote!(Option<Option<#base>>),
                    quote! {
                        #[serde(default, skip_serializing_if = "Option::is_none", with = "support::double_option")]
                        #[schema(value_type = Option<#base>)]
                        #[schemars(with = #schemars_with)]
                    },
                )
            }
        }
    };
    let inline =
        if mentions_inline_model(&field.ty, inline_models) { quote!(#[schema(inline)]) } else { TokenStream::new() };
    let format = field.documented_format.as_deref().map(|f| quote!(#[schema(format = #f)])).unwrap_or_default();
    quote! {
        #doc
        #rename
        #attrs
        #constraints
        #format
        #title
        #description
        #inline
        pub #ident: #ty,
    }
}

fn constraint_attrs(field: &Field) -> TokenStream {
    let (utoipa, schemars) = constraint_items(field);
    if utoipa.is_empty() {
        return TokenStream::new();
    }
    quote!(#[schema(#(#utoipa),*)] #[schemars(#(#schemars),*)])
}

/// The items of utoipa's `#[schema(...)]` (or `#[param(...)]`) and of schemars' `#[schemars(...)]`
/// that state `field`'s constraints.
pub(crate) fn constraint_items(field: &Field) -> (Vec<TokenStream>, Vec<TokenStream>) {
    // Unsuffixed literals: utoipa wants `usize` lengths and bounds written as the field's kind of
    // number (a float bound on a `u32` field makes it write invalid code), schemars any number.
    let c = &field.constraints;
    let count = |n: u64| proc_macro2::Literal::u64_unsuffixed(n);
    let integer = matches!(field.ty, TypeRef::Integer(_));
    let bound = |x: f64| {
        if integer && x.fract() == 0.0 && x.abs() < 9.0e15 {
            proc_macro2::Literal::i64_unsuffixed(x as i64)
        } else {
            proc_macro2::Literal::f64_unsuffixed(x)
        }
    };
    let mut utoipa = Vec::new();
    let mut schemars = Vec::new();
    if c.min_length.is_some() || c.max_length.is_some() || c.min_items.is_some() || c.max_items.is_some() {
        let mut length = Vec::new();
        if let Some(n) = c.min_length.map(count) {
            utoipa.push(quote!(min_length = #n));
            length.push(quote!(min = #n));
        }
        if let Some(n) = c.max_length.map(count) {
            utoipa.push(quote!(max_length = #n));
            length.push(quote!(max = #n));
        }
        if let Some(n) = c.min_items.map(count) {
            utoipa.push(quote!(min_items = #n));
            length.push(quote!(min = #n));
        }
        if let Some(n) = c.max_items.map(count) {
            utoipa.push(quote!(max_items = #n));
            length.push(quote!(max = #n));
        }
        schemars.push(quote!(length(#(#length),*)));
    }
    if c.minimum.is_some() || c.maximum.is_some() {
        let mut range = Vec::new();
        if let Some(x) = c.minimum.map(bound) {
            utoipa.push(quote!(minimum = #x));
            range.push(quote!(min = #x));
        }
        if let Some(x) = c.maximum.map(bound) {
            utoipa.push(quote!(maximum = #x));
            range.push(quote!(max = #x));
        }
        schemars.push(quote!(range(#(#range),*)));
    }
    (utoipa, schemars)
}

pub(crate) fn emit_validate(name: &proc_macro2::Ident, fields: &[Field], validating: &BTreeSet<String>) -> TokenStream {
    let checks = fields.iter().filter_map(|field| {
        let nested = validated_model(&field.ty, validating);
        if field.constraints.is_empty() && nested.is_none() {
            return None;
        }
        let ident = ident(&field.ident);
        let json_name = &field.json_name;
        let present = match (field.read_only, field.required, field.nullable) {
            (false, true, false) => quote!(Some(&self.#ident)),
            (_, _, true) if !field.required || field.read_only => quote!(self.#ident.as_ref().and_then(Option::as_ref)),
            _ => quote!(self.#ident.as_ref()),
        };
        let c = &field.constraints;
        let count = |n: u64| proc_macro2::Literal::u64_unsuffixed(n);
        let bound = |x: f64| proc_macro2::Literal::f64_unsuffixed(x);
        let mut body = Vec::new();
        if let Some(n) = c.min_length.map(count) {
            body.push(quote!(if value.chars().count() < #n { errors.push(format!("{path}: must be at least {} characters long", #n)); }));
        }
        if let Some(n) = c.max_length.map(count) {
            body.push(quote!(if value.chars().count() > #n { errors.push(format!("{path}: must be at most {} characters long", #n)); }));
        }
        if let Some(x) = c.minimum.map(bound) {
            body.push(quote!(if (*value as f64) < #x { errors.push(format!("{path}: must be at least {}", #x)); }));
        }
        if let Some(x) = c.maximum.map(bound) {
            body.push(quote!(if (*value as f64) > #x { errors.push(format!("{path}: must be at most {}", #x)); }));
        }
        if let Some(n) = c.min_items.map(count) {
            body.push(quote!(if value.len() < #n { errors.push(format!("{path}: must have at least {} items", #n)); }));
        }
        if let Some(n) = c.max_items.map(count) {
            body.push(quote!(if value.len() > #n { errors.push(format!("{path}: must have at most {} items", #n)); }));
        }
        match &field.ty {
            TypeRef::Named(_) if nested.is_some() => body.push(quote!(crate::runtime::Validate::validate(value, &path, errors);)),
            TypeRef::Array(_) if nested.is_some() => body.push(quote! {
                for (index, item) in value.iter().enumerate() {
                    crate::runtime::Validate::validate(item, &format!("{path}[{index}]"), errors);
                }
            }),
            _ => {}
        }
        Some(quote! {
            if let Some(value) = #present {
                let path = crate::runtime::join_path(path, #json_name);
                #(#body)*
            }
        })
    });
    quote! {
        impl crate::runtime::Validate for #name {
            fn validate(&self, path: &str, errors: &mut Vec<String>) {
                #(#checks)*
            }
        }
    }
}

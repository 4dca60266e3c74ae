//! The server's copy of the client types this generator does not write itself.
//!
//! A component the server generator refuses (`oneOf`, `anyOf`, several `allOf`, `not`, `pattern`,
//! `format: ip`, exclusive bounds, ...) and every component it refers to are
//! [`ModelKind::Foreign`]: their Rust types are typify's own, taken from the type space progenitor
//! builds for the client with the client's settings, so both sides share one definition per
//! schema by construction. What typify adds for the client only (its `builder` module) is left
//! out. Each foreign component also gets `utoipa::ToSchema`, whose schema the runtime derives from
//! the type's schemars schema (`runtime::foreign_schema`), so that the router's document says what
//! this code says.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};

use super::ir::{Api, ModelKind};
use crate::CodegenError;

/// The module of typify's output that holds its conversion error type.
const ERROR_MODULE: &str = "error";
/// The module of typify's output that holds the functions behind `#[serde(default = "...")]`.
const DEFAULTS_MODULE: &str = "defaults";
/// The client-only module of typify's output (struct builders); items that mention it are left out.
const BUILDER_MODULE: &str = "builder";

/// The foreign components' types (and the typify types they use), with their utoipa impls; empty
/// when every component is written by this generator.
pub(crate) fn emit(
    api: &Api,
    type_space: impl FnOnce() -> Result<TokenStream, CodegenError>,
) -> Result<TokenStream, CodegenError> {
    let roots: Vec<&str> =
        api.models.iter().filter(|m| matches!(m.kind, ModelKind::Foreign)).map(|m| m.name.as_str()).collect();
    if roots.is_empty() {
        return Ok(TokenStream::new());
    }
    let native: BTreeSet<&str> =
        api.models.iter().filter(|m| !matches!(m.kind, ModelKind::Foreign)).map(|m| m.name.as_str()).collect();
    let file: syn::File = syn::parse2(type_space()?)
        .map_err(|err| CodegenError::InvalidOutput { generator: "typify", message: err.to_string() })?;
    let items = TypifyItems::index(&file);
    let selected = items.reachable(&roots, &native);
    let mut out = items.selected_items(&selected);
    out.extend(to_schema_impls(api));
    Ok(out)
}

/// The names of the types (struct, enum, alias) in typify's output `type_space`.
pub(crate) fn type_names(type_space: TokenStream) -> Result<BTreeSet<String>, CodegenError> {
    let file: syn::File = syn::parse2(type_space)
        .map_err(|err| CodegenError::InvalidOutput { generator: "typify", message: err.to_string() })?;
    Ok(TypifyItems::index(&file).types.into_keys().collect())
}

/// typify's output, indexed.
struct TypifyItems<'f> {
    /// Type definitions (struct, enum, type alias) by name.
    types: BTreeMap<String, &'f syn::Item>,
    /// `impl` blocks, in output order.
    impls: Vec<&'f syn::ItemImpl>,
    /// The modules (`error`, `defaults`, `builder`) by name.
    modules: BTreeMap<String, &'f syn::ItemMod>,
}

impl<'f> TypifyItems<'f> {
    fn index(file: &'f syn::File) -> Self {
        let mut index = TypifyItems { types: BTreeMap::new(), impls: Vec::new(), modules: BTreeMap::new() };
        for item in &file.items {
            match item {
                syn::Item::Struct(s) => drop(index.types.insert(s.ident.to_string(), item)),
                syn::Item::Enum(e) => drop(index.types.insert(e.ident.to_string(), item)),
                syn::Item::Type(t) => drop(index.types.insert(t.ident.to_string(), item)),
                syn::Item::Impl(i) => index.impls.push(i),
                syn::Item::Mod(m) => drop(index.modules.insert(m.ident.to_string(), m)),
                _ => {}
            }
        }
        index
    }

    /// The typify types `roots` use, directly or not, roots included; native models stay the
    /// generator's own.
    fn reachable(&self, roots: &[&str], native: &BTreeSet<&str>) -> BTreeSet<String> {
        let mut selected: BTreeSet<String> = BTreeSet::new();
        let mut pending: Vec<String> = roots.iter().map(|r| (*r).to_owned()).collect();
        while let Some(name) = pending.pop() {
            let Some(item) = self.types.get(&name) else { continue };
            if !selected.insert(name) {
                continue;
            }
            for ident in idents(&item.to_token_stream()) {
                let ident = ident.to_string();
                if self.types.contains_key(&ident) && !native.contains(ident.as_str()) && !selected.contains(&ident) {
                    pending.push(ident);
                }
            }
        }
        selected
    }

    /// The selected types, their impls (except those that use the builders), and the parts of
    /// the `error` and `defaults` modules they use.
    fn selected_items(&self, selected: &BTreeSet<String>) -> TokenStream {
        let mut out = TokenStream::new();
        for name in selected {
            self.types[name].to_tokens(&mut out);
        }
        for item in &self.impls {
            let tokens = item.to_token_stream();
            let mentioned: BTreeSet<String> = idents(&tokens).map(|i| i.to_string()).collect();
            let about_selected = impl_subjects(item).iter().any(|subject| selected.contains(subject));
            if about_selected && !mentioned.contains(BUILDER_MODULE) {
                out.extend(tokens);
            }
        }
        let used: BTreeSet<String> = idents(&out).map(|i| i.to_string()).collect();
        if used.contains(ERROR_MODULE)
            && let Some(module) = self.modules.get(ERROR_MODULE)
        {
            module.to_tokens(&mut out);
        }
        if let Some(module) = self.modules.get(DEFAULTS_MODULE) {
            out.extend(used_defaults(module, &used));
        }
        out
    }
}

/// The names an `impl` block is about: its self type and its trait's type arguments (typify
/// writes `impl From<T> for String` for a constrained string `T`).
fn impl_subjects(item: &syn::ItemImpl) -> BTreeSet<String> {
    let mut subjects: BTreeSet<String> = idents(&item.self_ty.to_token_stream()).map(|i| i.to_string()).collect();
    if let Some((path, _)) = &item.trait_
        && let Some(last) = path.segments.last()
    {
        subjects.extend(idents(&last.arguments.to_token_stream()).map(|i| i.to_string()));
    }
    subjects
}

/// The `defaults` module with only the functions `used` names.
fn used_defaults(module: &syn::ItemMod, used: &BTreeSet<String>) -> TokenStream {
    let Some((_, items)) = &module.content else { return TokenStream::new() };
    let kept: Vec<&syn::Item> = items
        .iter()
        .filter(|item| match item {
            syn::Item::Fn(function) => used.contains(&function.sig.ident.to_string()),
            _ => true,
        })
        .collect();
    if !kept.iter().any(|item| matches!(item, syn::Item::Fn(_))) {
        return TokenStream::new();
    }
    let (attrs, vis, ident) = (&module.attrs, &module.vis, &module.ident);
    quote!(#(#attrs)* #vis mod #ident { #(#kept)* })
}

/// Every identifier in `tokens`, groups included.
fn idents(tokens: &TokenStream) -> impl Iterator<Item = Ident> {
    let mut found = Vec::new();
    collect_idents(tokens.clone(), &mut found);
    found.into_iter()
}

/// Also the names of `defaults` functions that string literals name (typify writes
/// `#[serde(default = "defaults::name")]`).
fn collect_idents(tokens: TokenStream, found: &mut Vec<Ident>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => found.push(ident),
            TokenTree::Group(group) => collect_idents(group.stream(), found),
            TokenTree::Literal(literal) => {
                let text = literal.to_string();
                let prefix = format!("{DEFAULTS_MODULE}::");
                if let Some(start) = text.find(&prefix) {
                    let name: String =
                        text[start + prefix.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        found.push(format_ident!("{name}"));
                    }
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

/// `utoipa::ToSchema` for each foreign component: its spec name, and the schema the runtime
/// derives from its schemars schema. `COMPONENT_NAMES` maps every component's schemars name to its
/// spec name, so the runtime keeps references to components and inlines typify's inner types.
fn to_schema_impls(api: &Api) -> TokenStream {
    let names = api.models.iter().filter(|m| !m.inline).map(|m| {
        let schemars_name = if matches!(m.kind, ModelKind::Foreign) { &m.name } else { &m.schema_name };
        let spec_name = &m.schema_name;
        quote!((#schemars_name, #spec_name))
    });
    let impls = api.models.iter().filter(|m| matches!(m.kind, ModelKind::Foreign)).map(|m| {
        let ty = format_ident!("{}", m.name);
        let spec_name = &m.schema_name;
        quote! {
            impl utoipa::PartialSchema for #ty {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    crate::runtime::foreign_schema::<#ty>(COMPONENT_NAMES)
                }
            }

            impl utoipa::ToSchema for #ty {
                fn name() -> std::borrow::Cow<'static, str> {
                    std::borrow::Cow::Borrowed(#spec_name)
                }
            }
        }
    });
    quote! {
        /// Every component's name in its schemars schema, and its name in the spec.
        const COMPONENT_NAMES: &[(&str, &str)] = &[#(#names),*];

        #(#impls)*
    }
}

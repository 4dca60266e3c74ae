//! What a spec edit does to the Rust API of the generated client, and the semver bump
//! `rainbond-client` needs for it.
//!
//! The client is generated for both specs with `rainbond_codegen::client::generate_tokens`,
//! parsed with `syn`, and reduced to its public [`Surface`]: every public item by path
//! (`types::AppCopyC`, `types::builder::AppCopyC`, `Client`, `builder::CopyApp`), with its public
//! fields, variants, inherent methods (full signatures), trait impls and derives, and three
//! facts that change behaviour without changing a signature: which builder inputs are required
//! (their default is an `Err`, so `send()`/`try_into()` fails at run time until they are set),
//! which response statuses `send()` documents, and `#[serde(deny_unknown_fields)]`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use heck::ToSnakeCase;
use quote::ToTokens;
use rainbond_codegen::Spec;
use rainbond_codegen::spec::escape_token;
use serde::Serialize;
use syn::visit::Visit;

/// A public item of the generated crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `struct`, `enum`, `type`, `fn`, `const`, `static`, `trait`, `use`, `union`.
    pub kind: &'static str,
    /// The item's own signature: generics, tuple fields, alias target, `use` path.
    pub signature: String,
    /// Members by kind and name.
    pub members: BTreeMap<(MemberKind, String), String>,
    /// `#[non_exhaustive]`.
    pub non_exhaustive: bool,
    /// Whether a struct has only public fields (so users can write struct literals).
    pub constructible: bool,
    /// Attributes that change behaviour: `serde(deny_unknown_fields)`.
    pub attributes: BTreeSet<String>,
}

/// The kinds of members an item has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberKind {
    /// A public struct field (its type).
    Field,
    /// An enum variant (its fields).
    Variant,
    /// A public inherent method (its signature).
    Method,
    /// A trait implemented for the type, derived or written (its trait path).
    Impl,
    /// A builder input that must be set before `send()` / `try_into()` succeeds.
    Required,
    /// A response status that an operation builder's `send()` documents (`Ok` or `Err`).
    Status,
}

/// The public surface of a generated client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surface {
    /// Items by path (`types::AppCopyC`).
    pub items: BTreeMap<String, Item>,
}

/// What changed in one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RustChangeKind {
    /// A public item appeared.
    ItemAdded,
    /// A public item disappeared.
    ItemRemoved,
    /// An item's own signature (kind, generics, alias target, tuple fields) changed.
    ItemChanged,
    /// A public field appeared.
    FieldAdded,
    /// A public field disappeared.
    FieldRemoved,
    /// A public field's type changed.
    FieldTypeChanged,
    /// A variant appeared.
    VariantAdded,
    /// A variant disappeared.
    VariantRemoved,
    /// A variant's fields changed.
    VariantChanged,
    /// A method appeared.
    MethodAdded,
    /// A method disappeared.
    MethodRemoved,
    /// A method's signature changed.
    MethodSignatureChanged,
    /// A trait impl appeared.
    ImplAdded,
    /// A trait impl disappeared.
    ImplRemoved,
    /// A behaviour attribute appeared.
    AttributeAdded,
    /// A behaviour attribute disappeared.
    AttributeRemoved,
    /// A builder input must now be set.
    BecameRequired,
    /// A builder input no longer must be set.
    BecameOptional,
    /// `send()` documents a new status.
    StatusAdded,
    /// `send()` no longer documents a status.
    StatusRemoved,
    /// A documented status moved between `Ok` and `Err`.
    StatusChanged,
}

impl RustChangeKind {
    /// Every kind, in declaration order.
    pub const ALL: [RustChangeKind; 21] = [
        RustChangeKind::ItemAdded,
        RustChangeKind::ItemRemoved,
        RustChangeKind::ItemChanged,
        RustChangeKind::FieldAdded,
        RustChangeKind::FieldRemoved,
        RustChangeKind::FieldTypeChanged,
        RustChangeKind::VariantAdded,
        RustChangeKind::VariantRemoved,
        RustChangeKind::VariantChanged,
        RustChangeKind::MethodAdded,
        RustChangeKind::MethodRemoved,
        RustChangeKind::MethodSignatureChanged,
        RustChangeKind::ImplAdded,
        RustChangeKind::ImplRemoved,
        RustChangeKind::AttributeAdded,
        RustChangeKind::AttributeRemoved,
        RustChangeKind::BecameRequired,
        RustChangeKind::BecameOptional,
        RustChangeKind::StatusAdded,
        RustChangeKind::StatusRemoved,
        RustChangeKind::StatusChanged,
    ];

    /// The kebab-case name.
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

/// One change of the generated client's public API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RustChange {
    /// The item: `types::AppCopyC`, `Client`, `builder::CopyApp`.
    pub item: String,
    /// The member's name (field, variant, method, trait, status), when the change is inside the item.
    pub member: Option<String>,
    /// What changed.
    pub kind: RustChangeKind,
    /// Whether code that compiled and worked before can fail to compile or behave differently.
    pub breaking: bool,
    /// The old signature, if any.
    pub old: Option<String>,
    /// The new signature, if any.
    pub new: Option<String>,
    /// Why it is (or is not) breaking.
    pub note: String,
    /// The spec node it comes from, when it can be told (a schema, a property, an operation).
    pub pointer: Option<String>,
    /// 1-based line of `pointer` in the new spec (nearest existing ancestor).
    pub line: Option<usize>,
}

/// A semver bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// The generated code is identical.
    None,
    /// A patch release.
    Patch,
    /// A minor release.
    Minor,
    /// A major release.
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

/// The release `rainbond-client` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SemverVerdict {
    /// The bump.
    pub bump: Bump,
    /// The crate's current version, when known.
    pub current: Option<String>,
    /// The version to release, when the current one is known.
    pub next: Option<String>,
    /// Why.
    pub reason: String,
}

/// The Rust-API side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum RustApiReport {
    /// Both clients were generated and compared.
    Compared {
        /// The changes, breaking first.
        changes: Vec<RustChange>,
        /// Whether the generated code differs at all (documentation included).
        code_changed: bool,
        /// The release needed.
        semver: SemverVerdict,
    },
    /// The client could not be generated from one of the specs.
    GenerationFailed {
        /// `old` or `new`.
        spec: &'static str,
        /// The generator's message.
        message: String,
    },
}

impl RustApiReport {
    /// Whether some change breaks users of the generated client (or the client cannot be
    /// generated from the new spec).
    pub fn is_breaking(&self) -> bool {
        match self {
            RustApiReport::Compared { changes, .. } => changes.iter().any(|c| c.breaking),
            RustApiReport::GenerationFailed { .. } => true,
        }
    }
}

/// Generates the client for both specs and compares their public surfaces.
pub fn compare(old: &Spec, new: &Spec, current_version: Option<&semver::Version>) -> RustApiReport {
    let generate = |spec: &Spec| -> Result<syn::File, String> {
        let tokens = rainbond_codegen::client::generate_tokens(spec).map_err(|e| e.to_string())?;
        syn::parse2::<syn::File>(tokens).map_err(|e| format!("the generated client does not parse: {e}"))
    };
    let old_file = match generate(old) {
        Ok(file) => file,
        Err(message) => return RustApiReport::GenerationFailed { spec: "old", message },
    };
    let new_file = match generate(new) {
        Ok(file) => file,
        Err(message) => return RustApiReport::GenerationFailed { spec: "new", message },
    };
    let code_changed = old_file.to_token_stream().to_string() != new_file.to_token_stream().to_string();
    let mut changes = surface_changes(&surface(&old_file), &surface(&new_file));
    for change in &mut changes {
        change.pointer = spec_pointer(new, old, change);
        change.line = change.pointer.as_deref().and_then(|p| new.line(p));
    }
    let semver = verdict(&changes, code_changed, current_version);
    RustApiReport::Compared { changes, code_changed, semver }
}

/// The public surface of a parsed client.
pub fn surface(file: &syn::File) -> Surface {
    let mut collector = SurfaceCollector::default();
    collector.items(&[], &file.items);
    let SurfaceCollector { mut items, impls } = collector;
    for (path, key, signature) in impls {
        if let Some(item) = items.get_mut(&path) {
            item.members.insert(key, signature);
        }
    }
    Surface { items }
}

#[derive(Default)]
struct SurfaceCollector {
    items: BTreeMap<String, Item>,
    /// Members found in impl blocks, attached once every item is known.
    impls: Vec<(String, (MemberKind, String), String)>,
}

impl SurfaceCollector {
    fn items(&mut self, module: &[String], items: &[syn::Item]) {
        for item in items {
            match item {
                syn::Item::Mod(m) if is_public(&m.vis) => {
                    if let Some((_, content)) = &m.content {
                        let mut inner = module.to_vec();
                        inner.push(m.ident.to_string());
                        self.items(&inner, content);
                    }
                }
                syn::Item::Struct(s) if is_public(&s.vis) => {
                    let mut members = BTreeMap::new();
                    let mut constructible = true;
                    let mut tuple = Vec::new();
                    for (index, field) in s.fields.iter().enumerate() {
                        if !is_public(&field.vis) {
                            constructible = false;
                            continue;
                        }
                        match &field.ident {
                            Some(name) => {
                                members.insert((MemberKind::Field, name.to_string()), compact(&field.ty));
                            }
                            None => tuple.push(format!("{index}: {}", compact(&field.ty))),
                        }
                    }
                    for derive in derives(&s.attrs) {
                        members.insert((MemberKind::Impl, derive.clone()), format!("#[derive({derive})]"));
                    }
                    let signature = format!("struct {}{}{}", s.ident, compact(&s.generics), tuple_text(&tuple));
                    self.insert(module, &s.ident.to_string(), "struct", signature, members, &s.attrs, constructible);
                }
                syn::Item::Enum(e) if is_public(&e.vis) => {
                    let mut members = BTreeMap::new();
                    for variant in &e.variants {
                        members.insert((MemberKind::Variant, variant.ident.to_string()), compact(&variant.fields));
                    }
                    for derive in derives(&e.attrs) {
                        members.insert((MemberKind::Impl, derive.clone()), format!("#[derive({derive})]"));
                    }
                    let signature = format!("enum {}{}", e.ident, compact(&e.generics));
                    self.insert(module, &e.ident.to_string(), "enum", signature, members, &e.attrs, false);
                }
                syn::Item::Type(t) if is_public(&t.vis) => {
                    let signature = format!("type {}{} = {}", t.ident, compact(&t.generics), compact(&t.ty));
                    self.insert(module, &t.ident.to_string(), "type", signature, BTreeMap::new(), &t.attrs, false);
                }
                syn::Item::Fn(f) if is_public(&f.vis) => {
                    let signature = compact(&f.sig);
                    self.insert(module, &f.sig.ident.to_string(), "fn", signature, BTreeMap::new(), &f.attrs, false);
                }
                syn::Item::Const(c) if is_public(&c.vis) => {
                    let signature = format!("const {}: {}", c.ident, compact(&c.ty));
                    self.insert(module, &c.ident.to_string(), "const", signature, BTreeMap::new(), &c.attrs, false);
                }
                syn::Item::Static(s) if is_public(&s.vis) => {
                    let signature = format!("static {}: {}", s.ident, compact(&s.ty));
                    self.insert(module, &s.ident.to_string(), "static", signature, BTreeMap::new(), &s.attrs, false);
                }
                syn::Item::Trait(t) if is_public(&t.vis) => {
                    let mut members = BTreeMap::new();
                    for item in &t.items {
                        if let syn::TraitItem::Fn(f) = item {
                            members.insert((MemberKind::Method, f.sig.ident.to_string()), compact(&f.sig));
                        }
                    }
                    let signature = format!("trait {}{}", t.ident, compact(&t.generics));
                    self.insert(module, &t.ident.to_string(), "trait", signature, members, &t.attrs, false);
                }
                syn::Item::Use(u) if is_public(&u.vis) => {
                    let key = format!("use {}", compact(&u.tree));
                    let name = if module.is_empty() { key.clone() } else { format!("{}::{key}", module.join("::")) };
                    self.items.insert(
                        name,
                        Item {
                            kind: "use",
                            signature: key,
                            members: BTreeMap::new(),
                            non_exhaustive: false,
                            constructible: false,
                            attributes: BTreeSet::new(),
                        },
                    );
                }
                syn::Item::Impl(i) => self.implementation(module, i),
                _ => {}
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(
        &mut self,
        module: &[String],
        name: &str,
        kind: &'static str,
        signature: String,
        members: BTreeMap<(MemberKind, String), String>,
        attrs: &[syn::Attribute],
        constructible: bool,
    ) {
        let non_exhaustive = attrs.iter().any(|a| a.path().is_ident("non_exhaustive"));
        let attributes = behaviour_attributes(attrs);
        self.items.insert(
            item_path(module, name),
            Item {
                kind,
                signature,
                members,
                non_exhaustive,
                constructible: constructible && kind == "struct",
                attributes,
            },
        );
    }

    fn implementation(&mut self, module: &[String], implementation: &syn::ItemImpl) {
        let Some(target) = self_type_path(module, &implementation.self_ty) else { return };
        match &implementation.trait_ {
            Some((trait_path, _)) => {
                let trait_name = compact(trait_path);
                let trait_name = trait_name.trim_start_matches("::std::").trim_start_matches("std::").to_owned();
                self.impls.push((target.clone(), (MemberKind::Impl, trait_name.clone()), format!("impl {trait_name}")));
                if trait_name.ends_with("Default") {
                    for method in impl_fns(implementation) {
                        if method.sig.ident == "default" {
                            for field in required_fields(&method.block) {
                                self.impls.push((target.clone(), (MemberKind::Required, field), "required".to_owned()));
                            }
                        }
                    }
                }
            }
            None => {
                for method in impl_fns(implementation) {
                    if !is_public(&method.vis) {
                        continue;
                    }
                    let name = method.sig.ident.to_string();
                    self.impls.push((target.clone(), (MemberKind::Method, name.clone()), compact(&method.sig)));
                    if name == "new" {
                        for field in required_fields(&method.block) {
                            self.impls.push((target.clone(), (MemberKind::Required, field), "required".to_owned()));
                        }
                    }
                    if name == "send" {
                        let mut statuses = StatusArms::default();
                        statuses.visit_block(&method.block);
                        for (status, outcome) in statuses.arms {
                            self.impls.push((target.clone(), (MemberKind::Status, status), outcome.to_owned()));
                        }
                    }
                }
            }
        }
    }
}

fn impl_fns(implementation: &syn::ItemImpl) -> impl Iterator<Item = &syn::ImplItemFn> {
    implementation.items.iter().filter_map(|item| match item {
        syn::ImplItem::Fn(f) => Some(f),
        _ => None,
    })
}

fn item_path(module: &[String], name: &str) -> String {
    if module.is_empty() { name.to_owned() } else { format!("{}::{name}", module.join("::")) }
}

fn is_public(visibility: &syn::Visibility) -> bool {
    matches!(visibility, syn::Visibility::Public(_))
}

fn tuple_text(fields: &[String]) -> String {
    if fields.is_empty() { String::new() } else { format!("({})", fields.join(", ")) }
}

/// The item path an `impl`'s self type names, relative to the crate root.
fn self_type_path(module: &[String], ty: &syn::Type) -> Option<String> {
    let ty = match ty {
        syn::Type::Reference(reference) => &*reference.elem,
        other => other,
    };
    let syn::Type::Path(path) = ty else { return None };
    let mut current: Vec<String> = module.to_vec();
    let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let (last, prefix) = segments.split_last()?;
    for segment in prefix {
        match segment.as_str() {
            "super" => {
                current.pop();
            }
            "self" => {}
            "crate" => current.clear(),
            other => current.push(other.to_owned()),
        }
    }
    Some(item_path(&current, last))
}

/// The traits named in `#[derive(...)]`, by their last path segment.
fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut names = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                names.push(last.ident.to_string());
            }
            Ok(())
        });
    }
    names
}

/// `serde(deny_unknown_fields)` and other serde container attributes that change what
/// (de)serialises.
fn behaviour_attributes(attrs: &[syn::Attribute]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("deny_unknown_fields") {
                found.insert("serde(deny_unknown_fields)".to_owned());
            }
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// The fields a `Self { field: Err(..), .. }` constructor leaves unset.
fn required_fields(block: &syn::Block) -> Vec<String> {
    struct Finder(Vec<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_struct(&mut self, node: &'ast syn::ExprStruct) {
            for field in &node.fields {
                if let (syn::Member::Named(name), syn::Expr::Call(call)) = (&field.member, &field.expr)
                    && let syn::Expr::Path(func) = &*call.func
                    && func.path.is_ident("Err")
                {
                    self.0.push(name.to_string());
                }
            }
            syn::visit::visit_expr_struct(self, node);
        }
    }
    let mut finder = Finder(Vec::new());
    finder.visit_block(block);
    finder.0
}

/// The `NNNu16 => ...` arms of a `send()`: the status and whether it is an `Err`.
#[derive(Default)]
struct StatusArms {
    arms: Vec<(String, &'static str)>,
}

impl<'ast> Visit<'ast> for StatusArms {
    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        if let syn::Pat::Lit(literal) = &arm.pat
            && let syn::Lit::Int(int) = &literal.lit
        {
            let body = arm.body.to_token_stream().to_string();
            let outcome = if body.contains("ErrorResponse") || body.starts_with("Err") { "Err" } else { "Ok" };
            self.arms.push((int.base10_digits().to_owned(), outcome));
        }
        syn::visit::visit_arm(self, arm);
    }
}

/// Tokens as compact text: `Result<ResponseValue<::std::vec::Vec<types::AppCopyL>>, Error<types::ErrorBody>>`.
pub fn compact(tokens: &impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let word_like = |c: char| c.is_alphanumeric() || c == '_' || c == '\'' || c == '"';
    let mut out = String::with_capacity(text.len());
    let mut previous = ' ';
    for word in text.split_whitespace() {
        let first = word.chars().next().unwrap_or(' ');
        match word {
            "->" | "=" | "=>" | "+" => {
                out.push(' ');
                out.push_str(word);
                out.push(' ');
                previous = ' ';
                continue;
            }
            ":" => {
                out.push_str(": ");
                previous = ' ';
                continue;
            }
            _ => {}
        }
        if (word_like(previous) && word_like(first)) || previous == ',' {
            out.push(' ');
        }
        out.push_str(word);
        previous = word.chars().last().unwrap_or(' ');
    }
    out.trim_end_matches(',').replace(",)", ")").replace(",>", ">")
}

/// Compact text without `::std::...::` paths, for reading: `Option<String>`.
pub fn readable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("std::") {
        let boundary = index == 0 || !rest[..index].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if !boundary {
            out.push_str(&rest[..index + 5]);
            rest = &rest[index + 5..];
            continue;
        }
        out.push_str(rest[..index].strip_suffix("::").unwrap_or(&rest[..index]));
        let mut after = &rest[index + 5..];
        // Skip module segments (`string::`, `vec::`) up to the last one.
        loop {
            let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
            if after[end..].starts_with("::")
                && after[..end].chars().all(|c| c.is_lowercase() || c == '_' || c.is_ascii_digit())
            {
                after = &after[end + 2..];
            } else {
                break;
            }
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One change as [`surface_changes`] finds it, before it is located in the spec.
struct Found<'a> {
    item: &'a str,
    member: Option<&'a str>,
    kind: RustChangeKind,
    breaking: bool,
    old: Option<&'a str>,
    new: Option<&'a str>,
    note: &'a str,
}

impl From<Found<'_>> for RustChange {
    fn from(found: Found<'_>) -> Self {
        RustChange {
            item: found.item.to_owned(),
            member: found.member.map(str::to_owned),
            kind: found.kind,
            breaking: found.breaking,
            old: found.old.map(readable),
            new: found.new.map(readable),
            note: found.note.to_owned(),
            pointer: None,
            line: None,
        }
    }
}

/// The changes from `old` to `new`, breaking first.
pub fn surface_changes(old: &Surface, new: &Surface) -> Vec<RustChange> {
    let mut changes = Vec::new();
    for (path, old_item) in &old.items {
        let Some(new_item) = new.items.get(path) else {
            changes.push(
                Found {
                    item: path,
                    member: None,
                    kind: RustChangeKind::ItemRemoved,
                    breaking: true,
                    old: Some(&old_item.signature),
                    new: None,
                    note: "code that names it stops compiling",
                }
                .into(),
            );
            continue;
        };
        if old_item.signature != new_item.signature || old_item.kind != new_item.kind {
            changes.push(
                Found {
                    item: path,
                    member: None,
                    kind: RustChangeKind::ItemChanged,
                    breaking: true,
                    old: Some(&old_item.signature),
                    new: Some(&new_item.signature),
                    note: "code that uses it may stop compiling",
                }
                .into(),
            );
        }
        match (old_item.non_exhaustive, new_item.non_exhaustive) {
            (false, true) => changes.push(
                Found {
                    item: path,
                    member: Some("non_exhaustive"),
                    kind: RustChangeKind::AttributeAdded,
                    breaking: true,
                    old: None,
                    new: Some("#[non_exhaustive]"),
                    note: "struct literals and exhaustive matches outside the crate stop compiling",
                }
                .into(),
            ),
            (true, false) => changes.push(
                Found {
                    item: path,
                    member: Some("non_exhaustive"),
                    kind: RustChangeKind::AttributeRemoved,
                    breaking: false,
                    old: Some("#[non_exhaustive]"),
                    new: None,
                    note: "allows more, breaks nothing",
                }
                .into(),
            ),
            _ => {}
        }
        for attribute in old_item.attributes.difference(&new_item.attributes) {
            changes.push(
                Found {
                    item: path,
                    member: Some(attribute),
                    kind: RustChangeKind::AttributeRemoved,
                    breaking: false,
                    old: Some(attribute),
                    new: None,
                    note: "accepts more when deserialising",
                }
                .into(),
            );
        }
        for attribute in new_item.attributes.difference(&old_item.attributes) {
            changes.push(
                Found {
                    item: path,
                    member: Some(attribute),
                    kind: RustChangeKind::AttributeAdded,
                    breaking: true,
                    old: None,
                    new: Some(attribute),
                    note: "values with unknown fields, which deserialised before, now fail",
                }
                .into(),
            );
        }
        member_changes(path, old_item, new_item, &mut changes);
    }
    for (path, new_item) in &new.items {
        if !old.items.contains_key(path) {
            changes.push(
                Found {
                    item: path,
                    member: None,
                    kind: RustChangeKind::ItemAdded,
                    breaking: false,
                    old: None,
                    new: Some(&new_item.signature),
                    note: "additive",
                }
                .into(),
            );
        }
    }
    changes.sort_by(|a, b| (!a.breaking, &a.item, &a.member, a.kind).cmp(&(!b.breaking, &b.item, &b.member, b.kind)));
    changes
}

fn member_changes(path: &str, old_item: &Item, new_item: &Item, changes: &mut Vec<RustChange>) {
    for ((kind, name), old_signature) in &old_item.members {
        let member = Some(name.as_str());
        let old_sig = Some(old_signature.as_str());
        match new_item.members.get(&(*kind, name.clone())) {
            None => {
                let (change_kind, breaking, note) = match kind {
                    MemberKind::Field => {
                        (RustChangeKind::FieldRemoved, true, "code that reads or sets the field stops compiling")
                    }
                    MemberKind::Variant => {
                        (RustChangeKind::VariantRemoved, true, "code that names the variant stops compiling")
                    }
                    MemberKind::Method => (RustChangeKind::MethodRemoved, true, "code that calls it stops compiling"),
                    MemberKind::Impl => {
                        (RustChangeKind::ImplRemoved, true, "code that relies on the trait stops compiling")
                    }
                    MemberKind::Required => (RustChangeKind::BecameOptional, false, "no longer has to be set"),
                    MemberKind::Status => (
                        RustChangeKind::StatusRemoved,
                        true,
                        "send() now returns Error::UnexpectedResponse for this status instead of a typed value",
                    ),
                };
                let old_sig = if *kind == MemberKind::Required { None } else { old_sig };
                changes.push(
                    Found { item: path, member, kind: change_kind, breaking, old: old_sig, new: None, note }.into(),
                );
            }
            Some(new_signature) if new_signature != old_signature => {
                let new_sig = Some(new_signature.as_str());
                let (change_kind, note) = match kind {
                    MemberKind::Field => {
                        (RustChangeKind::FieldTypeChanged, "code that reads or sets the field may stop compiling")
                    }
                    MemberKind::Variant => {
                        (RustChangeKind::VariantChanged, "code that builds or matches the variant may stop compiling")
                    }
                    MemberKind::Status => {
                        (RustChangeKind::StatusChanged, "send() sorts this status into the other side of its Result")
                    }
                    _ => (RustChangeKind::MethodSignatureChanged, "callers may stop compiling"),
                };
                changes.push(
                    Found { item: path, member, kind: change_kind, breaking: true, old: old_sig, new: new_sig, note }
                        .into(),
                );
            }
            Some(_) => {}
        }
    }
    for ((kind, name), new_signature) in &new_item.members {
        if old_item.members.contains_key(&(*kind, name.clone())) {
            continue;
        }
        let member = Some(name.as_str());
        let new_sig = Some(new_signature.as_str());
        let (change_kind, breaking, note) = match kind {
            MemberKind::Field if new_item.constructible && !new_item.non_exhaustive => (
                RustChangeKind::FieldAdded,
                true,
                "struct literals and exhaustive patterns of this type stop compiling (it is not #[non_exhaustive])",
            ),
            MemberKind::Field => {
                (RustChangeKind::FieldAdded, false, "additive: the struct cannot be built with a literal")
            }
            MemberKind::Variant if !new_item.non_exhaustive => {
                (RustChangeKind::VariantAdded, true, "exhaustive matches on this enum stop compiling")
            }
            MemberKind::Variant => (RustChangeKind::VariantAdded, false, "additive: the enum is #[non_exhaustive]"),
            MemberKind::Method => (RustChangeKind::MethodAdded, false, "additive"),
            MemberKind::Impl => (RustChangeKind::ImplAdded, false, "additive"),
            MemberKind::Required => (
                RustChangeKind::BecameRequired,
                true,
                "compiles as before, but fails at run time (InvalidRequest / conversion error) until callers set it",
            ),
            MemberKind::Status => (
                RustChangeKind::StatusAdded,
                true,
                "send() now returns a typed value for this status instead of Error::UnexpectedResponse",
            ),
        };
        let new_sig = if *kind == MemberKind::Required { None } else { new_sig };
        changes.push(Found { item: path, member, kind: change_kind, breaking, old: None, new: new_sig, note }.into());
    }
}

/// The release a set of changes needs, by Cargo's semver rules (0.x: breaking → minor,
/// additive → patch; ≥ 1.0: major / minor / patch; 0.0.x: always patch).
pub fn verdict(changes: &[RustChange], code_changed: bool, current: Option<&semver::Version>) -> SemverVerdict {
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let additive = changes.len() - breaking;
    let (bump, reason) = if breaking > 0 {
        let bump = match current {
            Some(v) if v.major > 0 => Bump::Major,
            Some(v) if v.minor == 0 => Bump::Patch,
            _ => Bump::Minor,
        };
        (bump, format!("{breaking} breaking change(s) to the generated client's public API"))
    } else if additive > 0 {
        let bump = if current.is_some_and(|v| v.major > 0) { Bump::Minor } else { Bump::Patch };
        (bump, format!("{additive} additive change(s) to the generated client's public API"))
    } else if code_changed {
        (Bump::Patch, "the generated code changed (documentation or bodies), not its public API".to_owned())
    } else {
        (Bump::None, "the generated client is identical".to_owned())
    };
    let next = current.map(|v| {
        let mut next = v.clone();
        next.pre = semver::Prerelease::EMPTY;
        next.build = semver::BuildMetadata::EMPTY;
        match bump {
            Bump::Major => {
                next.major += 1;
                next.minor = 0;
                next.patch = 0;
            }
            Bump::Minor => {
                next.minor += 1;
                next.patch = 0;
            }
            Bump::Patch => next.patch += 1,
            Bump::None => next = v.clone(),
        }
        next.to_string()
    });
    SemverVerdict { bump, current: current.map(ToString::to_string), next, reason }
}

/// The spec node a change comes from: the schema (or property) a `types::` item is generated
/// from, or the operation a `Client` method or `builder::` item is generated from.
fn spec_pointer(new: &Spec, old: &Spec, change: &RustChange) -> Option<String> {
    use rainbond_codegen::server::ir::{field_ident, type_ident};
    let segments: Vec<&str> = change.item.split("::").collect();
    let pointer_in = |spec: &Spec| -> Option<String> {
        match segments.as_slice() {
            ["types", name] | ["types", "builder", name] => {
                let schemas = spec.document.pointer("/components/schemas")?.as_object()?;
                let schema = schemas.keys().find(|key| type_ident(key) == *name)?;
                let base = format!("/components/schemas/{}", escape_token(schema));
                let property = change.member.as_deref().and_then(|member| {
                    let properties = schemas.get(schema)?.get("properties")?.as_object()?;
                    properties.keys().find(|key| field_ident(key) == member)
                });
                Some(match property {
                    Some(property) => format!("{base}/properties/{}", escape_token(property)),
                    None => base,
                })
            }
            ["Client"] => operation_by_id(spec, change.member.as_deref()?),
            ["builder", name] => operation_by_id(spec, &name.to_snake_case()),
            _ => None,
        }
    };
    pointer_in(new).or_else(|| pointer_in(old))
}

fn operation_by_id(spec: &Spec, id: &str) -> Option<String> {
    crate::openapi::operations(&spec.document)
        .into_iter()
        .find(|op| op.operation_id().map(rainbond_codegen::server::ir::field_ident).as_deref() == Some(id))
        .map(|op| op.node.pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(code: &str) -> Surface {
        surface(&syn::parse_str(code).unwrap())
    }

    #[test]
    fn a_new_field_breaks_struct_literals_unless_non_exhaustive() {
        let old = parse("pub mod types { pub struct A { pub x: i32 } }");
        let new = parse("pub mod types { pub struct A { pub x: i32, pub y: Option<String> } }");
        let changes = surface_changes(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, RustChangeKind::FieldAdded);
        assert!(changes[0].breaking);
        let old = parse("pub mod types { #[non_exhaustive] pub struct A { pub x: i32 } }");
        let new = parse("pub mod types { #[non_exhaustive] pub struct A { pub x: i32, pub y: i32 } }");
        assert!(!surface_changes(&old, &new)[0].breaking);
    }

    #[test]
    fn builder_requirements_and_statuses_are_behaviour() {
        let old = parse(
            "pub mod builder { pub struct Op { a: Result<i32, String> }
             impl Op { pub fn new() -> Self { Self { a: Ok(Default::default()) } }
               pub async fn send(self) -> Result<(), ()> { match s { 200u16 => Ok(()), _ => Err(()) } } } }",
        );
        let new = parse(
            "pub mod builder { pub struct Op { a: Result<i32, String> }
             impl Op { pub fn new() -> Self { Self { a: Err(\"a was not initialized\".to_string()) } }
               pub async fn send(self) -> Result<(), ()> { match s { 200u16 => Ok(()), 404u16 => Err(Error::ErrorResponse(x)), _ => Err(()) } } } }",
        );
        let kinds: Vec<_> = surface_changes(&old, &new).iter().map(|c| (c.kind, c.breaking)).collect();
        assert!(kinds.contains(&(RustChangeKind::BecameRequired, true)), "{kinds:?}");
        assert!(kinds.contains(&(RustChangeKind::StatusAdded, true)), "{kinds:?}");
    }

    #[test]
    fn semver_follows_cargo_rules() {
        let breaking = RustChange {
            item: "types::A".into(),
            member: None,
            kind: RustChangeKind::ItemRemoved,
            breaking: true,
            old: None,
            new: None,
            note: String::new(),
            pointer: None,
            line: None,
        };
        let additive = RustChange { breaking: false, kind: RustChangeKind::ItemAdded, ..breaking.clone() };
        let v = |s: &str| semver::Version::parse(s).unwrap();
        let next = |changes: &[RustChange], version: &str| verdict(changes, true, Some(&v(version))).next.unwrap();
        assert_eq!(next(std::slice::from_ref(&breaking), "0.1.0"), "0.2.0");
        assert_eq!(next(std::slice::from_ref(&additive), "0.1.0"), "0.1.1");
        assert_eq!(next(std::slice::from_ref(&breaking), "1.2.3"), "2.0.0");
        assert_eq!(next(std::slice::from_ref(&additive), "1.2.3"), "1.3.0");
        assert_eq!(next(&[], "1.2.3"), "1.2.4");
        assert_eq!(verdict(&[], false, None).bump, Bump::None);
    }

    #[test]
    fn readable_drops_std_paths() {
        assert_eq!(readable("::std::option::Option<::std::string::String>"), "Option<String>");
        assert_eq!(readable("T:std::convert::TryInto<::std::vec::Vec<super::A>>"), "T:TryInto<Vec<super::A>>");
    }
}

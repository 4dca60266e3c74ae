//! `api.rs`: the `Api` trait, per-operation parameter structs and response enums, the router
//! and the code-built OpenAPI document.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::emit_models::{
    constraint_items, emit_validate, mentions_inline_model, model_ident, rust_type, validating_models,
};
use super::ir::{Api, Body, BodyEncoding, Credential, Field, ModelKind, Operation, Param, Response, Status, TypeRef};
use super::{doc_lines, ident};

fn models_prefix() -> TokenStream {
    quote!(models::)
}

/// The variant name of a response: the reason phrase of its status in UpperCamelCase
/// (`404` → `NotFound`, a websocket upgrade `SwitchingProtocols`), the class of a range (`4XX` →
/// `ClientError`), or `Default`.
fn variant_name(response: &Response) -> proc_macro2::Ident {
    if response.upgrade {
        return code_variant_name(101);
    }
    match response.status {
        Status::Code(code) => code_variant_name(code),
        Status::Range(digit) => {
            let class = ["Informational", "Success", "Redirection", "ClientError", "ServerError"];
            format_ident!("{}", class[usize::from(digit) - 1])
        }
        Status::Default => format_ident!("Default"),
    }
}

/// Whether the variant of `response` carries the status it answers with (a range or `default`;
/// a websocket upgrade carries the whole response instead).
fn carries_status(response: &Response) -> bool {
    !response.upgrade && !matches!(response.status, Status::Code(_))
}

fn code_variant_name(status: u16) -> proc_macro2::Ident {
    let reason = http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
    match reason {
        Some(reason) => {
            let words: String = reason
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let mut chars = w.chars();
                    let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
                    first.chain(chars.map(|c| c.to_ascii_lowercase())).collect::<String>()
                })
                .collect();
            format_ident!("{words}")
        }
        None => format_ident!("Status{status}"),
    }
}

/// `StatusCode::NOT_FOUND` for 404: http names its constants after the reason phrases.
fn status_const(status: u16) -> TokenStream {
    match http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => {
            let name: String = reason
                .chars()
                .filter(|c| *c != '\'')
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
                .collect();
            let name = format_ident!("{name}");
            quote!(StatusCode::#name)
        }
        None => {
            let status = proc_macro2::Literal::u16_unsuffixed(status);
            quote!(StatusCode::from_u16(#status).expect("a documented status code"))
        }
    }
}

fn scheme_method(scheme: &str) -> proc_macro2::Ident {
    format_ident!("authenticate_{}", heck::ToSnakeCase::to_snake_case(scheme))
}

pub(crate) fn emit(api: &Api) -> TokenStream {
    let validating = validating_models(api);
    let secured = api.operations.iter().any(|op| !op.security().is_empty());
    let error_ty = api.error_model.as_ref().map(|name| {
        let name = model_ident(name);
        quote!(models::#name)
    });

    let inline_models: BTreeSet<String> = api.models.iter().filter(|m| m.inline).map(|m| m.name.clone()).collect();
    let per_operation = api.operations.iter().map(|op| emit_operation_types(op, &inline_models));
    let trait_methods = api.operations.iter().map(emit_trait_method);
    let handlers =
        api.operations.iter().map(|op| emit_handler(api, op, &validating, &inline_models, error_ty.as_ref()));

    let caller = if secured {
        quote! {
            /// Who made an authenticated request; secured operations receive it.
            type Caller: Send;
        }
    } else {
        TokenStream::new()
    };
    let used_schemes: BTreeSet<&String> = api.operations.iter().flat_map(Operation::security).collect();
    let authenticators = used_schemes.iter().map(|name| {
        let method = scheme_method(name);
        let error = error_ty.clone().unwrap_or_else(|| quote!(()));
        let how = match &api.security_schemes[*name].credential {
            Credential::Header(header) => format!("the `{header}` header, as sent"),
            Credential::Query(key) => format!("the `{key}` query parameter, decoded"),
            Credential::Cookie(cookie) => format!("the value of the `{cookie}` cookie"),
            Credential::Authorization(scheme) => format!("the `Authorization` header's `{scheme}` credentials"),
        };
        let doc = doc_lines(&format!(
            "Authenticates a request with the `{name}` scheme: `credential` is {how}, or `None` when it is absent."
        ));
        quote! {
            #doc
            fn #method(&self, credential: Option<&str>) -> impl Future<Output = Result<Self::Caller, AuthFailure<#error>>> + Send;
        }
    });
    let rejection_method = error_ty.as_ref().map(|error| {
        quote! {
            /// The error body for a request the router refused before it reached a handler.
            fn rejection_body(&self, rejection: &Rejection) -> #error;
        }
    });

    // A rejection with a status the operation documents is answered in the spec's error body;
    // one it does not document (a finding `codegen` and `check` report) in the runtime's.
    let reject_fn = match &error_ty {
        Some(_) => quote! {
            fn reject<A: Api>(api: &A, rejection: Rejection, documents: fn(StatusCode) -> bool) -> Response {
                if documents(rejection.status) {
                    crate::runtime::json(rejection.status, "application/json", &api.rejection_body(&rejection))
                } else {
                    crate::runtime::undocumented_rejection(rejection)
                }
            }
        },
        None => quote! {
            fn reject<A: Api>(_api: &A, rejection: Rejection, _documents: fn(StatusCode) -> bool) -> Response {
                crate::runtime::undocumented_rejection(rejection)
            }
        },
    };

    let has_path = api.operations.iter().any(|op| !op.path_params.is_empty());
    let has_body = api.operations.iter().any(|op| op.body.is_some());
    let reads_headers = api.operations.iter().any(reads_headers);
    let mut imports = TokenStream::new();
    if has_body {
        imports.extend(quote!(
            use axum::body::Bytes;
            use axum::extract::rejection::BytesRejection;
        ));
    }
    if has_path {
        imports.extend(quote!(
            use axum::extract::Path;
            use axum::extract::rejection::PathRejection;
        ));
    }
    if reads_headers {
        imports.extend(quote!(
            use axum::http::HeaderMap;
        ));
    }
    let upgrade_import = if api.operations.iter().any(|op| op.websocket) {
        imports.extend(quote!(
            use axum::extract::ws::rejection::WebSocketUpgradeRejection;
        ));
        quote!(
            pub use axum::extract::ws::WebSocketUpgrade;
        )
    } else {
        TokenStream::new()
    };
    if !api.models.is_empty() {
        imports.extend(quote!(
            use super::models;
        ));
    }
    let router = emit_router(api);
    let doc = emit_document(api);

    quote! {
        //! The spec's operations as the [`Api`] trait, the [`router`] that serves any implementation
        //! of it, and [`ApiDoc`], the OpenAPI document the code describes.
        #![allow(missing_docs, clippy::large_enum_variant, clippy::too_many_arguments)]

        use std::future::Future;
        use std::sync::Arc;

        use axum::extract::State;
        use axum::http::StatusCode;
        use axum::response::{IntoResponse, Response};
        #imports

        pub use crate::runtime::{AuthFailure, Rejection, RejectionKind};
        #upgrade_import

        #(#per_operation)*

        /// The operations of the spec. Implement it in hand-written code and serve it with
        /// [`router`]; a new operation in the spec adds a method here, so an implementation stops
        /// compiling until it handles it.
        pub trait Api: Send + Sync + 'static {
            #caller
            #(#authenticators)*
            #rejection_method
            #(#trait_methods)*
        }

        #(#handlers)*

        #router
        #doc

        #reject_fn
    }
}

/// The parameter structs and the response enum of one operation.
fn emit_operation_types(op: &Operation, inline_models: &BTreeSet<String>) -> TokenStream {
    let fn_name = &op.fn_name;
    let mut out = TokenStream::new();
    for (params, suffix, location) in [
        (&op.path_params, "Path", quote!(Path)),
        (&op.query_params, "Query", quote!(Query)),
        (&op.header_params, "Header", quote!(Header)),
    ] {
        if params.is_empty() {
            continue;
        }
        let name = format_ident!("{}{}", op.type_stem, suffix);
        let doc = doc_lines(&format!("{suffix} parameters of [`Api::{fn_name}`]."));
        let fields = params.iter().map(|p| emit_param_field(p, inline_models));
        let validate = if params_validate(params) {
            let fields: Vec<Field> = params.iter().map(Param::as_field).collect();
            emit_validate(&name, &fields, &BTreeSet::new())
        } else {
            TokenStream::new()
        };
        out.extend(quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::IntoParams)]
            #[into_params(parameter_in = #location)]
            pub struct #name {
                #(#fields)*
            }
            #validate
        });
    }

    let response = format_ident!("{}Response", op.type_stem);
    let doc = doc_lines(&format!("What [`Api::{fn_name}`] answers: one variant per status the spec documents."));
    let variants = op.responses.iter().map(|r| {
        let variant = variant_name(r);
        let carried = if carries_status(r) { quote!(StatusCode,) } else { TokenStream::new() };
        let doc = doc_lines(&format!("{}: {}", r.status.key(), r.description));
        match &r.body {
            _ if r.upgrade => {
                let doc = doc_lines(&format!(
                    "{}: {}\n\nThe upgrade's response: `upgrade.on_upgrade(...)` of the handler's [`WebSocketUpgrade`].",
                    r.status.key(),
                    r.description
                ));
                quote!(#doc #variant(Response),)
            }
            Some((ty, _)) => {
                let ty = rust_type(ty, &models_prefix());
                quote!(#doc #variant(#carried #ty),)
            }
            None if carries_status(r) => quote!(#doc #variant(StatusCode),),
            None => quote!(#doc #variant,),
        }
    });
    let status_arms = op.responses.iter().map(|r| {
        let variant = variant_name(r);
        match (r.status, &r.body) {
            _ if r.upgrade => quote!(Self::#variant(response) => response.status(),),
            (Status::Code(code), Some(_)) => {
                let status = status_const(code);
                quote!(Self::#variant(_) => #status,)
            }
            (Status::Code(code), None) => {
                let status = status_const(code);
                quote!(Self::#variant => #status,)
            }
            (_, Some(_)) => quote!(Self::#variant(status, _) => *status,),
            (_, None) => quote!(Self::#variant(status) => *status,),
        }
    });
    let response_arms = op.responses.iter().map(|r| {
        let variant = variant_name(r);
        if r.upgrade {
            return quote!(Self::#variant(response) => response,);
        }
        let fields = match (carries_status(r), &r.body) {
            (false, Some(_)) => quote!((body)),
            (false, None) => TokenStream::new(),
            (true, Some(_)) => quote!((_, body)),
            (true, None) => quote!((_)),
        };
        match &r.body {
            Some((TypeRef::Bytes | TypeRef::AnyBytes, media_type)) => {
                quote!(Self::#variant #fields => crate::runtime::bytes(status, #media_type, body),)
            }
            Some((_, media_type)) => {
                quote!(Self::#variant #fields => crate::runtime::json(status, #media_type, &body),)
            }
            None => quote!(Self::#variant #fields => status.into_response(),),
        }
    });
    // `error(status, body)`: the documented error variant for a status, when every error
    // response of the operation carries the same type (the spec's one error schema).
    let error_types: Vec<&TypeRef> =
        op.responses.iter().filter(|r| r.is_error()).filter_map(|r| r.body.as_ref().map(|(ty, _)| ty)).collect();
    let error_constructor = match error_types.first() {
        Some(first)
            if error_types.iter().all(|ty| ty == first)
                && error_types.len() == op.responses.iter().filter(|r| r.is_error()).count() =>
        {
            let error_ty = rust_type(first, &models_prefix());
            let arms = op.responses.iter().filter(|r| r.is_error()).map(|r| {
                let variant = variant_name(r);
                match r.status {
                    Status::Code(code) => {
                        let code = proc_macro2::Literal::u16_unsuffixed(code);
                        quote!(#code => Ok(Self::#variant(body)),)
                    }
                    Status::Range(digit) => {
                        let (low, high) = (
                            proc_macro2::Literal::u16_unsuffixed(digit * 100),
                            proc_macro2::Literal::u16_unsuffixed(digit * 100 + 99),
                        );
                        quote!(#low..=#high => Ok(Self::#variant(status, body)),)
                    }
                    Status::Default => quote!(_ => Ok(Self::#variant(status, body)),),
                }
            });
            let otherwise = if op.responses.iter().any(|r| r.status == Status::Default && r.is_error()) {
                TokenStream::new()
            } else {
                quote!(_ => Err(body),)
            };
            quote! {
                /// The variant for an error `status`: its own, else its range's, else
                /// `default`'s; or the body back when the spec does not document that status
                /// for this operation.
                pub fn error(status: StatusCode, body: #error_ty) -> Result<Self, #error_ty> {
                    match status.as_u16() {
                        #(#arms)*
                        #otherwise
                    }
                }
            }
        }
        _ => TokenStream::new(),
    };
    // An upgrade's response carries its own status.
    let status_binding =
        if op.responses.iter().all(|r| r.upgrade) { TokenStream::new() } else { quote!(let status = self.status();) };
    // An upgrade's response (axum's) is neither `Clone` nor `PartialEq`.
    let derives = if op.websocket { quote!(Debug) } else { quote!(Debug, Clone, PartialEq) };
    out.extend(quote! {
        #doc
        #[derive(#derives)]
        pub enum #response {
            #(#variants)*
        }

        impl #response {
            /// The HTTP status of this response.
            pub fn status(&self) -> StatusCode {
                match self {
                    #(#status_arms)*
                }
            }

            #error_constructor
        }

        impl IntoResponse for #response {
            fn into_response(self) -> Response {
                #status_binding
                match self {
                    #(#response_arms)*
                }
            }
        }
    });
    out
}

/// Whether some of `params` has constraints, which the router then checks.
fn params_validate(params: &[Param]) -> bool {
    params.iter().any(|p| !p.constraints.is_empty())
}

/// The handler step that checks the constraints of the parameters in `variable` (when they have
/// any), refusing the request with `kind` as the extractor would.
fn param_check_step(params: &[Param], variable: &str, kind: TokenStream) -> TokenStream {
    if !params_validate(params) {
        return TokenStream::new();
    }
    let variable = format_ident!("{variable}");
    quote! {
        {
            let mut errors = Vec::new();
            crate::runtime::Validate::validate(&#variable, "", &mut errors);
            if !errors.is_empty() {
                return reject(&*api, Rejection { status: StatusCode::BAD_REQUEST, kind: #kind, message: format!("invalid parameters: {}", errors.join("; ")) }, documents);
            }
        }
    }
}

fn emit_param_field(param: &Param, inline_models: &BTreeSet<String>) -> TokenStream {
    let ident = ident(&param.ident);
    // An enum defined inside the parameter is not a component: utoipa must inline its schema.
    let inline =
        if mentions_inline_model(&param.ty, inline_models) { quote!(#[param(inline)]) } else { TokenStream::new() };
    let name = &param.name;
    let rename = if param.ident != param.name { quote!(#[serde(rename = #name)]) } else { TokenStream::new() };
    let doc = param.description.as_deref().map(doc_lines).unwrap_or_default();
    let ty = rust_type(&param.ty, &models_prefix());
    // utoipa marks an optional parameter nullable; the spec says whether it is.
    let (ty, nullable) = match (param.required, param.nullable) {
        (true, _) => (ty, TokenStream::new()),
        (false, true) => (quote!(Option<#ty>), quote!(#[param(nullable)])),
        (false, false) => (quote!(Option<#ty>), quote!(#[param(nullable = false)])),
    };
    let format = param.documented_format.as_deref().map(|f| quote!(#[param(format = #f)])).unwrap_or_default();
    // utoipa does not know `std::net` addresses: it documents them as the string they are sent as.
    let format = match &param.ty {
        TypeRef::IpAddr(_) if param.required => quote!(#[param(value_type = String)] #format),
        TypeRef::IpAddr(_) => quote!(#[param(value_type = Option<String>)] #format),
        _ => format,
    };
    let (constraints, _) = constraint_items(&param.as_field());
    let constraints = if constraints.is_empty() { TokenStream::new() } else { quote!(#[param(#(#constraints),*)]) };
    quote! {
        #doc
        #rename
        #inline
        #nullable
        #format
        #constraints
        pub #ident: #ty,
    }
}

fn operation_doc(op: &Operation) -> TokenStream {
    let mut text = format!("`{} {}`", op.method.as_str().to_ascii_uppercase(), op.path);
    if let Some(summary) = &op.summary {
        text.push_str(&format!(": {summary}"));
    }
    if let Some(description) = &op.description {
        text.push_str(&format!("\n\n{}", description.trim_end()));
    }
    doc_lines(&text)
}

fn emit_trait_method(op: &Operation) -> TokenStream {
    let name = ident(&op.fn_name);
    let doc = operation_doc(op);
    let response = format_ident!("{}Response", op.type_stem);
    let mut args = Vec::new();
    if !op.security().is_empty() {
        args.push(quote!(caller: Self::Caller));
    }
    if !op.path_params.is_empty() {
        let ty = format_ident!("{}Path", op.type_stem);
        args.push(quote!(path: #ty));
    }
    if !op.query_params.is_empty() {
        let ty = format_ident!("{}Query", op.type_stem);
        args.push(quote!(query: #ty));
    }
    if !op.header_params.is_empty() {
        let ty = format_ident!("{}Header", op.type_stem);
        args.push(quote!(header: #ty));
    }
    if op.websocket {
        args.push(quote!(upgrade: WebSocketUpgrade));
    }
    if let Some(body) = &op.body {
        let ty = body_type(body);
        let ty = if body.may_be_absent { quote!(Option<#ty>) } else { ty };
        args.push(quote!(body: #ty));
    }
    quote! {
        #doc
        fn #name(&self, #(#args),*) -> impl Future<Output = #response> + Send;
    }
}

/// The Rust type a handler receives a request body as.
/// How the router's document names a body of type `ty` (written `rust` in Rust): a type defined
/// inline in the spec is inlined there too, not made a component of its own.
fn document_type(ty: &TypeRef, rust: TokenStream, inline_models: &BTreeSet<String>) -> TokenStream {
    if mentions_inline_model(ty, inline_models) { quote!(inline(#rust)) } else { rust }
}

fn body_type(body: &Body) -> TokenStream {
    match body.encoding {
        BodyEncoding::Json | BodyEncoding::Form => rust_type(&body.ty, &models_prefix()),
        BodyEncoding::Bytes => quote!(Bytes),
        BodyEncoding::Text => quote!(String),
    }
}

/// Whether the handler of `op` reads the request's headers (credentials, header parameters, the
/// body's media type).
fn reads_headers(op: &Operation) -> bool {
    !op.security().is_empty() || op.body.is_some() || !op.header_params.is_empty()
}

/// The step that reads the header parameters of `op` into its `…Header` struct.
fn header_step(op: &Operation) -> TokenStream {
    let ty = format_ident!("{}Header", op.type_stem);
    let fields = op.header_params.iter().map(|param| {
        let ident = ident(&param.ident);
        let name = &param.name;
        let read = if param.required { quote!(required_header) } else { quote!(optional_header) };
        quote!(#ident: crate::runtime::#read(&headers, #name)?,)
    });
    quote! {
        let header = match (|| -> Result<#ty, Rejection> { Ok(#ty { #(#fields)* }) })() {
            Ok(header) => header,
            Err(rejection) => return reject(&*api, rejection, documents),
        };
    }
}

fn documented(op: &Operation, status: u16) -> bool {
    op.documents(status)
}

/// `fn documents(status) -> bool` in a handler: whether the operation documents an error status
/// with a body, so that a rejection with it is answered in the spec's error body.
fn documents_fn(op: &Operation, error_model: Option<&str>) -> TokenStream {
    let mut patterns = Vec::new();
    // A documented error response without a body, or with another schema than the error
    // model, has no error schema to answer in.
    let in_error_model = |r: &&Response| matches!((&r.body, error_model), (Some((TypeRef::Named(name), _)), Some(model)) if name == model);
    for response in op.responses.iter().filter(|r| r.is_error()).filter(in_error_model) {
        match response.status {
            Status::Code(code) => {
                let code = proc_macro2::Literal::u16_unsuffixed(code);
                patterns.push(quote!(#code));
            }
            Status::Range(digit) => {
                let low = proc_macro2::Literal::u16_unsuffixed(digit * 100);
                let high = proc_macro2::Literal::u16_unsuffixed(digit * 100 + 99);
                patterns.push(quote!(#low..=#high));
            }
            Status::Default => {
                return quote!(
                    fn documents(_status: StatusCode) -> bool {
                        true
                    }
                );
            }
        }
    }
    if patterns.is_empty() {
        return quote!(
            fn documents(_status: StatusCode) -> bool {
                false
            }
        );
    }
    quote!(
        fn documents(status: StatusCode) -> bool {
            matches!(status.as_u16(), #(#patterns)|*)
        }
    )
}

fn emit_handler(
    api: &Api,
    op: &Operation,
    validating: &BTreeSet<String>,
    inline_models: &BTreeSet<String>,
    error_ty: Option<&TokenStream>,
) -> TokenStream {
    let name = ident(&op.fn_name);
    let method = format_ident!("{}", op.method.as_str());
    let path = &op.path;
    let operation_id = &op.operation_id;
    // The utoipa description of the operation.
    let mut path_attr = vec![quote!(#method), quote!(path = #path), quote!(operation_id = #operation_id)];
    for tag in &op.tags {
        path_attr.push(quote!(tag = #tag));
    }
    if let Some(summary) = &op.summary {
        path_attr.push(quote!(summary = #summary));
    }
    if let Some(description) = &op.description {
        path_attr.push(quote!(description = #description));
    }
    let mut params = Vec::new();
    if !op.path_params.is_empty() {
        let ty = format_ident!("{}Path", op.type_stem);
        params.push(quote!(#ty));
    }
    if !op.query_params.is_empty() {
        let ty = format_ident!("{}Query", op.type_stem);
        params.push(quote!(#ty));
    }
    if !op.header_params.is_empty() {
        let ty = format_ident!("{}Header", op.type_stem);
        params.push(quote!(#ty));
    }
    if !params.is_empty() {
        path_attr.push(quote!(params(#(#params),*)));
    }
    if let Some(body) = &op.body {
        let optional = |ty: TokenStream| if body.required { ty } else { quote!(Option<#ty>) };
        let ty = match body.encoding {
            BodyEncoding::Bytes => optional(quote!(inline(crate::runtime::BinaryBody))),
            _ => document_type(&body.ty, optional(body_type(body)), inline_models),
        };
        let content_type = &body.media_type;
        let description = body.description.as_deref().map(|d| quote!(, description = #d)).unwrap_or_default();
        path_attr.push(quote!(request_body(content = #ty, content_type = #content_type #description)));
    }
    let responses = op.responses.iter().filter(|r| r.documented).map(|r: &Response| {
        let status = match r.status {
            Status::Code(code) => {
                let code = proc_macro2::Literal::u16_unsuffixed(code);
                quote!(#code)
            }
            other => {
                let key = other.key();
                quote!(#key)
            }
        };
        let description = &r.description;
        match &r.body {
            Some((TypeRef::Bytes, media_type)) => quote!((status = #status, description = #description, body = inline(crate::runtime::BinaryBody), content_type = #media_type)),
            Some((TypeRef::AnyBytes, media_type)) => quote!((status = #status, description = #description, body = inline(serde_json::Value), content_type = #media_type)),
            Some((TypeRef::Null(false), media_type)) => quote!((status = #status, description = #description, body = inline(crate::runtime::NullBody), content_type = #media_type)),
            Some((TypeRef::Null(true), media_type)) => quote!((status = #status, description = #description, body = inline(crate::runtime::NullStringBody), content_type = #media_type)),
            Some((ty, media_type)) => {
                let ty = document_type(ty, rust_type(ty, &models_prefix()), inline_models);
                quote!((status = #status, description = #description, body = #ty, content_type = #media_type))
            }
            None => quote!((status = #status, description = #description)),
        }
    });
    path_attr.push(quote!(responses(#(#responses),*)));
    if !op.requirements.is_empty() {
        let requirements = op.requirements.iter().map(|requirement| match requirement {
            Some((scheme, scopes)) => quote!((#scheme = [#(#scopes),*])),
            None => quote!(()),
        });
        path_attr.push(quote!(security(#(#requirements),*)));
    }

    // Extractors: all fallible ones as `Result`, so that every rejection gets the error body.
    let mut extractors = vec![quote!(State(api): State<Arc<A>>)];
    if reads_headers(op) {
        extractors.push(quote!(headers: HeaderMap));
    }
    let security = op.security();
    let key_in_query =
        security.iter().any(|name| matches!(api.security_schemes[*name].credential, Credential::Query(_)));
    if !op.query_params.is_empty() || key_in_query {
        extractors.push(quote!(uri: axum::http::Uri));
    }
    let mut steps = Vec::new();
    let mut call_args = Vec::new();

    if !security.is_empty() {
        // Each scheme whose credential the request carries is tried in the spec's order: the first
        // that accepts it, or fails otherwise than refusing it, decides; when every one refuses, the
        // first refusal is the answer; when the request carries none, the last scheme decides.
        let credential = |scheme_name: &String| match &api.security_schemes[scheme_name].credential {
            Credential::Header(header) => quote!(crate::runtime::header_value(&headers, #header)),
            Credential::Query(key) => quote!(crate::runtime::query_value(&uri, #key).as_deref()),
            Credential::Cookie(cookie) => quote!(crate::runtime::cookie_value(&headers, #cookie)),
            Credential::Authorization(scheme) => quote!(crate::runtime::authorization_credentials(&headers, #scheme)),
        };
        let attempts = security.iter().map(|scheme_name| {
            let method = scheme_method(scheme_name);
            let credential = credential(scheme_name);
            quote! {
                if let Some(credential) = #credential {
                    match api.#method(Some(credential)).await {
                        Err(AuthFailure::Unauthorized(error)) => {
                            refused.get_or_insert(error);
                        }
                        decided => break 'authenticate decided,
                    }
                }
            }
        });
        let last = security.last().expect("a secured operation");
        let last_method = scheme_method(last);
        let chain = if let [only] = security.as_slice() {
            // One scheme: it decides, with the credential or `None`.
            let only_credential = credential(only);
            quote!(api.#last_method(#only_credential).await)
        } else {
            quote! {
                'authenticate: {
                    let mut refused = None;
                    #(#attempts)*
                    match refused {
                        Some(error) => Err(AuthFailure::Unauthorized(error)),
                        None => api.#last_method(None).await,
                    }
                }
            }
        };
        let failed_status = if documented(op, 500) {
            quote!(StatusCode::INTERNAL_SERVER_ERROR)
        } else {
            quote!(StatusCode::UNAUTHORIZED)
        };
        let unavailable_status =
            if documented(op, 503) { quote!(StatusCode::SERVICE_UNAVAILABLE) } else { failed_status.clone() };
        let refuse = match error_ty {
            Some(_) => quote!(crate::runtime::json(status, "application/json", &error)),
            None => quote!({
                let _ = error;
                status.into_response()
            }),
        };
        steps.push(quote! {
            let authenticated = #chain;
            let caller = match authenticated {
                Ok(caller) => caller,
                Err(failure) => {
                    let (status, error) = match failure {
                        AuthFailure::Unauthorized(error) => (StatusCode::UNAUTHORIZED, error),
                        AuthFailure::Failed(error) => (#failed_status, error),
                        AuthFailure::Unavailable(error) => (#unavailable_status, error),
                    };
                    return #refuse;
                }
            };
        });
        call_args.push(quote!(caller));
    }
    if !op.path_params.is_empty() {
        let ty = format_ident!("{}Path", op.type_stem);
        extractors.push(quote!(path: Result<Path<#ty>, PathRejection>));
        steps.push(quote! {
            let path = match path {
                Ok(Path(path)) => path,
                Err(rejection) => return reject(&*api, Rejection { status: StatusCode::BAD_REQUEST, kind: RejectionKind::Path, message: rejection.body_text() }, documents),
            };
        });
        steps.push(param_check_step(&op.path_params, "path", quote!(RejectionKind::Path)));
        call_args.push(quote!(path));
    }
    if !op.query_params.is_empty() {
        let ty = format_ident!("{}Query", op.type_stem);
        steps.push(quote! {
            let query: #ty = match crate::runtime::query(&uri) {
                Ok(query) => query,
                Err(rejection) => return reject(&*api, rejection, documents),
            };
        });
        steps.push(param_check_step(&op.query_params, "query", quote!(RejectionKind::Query)));
        call_args.push(quote!(query));
    }
    if !op.header_params.is_empty() {
        steps.push(header_step(op));
        steps.push(param_check_step(&op.header_params, "header", quote!(RejectionKind::Header)));
        call_args.push(quote!(header));
    }
    if op.websocket {
        extractors.push(quote!(upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>));
        steps.push(quote! {
            let upgrade = match upgrade {
                Ok(upgrade) => upgrade,
                Err(rejection) => return crate::runtime::upgrade_required(reject(&*api, crate::runtime::not_an_upgrade(&rejection), documents)),
            };
        });
        call_args.push(quote!(upgrade));
    }
    if let Some(body) = &op.body {
        let (too_large, bad_media) = body_statuses(op);
        extractors.push(quote!(body: Result<Bytes, BytesRejection>));
        let media_type = &body.media_type;
        let read = |reader: TokenStream| {
            quote! {
                let body = match #reader {
                    Ok(body) => body,
                    Err(rejection) => return reject(&*api, rejection, documents),
                };
            }
        };
        match body.encoding {
            BodyEncoding::Bytes | BodyEncoding::Text => {
                let reader = if body.encoding == BodyEncoding::Bytes { quote!(raw_body) } else { quote!(text_body) };
                steps.push(read(quote!(crate::runtime::#reader(&headers, body, #media_type, #too_large, #bad_media))));
            }
            BodyEncoding::Json | BodyEncoding::Form => {
                steps.extend(typed_body_steps(api, op, body, validating, read));
            }
        }
        call_args.push(quote!(body));
    }

    let documents = if op.can_reject() { documents_fn(op, api.error_model.as_deref()) } else { TokenStream::new() };
    quote! {
        #[utoipa::path(#(#path_attr),*)]
        async fn #name<A: Api>(#(#extractors),*) -> Response {
            #documents
            #(#steps)*
            api.#name(#(#call_args),*).await.into_response()
        }
    }
}

/// The steps that read a JSON or form body into its type: parse, require or default, validate.
fn typed_body_steps(
    api: &Api,
    op: &Operation,
    body: &Body,
    validating: &BTreeSet<String>,
    read: impl Fn(TokenStream) -> TokenStream,
) -> Vec<TokenStream> {
    let ty = rust_type(&body.ty, &models_prefix());
    let (too_large, bad_media) = body_statuses(op);
    // serde builds a struct from an array of its field values too; the runtime refuses that.
    let object = matches!(&body.ty, TypeRef::Map(_))
        || matches!(&body.ty, TypeRef::Named(name)
            if api.models.iter().any(|m| &m.name == name && matches!(m.kind, ModelKind::Struct { .. })));
    let mut steps = Vec::new();
    let parsed = if body.encoding == BodyEncoding::Form {
        read(quote!(crate::runtime::form_body::<#ty>(&headers, body, #too_large, #bad_media)))
    } else {
        read(quote!(crate::runtime::json_body::<#ty>(&headers, body, #too_large, #bad_media, #object)))
    };
    steps.push(parsed);
    if body.required {
        steps.push(quote! {
            let Some(body) = body else {
                return reject(&*api, Rejection { status: StatusCode::BAD_REQUEST, kind: RejectionKind::MissingBody, message: "a request body is required".to_owned() }, documents);
            };
        });
    } else if !body.may_be_absent {
        // `{}` is a value of the body's type.
        steps.push(quote! {
            let body = match body {
                Some(body) => body,
                None => match serde_json::from_slice::<#ty>(b"{}") {
                    Ok(body) => body,
                    Err(err) => return reject(&*api, Rejection { status: StatusCode::BAD_REQUEST, kind: RejectionKind::InvalidBody, message: format!("invalid (empty) request body: {err}") }, documents),
                },
            };
        });
    }
    let validated = match &body.ty {
        TypeRef::Named(name) if validating.contains(name) => {
            Some(quote!(crate::runtime::Validate::validate(body, "", &mut errors);))
        }
        TypeRef::Array(item) if matches!(item.as_ref(), TypeRef::Named(name) if validating.contains(name)) => {
            Some(quote! {
                for (index, item) in body.iter().enumerate() {
                    crate::runtime::Validate::validate(item, &format!("[{index}]"), &mut errors);
                }
            })
        }
        _ => None,
    };
    if let Some(validate) = validated {
        let present = if body.may_be_absent { quote!(if let Some(body) = &body) } else { quote!(let body = &body;) };
        steps.push(quote! {
            {
                #present
                let mut errors = Vec::new();
                #validate
                if !errors.is_empty() {
                    return reject(&*api, Rejection { status: StatusCode::BAD_REQUEST, kind: RejectionKind::InvalidBody, message: format!("invalid request body: {}", errors.join("; ")) }, documents);
                }
            }
        });
    }
    steps
}

/// The statuses a too large body and a body of the wrong media type are refused with: 413 and
/// 415 where the operation documents them, else 400.
fn body_statuses(op: &Operation) -> (TokenStream, TokenStream) {
    let too_large =
        if documented(op, 413) { quote!(StatusCode::PAYLOAD_TOO_LARGE) } else { quote!(StatusCode::BAD_REQUEST) };
    let bad_media =
        if documented(op, 415) { quote!(StatusCode::UNSUPPORTED_MEDIA_TYPE) } else { quote!(StatusCode::BAD_REQUEST) };
    (too_large, bad_media)
}

fn emit_router(api: &Api) -> TokenStream {
    // One `route` call per path, with every method chained on it.
    let mut paths: Vec<(&str, Vec<&Operation>)> = Vec::new();
    for op in &api.operations {
        match paths.iter_mut().find(|(p, _)| *p == op.path) {
            Some((_, ops)) => ops.push(op),
            None => paths.push((&op.path, vec![op])),
        }
    }
    let routes = paths.iter().map(|(path, ops)| {
        let mut chain = TokenStream::new();
        for (index, op) in ops.iter().enumerate() {
            let method = format_ident!("{}", op.method.as_str());
            let handler = ident(&op.fn_name);
            chain = if index == 0 {
                quote!(axum::routing::#method(#handler::<A>))
            } else {
                quote!(#chain.#method(#handler::<A>))
            };
        }
        quote!(.route(#path, #chain))
    });
    let fallbacks = if api.error_model.is_some() {
        quote! {
            .fallback(|State(api): State<Arc<A>>| async move {
                reject(&*api, Rejection { status: StatusCode::NOT_FOUND, kind: RejectionKind::NotFound, message: "no operation has this path".to_owned() }, |_| true)
            })
            .method_not_allowed_fallback(|State(api): State<Arc<A>>| async move {
                reject(&*api, Rejection { status: StatusCode::METHOD_NOT_ALLOWED, kind: RejectionKind::MethodNotAllowed, message: "the path does not support this method".to_owned() }, |_| true)
            })
        }
    } else {
        TokenStream::new()
    };
    quote! {
        /// Serves `api` at the spec's paths. Malformed requests, unknown paths (404) and
        /// unsupported methods (405) are answered with the spec's error body.
        pub fn router<A: Api>(api: Arc<A>) -> axum::Router {
            axum::Router::new()
                #(#routes)*
                #fallbacks
                .with_state(api)
        }
    }
}

fn emit_document(api: &Api) -> TokenStream {
    let info = &api.info;
    let title = &info.title;
    let version = &info.version;
    let mut info_items = vec![quote!(title = #title), quote!(version = #version)];
    if let Some(description) = &info.description {
        info_items.push(quote!(description = #description));
    }
    if let Some((name, url)) = &info.license {
        let url = url.as_deref().map(|u| quote!(, url = #u)).unwrap_or_default();
        info_items.push(quote!(license(name = #name #url)));
    }
    if let Some((name, url)) = &info.contact {
        let mut parts = Vec::new();
        if let Some(name) = name {
            parts.push(quote!(name = #name));
        }
        if let Some(url) = url {
            parts.push(quote!(url = #url));
        }
        info_items.push(quote!(contact(#(#parts),*)));
    }
    let servers = api.servers.iter().map(|(url, description)| {
        let description = description.as_deref().map(|d| quote!(, description = #d)).unwrap_or_default();
        quote!((url = #url #description))
    });
    let tags = api.tags.iter().map(|(name, description)| {
        let description = description.as_deref().map(|d| quote!(, description = #d)).unwrap_or_default();
        quote!((name = #name #description))
    });
    // utoipa refuses an empty `servers()` or `tags()`.
    let servers = if api.servers.is_empty() { TokenStream::new() } else { quote!(servers(#(#servers),*),) };
    let tags = if api.tags.is_empty() { TokenStream::new() } else { quote!(tags(#(#tags),*)) };
    let paths = api.operations.iter().map(|op| ident(&op.fn_name));
    let schemas = api.models.iter().filter(|m| !m.inline).map(|m| {
        let name = model_ident(&m.name);
        quote!(models::#name)
    });

    // Each scheme as the spec writes it, read into utoipa's type when the document is built.
    let schemes = api.security_schemes.iter().map(|(name, scheme)| {
        let json = scheme.document.to_string();
        quote!(components.add_security_scheme(#name, scheme(#json));)
    });

    // The spec's security schemes, added by a utoipa modifier (when it has any).
    let (modifiers, modifier) = if api.security_schemes.is_empty() {
        (TokenStream::new(), TokenStream::new())
    } else {
        (
            quote!(modifiers(&SecuritySchemes),),
            quote! {
                /// Adds the spec's security schemes to [`ApiDoc`].
                struct SecuritySchemes;

                impl utoipa::Modify for SecuritySchemes {
                    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
                        fn scheme(json: &str) -> utoipa::openapi::security::SecurityScheme {
                            serde_json::from_str(json).expect("the spec's security scheme reads as utoipa's")
                        }
                        let components = openapi.components.get_or_insert_with(Default::default);
                        #(#schemes)*
                    }
                }
            },
        )
    };

    quote! {
        /// The OpenAPI document of this code (OpenAPI 3.1, as utoipa writes it), built from the
        /// same operations the [`router`] serves.
        #[derive(utoipa::OpenApi)]
        #[openapi(
            info(#(#info_items),*),
            #servers
            paths(#(#paths),*),
            components(schemas(#(#schemas),*)),
            #modifiers
            #tags
        )]
        pub struct ApiDoc;

        #modifier

        /// The OpenAPI document of this code.
        pub fn openapi() -> utoipa::openapi::OpenApi {
            crate::runtime::annotations_in_place(<ApiDoc as utoipa::OpenApi>::openapi())
        }
    }
}

//! What the generated code needs that does not depend on the spec: why a request is refused
//! before a handler runs ([`Rejection`], [`AuthFailure`]), reading credentials and JSON bodies,
//! writing JSON responses, checking constraints ([`Validate`]), refusing requests to websocket
//! operations that are not upgrades ([`not_an_upgrade`]) and the serde/schemars helpers of the
//! models ([`support`]).

mod document;
mod foreign_schema;
mod shape;
pub mod support;
mod websocket;

pub use websocket::{not_an_upgrade, upgrade_required};

pub use document::annotations_in_place;
pub use foreign_schema::foreign_schema;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why an `authenticate_*` method of an `Api` refused a request.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthFailure<E> {
    /// The credential is missing or not valid: answered with 401.
    Unauthorized(E),
    /// The credential could not be checked: answered with 500 when the operation documents it,
    /// else with 401.
    Failed(E),
    /// The credential could not be checked for now (for example the database is busy or
    /// unreachable) and retrying later may work: answered with 503 when the operation documents
    /// it, else like [`AuthFailure::Failed`].
    Unavailable(E),
}

/// A request the router refused before calling a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status it is answered with.
    pub status: StatusCode,
    /// What was wrong.
    pub kind: RejectionKind,
    /// What was wrong, for the caller.
    pub message: String,
}

/// Why a request was refused before reaching a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// A path parameter has the wrong type.
    Path,
    /// The query string is malformed or a query parameter is missing or of the wrong type.
    Query,
    /// A header parameter is missing, sent twice or of the wrong type.
    Header,
    /// A required body is empty.
    MissingBody,
    /// The body is not JSON (by its `Content-Type`).
    UnsupportedMediaType,
    /// The body is larger than the router accepts.
    BodyTooLarge,
    /// The body is not valid JSON for the operation's schema, or breaks a constraint.
    InvalidBody,
    /// No operation has this path.
    NotFound,
    /// The path exists, but not with this method.
    MethodNotAllowed,
    /// The request to a websocket operation is not a websocket upgrade (426).
    NotAnUpgrade,
}

impl Rejection {
    /// A rejection answered with 400 Bad Request.
    pub fn bad_request(kind: RejectionKind, message: impl Into<String>) -> Self {
        Rejection { status: StatusCode::BAD_REQUEST, kind, message: message.into() }
    }
}

/// Checks the constraints serde does not (lengths, ranges, item counts).
pub trait Validate {
    /// Appends one message per broken constraint, naming the value by its JSON path below `path`.
    fn validate(&self, path: &str, errors: &mut Vec<String>);
}

/// The JSON path of property `name` below `path` (`""` is the document itself).
pub fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

/// `body` serialized as JSON with `status` and `media_type`; a body that cannot be serialized is
/// answered with 500 and the reason in plain text.
pub fn json<T: serde::Serialize>(status: StatusCode, media_type: &'static str, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, media_type)], bytes).into_response(),
        Err(err) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot serialize the response: {err}")).into_response()
        }
    }
}

/// The runtime's error body, `{"message": "..."}`, for a rejection whose status the operation does
/// not document (so the spec has no error body for it): `codegen` warns about such operations and
/// `rainbond-check check` reports them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UndocumentedError {
    /// What was wrong, for the caller.
    pub message: String,
}

/// `rejection` answered with its status and the runtime's error body ([`UndocumentedError`]).
pub fn undocumented_rejection(rejection: Rejection) -> Response {
    json(rejection.status, "application/json", &UndocumentedError { message: rejection.message })
}

/// `body` as sent with `status` and `media_type`; a media type with a wildcard (`*/*`,
/// `image/*`) is sent as `application/octet-stream`.
pub fn bytes(status: StatusCode, media_type: &'static str, body: Bytes) -> Response {
    let media_type = if media_type.contains('*') { "application/octet-stream" } else { media_type };
    (status, [(header::CONTENT_TYPE, media_type)], body).into_response()
}

/// The value of header `name`, when it is present once and visible ASCII. A header sent twice is
/// ambiguous (which `Authorization`, which `Content-Type`?), so neither value is used.
pub fn header_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

/// The header parameter `name` as a `T`, `None` when it is absent: a string as sent, a number or
/// boolean as written in JSON, an enum by its value. A header sent twice is refused.
pub fn optional_header<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    name: &str,
) -> Result<Option<T>, Rejection> {
    if headers.get_all(name).iter().count() > 1 {
        return Err(Rejection::bad_request(RejectionKind::Header, format!("header `{name}` is sent more than once")));
    }
    let Some(value) = headers.get(name) else { return Ok(None) };
    let text = value
        .to_str()
        .map_err(|_| Rejection::bad_request(RejectionKind::Header, format!("header `{name}` is not visible ASCII")))?;
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .or_else(|_| serde_json::from_str(text))
        .map(Some)
        .map_err(|err| Rejection::bad_request(RejectionKind::Header, format!("header `{name}`: {err}")))
}

/// The header parameter `name` as a `T`; refused when it is absent.
pub fn required_header<T: serde::de::DeserializeOwned>(headers: &HeaderMap, name: &str) -> Result<T, Rejection> {
    optional_header(headers, name)?
        .ok_or_else(|| Rejection::bad_request(RejectionKind::Header, format!("header `{name}` is required")))
}

/// The credentials of an `Authorization: <scheme> <credentials>` header whose scheme is `scheme`
/// (in any case): the token of `Bearer <token>`, the base64 text of `Basic <text>`.
pub fn authorization_credentials<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    let value = header_value(headers, header::AUTHORIZATION.as_str())?;
    let (sent, credentials) = value.split_once(' ')?;
    sent.eq_ignore_ascii_case(scheme).then(|| credentials.trim())
}

/// The value of cookie `name`, when the request's one `Cookie` header sends it once.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let cookies = header_value(headers, header::COOKIE.as_str())?;
    let mut values = cookies.split(';').filter_map(|pair| pair.trim().split_once('=')).filter(|(key, _)| *key == name);
    let (_, value) = values.next()?;
    values.next().is_none().then_some(value)
}

/// The value of query parameter `name` (decoded), when the query string has it once.
pub fn query_value(uri: &axum::http::Uri, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_html_form::from_str(uri.query()?).ok()?;
    let mut values = pairs.into_iter().filter(|(key, _)| key == name);
    let (_, value) = values.next()?;
    values.next().is_none().then_some(value)
}

/// Whether the `Content-Type` is `application/json` or an `application/*+json` type.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = header_value(headers, header::CONTENT_TYPE.as_str()) else { return false };
    let essence = essence(value);
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The type and subtype of a media type, lower-case, without parameters.
fn essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Reads a JSON body: `Ok(None)` when it is empty, a [`Rejection`] when it cannot be used. A body
/// over the router's limit is refused with `too_large`, one that is not JSON with
/// `bad_media_type` (each operation answers the statuses it documents). With `object`, the body
/// must be a JSON object: serde would also build a struct from an array of its field values. An
/// array anywhere `T`'s schema wants an object is refused the same way.
pub fn json_body<T: serde::de::DeserializeOwned + schemars::JsonSchema + 'static>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    too_large: StatusCode,
    bad_media_type: StatusCode,
    object: bool,
) -> Result<Option<T>, Rejection> {
    let bytes = body_bytes(body, too_large)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if !is_json_content_type(headers) {
        return Err(wrong_media_type(bad_media_type, "application/json"));
    }
    if object && bytes.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Rejection::bad_request(RejectionKind::InvalidBody, "invalid request body: expected a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let message = if path == "." {
            format!("invalid request body: {}", err.inner())
        } else {
            format!("invalid request body at `{path}`: {}", err.inner())
        };
        Rejection::bad_request(RejectionKind::InvalidBody, message)
    })?;
    deserializer
        .end()
        .map_err(|err| Rejection::bad_request(RejectionKind::InvalidBody, format!("invalid request body: {err}")))?;
    refuse_arrays_in_place_of_objects::<T>(&bytes)?;
    Ok(Some(value))
}

/// The body's bytes; a body over the router's limit is refused with `too_large`.
fn body_bytes(body: Result<Bytes, BytesRejection>, too_large: StatusCode) -> Result<Bytes, Rejection> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Rejection { status: too_large, kind: RejectionKind::BodyTooLarge, message: rejection.body_text() }
        } else {
            Rejection::bad_request(RejectionKind::InvalidBody, rejection.body_text())
        }
    })
}

fn wrong_media_type(status: StatusCode, expected: &str) -> Rejection {
    Rejection {
        status,
        kind: RejectionKind::UnsupportedMediaType,
        message: format!("expected a request body of type {expected}"),
    }
}

/// Whether the `Content-Type` is `expected` (by its type and subtype, in any case).
fn has_media_type(headers: &HeaderMap, expected: &str) -> bool {
    let Some(value) = header_value(headers, header::CONTENT_TYPE.as_str()) else { return false };
    essence(value) == essence(expected)
}

/// Reads a raw body (`application/octet-stream`): the bytes as sent. A body that is not empty must
/// come with `media_type`, else it is refused with `bad_media_type`.
pub fn raw_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    media_type: &str,
    too_large: StatusCode,
    bad_media_type: StatusCode,
) -> Result<Bytes, Rejection> {
    let bytes = body_bytes(body, too_large)?;
    if !bytes.is_empty() && !has_media_type(headers, media_type) {
        return Err(wrong_media_type(bad_media_type, media_type));
    }
    Ok(bytes)
}

/// Reads a text body (`text/*`): [`raw_body`], which must be UTF-8.
pub fn text_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    media_type: &str,
    too_large: StatusCode,
    bad_media_type: StatusCode,
) -> Result<String, Rejection> {
    let bytes = raw_body(headers, body, media_type, too_large, bad_media_type)?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Rejection::bad_request(RejectionKind::InvalidBody, "invalid request body: not UTF-8 text"))
}

/// Reads the query string of `uri` into `T`; a key repeated (`tag=a&tag=b`) fills a `Vec` field,
/// as progenitor's client sends an array parameter.
/// The message names the parameter (`limit: invalid digit found in string`).
pub fn query<T: serde::de::DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, Rejection> {
    let deserializer = serde_html_form::Deserializer::from_bytes(uri.query().unwrap_or("").as_bytes());
    serde_path_to_error::deserialize(deserializer)
        .map_err(|err| Rejection::bad_request(RejectionKind::Query, format!("invalid query string: {err}")))
}

/// Reads an `application/x-www-form-urlencoded` body into `T`: `Ok(None)` when it is empty.
pub fn form_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    too_large: StatusCode,
    bad_media_type: StatusCode,
) -> Result<Option<T>, Rejection> {
    const FORM: &str = "application/x-www-form-urlencoded";
    let bytes = body_bytes(body, too_large)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if !has_media_type(headers, FORM) {
        return Err(wrong_media_type(bad_media_type, FORM));
    }
    serde_html_form::from_bytes(&bytes)
        .map(Some)
        .map_err(|err| Rejection::bad_request(RejectionKind::InvalidBody, format!("invalid request body: {err}")))
}

/// A raw request body as the generated `ApiDoc` describes it: `{type: string, format: binary}`
/// (written by hand: a derive would add this comment as the schema's description).
pub struct BinaryBody;

impl utoipa::PartialSchema for BinaryBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for BinaryBody {}

/// A JSON body that is always `null` (`{enum: [null]}`, how dropshot documents a handler that
/// answers `()`), as the generated `ApiDoc` describes it. Its Rust value is `()`.
pub struct NullBody;

impl utoipa::PartialSchema for NullBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new().schema_type(Type::Null).enum_values(Some([serde_json::Value::Null])).into()
    }
}

impl utoipa::ToSchema for NullBody {}

/// [`NullBody`] as dropshot writes it for a `()` answer: `{type: string, enum: [null]}`, which
/// only `null` satisfies.
pub struct NullStringBody;

impl utoipa::PartialSchema for NullStringBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .enum_values(Some([serde_json::Value::Null]))
            .into()
    }
}

impl utoipa::ToSchema for NullStringBody {}

/// [`shape::array_in_place_of_object`] on a body that serde accepted (so it is valid JSON). Only
/// a body with an array in it is looked at.
fn refuse_arrays_in_place_of_objects<T: schemars::JsonSchema + 'static>(bytes: &[u8]) -> Result<(), Rejection> {
    if !bytes.contains(&b'[') {
        return Ok(());
    }
    let body: serde_json::Value = serde_json::from_slice(bytes).expect("serde accepted this JSON already");
    match shape::array_in_place_of_object::<T>(&body) {
        None => Ok(()),
        Some(path) if path == "." => Err(Rejection::bad_request(
            RejectionKind::InvalidBody,
            "invalid request body: expected a JSON object, found an array",
        )),
        Some(path) => Err(Rejection::bad_request(
            RejectionKind::InvalidBody,
            format!("invalid request body at `{path}`: expected an object, found an array"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (header::HeaderName::from_static(name), HeaderValue::from_static(value)))
            .collect()
    }

    fn read<T: serde::de::DeserializeOwned + schemars::JsonSchema + 'static>(
        content_type: &'static str,
        body: &'static str,
    ) -> Result<Option<T>, Rejection> {
        json_body(
            &headers(&[("content-type", content_type)]),
            Ok(Bytes::from_static(body.as_bytes())),
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            true,
        )
    }

    #[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
    struct Pet {
        name: String,
    }

    #[test]
    fn a_json_body_is_read_whatever_the_parameters_and_case_of_its_media_type() {
        for content_type in ["application/json", "Application/JSON; charset=utf-8", "application/problem+json"] {
            let pet: Option<Pet> = read(content_type, r#"{"name":"Rex"}"#).unwrap();
            assert_eq!(pet, Some(Pet { name: "Rex".to_owned() }), "{content_type}");
        }
    }

    #[test]
    fn an_empty_body_is_none_so_that_the_operation_decides_whether_it_is_required() {
        assert_eq!(read::<Pet>("text/plain", ""), Ok(None));
    }

    #[test]
    fn a_body_of_another_media_type_is_refused_with_the_operations_status() {
        let rejection = read::<Pet>("text/plain", r#"{"name":"Rex"}"#).unwrap_err();
        assert_eq!(rejection.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(rejection.kind, RejectionKind::UnsupportedMediaType);
        let without_type = json_body::<Pet>(
            &HeaderMap::new(),
            Ok(Bytes::from_static(b"{}")),
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::BAD_REQUEST,
            true,
        );
        assert_eq!(without_type.unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn an_invalid_body_is_refused_naming_the_json_path_of_the_problem() {
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        struct Litter {
            #[allow(dead_code)]
            pets: Vec<Pet>,
        }
        let rejection = read::<Litter>("application/json", r#"{"pets":[{"name":"Rex"},{"name":3}]}"#).unwrap_err();
        assert_eq!((rejection.status, rejection.kind), (StatusCode::BAD_REQUEST, RejectionKind::InvalidBody));
        assert!(
            rejection.message.starts_with("invalid request body at `pets[1].name`: invalid type"),
            "{}",
            rejection.message
        );
        let trailing = read::<Pet>("application/json", r#"{"name":"Rex"} {}"#).unwrap_err();
        assert!(trailing.message.contains("trailing characters"), "{}", trailing.message);
    }

    #[test]
    fn an_object_body_must_be_a_json_object_not_its_values_in_an_array() {
        for body in [r#"["Rex"]"#, "null", r#""Rex""#, " [] "] {
            let rejection = read::<Pet>("application/json", body).unwrap_err();
            assert_eq!(rejection.message, "invalid request body: expected a JSON object", "{body}");
        }
        assert_eq!(read::<Pet>("application/json", " \n{\"name\":\"Rex\"}"), Ok(Some(Pet { name: "Rex".to_owned() })));
    }

    #[test]
    fn a_nested_object_must_not_be_its_values_in_an_array_either() {
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        struct Litter {
            #[allow(dead_code)]
            pets: Vec<Pet>,
        }
        let rejection = read::<Litter>("application/json", r#"{"pets":[{"name":"Rex"},["Tom"]]}"#).unwrap_err();
        assert_eq!((rejection.status, rejection.kind), (StatusCode::BAD_REQUEST, RejectionKind::InvalidBody));
        assert_eq!(rejection.message, "invalid request body at `pets[1]`: expected an object, found an array");
        assert!(read::<Litter>("application/json", r#"{"pets":[{"name":"[Rex]"}]}"#).is_ok());
    }

    #[test]
    fn a_header_sent_twice_counts_as_absent() {
        let mut twice = headers(&[("authorization", "key-a")]);
        twice.append(header::AUTHORIZATION, HeaderValue::from_static("key-b"));
        assert_eq!(header_value(&twice, "authorization"), None);
        assert_eq!(header_value(&headers(&[("authorization", "key-a")]), "authorization"), Some("key-a"));
    }

    #[test]
    fn authorization_credentials_are_read_in_any_case_of_the_scheme_and_other_schemes_are_not() {
        let bearer = |pairs: &[(&'static str, &'static str)]| {
            authorization_credentials(&headers(pairs), "bearer").map(str::to_owned)
        };
        assert_eq!(bearer(&[("authorization", "bearer  abc ")]).as_deref(), Some("abc"));
        assert_eq!(bearer(&[("authorization", "Basic abc")]), None);
        assert_eq!(bearer(&[("authorization", "abc")]), None);
        assert_eq!(bearer(&[]), None);
        let basic = headers(&[("authorization", "Basic dTpw")]);
        assert_eq!(authorization_credentials(&basic, "basic"), Some("dTpw"));
    }

    #[test]
    fn an_api_key_in_a_cookie_or_the_query_is_read_when_sent_once() {
        let sent = headers(&[("cookie", "theme=dark; session=s3cr3t")]);
        assert_eq!(cookie_value(&sent, "session"), Some("s3cr3t"));
        assert_eq!(cookie_value(&sent, "other"), None);
        assert_eq!(cookie_value(&headers(&[("cookie", "session=a; session=b")]), "session"), None, "ambiguous");
        let uri: axum::http::Uri = "/pets?api_key=a%20b&limit=3".parse().unwrap();
        assert_eq!(query_value(&uri, "api_key").as_deref(), Some("a b"));
        assert_eq!(query_value(&"/pets?api_key=a&api_key=b".parse().unwrap(), "api_key"), None, "ambiguous");
        assert_eq!(query_value(&"/pets".parse().unwrap(), "api_key"), None);
    }

    #[test]
    fn a_json_response_carries_the_status_and_media_type() {
        let response = json(StatusCode::CREATED, "application/json", &serde_json::json!({"id": 1}));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn an_undocumented_rejection_keeps_its_status_and_says_why_in_the_runtime_body() {
        let response = undocumented_rejection(Rejection::bad_request(RejectionKind::Query, "`limit` is not a number"));
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn header_parameters_are_read_as_their_type_and_refused_when_missing_twice_or_wrong() {
        let sent = headers(&[("x-count", "12"), ("x-name", "12"), ("x-flag", "true")]);
        assert_eq!(optional_header::<i32>(&sent, "x-count"), Ok(Some(12)));
        assert_eq!(optional_header::<String>(&sent, "x-name"), Ok(Some("12".to_owned())));
        assert_eq!(required_header::<bool>(&sent, "x-flag"), Ok(true));
        assert_eq!(optional_header::<i32>(&sent, "x-missing"), Ok(None));
        let missing = required_header::<i32>(&sent, "x-missing").unwrap_err();
        assert_eq!((missing.kind, missing.message.as_str()), (RejectionKind::Header, "header `x-missing` is required"));
        let wrong = optional_header::<i32>(&headers(&[("x-count", "many")]), "x-count").unwrap_err();
        assert!(wrong.message.starts_with("header `x-count`: "), "{}", wrong.message);
        let mut twice = headers(&[("x-count", "1")]);
        twice.append("x-count", HeaderValue::from_static("2"));
        assert_eq!(
            optional_header::<i32>(&twice, "x-count").unwrap_err().message,
            "header `x-count` is sent more than once"
        );
    }

    #[test]
    fn raw_text_and_form_bodies_are_read_by_their_media_type() {
        let raw = |content_type: &'static str, body: &'static [u8]| {
            raw_body(
                &headers(&[("content-type", content_type)]),
                Ok(Bytes::from_static(body)),
                "application/octet-stream",
                StatusCode::PAYLOAD_TOO_LARGE,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            )
        };
        assert_eq!(raw("application/octet-stream", b"\xff\x00"), Ok(Bytes::from_static(b"\xff\x00")));
        assert_eq!(raw("text/plain", b"x").unwrap_err().status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let text = |body: &'static [u8]| {
            text_body(
                &headers(&[("content-type", "text/plain; charset=utf-8")]),
                Ok(Bytes::from_static(body)),
                "text/plain",
                StatusCode::PAYLOAD_TOO_LARGE,
                StatusCode::BAD_REQUEST,
            )
        };
        assert_eq!(text("héllo".as_bytes()), Ok("héllo".to_owned()));
        assert_eq!(text(b"\xff").unwrap_err().message, "invalid request body: not UTF-8 text");
        let form = |content_type: &'static str, body: &'static str| {
            form_body::<Pet>(
                &headers(&[("content-type", content_type)]),
                Ok(Bytes::from_static(body.as_bytes())),
                StatusCode::PAYLOAD_TOO_LARGE,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            )
        };
        assert_eq!(
            form("application/x-www-form-urlencoded", "name=R%C3%A9x"),
            Ok(Some(Pet { name: "Réx".to_owned() }))
        );
        assert_eq!(form("application/x-www-form-urlencoded", ""), Ok(None));
        assert_eq!(form("application/json", "name=Rex").unwrap_err().kind, RejectionKind::UnsupportedMediaType);
        assert_eq!(form("application/x-www-form-urlencoded", "nom=Rex").unwrap_err().kind, RejectionKind::InvalidBody);
    }

    #[test]
    fn a_raw_response_names_its_media_type_or_octet_stream_for_a_wildcard() {
        let response = bytes(StatusCode::OK, "text/csv", Bytes::from_static(b"a,b"));
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/csv");
        let response = bytes(StatusCode::OK, "*/*", Bytes::from_static(b"a,b"));
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/octet-stream");
    }

    #[test]
    fn json_paths_join_below_the_document_root() {
        assert_eq!(join_path("", "name"), "name");
        assert_eq!(join_path("pets[0]", "name"), "pets[0].name");
    }
}

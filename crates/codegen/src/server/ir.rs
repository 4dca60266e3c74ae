//! The server generator's view of a spec: models and operations, read from the document's JSON
//! tree. Everything the emitters need is resolved here, and anything they cannot express is
//! refused here with the pointer and line of the construct.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_json::{Map, Value};

use crate::spec::{Spec, escape_token};
use crate::{CodegenError, Location};

/// The models and operations of one spec.
#[derive(Debug, Clone)]
pub struct Api {
    /// `info` fields the code-built document repeats.
    pub info: Info,
    /// `servers[].url` and description.
    pub servers: Vec<(String, Option<String>)>,
    /// `tags[]`: name and description.
    pub tags: Vec<(String, Option<String>)>,
    /// Named models, in spec order, followed by the inline models found inside them.
    pub models: Vec<Model>,
    /// Operations in spec order.
    pub operations: Vec<Operation>,
    /// Security schemes the operations use, by spec name.
    pub security_schemes: BTreeMap<String, SecurityScheme>,
    /// The model every error response uses, when the spec has error responses.
    pub error_model: Option<String>,
    /// The spec pointers of arrays with `uniqueItems` in an operation's schema that typify gives no
    /// type of its own (`Vec<Item>` on the client): a `Vec` here too, whose uniqueness neither side
    /// checks nor documents (a set type would need its items ordered or hashable).
    pub plain_unique_arrays: BTreeSet<String>,
}

impl Api {
    /// What the router does that the spec does not say, in spec order (see
    /// [`crate::server_warnings`]).
    pub fn warnings(&self) -> Vec<Undocumented> {
        let operations = self.operations.iter();
        operations.flat_map(|op| op.undocumented.iter().chain(&op.unserved)).cloned().collect()
    }
}

/// `info` of the spec.
#[derive(Debug, Clone, Default)]
pub struct Info {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.license.name` and `.url`.
    pub license: Option<(String, Option<String>)>,
    /// `info.contact.name` and `.url`.
    pub contact: Option<(Option<String>, Option<String>)>,
}

/// A Rust type for a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    /// A generated model, by Rust name.
    Named(String),
    /// `type: string`, with no format or one that is documentation only (`email`, `uri`, ...).
    String,
    /// `type: string, format: date-time` → `chrono::DateTime<chrono::Utc>` (RFC 3339).
    DateTime,
    /// `type: string, format: date` → `chrono::NaiveDate` (`YYYY-MM-DD`).
    Date,
    /// `type: string, format: uuid` → `uuid::Uuid`.
    Uuid,
    /// `type: integer` with its format.
    Integer(IntegerFormat),
    /// `type: number` with its format.
    Number(NumberFormat),
    /// `type: boolean`.
    Boolean,
    /// `type: array`.
    Array(Box<TypeRef>),
    /// `type: object` with `additionalProperties` and no properties.
    Map(Box<TypeRef>),
    /// A free-form value (`{}` or `type: object` with nothing else).
    Any,
    /// A response body that is not JSON (`*/*`, `text/plain`, `application/octet-stream`, ...):
    /// the bytes as sent, as progenitor's client receives them.
    Bytes,
    /// Such a body whose schema says nothing of it (`{}`, or none): the bytes as sent, documented
    /// as any value.
    AnyBytes,
    /// A JSON body that is always `null` (`{enum: [null]}`, dropshot's `()`): `()`; `true` when
    /// the schema also says `type: string` (as dropshot writes it).
    Null(bool),
    /// A response body that may be `null` (`nullable: true`): `Option<T>`.
    Nullable(Box<TypeRef>),
    /// A parameter of `type: string` with `format` `ip`, `ipv4` or `ipv6` (the format): the
    /// `std::net` address typify gives the client. (A component with such a property is typify's.)
    IpAddr(String),
}

/// The Rust integer type of an integer schema: the one typify picks (see [`typify_integer`]),
/// except that typify's `NonZeroU*` for `minimum: 1` is the unsigned type of the same width here,
/// whose minimum the server validates (so 0 is refused on both sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegerFormat {
    /// `i8`.
    I8,
    /// `u8`.
    U8,
    /// `i16`.
    I16,
    /// `u16`.
    U16,
    /// `i32`.
    I32,
    /// `u32`.
    U32,
    /// `i64`.
    I64,
    /// `u64`.
    U64,
}

/// typify 0.8's integer types, most to least restrictive: the JSON Schema format, the type, the
/// type's bounds (typify's `convert_integer`).
const TYPIFY_INTEGERS: [(&str, IntegerFormat, f64, f64); 10] = [
    ("int8", IntegerFormat::I8, i8::MIN as f64, i8::MAX as f64),
    ("uint8", IntegerFormat::U8, u8::MIN as f64, u8::MAX as f64),
    ("int16", IntegerFormat::I16, i16::MIN as f64, i16::MAX as f64),
    ("uint16", IntegerFormat::U16, u16::MIN as f64, u16::MAX as f64),
    ("int", IntegerFormat::I32, i32::MIN as f64, i32::MAX as f64),
    ("int32", IntegerFormat::I32, i32::MIN as f64, i32::MAX as f64),
    ("uint", IntegerFormat::U32, u32::MIN as f64, u32::MAX as f64),
    ("uint32", IntegerFormat::U32, u32::MIN as f64, u32::MAX as f64),
    ("int64", IntegerFormat::I64, i64::MIN as f64, i64::MAX as f64),
    ("uint64", IntegerFormat::U64, u64::MIN as f64, u64::MAX as f64),
];

/// The integer type typify picks for `format` and the inclusive bounds `min`/`max`, as typify
/// 0.8 picks it: a known format whose range holds the bounds decides; else bounds that equal a
/// type's range (or `min` 1, typify's `NonZero*`, here the unsigned type of the same width) pick
/// that type; else `i64`.
pub fn typify_integer(format: Option<&str>, min: Option<f64>, max: Option<f64>, multiple: bool) -> IntegerFormat {
    let (mut min, mut max) = (min, max);
    if let Some((_, ty, low, high)) = TYPIFY_INTEGERS.iter().find(|(name, ..)| Some(*name) == format) {
        let fits = min.is_none_or(|m| m >= *low) && max.is_none_or(|m| m <= *high);
        if !multiple && fits {
            return if min == Some(1.0) { non_zero_width(*ty) } else { *ty };
        }
        min = min.or(Some(*low));
        max = max.or(Some(*high));
    }
    let same = |a: f64, b: f64| (a - b).abs() <= f64::EPSILON;
    let found = TYPIFY_INTEGERS.iter().rev().find_map(|(_, ty, low, high)| match (min, max) {
        (Some(1.0), _) => Some(non_zero_width(*ty)),
        (None, Some(max)) if same(*high, max) => Some(*ty),
        (Some(min), None) if same(*low, min) => Some(*ty),
        (Some(min), Some(max)) if same(*low, min) && same(*high, max) => Some(*ty),
        _ => None,
    });
    found.unwrap_or(IntegerFormat::I64)
}

/// The unsigned type of `ty`'s width: typify's `NonZeroU*` of that width.
fn non_zero_width(ty: IntegerFormat) -> IntegerFormat {
    match ty {
        IntegerFormat::I8 | IntegerFormat::U8 => IntegerFormat::U8,
        IntegerFormat::I16 | IntegerFormat::U16 => IntegerFormat::U16,
        IntegerFormat::I32 | IntegerFormat::U32 => IntegerFormat::U32,
        IntegerFormat::I64 | IntegerFormat::U64 => IntegerFormat::U64,
    }
}

/// Number formats and the Rust type each maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberFormat {
    /// `float` → `f32`.
    Float,
    /// `double` or no format → `f64`.
    Double,
}

/// Value constraints the server enforces and documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minimum`.
    pub minimum: Option<f64>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
}

impl Constraints {
    /// Whether any constraint is set.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// A generated model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Rust name.
    pub name: String,
    /// Name in the spec (`components/schemas/<name>`), or the derived name of an inline model.
    pub schema_name: String,
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// Defined inside another schema rather than under `components/schemas`.
    pub inline: bool,
    /// JSON pointer of its schema in the spec (of its first use, for an inline model).
    pub pointer: String,
    /// What it is.
    pub kind: ModelKind,
}

/// The shapes a model can take.
#[derive(Debug, Clone)]
pub enum ModelKind {
    /// An object with named properties.
    Struct {
        /// Properties in spec order.
        fields: Vec<Field>,
        /// `additionalProperties: false`.
        deny_unknown_fields: bool,
        /// `additionalProperties: {schema}` beside the properties (`{}` included, `true` not): the
        /// other members' type, kept in a flattened `extra` map, as typify does.
        extra: Option<TypeRef>,
    },
    /// A string with an `enum`.
    StringEnum {
        /// The values, in spec order.
        values: Vec<String>,
    },
    /// Any other schema: a type alias.
    Alias(TypeRef),
    /// A schema this generator does not write itself (`oneOf`, `pattern`, `format: ip`, ...), or one
    /// such a schema refers to: the type is typify's own, the one the client has (see `foreign.rs`).
    Foreign,
}

/// A property of a struct model.
#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON name.
    pub json_name: String,
    /// The Rust identifier (without `r#`).
    pub ident: String,
    /// Listed in `required`.
    pub required: bool,
    /// `nullable: true`.
    pub nullable: bool,
    /// `readOnly: true`: ignored in requests.
    pub read_only: bool,
    /// `writeOnly: true`: never sent in responses.
    pub write_only: bool,
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// The value's type.
    pub ty: TypeRef,
    /// Constraints on the value.
    pub constraints: Constraints,
    /// The spec's integer `format` where utoipa would write another one for the Rust type.
    pub documented_format: Option<String>,
}

/// HTTP methods the generator routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// HEAD (routed after GET on the same path, which axum would otherwise answer HEAD with)
    Head,
    /// OPTIONS
    Options,
    /// TRACE
    Trace,
}

impl Method {
    /// Every method, in the order a path's operations are read and routed.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Patch,
        Method::Head,
        Method::Options,
        Method::Trace,
    ];

    /// Lower-case name, as in the spec and in utoipa/axum.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Patch => "patch",
            Method::Head => "head",
            Method::Options => "options",
            Method::Trace => "trace",
        }
    }
}

/// One operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `operationId`, as written.
    pub operation_id: String,
    /// snake_case name of the trait method.
    pub fn_name: String,
    /// UpperCamelCase stem of the operation's types.
    pub type_stem: String,
    /// The method.
    pub method: Method,
    /// The path template, e.g. `/apps/{app_id}/copy`.
    pub path: String,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// Path parameters, in template order.
    pub path_params: Vec<Param>,
    /// Query parameters.
    pub query_params: Vec<Param>,
    /// Header parameters.
    pub header_params: Vec<Param>,
    /// The JSON request body.
    pub body: Option<Body>,
    /// Documented responses, by ascending status.
    pub responses: Vec<Response>,
    /// The security requirements as the spec writes them, which the document repeats: each a
    /// scheme with its scopes, or none (`{}`: a request may come without credentials, and the last
    /// scheme's `authenticate_*` method, given `None`, decides). See [`Operation::security`].
    pub requirements: Vec<Option<(String, Vec<String>)>>,
    /// The statuses the router answers this operation with that no response documents.
    pub undocumented: Option<Undocumented>,
    /// The media types of a response the router does not answer with: of several, it answers
    /// with the one progenitor's client reads (`application/json`, else the first).
    pub unserved: Vec<Undocumented>,
    /// A websocket operation (`x-dropshot-websocket`): the handler gets the upgrade, and one of
    /// `responses` is the upgrade itself ([`Response::upgrade`]).
    pub websocket: bool,
}

impl Operation {
    /// The security schemes that can authenticate the call (any one of them), in the spec's order;
    /// empty when the call is open.
    pub fn security(&self) -> Vec<&String> {
        self.requirements.iter().flatten().map(|(scheme, _)| scheme).collect()
    }

    /// The first response that documents `code`: its own, else its range, else `default` (the
    /// upgrade of a websocket operation documents no other status).
    pub fn response_for(&self, code: u16) -> Option<&Response> {
        [Status::Code(code), Status::Range(code / 100), Status::Default]
            .into_iter()
            .find_map(|status| self.responses.iter().find(|r| r.status == status && !r.upgrade))
    }

    /// Whether the router can refuse a request of this operation before its handler runs: a
    /// malformed one ([`Operation::reads_request`]), or one to a websocket operation that is not
    /// an upgrade.
    pub fn can_reject(&self) -> bool {
        self.reads_request() || self.websocket
    }

    /// Whether the router reads parameters or a body, which a malformed request breaks (400).
    pub fn reads_request(&self) -> bool {
        self.body.is_some()
            || !self.path_params.is_empty()
            || !self.query_params.is_empty()
            || !self.header_params.is_empty()
    }

    /// Whether some response documents `code`.
    pub fn documents(&self, code: u16) -> bool {
        self.response_for(code).is_some()
    }
}

/// A path or query parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name in the request.
    pub name: String,
    /// Rust identifier.
    pub ident: String,
    /// `required`.
    pub required: bool,
    /// `description`.
    pub description: Option<String>,
    /// The value's type: a scalar, or (in the query) an array of scalars.
    pub ty: TypeRef,
    /// The spec's integer `format` where utoipa would write another one for the Rust type.
    pub documented_format: Option<String>,
    /// `nullable: true` (dropshot writes it on optional parameters).
    pub nullable: bool,
    /// Constraints on the value, which the router checks.
    pub constraints: Constraints,
}

impl Param {
    /// The parameter as a field of its operation's path, query or header struct.
    pub fn as_field(&self) -> Field {
        Field {
            json_name: self.name.clone(),
            ident: self.ident.clone(),
            required: self.required,
            nullable: false,
            read_only: false,
            write_only: false,
            title: None,
            description: self.description.clone(),
            ty: self.ty.clone(),
            constraints: self.constraints.clone(),
            documented_format: self.documented_format.clone(),
        }
    }
}

/// How a request body is read, by its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// JSON (`application/json`, `application/*+json`) into the body's type.
    Json,
    /// `application/x-www-form-urlencoded` into the body's (object) type.
    Form,
    /// `application/octet-stream` (`type: string, format: binary`): the bytes as sent.
    Bytes,
    /// `text/*` (`type: string`): the text as sent, UTF-8.
    Text,
}

/// A request body.
#[derive(Debug, Clone)]
pub struct Body {
    /// `required`. An absent optional body means `{}` (what progenitor's client sends when its
    /// caller sets none) where `{}` is a value of its type, else no value ([`Body::may_be_absent`]).
    pub required: bool,
    /// An optional body that `{}` does not satisfy: the handler gets an `Option`.
    pub may_be_absent: bool,
    /// `description`.
    pub description: Option<String>,
    /// The media type.
    pub media_type: String,
    /// How the body is read.
    pub encoding: BodyEncoding,
    /// The body's type (`String` for bytes and text).
    pub ty: TypeRef,
}

/// The key of a documented response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// One status code, such as `404`.
    Code(u16),
    /// A range, such as `4XX` (the hundreds digit: 4).
    Range(u16),
    /// `default`: every status no other response documents.
    Default,
}

impl Status {
    /// Reads a key of `responses`: a code, a range (`1XX` to `5XX`) or `default`.
    pub fn parse(key: &str) -> Option<Status> {
        if key == "default" {
            return Some(Status::Default);
        }
        if let Ok(code) = key.parse::<u16>() {
            return (100..600).contains(&code).then_some(Status::Code(code));
        }
        match key.to_ascii_uppercase().as_bytes() {
            [digit @ b'1'..=b'5', b'X', b'X'] => Some(Status::Range(u16::from(digit - b'0'))),
            _ => None,
        }
    }

    /// The key as the spec writes it (`404`, `4XX`, `default`).
    pub fn key(self) -> String {
        match self {
            Status::Code(code) => code.to_string(),
            Status::Range(digit) => format!("{digit}XX"),
            Status::Default => "default".to_owned(),
        }
    }

    /// Whether a response with this key answers `code` (`default` answers every code).
    pub fn covers(self, code: u16) -> bool {
        match self {
            Status::Code(own) => own == code,
            Status::Range(digit) => code / 100 == digit,
            Status::Default => true,
        }
    }

    /// The order responses are listed in: codes, then ranges, then `default`.
    fn rank(self) -> (u16, u16) {
        match self {
            Status::Code(code) => (code, 0),
            Status::Range(digit) => (digit * 100 + 99, 1),
            Status::Default => (1000, 2),
        }
    }
}

/// A documented response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code, range or `default`.
    pub status: Status,
    /// `description`.
    pub description: String,
    /// The JSON body's type, if any, and its media type.
    pub body: Option<(TypeRef, String)>,
    /// Written in the spec; `false` for the `default` response an operation that documents none
    /// gets, so that its handler can answer (the router's document leaves it out).
    pub documented: bool,
    /// The websocket upgrade of an `x-dropshot-websocket` operation: its `101`, or its `default`
    /// (which progenitor reads as 101). The handler answers it with the upgrade's response.
    pub upgrade: bool,
    /// The `default` of an operation that documents no other success: it answers successes too.
    pub success_default: bool,
}

impl Response {
    /// Whether the response answers errors: 4xx, 5xx, `4XX`, `5XX` or a documented `default`
    /// (unless it is a websocket operation's upgrade).
    pub fn is_error(&self) -> bool {
        if self.upgrade {
            return false;
        }
        match self.status {
            Status::Code(code) => code >= 400,
            Status::Range(digit) => digit >= 4,
            Status::Default => self.documented && !self.success_default,
        }
    }
}

/// A status the router answers with that an operation does not document: generation goes on,
/// and `codegen` and `check` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undocumented {
    /// The operation's `responses`.
    pub location: Location,
    /// The status and when it is answered.
    pub message: String,
}

/// A security scheme the generated router can check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityScheme {
    /// Where a request carries the credential.
    pub credential: Credential,
    /// The scheme object as the spec writes it, which the router's document repeats.
    pub document: Value,
}

/// Where a request carries the credential of a security scheme, which the `Api`'s
/// `authenticate_<scheme>` method checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `type: apiKey, in: header`: the header, as sent.
    Header(String),
    /// `type: apiKey, in: query`: the query parameter, decoded.
    Query(String),
    /// `type: apiKey, in: cookie`: the cookie's value.
    Cookie(String),
    /// `type: http` (the scheme, lower case), and `oauth2` and `openIdConnect` (`bearer`, their
    /// access tokens' scheme, RFC 6750): the `Authorization` header's credentials after the scheme.
    Authorization(String),
}

/// Reads `spec` into the generator's model.
pub fn read(spec: &Spec) -> Result<Api, CodegenError> {
    Reader {
        spec,
        models: Vec::new(),
        type_names: BTreeMap::new(),
        typify_names: None,
        claim_log: Vec::new(),
        unique_items_as_vec: false,
        plain_unique_arrays: BTreeSet::new(),
    }
    .read()
}

struct Reader<'a> {
    spec: &'a Spec,
    models: Vec<Model>,
    /// Every Rust type name given out so far: where its schema is, and the schema.
    type_names: BTreeMap<String, (String, Value)>,
    /// The names of typify's types for the spec, once an operation's inline schema needs them.
    typify_names: Option<BTreeSet<String>>,
    /// The names added to `type_names`, in order, so that a trial can be taken back.
    claim_log: Vec<String>,
    /// Whether an array with `uniqueItems` is read as a `Vec` (see [`Api::plain_unique_arrays`]).
    unique_items_as_vec: bool,
    /// Where such arrays were read.
    plain_unique_arrays: BTreeSet<String>,
}

/// How far the reader's state had come, to take a trial back to ([`Reader::rollback`]).
struct Mark {
    models: usize,
    claims: usize,
}

/// What a Rust type name is for an inline schema.
enum Claim {
    /// The name is new: the schema becomes a model of that name.
    New(String),
    /// An identical schema already has the name: both use one type (as typify does).
    Shared(String),
}

/// The names of the components `schema` refers to (`$ref: '#/components/schemas/<name>'`).
fn component_references(schema: &Value, names: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = str_at(schema, "$ref").and_then(|r| r.strip_prefix("#/components/schemas/")) {
                names.insert(name.replace("~1", "/").replace("~0", "~"));
            }
            map.values().for_each(|child| component_references(child, names));
        }
        Value::Array(items) => items.iter().for_each(|child| component_references(child, names)),
        _ => {}
    }
}

fn str_at<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

fn string_at(value: &Value, key: &str) -> Option<String> {
    str_at(value, key).map(str::to_owned)
}

fn bool_at(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn u64_at(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

impl<'a> Reader<'a> {
    fn unsupported(&self, pointer: &str, message: impl Into<String>) -> CodegenError {
        CodegenError::Unsupported { location: self.spec.location(pointer), message: message.into() }
    }

    fn read(mut self) -> Result<Api, CodegenError> {
        let doc = &self.spec.document;
        let info_value = doc.get("info").cloned().unwrap_or(Value::Null);
        let info = Info {
            title: string_at(&info_value, "title").unwrap_or_default(),
            version: string_at(&info_value, "version").unwrap_or_default(),
            description: string_at(&info_value, "description"),
            license: info_value.get("license").and_then(|l| Some((string_at(l, "name")?, string_at(l, "url")))),
            contact: info_value.get("contact").map(|c| (string_at(c, "name"), string_at(c, "url"))),
        };
        let servers = list_of_pairs(doc.get("servers"), "url");
        let tags = list_of_pairs(doc.get("tags"), "name");

        let empty = Map::new();
        let schemas = doc.pointer("/components/schemas").and_then(Value::as_object).unwrap_or(&empty);
        for (name, schema) in schemas {
            let pointer = format!("/components/schemas/{}", escape_token(name));
            self.claim_component(&type_ident(name), &pointer, schema)?;
        }
        let foreign = self.foreign_components(schemas)?;
        for (name, schema) in schemas {
            let pointer = format!("/components/schemas/{}", escape_token(name));
            let rust_name = type_ident(name);
            let model = if foreign.contains(name) {
                Model {
                    name: rust_name,
                    schema_name: name.clone(),
                    title: string_at(schema, "title"),
                    description: string_at(schema, "description"),
                    inline: false,
                    pointer: pointer.clone(),
                    kind: ModelKind::Foreign,
                }
            } else {
                self.native_model(&rust_name, name, schema, &pointer)?
            };
            self.models.push(model);
        }

        let security_schemes = self.security_schemes()?;
        let mut operations = Vec::new();
        let paths = doc.get("paths").and_then(Value::as_object).unwrap_or(&empty);
        for (path, item) in paths {
            let item_pointer = format!("/paths/{}", escape_token(path));
            for method in Method::ALL {
                let method_name = method.as_str();
                if let Some(op) = item.get(method_name) {
                    operations.push(self.operation(
                        path,
                        method,
                        item,
                        op,
                        &format!("{item_pointer}/{method_name}"),
                        &security_schemes,
                    )?);
                }
            }
        }

        let error_model = self.error_model(&operations);
        for op in &mut operations {
            op.undocumented = self.undocumented(op, error_model.as_deref());
        }
        Ok(Api {
            info,
            servers,
            tags,
            models: self.models,
            operations,
            security_schemes,
            error_model,
            plain_unique_arrays: self.plain_unique_arrays,
        })
    }

    fn mark(&self) -> Mark {
        Mark { models: self.models.len(), claims: self.claim_log.len() }
    }

    /// Takes back the models and names given out since `mark`.
    fn rollback(&mut self, mark: Mark) {
        self.models.truncate(mark.models);
        for name in self.claim_log.drain(mark.claims..) {
            self.type_names.remove(&name);
        }
    }

    /// The model this generator writes for the component `schema_name`.
    fn native_model(
        &mut self,
        rust_name: &str,
        schema_name: &str,
        schema: &Value,
        pointer: &str,
    ) -> Result<Model, CodegenError> {
        self.refuse_nullable_component_enum(rust_name, schema, pointer)?;
        self.model(rust_name, schema_name, schema, pointer)
    }

    /// The components whose types are typify's rather than this generator's: those it refuses
    /// (except for name clashes, which typify would get wrong too), and every component they refer
    /// to, directly or not, so that typify's derives hold for each field it types.
    fn foreign_components(&mut self, schemas: &Map<String, Value>) -> Result<BTreeSet<String>, CodegenError> {
        let mut foreign = BTreeSet::new();
        for (name, schema) in schemas {
            let pointer = format!("/components/schemas/{}", escape_token(name));
            let mark = self.mark();
            let trial = self.native_model(&type_ident(name), name, schema, &pointer);
            self.rollback(mark);
            match trial {
                Err(clash @ CodegenError::NameClash { .. }) => return Err(clash),
                Err(_) => {
                    foreign.insert(name.clone());
                }
                Ok(_) => {}
            }
        }
        let mut roots: Vec<String> = foreign.iter().cloned().collect();
        for (schema, pointer) in self.operation_schemas() {
            let mark = self.mark();
            let trial = self.property_type(&schema, &pointer, "Trial");
            self.rollback(mark);
            if trial.is_err() {
                let mut referenced = BTreeSet::new();
                component_references(&schema, &mut referenced);
                roots.extend(
                    referenced.into_iter().filter(|name| schemas.contains_key(name) && foreign.insert(name.clone())),
                );
            }
        }
        let mut pending = roots;
        while let Some(name) = pending.pop() {
            let mut referenced = BTreeSet::new();
            component_references(&schemas[&name], &mut referenced);
            for target in referenced {
                if schemas.contains_key(&target) && foreign.insert(target.clone()) {
                    pending.push(target);
                }
            }
        }
        Ok(foreign)
    }

    /// The inline schemas of the operations' parameters, bodies and responses (not plain
    /// references), with their pointers.
    fn operation_schemas(&self) -> Vec<(Value, String)> {
        let mut found = Vec::new();
        let Some(paths) = self.spec.document.get("paths").and_then(Value::as_object) else { return found };
        let mut add = |holder: &Value, pointer: String| {
            let (holder, pointer) = match str_at(holder, "$ref").and_then(|r| self.spec.resolve(r)) {
                Some(target) => (target, str_at(holder, "$ref").unwrap_or_default().trim_start_matches('#').to_owned()),
                None => (holder, pointer),
            };
            if let Some(schema) = holder.get("schema").filter(|schema| schema.get("$ref").is_none()) {
                found.push((schema.clone(), format!("{pointer}/schema")));
            }
            for (media, content) in holder.get("content").and_then(Value::as_object).into_iter().flatten() {
                if let Some(schema) = content.get("schema").filter(|schema| schema.get("$ref").is_none()) {
                    found.push((schema.clone(), format!("{pointer}/content/{}/schema", escape_token(media))));
                }
            }
        };
        for (path, item) in paths {
            let item_pointer = format!("/paths/{}", escape_token(path));
            for (index, param) in item.get("parameters").and_then(Value::as_array).into_iter().flatten().enumerate() {
                add(param, format!("{item_pointer}/parameters/{index}"));
            }
            for method in Method::ALL {
                let Some(op) = item.get(method.as_str()) else { continue };
                let op_pointer = format!("{item_pointer}/{}", method.as_str());
                for (index, param) in op.get("parameters").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    add(param, format!("{op_pointer}/parameters/{index}"));
                }
                if let Some(body) = op.get("requestBody") {
                    add(body, format!("{op_pointer}/requestBody"));
                }
                for (status, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                    add(response, format!("{op_pointer}/responses/{}", escape_token(status)));
                }
            }
        }
        found
    }

    /// Builds the model named `rust_name` from `schema`; inline object and enum schemas inside
    /// it become models of their own.
    fn model(
        &mut self,
        rust_name: &str,
        schema_name: &str,
        schema: &Value,
        pointer: &str,
    ) -> Result<Model, CodegenError> {
        let title = string_at(schema, "title");
        let description = string_at(schema, "description");
        let kind = if is_object_with_properties(schema) {
            self.reject_composition(schema, pointer)?;
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut fields = Vec::new();
            let empty = Map::new();
            let properties = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
            for (json_name, property) in properties {
                let property_pointer = format!("{pointer}/properties/{}", escape_token(json_name));
                let ident = field_ident(json_name);
                // typify's name for an inline property type, unless it has a title.
                let suggested = format!("{rust_name}_{}", json_name.to_snake_case());
                let (ty, nullable, resolved) = self.property_type(property, &property_pointer, &suggested)?;
                if let Some(items) = resolved.get("items")
                    && let TypeRef::Array(item) = &ty
                    && documented_format(item, items).is_some()
                {
                    // utoipa's attributes document a field's format, not its items'.
                    return Err(self.unsupported(
                        &format!("{property_pointer}/items/format"),
                        "array items with a format of their own are not written by the server generator",
                    ));
                }
                if bool_at(property, "writeOnly") {
                    return Err(self.unsupported(
                        &format!("{property_pointer}/writeOnly"),
                        "`writeOnly` properties are not supported by the server generator: drop `writeOnly` and say it in the description",
                    ));
                }
                if bool_at(property, "readOnly") && required.contains(&json_name.as_str()) {
                    return Err(self.unsupported(
                        &format!("{property_pointer}/readOnly"),
                        "a `readOnly` property cannot also be required: the server ignores it in requests; remove it from `required`",
                    ));
                }
                fields.push(Field {
                    json_name: json_name.clone(),
                    ident,
                    required: required.contains(&json_name.as_str()),
                    nullable,
                    read_only: bool_at(property, "readOnly"),
                    write_only: bool_at(property, "writeOnly"),
                    title: string_at(property, "title"),
                    description: string_at(property, "description"),
                    documented_format: documented_format(&ty, resolved),
                    ty,
                    constraints: constraints(resolved),
                });
            }
            for name in &required {
                if !properties.contains_key(*name) {
                    return Err(self.unsupported(
                        &format!("{pointer}/required"),
                        format!("`{name}` is required but not among the properties: add the property or remove it from `required`"),
                    ));
                }
            }
            let deny_unknown_fields = schema.get("additionalProperties") == Some(&Value::Bool(false));
            let extra = match schema.get("additionalProperties") {
                Some(additional @ Value::Object(_)) => {
                    if properties.contains_key("extra") {
                        return Err(self.unsupported(
                            &format!("{pointer}/additionalProperties"),
                            "additional properties beside a property named `extra`: typify keeps them in a field named `extra` too; rename the property",
                        ));
                    }
                    let (ty, _, _) = self.property_type(
                        additional,
                        &format!("{pointer}/additionalProperties"),
                        &format!("{rust_name}_extra"),
                    )?;
                    Some(ty)
                }
                _ => None,
            };
            ModelKind::Struct { fields, deny_unknown_fields, extra }
        } else if let Some(values) = self.enum_values(schema, pointer)? {
            ModelKind::StringEnum { values }
        } else {
            let (ty, _, resolved) = self.property_type(schema, pointer, &format!("{rust_name}Item"))?;
            if !constraints(resolved).is_empty() || documented_format(&ty, resolved).is_some() {
                // A newtype's own attributes cannot carry them; typify's type does (see `foreign.rs`).
                return Err(self.unsupported(
                    pointer,
                    "a named scalar or array with constraints or its own format is not written by the server generator",
                ));
            }
            ModelKind::Alias(ty)
        };
        Ok(Model {
            name: rust_name.to_owned(),
            schema_name: schema_name.to_owned(),
            title,
            description,
            inline: false,
            pointer: pointer.to_owned(),
            kind,
        })
    }

    fn reject_composition(&self, schema: &Value, pointer: &str) -> Result<(), CodegenError> {
        for keyword in ["oneOf", "anyOf", "allOf", "not", "discriminator"] {
            if schema.get(keyword).is_some() {
                return Err(self.unsupported(&format!("{pointer}/{keyword}"), format!("`{keyword}` is not supported by the server generator: write one object schema, or a single-element `allOf` wrapping a `$ref`")));
            }
        }
        if schema.get("pattern").is_some() {
            return Err(
                self.unsupported(&format!("{pointer}/pattern"), "`pattern` is not supported by the server generator: drop it, say the format in the description and check it in the handler")
            );
        }
        Ok(())
    }

    /// The type of an operation's parameter, body or response schema: this generator's, else (for
    /// an inline schema it does not write) the type progenitor names after the operation, which
    /// the server takes from typify as it takes foreign components.
    fn operation_schema_type<'s>(
        &mut self,
        schema: &'s Value,
        pointer: &str,
        suggested: &str,
    ) -> Result<(TypeRef, bool, &'s Value), CodegenError> {
        let only_null = schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().all(Value::is_null) && !values.is_empty());
        match str_at(schema, "type") {
            None if only_null => return Ok((TypeRef::Null(false), true, schema)),
            Some("string") if only_null => return Ok((TypeRef::Null(true), true, schema)),
            _ => {}
        }
        let mark = self.mark();
        let refusal = match self.property_type(schema, pointer, suggested) {
            Ok(found) => return Ok(found),
            Err(clash @ CodegenError::NameClash { .. }) => return Err(clash),
            Err(refusal) => refusal,
        };
        self.rollback(mark);
        let name = type_ident(str_at(schema, "title").unwrap_or(suggested));
        if !self.typify_names()?.contains(&name) {
            return self.unnamed_typify_schema_type(schema, pointer, suggested).map_err(|_| refusal);
        }
        if !self.models.iter().any(|m| m.name == name) {
            self.models.push(Model {
                name: name.clone(),
                schema_name: name.clone(),
                title: string_at(schema, "title"),
                description: string_at(schema, "description"),
                inline: true,
                pointer: pointer.to_owned(),
                kind: ModelKind::Foreign,
            });
        }
        Ok((TypeRef::Named(name), bool_at(schema, "nullable"), schema))
    }

    /// The type of an operation's schema that typify gives no name (an array or map of other
    /// types): this generator's, with arrays of unique items as the `Vec`s typify makes of them.
    fn unnamed_typify_schema_type<'s>(
        &mut self,
        schema: &'s Value,
        pointer: &str,
        suggested: &str,
    ) -> Result<(TypeRef, bool, &'s Value), CodegenError> {
        let mark = self.mark();
        self.unique_items_as_vec = true;
        let found = self.property_type(schema, pointer, suggested);
        self.unique_items_as_vec = false;
        if found.is_err() {
            self.rollback(mark);
        }
        found
    }

    /// The names of the types typify makes for the spec (computed once).
    fn typify_names(&mut self) -> Result<&BTreeSet<String>, CodegenError> {
        if self.typify_names.is_none() {
            let tokens = crate::client::type_space_tokens(self.spec)?;
            self.typify_names = Some(super::foreign::type_names(tokens)?);
        }
        Ok(self.typify_names.as_ref().expect("just computed"))
    }

    /// The type of a property or item schema, whether it is nullable, and the schema that holds
    /// its constraints.
    fn property_type<'s>(
        &mut self,
        schema: &'s Value,
        pointer: &str,
        suggested: &str,
    ) -> Result<(TypeRef, bool, &'s Value), CodegenError> {
        let nullable = bool_at(schema, "nullable");
        if let Some(reference) = str_at(schema, "$ref") {
            if nullable {
                return Err(self.unsupported(
                    &format!("{pointer}/nullable"),
                    format!(
                        "`nullable` next to `$ref` is ignored in OpenAPI 3.0 (progenitor makes the value \
                         non-nullable, the server would accept null): write `nullable: true` with \
                         `allOf: [{{$ref: '{reference}'}}]` instead"
                    ),
                ));
            }
            return Ok((self.named(reference, pointer)?, nullable, schema));
        }
        if let Some(all_of) = schema.get("allOf").and_then(Value::as_array) {
            // `allOf: [$ref]` is how OpenAPI 3.0 attaches `nullable` or a description to a reference.
            if let [single] = all_of.as_slice()
                && let Some(reference) = str_at(single, "$ref")
            {
                return Ok((self.named(reference, &format!("{pointer}/allOf/0"))?, nullable, schema));
            }
        }
        self.reject_composition(schema, pointer)?;
        // typify names an inline type after its title, else after where it is.
        let type_name = type_ident(str_at(schema, "title").unwrap_or(suggested));
        let ty = match str_at(schema, "type") {
            Some("string") if self.enum_values(schema, pointer)?.is_some() => {
                self.inline_model(schema, pointer, suggested)?
            }
            Some("string") => self.string_type(schema, pointer)?,
            Some("integer") => self.integer_type(schema, pointer)?,
            Some("number") => match str_at(schema, "format") {
                Some("float") => TypeRef::Number(NumberFormat::Float),
                None | Some("double") => TypeRef::Number(NumberFormat::Double),
                Some(other) => {
                    return Err(self.unsupported(
                        &format!("{pointer}/format"),
                        format!("number format `{other}` is not supported (use float or double)"),
                    ));
                }
            },
            Some("boolean") => TypeRef::Boolean,
            Some("array") => {
                let Some(items) = schema.get("items") else {
                    return Err(self.unsupported(pointer, "an array needs `items`"));
                };
                if bool_at(schema, "uniqueItems") && self.unique_items_as_vec {
                    self.plain_unique_arrays.insert(pointer.to_owned());
                } else if bool_at(schema, "uniqueItems") {
                    return Err(self.unsupported(
                        &format!("{pointer}/uniqueItems"),
                        "`uniqueItems` is not written by the server generator (typify makes such an array a set)",
                    ));
                }
                let (item, item_nullable, _) =
                    self.property_type(items, &format!("{pointer}/items"), &format!("{type_name}Item"))?;
                if item_nullable {
                    return Err(self.unsupported(
                        &format!("{pointer}/items"),
                        "nullable array items are not supported by the server generator: drop `nullable` from the items (make the array itself nullable if null is meant)",
                    ));
                }
                TypeRef::Array(Box::new(item))
            }
            Some("object") | None if is_object_with_properties(schema) => {
                self.inline_model(schema, pointer, suggested)?
            }
            Some("object") | None => match schema.get("additionalProperties") {
                Some(Value::Object(values)) if !values.is_empty() => {
                    let (value, _, _) = self.property_type(
                        &schema["additionalProperties"],
                        &format!("{pointer}/additionalProperties"),
                        &format!("{type_name}Value"),
                    )?;
                    TypeRef::Map(Box::new(value))
                }
                // `type: object` alone is any object, a map of any values (as typify has it).
                Some(Value::Bool(true) | Value::Object(_)) | None if str_at(schema, "type").is_some() => {
                    TypeRef::Map(Box::new(TypeRef::Any))
                }
                _ => TypeRef::Any,
            },
            Some(other) => {
                return Err(self.unsupported(
                    &format!("{pointer}/type"),
                    format!("unknown type `{other}`: use string, integer, number, boolean, array or object"),
                ));
            }
        };
        Ok((ty, nullable, schema))
    }

    /// The model of an inline object or enum schema, named as typify names it.
    fn inline_model(&mut self, schema: &Value, pointer: &str, suggested: &str) -> Result<TypeRef, CodegenError> {
        match self.claim_inline(schema, pointer, suggested)? {
            Claim::Shared(name) => Ok(TypeRef::Named(name)),
            Claim::New(name) => {
                let model = self.model(&name, &name, schema, pointer)?;
                self.models.push(Model { inline: true, ..model });
                Ok(TypeRef::Named(name))
            }
        }
    }

    /// A nullable enum under `components/schemas` is a wrapper type in the client, which the
    /// server does not mirror.
    fn refuse_nullable_component_enum(
        &self,
        rust_name: &str,
        schema: &Value,
        pointer: &str,
    ) -> Result<(), CodegenError> {
        if !bool_at(schema, "nullable") || self.enum_values(schema, pointer)?.is_none() {
            return Ok(());
        }
        Err(self.unsupported(
            &format!("{pointer}/nullable"),
            format!(
                "a nullable enum under components/schemas is not supported: progenitor wraps it as \
                 `{rust_name}(Option<{rust_name}Inner>)`, which the server does not mirror; declare the \
                 enum without `nullable` and `null`, and make each property that uses it nullable \
                 (`nullable: true` with `allOf: [{{$ref: '#{pointer}'}}]`)"
            ),
        ))
    }

    /// Reserves the Rust name of a schema under `components/schemas`.
    fn claim_component(&mut self, name: &str, pointer: &str, schema: &Value) -> Result<(), CodegenError> {
        if let Some((other, _)) = self.type_names.get(name) {
            return Err(self.name_clash(name, pointer, other, "rename one of the two schemas"));
        }
        self.type_names.insert(name.to_owned(), (pointer.to_owned(), schema.clone()));
        self.claim_log.push(name.to_owned());
        Ok(())
    }

    /// The Rust name of an inline schema: its `title`, else `suggested`, made an identifier the
    /// way typify does. A name already given to a different schema is refused: typify would
    /// silently reuse the first type for both.
    fn claim_inline(&mut self, schema: &Value, pointer: &str, suggested: &str) -> Result<Claim, CodegenError> {
        let name = type_ident(str_at(schema, "title").unwrap_or(suggested));
        match self.type_names.get(&name) {
            Some((_, existing)) if existing == schema => Ok(Claim::Shared(name)),
            Some((other, _)) => {
                let advice = if schema.get("title").is_some() {
                    "give this schema a title of its own, or move the shared schema to components/schemas and \
                     `$ref` it"
                } else {
                    "give this schema a `title` that names it, or move it to components/schemas and `$ref` it"
                };
                Err(self.name_clash(&name, pointer, other, advice))
            }
            None => {
                self.type_names.insert(name.clone(), (pointer.to_owned(), schema.clone()));
                self.claim_log.push(name.clone());
                Ok(Claim::New(name))
            }
        }
    }

    fn name_clash(&self, name: &str, pointer: &str, other: &str, advice: &str) -> CodegenError {
        let other_line = self.spec.line(other).map(|line| format!(" (line {line})")).unwrap_or_default();
        CodegenError::NameClash {
            location: self.spec.location(pointer),
            message: format!(
                "the Rust type `{name}` would name two different schemas, this one and {other}{other_line}: \
                 progenitor (typify) would silently use the first for both; {advice}"
            ),
        }
    }

    /// The values of a string enum, without `null`; `None` when `schema` is not a string enum.
    /// `null` must be listed exactly when the schema is `nullable` (OpenAPI 3.0.3).
    fn enum_values(&self, schema: &Value, pointer: &str) -> Result<Option<Vec<String>>, CodegenError> {
        if str_at(schema, "type") != Some("string") {
            return Ok(None);
        }
        let Some(listed) = schema.get("enum").and_then(Value::as_array) else { return Ok(None) };
        let lists_null = listed.iter().any(Value::is_null);
        let values: Option<Vec<String>> =
            listed.iter().filter(|v| !v.is_null()).map(|v| v.as_str().map(str::to_owned)).collect();
        let Some(values) = values else { return Ok(None) };
        match (lists_null, bool_at(schema, "nullable")) {
            (true, false) => Err(self.unsupported(
                &format!("{pointer}/enum"),
                "`enum` lists null but the schema is not nullable: add `nullable: true` (or remove null)",
            )),
            (false, true) => Err(self.unsupported(
                &format!("{pointer}/nullable"),
                "a nullable enum must list `null` among its values (OpenAPI 3.0.3), or the generators disagree \
                 on whether null is accepted: add null to `enum`",
            )),
            _ => Ok(Some(values)),
        }
    }

    /// The Rust type of a `type: integer` schema: typify's, by its format and bounds.
    fn integer_type(&self, schema: &Value, pointer: &str) -> Result<TypeRef, CodegenError> {
        let format = typify_integer(
            str_at(schema, "format"),
            schema.get("minimum").and_then(Value::as_f64),
            schema.get("maximum").and_then(Value::as_f64),
            schema.get("multipleOf").is_some(),
        );
        let exclusive = bool_at(schema, "exclusiveMinimum");
        if exclusive || bool_at(schema, "exclusiveMaximum") {
            let keyword = if exclusive { "exclusiveMinimum" } else { "exclusiveMaximum" };
            return Err(self.unsupported(
                &format!("{pointer}/{keyword}"),
                format!("`{keyword}` is not supported by the server generator: write the inclusive bound instead"),
            ));
        }
        Ok(TypeRef::Integer(format))
    }

    /// The Rust type of a `type: string` schema, by its format.
    fn string_type(&self, schema: &Value, pointer: &str) -> Result<TypeRef, CodegenError> {
        match str_at(schema, "format") {
            Some("date-time") => Ok(TypeRef::DateTime),
            Some("date") => Ok(TypeRef::Date),
            Some("uuid") => Ok(TypeRef::Uuid),
            Some(format @ ("ip" | "ipv4" | "ipv6")) => Err(self.unsupported(
                &format!("{pointer}/format"),
                format!(
                    "string format `{format}` is not supported: progenitor types it as a `std::net` address, \
                     which the server's OpenAPI document (utoipa) cannot describe; drop the format and say \
                     it in the description"
                ),
            )),
            _ => Ok(TypeRef::String),
        }
    }

    fn named(&self, reference: &str, pointer: &str) -> Result<TypeRef, CodegenError> {
        match reference.strip_prefix("#/components/schemas/") {
            Some(name) if !name.contains('/') => {
                Ok(TypeRef::Named(type_ident(&name.replace("~1", "/").replace("~0", "~"))))
            }
            _ => Err(self.unsupported(
                pointer,
                format!(
                    "`$ref: {reference}`: the server generator follows references to `#/components/schemas/<name>` only"
                ),
            )),
        }
    }

    /// Follows a `$ref` to `components/<kind>/<name>` when `value` is one.
    fn deref<'v>(&'v self, value: &'v Value, pointer: &str) -> Result<(&'v Value, String), CodegenError> {
        match str_at(value, "$ref") {
            Some(reference) => {
                let target = self
                    .spec
                    .resolve(reference)
                    .ok_or_else(|| self.unsupported(pointer, format!("unresolved `$ref: {reference}`")))?;
                Ok((target, reference.trim_start_matches('#').to_owned()))
            }
            None => Ok((value, pointer.to_owned())),
        }
    }

    fn security_schemes(&self) -> Result<BTreeMap<String, SecurityScheme>, CodegenError> {
        let mut out = BTreeMap::new();
        let Some(schemes) = self.spec.document.pointer("/components/securitySchemes").and_then(Value::as_object) else {
            return Ok(out);
        };
        for (name, scheme) in schemes {
            let pointer = format!("/components/securitySchemes/{}", escape_token(name));
            let (scheme, _) = self.deref(scheme, &pointer)?;
            let key_name = || string_at(scheme, "name").unwrap_or_default();
            let credential = match (str_at(scheme, "type"), str_at(scheme, "in"), str_at(scheme, "scheme")) {
                (Some("apiKey"), Some("header"), _) => Credential::Header(key_name()),
                (Some("apiKey"), Some("query"), _) => Credential::Query(key_name()),
                (Some("apiKey"), Some("cookie"), _) => Credential::Cookie(key_name()),
                (Some("http"), _, Some(http)) => Credential::Authorization(http.to_ascii_lowercase()),
                (Some("oauth2" | "openIdConnect"), _, _) => Credential::Authorization("bearer".to_owned()),
                _ => return Err(self.unsupported(
                    &pointer,
                    "a security scheme needs `type` apiKey (in a header, the query or a cookie), http (with a `scheme`), oauth2 or openIdConnect",
                )),
            };
            out.insert(name.clone(), SecurityScheme { credential, document: scheme.clone() });
        }
        Ok(out)
    }

    fn operation(
        &mut self,
        path: &str,
        method: Method,
        item: &Value,
        op: &Value,
        pointer: &str,
        schemes: &BTreeMap<String, SecurityScheme>,
    ) -> Result<Operation, CodegenError> {
        let Some(operation_id) = string_at(op, "operationId") else {
            return Err(self.unsupported(pointer, "every operation needs an `operationId` (it names the trait method)"));
        };
        let websocket = self.websocket(method, op, pointer)?;
        let fn_name = operation_id.to_snake_case();
        let type_stem = operation_id.to_upper_camel_case();

        // Path-level parameters first; an operation-level one with the same name and location wins.
        let mut params: Vec<(Value, String)> = Vec::new();
        let item_pointer = pointer.rsplit_once('/').map_or("", |(p, _)| p).to_owned();
        for (source, source_pointer) in [(item, item_pointer.as_str()), (op, pointer)] {
            if let Some(list) = source.get("parameters").and_then(Value::as_array) {
                for (index, param) in list.iter().enumerate() {
                    let (resolved, resolved_pointer) =
                        self.deref(param, &format!("{source_pointer}/parameters/{index}"))?;
                    let key = (str_at(resolved, "name"), str_at(resolved, "in"));
                    params.retain(|(p, _)| (str_at(p, "name"), str_at(p, "in")) != key);
                    params.push((resolved.clone(), resolved_pointer));
                }
            }
        }
        let mut path_params = Vec::new();
        let mut query_params = Vec::new();
        let mut header_params = Vec::new();
        for (param, param_pointer) in &params {
            let name = string_at(param, "name").unwrap_or_default();
            let schema = param.get("schema").cloned().unwrap_or(Value::Null);
            let (ty, nullable, resolved) = match ip_format(&schema) {
                Some(format) => (TypeRef::IpAddr(format.to_owned()), bool_at(&schema, "nullable"), &schema),
                None => self.operation_schema_type(
                    &schema,
                    &format!("{param_pointer}/schema"),
                    &format!("{operation_id}-{name}"),
                )?,
            };
            let constraints = constraints(resolved);
            // progenitor's client sends an array in the query as the key repeated (`tag=a&tag=b`).
            let query_array = str_at(param, "in") == Some("query")
                && matches!(&ty, TypeRef::Array(item) if self.is_scalar_parameter(item));
            if !query_array && !self.is_scalar_parameter(&ty) {
                return Err(self.unsupported(
                    &format!("{param_pointer}/schema"),
                    "parameters must be scalars (string, integer, number, boolean or a string enum), or arrays of them \
                     in the query: send structured values in a JSON body",
                ));
            }
            let parsed = Param {
                ident: field_ident(&name),
                name,
                required: bool_at(param, "required"),
                description: string_at(param, "description"),
                documented_format: documented_format(&ty, &schema),
                ty,
                nullable,
                constraints,
            };
            match str_at(param, "in") {
                Some("path") => path_params.push(parsed),
                Some("query") => query_params.push(parsed),
                Some("header") => header_params.push(parsed),
                Some(other) => {
                    return Err(self.unsupported(
                        param_pointer,
                        format!(
                            "`in: {other}` parameters are not supported by the server generator: use a path, query or header parameter"
                        ),
                    ));
                }
                None => return Err(self.unsupported(param_pointer, "a parameter needs `in`")),
            }
        }
        let template_order: Vec<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        for name in &template_order {
            if !path_params.iter().any(|p| p.name == *name) {
                return Err(self.unsupported(pointer, format!("path parameter `{name}` of `{path}` is not declared: add it to `parameters` with `in: path` and `required: true`")));
            }
        }
        path_params.sort_by_key(|p| template_order.iter().position(|n| *n == p.name));

        let body = match op.get("requestBody") {
            None => None,
            Some(body) => {
                let (body, body_pointer) = self.deref(body, &format!("{pointer}/requestBody"))?;
                let body = body.clone();
                let content = body.get("content").and_then(Value::as_object).cloned().unwrap_or_default();
                if content.len() != 1 {
                    return Err(self.unsupported(
                        &format!("{body_pointer}/content"),
                        "a request body needs exactly one media type: keep `application/json` only",
                    ));
                }
                let (media_type, media) = content.into_iter().next().expect("one entry");
                let media_pointer = format!("{body_pointer}/content/{}", escape_token(&media_type));
                let encoding = self.body_encoding(&media_type, &media, &media_pointer)?;
                let schema = media.get("schema").cloned().unwrap_or(Value::Null);
                let (ty, _, _) = match encoding {
                    BodyEncoding::Json | BodyEncoding::Form => self.operation_schema_type(
                        &schema,
                        &format!("{media_pointer}/schema"),
                        &format!("{operation_id}-body"),
                    )?,
                    BodyEncoding::Bytes | BodyEncoding::Text => (TypeRef::String, false, &schema),
                };
                if encoding == BodyEncoding::Form && !self.is_struct(&ty) {
                    return Err(self.unsupported(
                        &format!("{media_pointer}/schema"),
                        "a form body needs an object schema (a `$ref` to one, or one with properties): its fields are the form's",
                    ));
                }
                let required = bool_at(&body, "required");
                let raw = matches!(encoding, BodyEncoding::Bytes | BodyEncoding::Text);
                let may_be_absent = !required && !raw && !self.accepts_empty_object(&ty);
                Some(Body {
                    required,
                    may_be_absent,
                    description: string_at(&body, "description"),
                    media_type,
                    encoding,
                    ty,
                })
            }
        };

        let mut responses = Vec::new();
        let mut unserved = Vec::new();
        let response_map = op.get("responses").and_then(Value::as_object).cloned().unwrap_or_default();
        for (status, response) in &response_map {
            let response_pointer = format!("{pointer}/responses/{}", escape_token(status));
            let Some(code) = Status::parse(status) else {
                return Err(self.unsupported(
                    &response_pointer,
                    format!("response `{status}` is not a status: write a code (100 to 599), a range (1XX to 5XX) or `default`"),
                ));
            };
            let (response, resolved_pointer) = self.deref(response, &response_pointer)?;
            let response = response.clone();
            if websocket && matches!(code, Status::Code(101) | Status::Default) {
                responses.push(self.upgrade_response(code, &response, &resolved_pointer)?);
                continue;
            }
            let body = match response.get("content").and_then(Value::as_object) {
                None => None,
                Some(content) if content.is_empty() => None,
                Some(content) => {
                    let (media_type, media) = served_media_type(content);
                    for other in content.keys().filter(|other| *other != media_type) {
                        let other_pointer = format!("{resolved_pointer}/content/{}", escape_token(other));
                        unserved.push(Undocumented {
                            location: self.spec.location(&other_pointer),
                            message: format!(
                                "`{operation_id}` answers status {status} as `{media_type}` only (as progenitor's client \
                                 reads it), not as `{other}`"
                            ),
                        });
                    }
                    if !is_json(media_type) {
                        let untyped =
                            media.get("schema").is_none_or(|schema| schema.as_object().is_some_and(Map::is_empty));
                        responses.push(Response {
                            status: code,
                            description: string_at(&response, "description").unwrap_or_default(),
                            body: Some((if untyped { TypeRef::AnyBytes } else { TypeRef::Bytes }, media_type.clone())),
                            documented: true,
                            upgrade: false,
                            success_default: false,
                        });
                        continue;
                    }
                    let schema = media.get("schema").cloned().unwrap_or(Value::Null);
                    let (ty, nullable, _) = self.operation_schema_type(
                        &schema,
                        &format!("{resolved_pointer}/content/{}/schema", escape_token(media_type)),
                        &format!("{operation_id}-response"),
                    )?;
                    let ty = match ty {
                        TypeRef::Null(_) => ty,
                        _ if nullable => TypeRef::Nullable(Box::new(ty)),
                        _ => ty,
                    };
                    Some((ty, media_type.clone()))
                }
            };
            responses.push(Response {
                status: code,
                description: string_at(&response, "description").unwrap_or_default(),
                body,
                documented: true,
                upgrade: false,
                success_default: false,
            });
        }
        responses.sort_by_key(|r| r.status.rank());
        let success = |r: &Response| matches!(r.status, Status::Code(100..=399) | Status::Range(1..=3));
        if !websocket && !responses.iter().any(success) {
            responses.iter_mut().filter(|r| r.status == Status::Default).for_each(|r| r.success_default = true);
        }
        if websocket {
            self.one_upgrade(&responses, pointer)?;
        } else if responses.is_empty() {
            // The spec says nothing of the answer: any status, any bytes.
            responses.push(Response {
                status: Status::Default,
                description: "any response (the spec documents none)".to_owned(),
                body: Some((TypeRef::Bytes, "application/octet-stream".to_owned())),
                documented: false,
                upgrade: false,
                success_default: false,
            });
        }

        let requirements = op.get("security").or_else(|| self.spec.document.get("security"));
        let mut document_requirements = Vec::new();
        if let Some(list) = requirements.and_then(Value::as_array) {
            for requirement in list {
                let Some(requirement) = requirement.as_object() else { continue };
                if requirement.is_empty() {
                    document_requirements.push(None);
                }
                if requirement.len() > 1 {
                    return Err(self.unsupported(
                        &format!("{pointer}/security"),
                        "a security requirement that combines several schemes is not supported: list the schemes as alternatives, one per requirement",
                    ));
                }
                for name in requirement.keys() {
                    if !schemes.contains_key(name) {
                        return Err(self.unsupported(
                            &format!("{pointer}/security"),
                            format!("security scheme `{name}` is not defined: define it in components/securitySchemes"),
                        ));
                    }
                    let scopes = requirement[name].as_array().map(Vec::as_slice).unwrap_or_default();
                    let scopes = scopes.iter().filter_map(Value::as_str).map(str::to_owned).collect();
                    document_requirements.push(Some((name.clone(), scopes)));
                }
            }
        }
        let operation = Operation {
            operation_id,
            fn_name,
            type_stem,
            method,
            path: path.to_owned(),
            summary: string_at(op, "summary"),
            description: string_at(op, "description"),
            tags: op
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
            path_params,
            query_params,
            header_params,
            body,
            responses,
            requirements: document_requirements,
            undocumented: None,
            unserved,
            websocket,
        };
        Ok(operation)
    }

    /// The statuses the router answers `op` with that it does not document, if any.
    fn undocumented(&self, op: &Operation, error_model: Option<&str>) -> Option<Undocumented> {
        let mut missing = Vec::new();
        let in_other_schema = |code: u16| {
            op.response_for(code).and_then(|r| r.body.as_ref()).is_some_and(|(ty, _)| match (ty, error_model) {
                (TypeRef::Named(name), Some(model)) => name != model,
                _ => true,
            })
        };
        if op.reads_request() && op.documents(400) && in_other_schema(400) {
            missing.push(
                "its 400 in another schema than the one the router answers rejections in (they come in the runtime's error body)",
            );
        }
        if !op.security().is_empty() && !op.documents(401) {
            missing.push("no 401, which the router answers a failed authentication with (in the error schema)");
        }
        if op.reads_request() && !op.documents(400) {
            missing.push(
                "no 400 (nor 4XX or default), which the router answers a malformed request with (in the runtime's error body)",
            );
        }
        if op.websocket && !op.documents(426) {
            missing.push(
                "no 426 (nor 4XX or default), which the router answers a request that is not a websocket upgrade with (in the runtime's error body)",
            );
        }
        let pointer = format!("/paths/{}/{}", escape_token(&op.path), op.method.as_str());
        (!missing.is_empty()).then(|| Undocumented {
            location: self.spec.location(&format!("{pointer}/responses")),
            message: format!("`{}` documents {}", op.operation_id, missing.join("; and ")),
        })
    }

    /// Whether `op` is a websocket operation (`x-dropshot-websocket`); refuses one that axum's
    /// upgrade or progenitor's client cannot serve.
    fn websocket(&self, method: Method, op: &Value, pointer: &str) -> Result<bool, CodegenError> {
        if op.get("x-dropshot-websocket").is_none() {
            return Ok(false);
        }
        let extension = format!("{pointer}/x-dropshot-websocket");
        if op.get("x-dropshot-pagination").is_some() {
            return Err(self.unsupported(
                &extension,
                "an operation cannot be both a websocket upgrade and paginated (progenitor refuses it): drop one extension",
            ));
        }
        if method != Method::Get {
            return Err(self.unsupported(
                &extension,
                "a websocket upgrade is a GET request (RFC 6455; axum's `WebSocketUpgrade` refuses other methods): make the operation a `get`",
            ));
        }
        Ok(true)
    }

    /// The upgrade response of a websocket operation (`101`, or `default`, which progenitor reads
    /// as 101): no body, or one of a media type that is not JSON (documented as the spec writes
    /// it; the connection carries websocket messages after it).
    fn upgrade_response(&self, status: Status, response: &Value, pointer: &str) -> Result<Response, CodegenError> {
        let content = response.get("content").and_then(Value::as_object);
        let body = match content.map(|c| c.iter().collect::<Vec<_>>()).as_deref() {
            None | Some([]) => None,
            Some([(media_type, media)]) if !is_json(media_type) => {
                let schema = media.get("schema").unwrap_or(&Value::Null);
                let untyped = schema.is_null() || schema.as_object().is_some_and(Map::is_empty);
                Some((if untyped { TypeRef::Any } else { TypeRef::Bytes }, (*media_type).clone()))
            }
            Some(_) => {
                return Err(self.unsupported(
                    &format!("{pointer}/content"),
                    "the upgrade response of a websocket operation has no JSON body (progenitor would read it as the \
                     success type, not as an upgrade): remove `content`, or write one media type such as `*/*`",
                ));
            }
        };
        Ok(Response {
            status,
            description: string_at(response, "description").unwrap_or_default(),
            body,
            documented: true,
            upgrade: true,
            success_default: false,
        })
    }

    /// Refuses a websocket operation without exactly one upgrade response.
    fn one_upgrade(&self, responses: &[Response], pointer: &str) -> Result<(), CodegenError> {
        match responses.iter().filter(|r| r.upgrade).count() {
            1 => Ok(()),
            0 => Err(self.unsupported(
                &format!("{pointer}/responses"),
                "a websocket operation needs its upgrade response: `101` (or `default`, which progenitor reads as 101)",
            )),
            _ => Err(self.unsupported(
                &format!("{pointer}/responses"),
                "a websocket operation has one upgrade response, but `101` and `default` both are (progenitor reads \
                 `default` as 101): keep `101`, and document errors with `4XX`/`5XX`",
            )),
        }
    }

    /// How a request body of `media_type` is read; refuses, at `pointer`, a media type or schema
    /// that neither progenitor nor the router can take.
    fn body_encoding(&self, media_type: &str, media: &Value, pointer: &str) -> Result<BodyEncoding, CodegenError> {
        let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let schema = media.get("schema").unwrap_or(&Value::Null);
        let (schema, _) = self.deref(schema, &format!("{pointer}/schema"))?;
        let string_only = str_at(schema, "type") == Some("string")
            && ["pattern", "minLength", "maxLength", "enum", "nullable", "default"]
                .iter()
                .all(|k| schema.get(*k).is_none());
        if is_json(media_type) {
            Ok(BodyEncoding::Json)
        } else if essence == "application/x-www-form-urlencoded" {
            Ok(BodyEncoding::Form)
        } else if essence == "application/octet-stream" {
            if string_only && str_at(schema, "format") == Some("binary") {
                return Ok(BodyEncoding::Bytes);
            }
            Err(self.unsupported(
                &format!("{pointer}/schema"),
                "an application/octet-stream body needs the schema `{type: string, format: binary}` (progenitor takes no other)",
            ))
        } else if essence.starts_with("text/") {
            if string_only && schema.get("format").is_none() {
                return Ok(BodyEncoding::Text);
            }
            Err(self.unsupported(
                &format!("{pointer}/schema"),
                format!("a `{essence}` body needs the schema `{{type: string}}` without format or constraints (progenitor takes no other)"),
            ))
        } else {
            Err(self.unsupported(
                pointer,
                format!(
                    "request media type `{media_type}` is not supported (progenitor 0.15 takes no such body either): use \
                     JSON, application/x-www-form-urlencoded, application/octet-stream or text/plain"
                ),
            ))
        }
    }

    /// Whether `ty` is an object model.
    fn is_struct(&self, ty: &TypeRef) -> bool {
        let TypeRef::Named(name) = ty else { return false };
        self.models.iter().any(|m| m.name == *name && matches!(m.kind, ModelKind::Struct { .. }))
    }

    /// Whether `{}` is a valid value of `ty`: an object model without required properties.
    fn accepts_empty_object(&self, ty: &TypeRef) -> bool {
        let TypeRef::Named(name) = ty else { return false };
        self.models.iter().any(|m| {
            m.name == *name && matches!(&m.kind, ModelKind::Struct { fields, .. } if fields.iter().all(|f| !f.required))
        })
    }

    /// Whether `ty` is a scalar a parameter can carry (a string, number, boolean, string enum, named
    /// scalar or typify type).
    fn is_scalar_parameter(&self, ty: &TypeRef) -> bool {
        match ty {
            TypeRef::Array(_) | TypeRef::Map(_) | TypeRef::Any => false,
            TypeRef::Named(name) => self.is_parameter_model(name),
            _ => true,
        }
    }

    /// Whether the model `name` can be a parameter's type: a string enum, a named scalar, or a
    /// typify type (which progenitor's client writes with its `Display`).
    fn is_parameter_model(&self, name: &str) -> bool {
        self.models.iter().any(|m| {
            m.name == name
                && match &m.kind {
                    ModelKind::StringEnum { .. } | ModelKind::Foreign => true,
                    ModelKind::Alias(ty) => {
                        !matches!(ty, TypeRef::Array(_) | TypeRef::Map(_) | TypeRef::Any | TypeRef::Named(_))
                    }
                    ModelKind::Struct { .. } => false,
                }
        })
    }

    /// The one model every error response with a body uses (progenitor requires one per
    /// operation, and the router answers rejections with it).
    fn error_model(&self, operations: &[Operation]) -> Option<String> {
        // The schema most error responses use (the first of them on a tie); the operations
        // whose error responses use another answer rejections in the runtime's body.
        let mut uses: Vec<(String, usize)> = Vec::new();
        for response in operations.iter().flat_map(|op| &op.responses).filter(|r| r.is_error()) {
            if let Some((TypeRef::Named(name), _)) = &response.body {
                match uses.iter_mut().find(|(used, _)| used == name) {
                    Some((_, count)) => *count += 1,
                    None => uses.push((name.clone(), 1)),
                }
            }
        }
        let most = uses.iter().map(|(_, count)| *count).max()?;
        uses.into_iter().find(|(_, count)| *count == most).map(|(name, _)| name)
    }
}

fn list_of_pairs(value: Option<&Value>, key: &str) -> Vec<(String, Option<String>)> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items.iter().filter_map(|item| Some((string_at(item, key)?, string_at(item, "description")))).collect()
        })
        .unwrap_or_default()
}

fn is_object_with_properties(schema: &Value) -> bool {
    matches!(str_at(schema, "type"), Some("object") | None)
        && schema.get("properties").and_then(Value::as_object).is_some_and(|p| !p.is_empty())
}

/// The `format` of an integer `schema` when utoipa would document its Rust type with another
/// (utoipa 6 writes `int32` for `i8`…`u32` and `int64` for `i64`/`u64`).
/// The format of a `type: string` schema whose format is an IP address's.
fn ip_format(schema: &Value) -> Option<&str> {
    (str_at(schema, "type") == Some("string"))
        .then(|| str_at(schema, "format"))
        .flatten()
        .filter(|format| matches!(*format, "ip" | "ipv4" | "ipv6"))
}

fn documented_format(ty: &TypeRef, schema: &Value) -> Option<String> {
    let implied = match ty {
        TypeRef::IpAddr(format) => return Some(format.clone()),
        TypeRef::Integer(IntegerFormat::I64 | IntegerFormat::U64) => "int64",
        TypeRef::Integer(_) => "int32",
        // A format that does not change the type (`email`, `uri`, `hostname`, or one of the API's own).
        TypeRef::String => "",
        _ => return None,
    };
    str_at(schema, "format").filter(|format| *format != implied).map(str::to_owned)
}

fn constraints(schema: &Value) -> Constraints {
    Constraints {
        min_length: u64_at(schema, "minLength"),
        max_length: u64_at(schema, "maxLength"),
        minimum: schema.get("minimum").and_then(Value::as_f64),
        maximum: schema.get("maximum").and_then(Value::as_f64),
        min_items: u64_at(schema, "minItems"),
        max_items: u64_at(schema, "maxItems"),
    }
}

/// The media type of a response's `content` that the router answers with, as progenitor's client
/// reads it: the only one, else `application/json` (parameters aside), else the first.
fn served_media_type(content: &Map<String, Value>) -> (&String, &Value) {
    let exact_json = |media_type: &String| media_type.split(';').next().is_some_and(|e| e.trim() == "application/json");
    content
        .iter()
        .find(|(media_type, _)| exact_json(media_type))
        .or_else(|| content.iter().next())
        .expect("a content map with an entry")
}

/// Whether `media_type` is JSON (`application/json` or `application/*+json`).
pub fn is_json(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The Rust type name for a schema name or title, made as typify makes it (so that the client's
/// and the server's types have one name): characters that cannot continue an identifier become
/// word breaks, the words are joined in UpperCamelCase, and a name that cannot start an
/// identifier gets an `X` in front.
pub fn type_ident(name: &str) -> String {
    let words: String =
        name.replace('\'', "").chars().map(|c| if unicode_ident::is_xid_continue(c) { c } else { '-' }).collect();
    let camel = words.to_upper_camel_case();
    match camel.chars().next() {
        None => "X".to_owned(),
        Some(first) if !unicode_ident::is_xid_start(first) => format!("X{camel}"),
        Some(_) if camel == "Self" => "Self_".to_owned(),
        Some(_) => camel,
    }
}

/// The Rust field name for a JSON property or parameter name.
pub fn field_ident(name: &str) -> String {
    let snake = name.to_snake_case();
    if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) { format!("f_{snake}") } else { snake }
}

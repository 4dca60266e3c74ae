//! `check`: the spec against what the code says.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rainbond_codegen::Spec;
use rainbond_codegen::server::ir::Api;
use rainbond_codegen::spec::escape_token;
use serde::Serialize;
use serde_json::Value;

use crate::code::{CodeView, Source};
use crate::openapi::{self, Operation};
use crate::pointer::subject;
use crate::schema::{self, Additional, Node, Shape};

/// What to compare beyond the contract itself.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Also compare descriptions, summaries and (where the source can say them) titles.
    pub descriptions: bool,
}

/// The kind of a difference between the spec and the code. "Missing" means the spec has it and
/// the code does not; "extra" means the code has it and the spec does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// An operation (method + path) of the spec that the code does not serve.
    MissingOperation,
    /// An operation the code serves that the spec does not have.
    ExtraOperation,
    /// The operation's `operationId` differs.
    OperationIdMismatch,
    /// A parameter (name + location) of the spec that the code does not take.
    MissingParameter,
    /// A parameter the code takes that the spec does not have.
    ExtraParameter,
    /// A parameter differs in location or `required`.
    ParameterMismatch,
    /// The spec has a request body and the code does not.
    MissingRequestBody,
    /// The code takes a request body and the spec does not.
    ExtraRequestBody,
    /// A response status of the spec that the code does not document.
    MissingResponse,
    /// A response status the code documents and the spec does not.
    ExtraResponse,
    /// The media types of a request body or response differ.
    MediaTypeMismatch,
    /// An operation's effective security requirement, or a security scheme, differs.
    SecurityMismatch,
    /// A schema under `components/schemas` that the code does not have.
    MissingSchema,
    /// A schema the code has that the spec does not.
    ExtraSchema,
    /// A property of the spec that the code's schema does not have.
    MissingProperty,
    /// A property of the code's schema that the spec does not have.
    ExtraProperty,
    /// The JSON types differ.
    TypeMismatch,
    /// The `format` differs.
    FormatMismatch,
    /// A property (or request body) is required on one side and optional on the other.
    RequiredMismatch,
    /// `null` is allowed on one side only.
    NullableMismatch,
    /// `readOnly` differs.
    ReadonlyMismatch,
    /// `writeOnly` differs.
    WriteonlyMismatch,
    /// The allowed values differ.
    EnumMismatch,
    /// A string, number or array constraint (`maxLength`, `minimum`, `pattern`, ...) differs.
    ConstraintMismatch,
    /// `additionalProperties` differs.
    AdditionalPropertiesMismatch,
    /// `oneOf`/`anyOf` alternatives differ in number.
    CompositionMismatch,
    /// A description or summary differs (only with descriptions on).
    DescriptionMismatch,
    /// A title differs (only with descriptions on, and only for sources that carry titles).
    TitleMismatch,
    /// The server answers an error code (with a status) that the spec's table does not list.
    UndocumentedErrorCode,
    /// The spec's table lists an error code (with a status) that the server never answers.
    UnansweredErrorCode,
}

impl FindingKind {
    /// The kebab-case name used in every output format.
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// Every kind, in declaration order.
    pub const ALL: [FindingKind; 30] = [
        FindingKind::MissingOperation,
        FindingKind::ExtraOperation,
        FindingKind::OperationIdMismatch,
        FindingKind::MissingParameter,
        FindingKind::ExtraParameter,
        FindingKind::ParameterMismatch,
        FindingKind::MissingRequestBody,
        FindingKind::ExtraRequestBody,
        FindingKind::MissingResponse,
        FindingKind::ExtraResponse,
        FindingKind::MediaTypeMismatch,
        FindingKind::SecurityMismatch,
        FindingKind::MissingSchema,
        FindingKind::ExtraSchema,
        FindingKind::MissingProperty,
        FindingKind::ExtraProperty,
        FindingKind::TypeMismatch,
        FindingKind::FormatMismatch,
        FindingKind::RequiredMismatch,
        FindingKind::NullableMismatch,
        FindingKind::ReadonlyMismatch,
        FindingKind::WriteonlyMismatch,
        FindingKind::EnumMismatch,
        FindingKind::ConstraintMismatch,
        FindingKind::AdditionalPropertiesMismatch,
        FindingKind::CompositionMismatch,
        FindingKind::DescriptionMismatch,
        FindingKind::TitleMismatch,
        FindingKind::UndocumentedErrorCode,
        FindingKind::UnansweredErrorCode,
    ];
}

/// One difference between the spec and the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What differs.
    pub kind: FindingKind,
    /// JSON pointer into the spec: the node that differs, or where the missing node would be.
    pub pointer: String,
    /// 1-based line in the spec: of the node, or of its nearest existing ancestor.
    pub line: Option<usize>,
    /// What the pointer names, in words: `ServiceBaseInfo.desc`, `POST /x request body`.
    pub subject: String,
    /// What the spec says.
    pub spec: String,
    /// What the code says.
    pub code: String,
    /// The code sources that say it.
    pub sources: Vec<Source>,
}

/// A facet a source cannot express, so the check could not verify it there (the other sources
/// still do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unverified {
    /// The source that cannot say it.
    pub source: Source,
    /// The facet: `required`, `nullable`, `readOnly`, `title`, ...
    pub facet: &'static str,
    /// Why the source cannot say it.
    pub reason: &'static str,
    /// The spec nodes concerned.
    pub pointers: Vec<String>,
}

/// Counts of what was compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Compared {
    /// Operations of the spec.
    pub operations: usize,
    /// Schemas under `components/schemas` of the spec.
    pub schemas: usize,
    /// The sources compared.
    pub sources: Vec<Source>,
}

/// Something the code does that the spec allows but does not describe, or a difference typify
/// makes in the types of both sides: a warning, which `--strict` makes a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// JSON pointer into the spec.
    pub pointer: String,
    /// 1-based line in the spec.
    pub line: Option<usize>,
    /// What the code does that the spec does not say, in words.
    pub message: String,
}

/// The result of [`check`].
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The spec file, as given.
    pub spec: String,
    /// The differences, sorted by line.
    pub findings: Vec<Finding>,
    /// Operations the generated router answers with a status they do not document (rejections
    /// of malformed or unauthenticated requests), error codes the spec does not list, and
    /// differences typify makes on both sides; sorted by line.
    pub warnings: Vec<Warning>,
    /// What some source could not verify.
    pub unverified: Vec<Unverified>,
    /// What was compared.
    pub compared: Compared,
}

impl Report {
    /// Whether the spec and the code agree.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether the spec and the code agree and nothing is undocumented either.
    pub fn is_strictly_clean(&self) -> bool {
        self.is_clean() && self.warnings.is_empty()
    }
}

/// Compares `spec` with every source of `code`.
pub fn check(spec: &Spec, code: &CodeView, options: &CheckOptions) -> Report {
    let mut collector = Collector::default();
    let spec_schemas: BTreeSet<String> = spec_schema_names(&spec.document).into_iter().collect();

    let api = rainbond_codegen::server::ir::read(spec).ok();
    let typify = typify_types(api.as_ref());
    let openapi_components: BTreeSet<String> = Node::at(&code.server_openapi, "/components/schemas")
        .map(|schemas| schemas.members().into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default();
    let mut comparer = Comparer::new(
        spec,
        Source::ServerOpenapi,
        options,
        &spec_schemas,
        &openapi_components,
        &typify,
        &mut collector,
    );
    comparer.operations(&code.server_openapi);
    comparer.security_schemes(&code.server_openapi);
    comparer.document_components(&code.server_openapi);

    for source in [Source::ServerSchemars, Source::ClientSchemars] {
        let registry = code.registry(source).unwrap_or_default();
        let names: BTreeSet<String> = registry.iter().map(|(name, _)| name.clone()).collect();
        let mut comparer = Comparer::new(spec, source, options, &spec_schemas, &names, &typify, &mut collector);
        comparer.registry(registry);
    }

    error_codes(spec, code, &mut collector);
    let mut report = collector.into_report(spec, spec_schemas.len());
    report.warnings.extend(server_warnings(api.as_ref()));
    // A response media type the router does not answer with is a warning already.
    let warned: BTreeSet<String> = report.warnings.iter().map(|warning| warning.pointer.clone()).collect();
    report.findings.retain(|f| !(f.kind == FindingKind::MediaTypeMismatch && warned.contains(&f.pointer)));
    report.warnings.extend(unlisted_error_codes(spec, code));
    report.warnings.sort_by_key(|warning| warning.line);
    report
}

/// The schemas whose server types are typify's own (the server generator leaves them to typify:
/// `oneOf`, `pattern`, ... and what they refer to).
#[derive(Default)]
struct TypifyTypes {
    /// The components, by spec name.
    components: BTreeSet<String>,
    /// The spec pointers of the inline ones (an operation's body or parameter schema).
    inline: BTreeSet<String>,
    /// Arrays of unique items that both sides keep in a plain `Vec`, by spec pointer (see
    /// `Api::plain_unique_arrays`).
    plain_unique_arrays: BTreeSet<String>,
}

/// [`TypifyTypes`] as the server generator reads the spec (`None`: a spec the generator refuses,
/// which has no generated server).
fn typify_types(api: Option<&Api>) -> TypifyTypes {
    let Some(api) = api else { return TypifyTypes::default() };
    let mut types = TypifyTypes { plain_unique_arrays: api.plain_unique_arrays.clone(), ..TypifyTypes::default() };
    for model in &api.models {
        if !matches!(model.kind, rainbond_codegen::server::ir::ModelKind::Foreign) {
            continue;
        }
        if model.inline {
            types.inline.insert(model.pointer.clone());
        } else {
            types.components.insert(model.schema_name.clone());
        }
    }
    types
}

/// [`rainbond_codegen::server_warnings`] as warnings (`None`: a spec the generator refuses, which
/// has no generated router).
fn server_warnings(api: Option<&Api>) -> Vec<Warning> {
    api.map(Api::warnings)
        .unwrap_or_default()
        .into_iter()
        .map(|undocumented| Warning {
            pointer: undocumented.location.pointer.unwrap_or_default(),
            line: undocumented.location.line,
            message: undocumented.message,
        })
        .collect()
}

/// A spec that lists no error code at all (another API's spec, say) while the server answers
/// some: one warning rather than a finding per code, which `--strict` makes a finding. A spec
/// that lists codes is held to the server's list by [`error_codes`].
fn unlisted_error_codes(spec: &Spec, code: &CodeView) -> Option<Warning> {
    if !crate::error_codes::documented(&spec.document).is_empty() || code.error_codes.is_empty() {
        return None;
    }
    let pointer = crate::error_codes::ERROR_CODES_POINTER.to_owned();
    let message = format!(
        "the spec lists none of the {} error codes the server answers (list them in the description of \
         `ErrorBody.code`, one paragraph `` `CODE` (STATUS): meaning `` each)",
        code.error_codes.len()
    );
    Some(Warning { line: spec.line(&pointer), pointer, message })
}

/// The error codes the spec lists against the codes the server answers, both ways (a spec that
/// lists none gets [`unlisted_error_codes`]' warning instead).
fn error_codes(spec: &Spec, code: &CodeView, out: &mut Collector) {
    let documented = crate::error_codes::documented(&spec.document);
    if documented.is_empty() {
        return;
    }
    let pointer = format!("{}/description", crate::error_codes::ERROR_CODES_POINTER);
    let mut finding = |kind, spec_text: String, code_text: String| {
        out.findings
            .entry((kind, pointer.clone(), spec_text, code_text))
            .or_default()
            .insert(Source::ServerCodes, false);
    };
    for (answered, status) in code.error_codes.difference(&documented) {
        let said = format!("answers code {answered} with status {status}");
        finding(FindingKind::UndocumentedErrorCode, "not in the list of error codes".to_owned(), said);
    }
    for (listed, status) in documented.difference(&code.error_codes) {
        let said = format!("lists code {listed} with status {status}");
        finding(FindingKind::UnansweredErrorCode, said, "never answers it".to_owned());
    }
}

fn spec_schema_names(document: &Value) -> Vec<String> {
    Node::at(document, "/components/schemas")
        .map(|schemas| schemas.members().into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default()
}

#[derive(Default)]
struct Collector {
    /// Each difference, with the sources that say it and whether each was comparing a typify type.
    findings: BTreeMap<(FindingKind, String, String, String), BTreeMap<Source, bool>>,
    unverified: BTreeMap<(Source, &'static str, &'static str), BTreeSet<String>>,
    operations: usize,
}

impl Collector {
    fn into_report(self, spec: &Spec, schemas: usize) -> Report {
        let (typify_made, differences): (Vec<_>, Vec<_>) =
            self.findings.into_iter().partition(|(_, sources)| is_typify_made(sources));
        let mut findings: Vec<Finding> = differences
            .into_iter()
            .map(|((kind, pointer, spec_text, code_text), sources)| Finding {
                kind,
                line: spec.line(&pointer),
                subject: subject(&pointer),
                pointer,
                spec: spec_text,
                code: code_text,
                sources: sources.into_keys().collect(),
            })
            .collect();
        findings.sort_by(|a, b| (a.line, &a.pointer, a.kind).cmp(&(b.line, &b.pointer, b.kind)));
        let unverified = self
            .unverified
            .into_iter()
            .map(|((source, facet, reason), pointers)| Unverified {
                source,
                facet,
                reason,
                pointers: pointers.into_iter().collect(),
            })
            .collect();
        Report {
            spec: spec.path.display().to_string(),
            findings,
            warnings: typify_made.into_iter().map(|(key, sources)| typify_warning(spec, key, &sources)).collect(),
            unverified,
            compared: Compared { operations: self.operations, schemas, sources: Source::ALL.to_vec() },
        }
    }
}

/// Whether a difference is typify's own making: the server's type is typify's as well as the
/// client's (its schemars schema says the difference), and every source that says it was
/// comparing a typify type. Both sides then share the type the spec was generated into, and
/// regenerating cannot change it; what only the server's document says of a typify type is
/// this project's conversion, and stays a finding.
fn is_typify_made(sources: &BTreeMap<Source, bool>) -> bool {
    sources.get(&Source::ServerSchemars) == Some(&true) && sources.values().all(|&in_typify| in_typify)
}

/// A difference of typify's making as a warning, which `--strict` makes a finding.
fn typify_warning(
    spec: &Spec,
    (kind, pointer, spec_text, code_text): (FindingKind, String, String, String),
    sources: &BTreeMap<Source, bool>,
) -> Warning {
    let names: Vec<&str> = sources.keys().map(|source| source.name()).collect();
    let message = format!(
        "{}: typify's type for {} says {code_text} where the spec says {spec_text} ({}); typify writes this \
         schema so on both sides, so change the schema if the difference matters on the wire",
        kind.name(),
        subject(&pointer),
        names.join(", "),
    );
    Warning { line: spec.line(&pointer), pointer, message }
}

/// Why the client's schemas cannot say some facets (typify 0.8 + schemars 0.8).
const CLIENT_REQUIRED_NULLABLE: &str = "typify makes a required nullable property an `Option` with \
     `deserialize_with`, and schemars 0.8 reports every `Option` as optional";
const CLIENT_OPTIONAL_NULLABLE: &str = "typify makes an optional property an `Option` that is skipped \
     when `None` and accepts `null`, so schemars 0.8 reports it as nullable either way";
const CLIENT_READ_ONLY: &str = "typify ignores readOnly and writeOnly (one type serves requests and responses)";
const OPENAPI_TITLES: &str = "utoipa 6 writes no titles for properties";
const OPENAPI_OPTIONAL_BODY: &str =
    "utoipa says a request body is optional (`Option<T>`) by making its inline schema nullable too";
const OPENAPI_ARRAY_ACCESS: &str = "utoipa 6's arrays have no readOnly or writeOnly: its derive writes a `Vec` \
     field's on the items";
const CLIENT_TITLES: &str = "typify keeps no titles";
const CLIENT_ITEM_COUNTS: &str = "typify generates a plain `Vec` for an array, without minItems or maxItems";
const CLIENT_STRING_LENGTHS: &str =
    "typify checks string lengths in a newtype's `FromStr`, which the newtype's schemars derive does not describe";
const SCHEMARS_FLATTENED_MAPS: &str = "schemars 0.8 describes the values of a map flattened beside \
     properties (typify's and the server's `extra`) as any";
const CLIENT_BOUNDS: &str = "typify turns integer bounds into the choice of Rust type and keeps no bounds on numbers";
const INTEGER_TYPE_FORMATS: &str = "an integer without a format takes the Rust type typify picks from its bounds, \
     whose format schemars and utoipa then name";
const CLIENT_STRING_FORMATS: &str = "a string of another format than date, date-time, uuid or an IP address is a `String`, \
     which schemars 0.8 writes without a format";
const CLIENT_UNKNOWN_FIELDS: &str = "typify decides whether an enum's variant refuses unknown fields (it refuses them in \
     an externally tagged one, and serde cannot in an internally tagged one)";
const CLIENT_PATTERNS: &str =
    "typify checks a pattern in a newtype's `TryFrom`, which the newtype's schemars derive does not describe";
const SERVER_UNIQUE_ITEMS: &str = "an operation's array of unique items that typify gives no type of its own is a \
     plain `Vec` on both sides (a set type would need its items ordered or hashable)";
const CLIENT_UNIQUE_ITEMS: &str = "typify keeps an array of unique items in a plain `Vec`, without uniqueItems";

/// Context of a schema comparison that only the parent knows.
#[derive(Clone, Copy, Default)]
struct Place {
    /// The schema is a property that the code marks optional.
    optional_in_code: bool,
    /// The schema is the root of a schemars registry entry.
    registry_root: bool,
    /// The schema is that of a request body the code marks optional.
    optional_body: bool,
    /// The schema is a `oneOf`/`anyOf` alternative.
    alternative: bool,
    /// The schema is the items of an array the spec marks readOnly or writeOnly.
    array_access: bool,
}

struct Comparer<'c> {
    spec: &'c Spec,
    source: Source,
    options: &'c CheckOptions,
    /// Names that both the spec and this source define: a reference to one of them on both
    /// sides is compared once, at the component.
    shared: BTreeSet<String>,
    spec_schemas: &'c BTreeSet<String>,
    code_schemas: &'c BTreeSet<String>,
    out: &'c mut Collector,
    visited: HashSet<(String, String)>,
    /// The schemas whose server types are typify's, as the client's are.
    typify: &'c TypifyTypes,
    /// Whether the schema being compared is a typify type: every client type, and on the server
    /// those in `typify`. typify's limits are then not findings.
    in_typify: bool,
}

impl<'c> Comparer<'c> {
    fn new(
        spec: &'c Spec,
        source: Source,
        options: &'c CheckOptions,
        spec_schemas: &'c BTreeSet<String>,
        code_schemas: &'c BTreeSet<String>,
        typify: &'c TypifyTypes,
        out: &'c mut Collector,
    ) -> Self {
        Comparer {
            spec,
            source,
            options,
            shared: spec_schemas.intersection(code_schemas).cloned().collect(),
            spec_schemas,
            code_schemas,
            out,
            visited: HashSet::new(),
            typify,
            in_typify: source == Source::ClientSchemars,
        }
    }

    fn finding(&mut self, kind: FindingKind, pointer: &str, spec: impl Into<String>, code: impl Into<String>) {
        let key = (kind, pointer.to_owned(), spec.into(), code.into());
        self.out.findings.entry(key).or_default().insert(self.source, self.in_typify);
    }

    fn unverified(&mut self, facet: &'static str, reason: &'static str, pointer: &str) {
        self.out.unverified.entry((self.source, facet, reason)).or_default().insert(pointer.to_owned());
    }

    // ---- components -------------------------------------------------------------------------

    fn document_components(&mut self, code_doc: &Value) {
        for name in self.spec_schemas.clone() {
            let pointer = format!("/components/schemas/{}", escape_token(&name));
            let code = Node::at(code_doc, &pointer);
            self.component(&name, &pointer, code, Place::default());
        }
        self.extra_schemas();
    }

    fn registry(&mut self, registry: &[(String, Value)]) {
        for name in self.spec_schemas.clone() {
            let pointer = format!("/components/schemas/{}", escape_token(&name));
            let code = registry.iter().find(|(key, _)| *key == name).and_then(|(_, root)| Node::at(root, ""));
            self.component(&name, &pointer, code, Place { registry_root: true, ..Place::default() });
        }
        self.extra_schemas();
    }

    fn component(&mut self, name: &str, pointer: &str, code: Option<Node<'_>>, place: Place) {
        let Some(spec_node) = Node::at(&self.spec.document, pointer) else { return };
        self.in_typify = self.source == Source::ClientSchemars || self.typify.components.contains(name);
        match code {
            Some(code) => self.schema(&spec_node, &code, place),
            None => self.finding(FindingKind::MissingSchema, pointer, format!("schema {name}"), "absent"),
        }
        self.in_typify = self.source == Source::ClientSchemars;
    }

    fn extra_schemas(&mut self) {
        for name in self.code_schemas.difference(self.spec_schemas).cloned().collect::<Vec<_>>() {
            let pointer = format!("/components/schemas/{}", escape_token(&name));
            self.finding(FindingKind::ExtraSchema, &pointer, "absent", format!("schema {name}"));
        }
    }

    fn security_schemes(&mut self, code_doc: &Value) {
        let spec_schemes = Node::at(&self.spec.document, "/components/securitySchemes");
        let code_schemes = Node::at(code_doc, "/components/securitySchemes");
        let spec_list = spec_schemes.as_ref().map(Node::members).unwrap_or_default();
        let code_list = code_schemes.as_ref().map(Node::members).unwrap_or_default();
        for (name, spec_scheme) in &spec_list {
            let spec_scheme = spec_scheme.resolved();
            match code_list.iter().find(|(key, _)| key == name) {
                None => self.finding(
                    FindingKind::SecurityMismatch,
                    &spec_scheme.pointer,
                    scheme_text(&spec_scheme),
                    "absent",
                ),
                Some((_, code_scheme)) => {
                    let code_scheme = code_scheme.resolved();
                    for field in ["type", "in", "name", "scheme", "bearerFormat", "openIdConnectUrl", "flows"] {
                        let (s, c) = (spec_scheme.value.get(field), code_scheme.value.get(field));
                        let equal = match (s, c) {
                            (Some(Value::String(a)), Some(Value::String(b))) => a.eq_ignore_ascii_case(b),
                            _ => s == c,
                        };
                        if !equal {
                            let pointer = format!("{}/{field}", spec_scheme.pointer);
                            self.finding(
                                FindingKind::SecurityMismatch,
                                &pointer,
                                field_text(field, s),
                                field_text(field, c),
                            );
                        }
                    }
                }
            }
        }
        for (name, code_scheme) in &code_list {
            if !spec_list.iter().any(|(key, _)| key == name) {
                let pointer = format!("/components/securitySchemes/{}", escape_token(name));
                self.finding(FindingKind::SecurityMismatch, &pointer, "absent", scheme_text(&code_scheme.resolved()));
            }
        }
    }

    // ---- operations ---------------------------------------------------------------------------

    fn operations(&mut self, code_doc: &Value) {
        let spec_doc = &self.spec.document;
        let spec_ops = openapi::operations(spec_doc);
        let code_ops = openapi::operations(code_doc);
        self.out.operations = spec_ops.len();
        for spec_op in &spec_ops {
            match code_ops.iter().find(|code_op| code_op.key() == spec_op.key()) {
                None => self.finding(FindingKind::MissingOperation, &spec_op.node.pointer, spec_op.label(), "absent"),
                Some(code_op) => self.operation(spec_op, code_op),
            }
        }
        for code_op in &code_ops {
            if !spec_ops.iter().any(|spec_op| spec_op.key() == code_op.key()) {
                let pointer = openapi::operation_pointer(&code_op.path, code_op.method);
                self.finding(FindingKind::ExtraOperation, &pointer, "absent", code_op.label());
            }
        }
    }

    fn operation(&mut self, spec_op: &Operation<'_>, code_op: &Operation<'_>) {
        let id_pointer = format!("{}/operationId", spec_op.node.pointer);
        if spec_op.operation_id() != code_op.operation_id() {
            self.finding(
                FindingKind::OperationIdMismatch,
                &id_pointer,
                optional_text(spec_op.operation_id()),
                optional_text(code_op.operation_id()),
            );
        }
        if self.options.descriptions {
            for field in ["summary", "description"] {
                self.text_field(FindingKind::DescriptionMismatch, &spec_op.node, &code_op.node, field);
            }
        }
        self.parameters(spec_op, code_op);
        self.request_body(spec_op, code_op);
        self.responses(spec_op, code_op);

        let (spec_security, spec_pointer) = spec_op.security();
        let (code_security, _) = code_op.security();
        if spec_security != code_security {
            self.finding(
                FindingKind::SecurityMismatch,
                &spec_pointer,
                openapi::security_text(&spec_security),
                openapi::security_text(&code_security),
            );
        }
    }

    fn parameters(&mut self, spec_op: &Operation<'_>, code_op: &Operation<'_>) {
        let spec_params = spec_op.parameters();
        let code_params = code_op.parameters();
        let mut unmatched_code: Vec<_> = code_params.iter().collect();
        for spec_param in &spec_params {
            let exact = unmatched_code
                .iter()
                .position(|c| c.name == spec_param.name && c.location == spec_param.location)
                .or_else(|| unmatched_code.iter().position(|c| c.name == spec_param.name));
            let Some(index) = exact else {
                self.finding(
                    FindingKind::MissingParameter,
                    &spec_param.node.pointer,
                    format!("{} parameter {}", spec_param.location, spec_param.name),
                    "absent",
                );
                continue;
            };
            let code_param = unmatched_code.remove(index);
            let pointer = &spec_param.node.pointer;
            if code_param.location != spec_param.location {
                self.finding(
                    FindingKind::ParameterMismatch,
                    &format!("{pointer}/in"),
                    format!("in {}", spec_param.location),
                    format!("in {}", code_param.location),
                );
            }
            if code_param.required != spec_param.required {
                self.finding(
                    FindingKind::ParameterMismatch,
                    &format!("{pointer}/required"),
                    required_text(spec_param.required),
                    required_text(code_param.required),
                );
            }
            if self.options.descriptions {
                self.text_field(FindingKind::DescriptionMismatch, &spec_param.node, &code_param.node, "description");
            }
            match (spec_param.node.child("schema"), code_param.node.child("schema")) {
                (Some(s), Some(c)) => self.schema(&s, &c, Place::default()),
                (Some(s), None) => {
                    self.finding(FindingKind::TypeMismatch, &s.pointer, Shape::of(&s).summary(), "no schema")
                }
                _ => {}
            }
        }
        let holder = if spec_op.path_item.child("parameters").is_some() { &spec_op.path_item } else { &spec_op.node };
        for code_param in unmatched_code {
            let pointer = format!("{}/parameters", holder.pointer);
            self.finding(
                FindingKind::ExtraParameter,
                &pointer,
                "absent",
                format!("{} parameter {}", code_param.location, code_param.name),
            );
        }
    }

    fn request_body(&mut self, spec_op: &Operation<'_>, code_op: &Operation<'_>) {
        match (spec_op.request_body(), code_op.request_body()) {
            (None, None) => {}
            (Some(spec_body), None) => {
                self.finding(FindingKind::MissingRequestBody, &spec_body.pointer, "a request body", "absent");
            }
            (None, Some(_)) => {
                let pointer = format!("{}/requestBody", spec_op.node.pointer);
                self.finding(FindingKind::ExtraRequestBody, &pointer, "absent", "a request body");
            }
            (Some(spec_body), Some(code_body)) => {
                let (s, c) = (spec_body.bool("required").unwrap_or(false), code_body.bool("required").unwrap_or(false));
                if s != c {
                    self.finding(FindingKind::RequiredMismatch, &spec_body.pointer, required_text(s), required_text(c));
                }
                if self.options.descriptions {
                    self.text_field(FindingKind::DescriptionMismatch, &spec_body, &code_body, "description");
                }
                self.content(&spec_body, &code_body, Place { optional_body: !c, ..Place::default() });
            }
        }
    }

    fn responses(&mut self, spec_op: &Operation<'_>, code_op: &Operation<'_>) {
        let spec_responses = spec_op.responses();
        let code_responses = code_op.responses();
        for spec_response in &spec_responses {
            match code_responses.iter().find(|c| c.status == spec_response.status) {
                None => self.finding(
                    FindingKind::MissingResponse,
                    &spec_response.site.pointer,
                    format!("status {}", spec_response.status),
                    "absent",
                ),
                Some(code_response) => {
                    if self.options.descriptions {
                        self.text_field(
                            FindingKind::DescriptionMismatch,
                            &spec_response.node,
                            &code_response.node,
                            "description",
                        );
                    }
                    self.content(&spec_response.node, &code_response.node, Place::default());
                }
            }
        }
        for code_response in &code_responses {
            if !spec_responses.iter().any(|s| s.status == code_response.status) {
                let pointer = format!("{}/responses/{}", spec_op.node.pointer, escape_token(&code_response.status));
                self.finding(
                    FindingKind::ExtraResponse,
                    &pointer,
                    "absent",
                    format!("status {}", code_response.status),
                );
            }
        }
    }

    fn content(&mut self, spec_holder: &Node<'_>, code_holder: &Node<'_>, place: Place) {
        let spec_media = openapi::media_types(spec_holder);
        let code_media = openapi::media_types(code_holder);
        let spec_only: Vec<_> = spec_media.iter().filter(|(m, _)| !code_media.iter().any(|(c, _)| c == m)).collect();
        let code_only: Vec<_> = code_media.iter().filter(|(m, _)| !spec_media.iter().any(|(s, _)| s == m)).collect();
        if let ([(spec_type, spec_node)], [(code_type, _)]) = (spec_only.as_slice(), code_only.as_slice()) {
            self.finding(FindingKind::MediaTypeMismatch, &spec_node.pointer, spec_type.clone(), code_type.clone());
        } else {
            for (spec_type, spec_node) in &spec_only {
                self.finding(FindingKind::MediaTypeMismatch, &spec_node.pointer, spec_type.clone(), "absent");
            }
            for (code_type, _) in &code_only {
                let pointer = format!("{}/content/{}", spec_holder.pointer, escape_token(code_type));
                self.finding(FindingKind::MediaTypeMismatch, &pointer, "absent", code_type.clone());
            }
        }
        for (media_type, spec_node) in &spec_media {
            let Some((_, code_node)) = code_media.iter().find(|(c, _)| c == media_type) else { continue };
            match (spec_node.child("schema"), code_node.child("schema")) {
                (Some(s), Some(c)) => self.schema(&s, &c, place),
                (Some(s), None) => {
                    self.finding(FindingKind::TypeMismatch, &s.pointer, Shape::of(&s).summary(), "no schema")
                }
                (None, Some(c)) => {
                    let pointer = format!("{}/schema", spec_node.pointer);
                    self.finding(FindingKind::TypeMismatch, &pointer, "no schema", Shape::of(&c).summary());
                }
                (None, None) => {}
            }
        }
    }

    // ---- schemas ------------------------------------------------------------------------------

    /// Compares a spec schema with the code's; a schema that refers to one of typify's
    /// components is compared as a typify type.
    fn schema(&mut self, spec_node: &Node<'_>, code_node: &Node<'_>, place: Place) {
        let outer = self.in_typify;
        let reference = Shape::of(spec_node).reference;
        if reference.is_some_and(|name| self.typify.components.contains(&name))
            || self.typify.inline.contains(&spec_node.pointer)
        {
            self.in_typify = true;
        }
        self.compare_schemas(spec_node, code_node, place);
        self.in_typify = outer;
    }

    fn compare_schemas(&mut self, spec_node: &Node<'_>, code_node: &Node<'_>, place: Place) {
        let spec = Shape::of(spec_node);
        let code = Shape::of(code_node);
        let pointer = spec.pointer.clone();

        if let (Some(a), Some(b)) = (&spec.reference, &code.reference)
            && self.shared.contains(a)
            && self.shared.contains(b)
        {
            if a == b || schema::alias_chain(spec_node.root, a).contains(b) {
                // The component comparison covers the target; only what the use site adds is left.
                self.use_site(&spec, &code, spec_node, code_node, place);
            } else {
                // Two different named schemas: the reference is the difference, not their contents.
                self.finding(FindingKind::TypeMismatch, &pointer, format!("schema {a}"), format!("schema {b}"));
            }
            return;
        }
        let identity =
            (format!("{}#{}", spec_node.pointer, spec.definition), format!("{:p}{}", code_node.root, code.definition));
        if spec.reference.is_some() && !self.visited.insert(identity) {
            return;
        }

        if spec.types != code.types {
            self.finding(FindingKind::TypeMismatch, &pointer, spec.types_text(), code.types_text());
            return;
        }
        let integer_without_format = spec.format.is_none()
            && spec.types.iter().all(|t| t == "integer")
            && code.format.as_deref().is_some_and(|f| matches!(f, "int8" | "int16" | "int32" | "int64"));
        // schemars' derive writes no format for a `String` (utoipa's takes the server's attribute).
        let string_format_unsayable = (self.in_typify || self.source != Source::ServerOpenapi)
            && code.format.is_none()
            && spec.types.iter().all(|t| t == "string")
            && spec
                .format
                .as_deref()
                .is_some_and(|f| !matches!(f, "date" | "date-time" | "uuid" | "ip" | "ipv4" | "ipv6"));
        if integer_without_format {
            self.unverified("format", INTEGER_TYPE_FORMATS, &pointer);
        } else if string_format_unsayable {
            self.unverified("format", CLIENT_STRING_FORMATS, &pointer);
        } else if spec.format != code.format {
            self.finding(
                FindingKind::FormatMismatch,
                &pointer,
                optional_text(spec.format.as_deref()),
                optional_text(code.format.as_deref()),
            );
        }
        self.nullable(&spec, &code, place);
        self.access(&spec, &code, place);
        match (&spec.enumeration, &code.enumeration) {
            (None, None) => {}
            (s, c) if s.as_deref().map(schema::enum_set) == c.as_deref().map(schema::enum_set) => {}
            (s, c) => {
                self.finding(FindingKind::EnumMismatch, &pointer, enum_text(s.as_deref()), enum_text(c.as_deref()))
            }
        }
        let keys: BTreeSet<&str> = spec.constraints.keys().chain(code.constraints.keys()).copied().collect();
        for key in keys {
            let (s, c) = (spec.constraints.get(key), code.constraints.get(key));
            let client_cannot_say = match key {
                "minItems" => Some(("minItems", CLIENT_ITEM_COUNTS)),
                "maxItems" => Some(("maxItems", CLIENT_ITEM_COUNTS)),
                "minLength" => Some(("minLength", CLIENT_STRING_LENGTHS)),
                "maxLength" => Some(("maxLength", CLIENT_STRING_LENGTHS)),
                "minimum" => Some(("minimum", CLIENT_BOUNDS)),
                "maximum" => Some(("maximum", CLIENT_BOUNDS)),
                "pattern" => Some(("pattern", CLIENT_PATTERNS)),
                "uniqueItems" => Some(("uniqueItems", CLIENT_UNIQUE_ITEMS)),
                _ => None,
            };
            if key == "uniqueItems" && c.is_none() && self.typify.plain_unique_arrays.contains(&pointer) {
                self.unverified("uniqueItems", SERVER_UNIQUE_ITEMS, &pointer);
                continue;
            }
            if let Some((facet, reason)) = client_cannot_say.filter(|_| self.in_typify && c.is_none()) {
                self.unverified(facet, reason, &pointer);
                continue;
            }
            if s != c {
                self.finding(
                    FindingKind::ConstraintMismatch,
                    &pointer,
                    constraint_text(key, s),
                    constraint_text(key, c),
                );
            }
        }
        if self.options.descriptions {
            self.texts(&spec, &code, place);
        }

        match (&spec.items, &code.items) {
            (Some(s), Some(c)) => {
                let array_access = spec.read_only || spec.write_only;
                self.schema(s, c, Place { array_access, ..Place::default() })
            }
            (Some(s), None) => {
                self.finding(FindingKind::TypeMismatch, &s.pointer, Shape::of(s).summary(), "items of any type")
            }
            (None, Some(c)) => {
                let items = format!("{pointer}/items");
                self.finding(FindingKind::TypeMismatch, &items, "items of any type", Shape::of(c).summary());
            }
            (None, None) => {}
        }
        self.properties(&spec, &code);
        self.additional(&spec, &code, place);

        if spec.alternatives.len() != code.alternatives.len() {
            self.finding(
                FindingKind::CompositionMismatch,
                &pointer,
                format!("{} alternatives", spec.alternatives.len()),
                format!("{} alternatives", code.alternatives.len()),
            );
        } else {
            for (s, c) in aligned_alternatives(&spec.alternatives, &code.alternatives) {
                self.schema(s, c, Place { alternative: true, ..Place::default() });
            }
        }
    }

    /// A reference to the same component on both sides: compare what the use site itself adds
    /// (a null branch, readOnly, a description), when the targets agree on it.
    fn use_site(
        &mut self,
        spec: &Shape<'_>,
        code: &Shape<'_>,
        spec_node: &Node<'_>,
        code_node: &Node<'_>,
        place: Place,
    ) {
        let spec_target = spec_node.resolve_reference(&format!("#{}", spec.definition)).map(|n| Shape::of(&n));
        let code_target = code_node.resolve_reference(&format!("#{}", code.definition)).map(|n| Shape::of(&n));
        let (Some(spec_target), Some(code_target)) = (spec_target, code_target) else { return };
        if spec_target.nullable == code_target.nullable {
            self.nullable(spec, code, place);
        }
        if spec_target.read_only == code_target.read_only && spec_target.write_only == code_target.write_only {
            self.access(spec, code, place);
        }
    }

    fn nullable(&mut self, spec: &Shape<'_>, code: &Shape<'_>, place: Place) {
        // A code schema of any type (`serde_json::Value`) takes null too.
        if spec.nullable == code.nullable || (spec.nullable && code.types.is_empty()) {
            return;
        }
        if self.in_typify && place.optional_in_code && code.nullable {
            self.unverified("nullable", CLIENT_OPTIONAL_NULLABLE, &spec.pointer);
            return;
        }
        if self.source == Source::ServerOpenapi && place.optional_body && code.nullable {
            self.unverified("nullable", OPENAPI_OPTIONAL_BODY, &spec.pointer);
            return;
        }
        self.finding(
            FindingKind::NullableMismatch,
            &spec.pointer,
            nullable_text(spec.nullable),
            nullable_text(code.nullable),
        );
    }

    fn access(&mut self, spec: &Shape<'_>, code: &Shape<'_>, place: Place) {
        let client = self.in_typify;
        let code_items = code.items.as_ref().map(Shape::of);
        for (facet, kind, s, c, on_items) in [
            (
                "readOnly",
                FindingKind::ReadonlyMismatch,
                spec.read_only,
                code.read_only,
                code_items.as_ref().is_some_and(|items| items.read_only),
            ),
            (
                "writeOnly",
                FindingKind::WriteonlyMismatch,
                spec.write_only,
                code.write_only,
                code_items.as_ref().is_some_and(|items| items.write_only),
            ),
        ] {
            if s == c {
                continue;
            }
            if client && s && !c {
                self.unverified(facet, CLIENT_READ_ONLY, &spec.pointer);
                continue;
            }
            let utoipa_array = self.source == Source::ServerOpenapi && ((s && on_items) || (!s && place.array_access));
            if utoipa_array {
                self.unverified(facet, OPENAPI_ARRAY_ACCESS, &spec.pointer);
                continue;
            }
            let word = |set: bool| if set { facet.to_owned() } else { format!("not {facet}") };
            self.finding(kind, &spec.pointer, word(s), word(c));
        }
    }

    fn texts(&mut self, spec: &Shape<'_>, code: &Shape<'_>, place: Place) {
        let code_description =
            code.description.clone().filter(|text| !(place.registry_root && is_placeholder_doc(text)));
        if spec.description != code_description {
            self.finding(
                FindingKind::DescriptionMismatch,
                &spec.pointer,
                optional_text(spec.description.as_deref()),
                optional_text(code_description.as_deref()),
            );
        }
        if place.registry_root {
            // A schemars root's title is the Rust type's name, not a spec title.
            return;
        }
        match self.source {
            Source::ServerOpenapi if spec.title.is_some() && code.title.is_none() => {
                self.unverified("title", OPENAPI_TITLES, &spec.pointer);
            }
            _ if self.in_typify && spec.title.is_some() && code.title.is_none() => {
                self.unverified("title", CLIENT_TITLES, &spec.pointer);
            }
            _ if spec.title != code.title => {
                self.finding(
                    FindingKind::TitleMismatch,
                    &spec.pointer,
                    optional_text(spec.title.as_deref()),
                    optional_text(code.title.as_deref()),
                );
            }
            _ => {}
        }
    }

    fn properties(&mut self, spec: &Shape<'_>, code: &Shape<'_>) {
        for (name, spec_property) in &spec.properties {
            let Some(code_property) = code.property(name) else {
                self.finding(FindingKind::MissingProperty, &spec_property.pointer, property_text(spec, name), "absent");
                continue;
            };
            let (spec_required, code_required) = (spec.required.contains(name), code.required.contains(name));
            if spec_required != code_required {
                let client_limit = self.in_typify
                    && spec_required
                    && Shape::of(spec_property).nullable
                    && Shape::of(code_property).nullable;
                if client_limit {
                    self.unverified("required", CLIENT_REQUIRED_NULLABLE, &spec_property.pointer);
                } else {
                    self.finding(
                        FindingKind::RequiredMismatch,
                        &spec_property.pointer,
                        required_text(spec_required),
                        required_text(code_required),
                    );
                }
            }
            self.schema(spec_property, code_property, Place { optional_in_code: !code_required, ..Place::default() });
        }
        for (name, _) in &code.properties {
            if spec.property(name).is_none() {
                let pointer = spec.property_pointer(name);
                self.finding(FindingKind::ExtraProperty, &pointer, "absent", format!("property `{name}`"));
            }
        }
    }

    fn additional(&mut self, spec: &Shape<'_>, code: &Shape<'_>, place: Place) {
        match (&spec.additional, &code.additional) {
            (Additional::Any, Additional::Any) | (Additional::Forbidden, Additional::Forbidden) => {}
            (Additional::Schema(s), Additional::Schema(c)) => self.schema(s, c, Place::default()),
            (Additional::Schema(_), Additional::Any)
                if self.source != Source::ServerOpenapi && !spec.properties.is_empty() =>
            {
                self.unverified("additionalProperties", SCHEMARS_FLATTENED_MAPS, &spec.pointer);
            }
            (Additional::Any, Additional::Forbidden) | (Additional::Forbidden, Additional::Any)
                if self.in_typify && place.alternative =>
            {
                self.unverified("additionalProperties", CLIENT_UNKNOWN_FIELDS, &spec.pointer);
            }
            (s, c) => self.finding(
                FindingKind::AdditionalPropertiesMismatch,
                &spec.pointer,
                additional_text(s),
                additional_text(c),
            ),
        }
    }

    fn text_field(&mut self, kind: FindingKind, spec_node: &Node<'_>, code_node: &Node<'_>, field: &str) {
        let text = |node: &Node<'_>| node.str(field).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        let (s, c) = (text(spec_node), text(code_node));
        if s != c {
            let pointer = format!("{}/{field}", spec_node.pointer);
            self.finding(kind, &pointer, optional_text(s.as_deref()), optional_text(c.as_deref()));
        }
    }
}

/// typify documents a type that the spec leaves undocumented with its own name: "`AppCopyC`".
fn is_placeholder_doc(text: &str) -> bool {
    text.len() > 2
        && text.starts_with('`')
        && text.ends_with('`')
        && text[1..text.len() - 1].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A property in words. The type is left out: each source encodes it its own way, and the
/// finding is the property's presence.
fn property_text(shape: &Shape<'_>, name: &str) -> String {
    let required = if shape.required.contains(name) { "required" } else { "optional" };
    format!("{required} property `{name}`")
}

fn optional_text(value: Option<&str>) -> String {
    value.map_or_else(|| "none".to_owned(), str::to_owned)
}

fn required_text(required: bool) -> String {
    if required { "required" } else { "optional" }.to_owned()
}

fn nullable_text(nullable: bool) -> String {
    if nullable { "nullable" } else { "not nullable" }.to_owned()
}

fn enum_text(values: Option<&[Value]>) -> String {
    match values {
        None => "no enum".to_owned(),
        Some(values) => format!("enum {}", Value::Array(values.to_vec())),
    }
}

fn constraint_text(key: &str, value: Option<&Value>) -> String {
    match value {
        None => format!("no {key}"),
        Some(value) => format!("{key}: {value}"),
    }
}

fn additional_text(additional: &Additional<'_>) -> String {
    match additional {
        Additional::Any => "additionalProperties: any".to_owned(),
        Additional::Forbidden => "additionalProperties: false".to_owned(),
        Additional::Schema(node) => format!("additionalProperties: {}", Shape::of(node).summary()),
    }
}

fn field_text(field: &str, value: Option<&Value>) -> String {
    match value {
        None => format!("no {field}"),
        Some(Value::String(text)) => format!("{field}: {text}"),
        Some(other) => format!("{field}: {other}"),
    }
}

fn scheme_text(scheme: &Node<'_>) -> String {
    let parts: Vec<&str> = ["type", "in", "name", "scheme"].iter().filter_map(|field| scheme.str(field)).collect();
    format!("security scheme ({})", parts.join(" "))
}

/// The `oneOf`/`anyOf` alternatives of the spec paired with the code's: each spec alternative
/// with the first unpaired code alternative of the same kind (JSON types, required properties,
/// enum values, reference), else with the first unpaired one, so that the generators' order of
/// variants (typify sorts an enum's unit variants first) does not read as a difference.
fn aligned_alternatives<'n, 'a>(spec: &'n [Node<'a>], code: &'n [Node<'a>]) -> Vec<(&'n Node<'a>, &'n Node<'a>)> {
    let kind = |node: &Node<'a>| {
        let shape = Shape::of(node);
        let reference = shape.reference.map(|r| r.rsplit('/').next().unwrap_or_default().to_owned());
        (shape.types, shape.required, shape.enumeration.map(|values| Value::Array(values).to_string()), reference)
    };
    let code_kinds: Vec<_> = code.iter().map(kind).collect();
    let mut unpaired: Vec<bool> = vec![true; code.len()];
    let mut pairs = Vec::with_capacity(spec.len());
    let mut leftover = Vec::new();
    for s in spec {
        let wanted = kind(s);
        match (0..code.len()).find(|&i| unpaired[i] && code_kinds[i] == wanted) {
            Some(i) => {
                unpaired[i] = false;
                pairs.push((s, &code[i]));
            }
            None => leftover.push(s),
        }
    }
    for s in leftover {
        if let Some(i) = unpaired.iter().position(|&free| free) {
            unpaired[i] = false;
            pairs.push((s, &code[i]));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_pair_by_kind_whatever_their_order() {
        let spec = serde_json::json!({"oneOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "number"}}},
            {"type": "object", "required": ["b"], "properties": {"b": {"type": "string"}}},
            {"type": "string", "enum": ["calm"]},
        ]});
        // typify writes an enum's unit variants first.
        let code = serde_json::json!({"oneOf": [
            {"type": "string", "enum": ["calm"]},
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "number"}}},
            {"type": "object", "required": ["b"], "properties": {"b": {"type": "string"}}},
        ]});
        let (spec, code) = (Node::at(&spec, "").unwrap(), Node::at(&code, "").unwrap());
        let (spec, code) = (Shape::of(&spec).alternatives, Shape::of(&code).alternatives);
        let pairs: Vec<(String, String)> = aligned_alternatives(&spec, &code)
            .into_iter()
            .map(|(s, c)| (s.pointer.clone(), c.pointer.clone()))
            .collect();
        assert_eq!(
            pairs,
            [("/oneOf/0", "/oneOf/1"), ("/oneOf/1", "/oneOf/2"), ("/oneOf/2", "/oneOf/0")]
                .map(|(s, c)| (s.to_owned(), c.to_owned()))
        );
    }

    #[test]
    fn a_difference_is_typify_made_only_where_the_servers_type_is_typify_and_every_source_compared_one() {
        let said = |entries: &[(Source, bool)]| entries.iter().copied().collect::<BTreeMap<_, _>>();
        use Source::*;
        assert!(is_typify_made(&said(&[(ServerOpenapi, true), (ServerSchemars, true), (ClientSchemars, true)])));
        assert!(is_typify_made(&said(&[(ServerSchemars, true), (ClientSchemars, true)])));
        // Only the document differs: the conversion of typify's schema into it is this project's.
        assert!(!is_typify_made(&said(&[(ServerOpenapi, true)])));
        // The client alone: its type is stale or edited, or the server's type is this project's.
        assert!(!is_typify_made(&said(&[(ClientSchemars, true)])));
        assert!(!is_typify_made(&said(&[(ServerSchemars, false), (ClientSchemars, true)])));
    }

    const SPEC: &str = "openapi: 3.0.3
info:
  title: t
  version: '1'
paths:
  /pets/{id}:
    parameters:
      - name: id
        in: path
        required: true
        schema:
          type: integer
          format: int64
    get:
      operationId: get_pet
      responses:
        '200':
          description: ok
";

    #[test]
    fn an_operation_answered_with_a_status_it_does_not_document_is_a_warning_only_strict_fails_on() {
        let code = CodeView {
            server_openapi: serde_json::json!({}),
            server_schemars: vec![],
            client_schemars: vec![],
            error_codes: Default::default(),
        };
        let report = check(&Spec::parse("t.yaml", SPEC).unwrap(), &code, &CheckOptions::default());
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        let warning = &report.warnings[0];
        assert_eq!((warning.line, warning.pointer.as_str()), (Some(16), "/paths/~1pets~1{id}/get/responses"));
        assert!(warning.message.starts_with("`get_pet` documents no 400"), "{}", warning.message);
        assert!(!report.is_strictly_clean());

        let documented = format!(
            "{}        4XX:\n          description: no\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Problem'\ncomponents:\n  schemas:\n    Problem:\n      type: object\n      properties:\n        message:\n          type: string\n",
            SPEC
        );
        rainbond_codegen::server_warnings(&Spec::parse("t.yaml", &documented).unwrap()).expect("the spec generates");
        let report = check(&Spec::parse("t.yaml", &documented).unwrap(), &code, &CheckOptions::default());
        assert!(report.warnings.is_empty(), "4XX documents the 400: {:?}", report.warnings);
    }
}

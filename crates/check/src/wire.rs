//! What a spec edit does to clients on the wire, in oasdiff's vocabulary.
//!
//! Levels: `ERR` breaks existing clients; `WARN` may break some (it depends on what clients send
//! or rely on, which the document cannot tell); `INFO` breaks none. Rule ids are oasdiff's where
//! oasdiff has the rule (README.md lists the few that are this crate's own).
//!
//! Every rule, with its id and level, is in [`rules`]; the differ names rules by id.
//!
//! A request breaks when the server starts to accept less (a new required property or
//! parameter, a narrower type, a value no longer allowed); a response breaks when the server may
//! start to send something clients were promised it would not (a removed or optional property, a
//! new `null`, a new enum value, a removed success status). Changes to a schema are reported
//! for every operation that uses it, in the direction it is used.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rainbond_codegen::Spec;
use serde::Serialize;
use serde_json::Value;

pub mod rules;

use crate::openapi::{self, Operation, Parameter};
use crate::schema::{self, Additional, Node, Shape};

/// How much a change breaks, in oasdiff's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    /// Breaks existing clients.
    #[serde(rename = "ERR")]
    Err,
    /// May break some clients.
    #[serde(rename = "WARN")]
    Warn,
    /// Breaks no client.
    #[serde(rename = "INFO")]
    Info,
}

impl Level {
    /// `ERR`, `WARN` or `INFO`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Err => "ERR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
        }
    }
}

/// Which document a change's pointer refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The old spec (the thing was removed).
    Old,
    /// The new spec.
    New,
}

/// One change between two spec versions, as clients on the wire see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireChange {
    /// How much it breaks.
    pub level: Level,
    /// The rule id (oasdiff's where it has one): `response-property-became-nullable`.
    pub id: String,
    /// JSON pointer of the changed node, in the document named by `side`.
    pub pointer: String,
    /// Which document `pointer` refers to.
    pub side: Side,
    /// 1-based line in the new spec: of the node, or of its nearest ancestor that still exists.
    pub line: Option<usize>,
    /// The operations affected (`POST /path`); empty for document-level changes.
    pub operations: Vec<String>,
    /// What changed, in words.
    pub message: String,
}

/// Every wire-visible change from `old` to `new`, most severe first.
pub fn wire_changes(old: &Spec, new: &Spec) -> Vec<WireChange> {
    let mut differ =
        Differ { old: &old.document, new: &new.document, raw: BTreeMap::new(), operation: None, stack: HashSet::new() };
    differ.operations();
    differ.components();
    let mut changes: Vec<WireChange> = differ
        .raw
        .into_iter()
        .map(|((id, pointer, side, message), (level, operations))| WireChange {
            level,
            line: new.line(&pointer),
            id,
            pointer,
            side,
            operations: operations.into_iter().collect(),
            message,
        })
        .collect();
    changes.sort_by(|a, b| (a.level, a.line, &a.id, &a.pointer).cmp(&(b.level, b.line, &b.id, &b.pointer)));
    changes
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// Where a schema sits, which picks the rule id prefix.
#[derive(Clone)]
enum Place {
    Body,
    Parameter(String),
    Property { path: String, ignored: bool },
}

type RawKey = (String, String, Side, String);

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    raw: BTreeMap<RawKey, (Level, BTreeSet<String>)>,
    operation: Option<String>,
    stack: HashSet<(String, String, bool)>,
}

impl<'a> Differ<'a> {
    /// Records a change under the rule `id`, at the rule's level ([`rules::level`]).
    fn emit(&mut self, id: &str, side: Side, pointer: &str, message: String) {
        self.record(rules::level(id), id.to_owned(), side, pointer, message);
    }

    /// [`Differ::emit`], at most INFO when `capped` (an ignored property, an unused scheme).
    fn emit_capped(&mut self, id: &str, capped: bool, side: Side, pointer: &str, message: String) {
        let level = if capped { Level::Info } else { rules::level(id) };
        self.record(level, id.to_owned(), side, pointer, message);
    }

    /// Records a change of a schema under the rule `suffix` at `rule`'s place
    /// ([`rules::schema_level`]; at most INFO in an ignored property).
    fn emit_schema(&mut self, rule: &Rule, suffix: &str, pointer: &str, message: String) {
        let level =
            if rule.ignored { Level::Info } else { rules::schema_level(suffix, rule.direction == Direction::Request) };
        self.record(level, rule.id(suffix), Side::New, pointer, message);
    }

    fn record(&mut self, level: Level, id: String, side: Side, pointer: &str, message: String) {
        let entry = self.raw.entry((id, pointer.to_owned(), side, message)).or_insert((level, BTreeSet::new()));
        entry.0 = entry.0.min(level);
        if let Some(operation) = &self.operation {
            entry.1.insert(operation.clone());
        }
    }

    fn operations(&mut self) {
        let old_ops = openapi::operations(self.old);
        let new_ops = openapi::operations(self.new);
        for old_op in &old_ops {
            self.operation = Some(old_op.label());
            match new_ops.iter().find(|n| n.key() == old_op.key()) {
                Some(new_op) => {
                    self.operation = Some(new_op.label());
                    self.operation_changes(old_op, new_op);
                }
                None => {
                    let path_gone = !new_ops.iter().any(|n| n.template == old_op.template);
                    let id = match (path_gone, old_op.deprecated()) {
                        (true, false) => "api-path-removed-without-deprecation",
                        (true, true) => "api-path-removed-with-deprecation",
                        (false, false) => "api-removed-without-deprecation",
                        (false, true) => "api-removed-with-deprecation",
                    };
                    let message = format!("removed the operation {}", describe_operation(old_op));
                    self.emit(id, Side::Old, &old_op.node.pointer, message);
                }
            }
        }
        for new_op in &new_ops {
            if !old_ops.iter().any(|o| o.key() == new_op.key()) {
                self.operation = Some(new_op.label());
                let message = format!("added the operation {}", describe_operation(new_op));
                self.emit("endpoint-added", Side::New, &new_op.node.pointer, message);
            }
        }
        self.operation = None;
    }

    fn operation_changes(&mut self, old_op: &Operation<'a>, new_op: &Operation<'a>) {
        let id_pointer = format!("{}/operationId", new_op.node.pointer);
        match (old_op.operation_id(), new_op.operation_id()) {
            (Some(a), Some(b)) if a != b => {
                let message = format!("operationId changed from `{a}` to `{b}`");
                self.emit("api-operation-id-removed", Side::New, &id_pointer, message);
            }
            (Some(a), None) => {
                let message = format!("removed operationId `{a}`");
                self.emit("api-operation-id-removed", Side::Old, &id_pointer, message);
            }
            (None, Some(b)) => {
                self.emit("api-operation-id-added", Side::New, &id_pointer, format!("added operationId `{b}`"));
            }
            _ => {}
        }
        let tags = |op: &Operation<'a>| -> BTreeSet<String> {
            op.node
                .child("tags")
                .map(|t| t.elements().iter().filter_map(|e| e.value.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let (old_tags, new_tags) = (tags(old_op), tags(new_op));
        let tags_pointer = format!("{}/tags", new_op.node.pointer);
        for tag in old_tags.difference(&new_tags) {
            self.emit("api-tag-removed", Side::New, &tags_pointer, format!("removed the tag `{tag}`"));
        }
        for tag in new_tags.difference(&old_tags) {
            self.emit("api-tag-added", Side::New, &tags_pointer, format!("added the tag `{tag}`"));
        }
        match (old_op.deprecated(), new_op.deprecated()) {
            (false, true) => {
                self.emit("endpoint-deprecated", Side::New, &new_op.node.pointer, "deprecated the operation".into());
            }
            (true, false) => {
                self.emit(
                    "endpoint-reactivated",
                    Side::New,
                    &new_op.node.pointer,
                    "un-deprecated the operation".into(),
                );
            }
            _ => {}
        }
        self.parameters(old_op, new_op);
        self.request_body(old_op, new_op);
        self.responses(old_op, new_op);
        self.security(old_op, new_op);
    }

    fn parameters(&mut self, old_op: &Operation<'a>, new_op: &Operation<'a>) {
        let old_params = old_op.parameters();
        let new_params = new_op.parameters();
        // Path parameters are positional: a renamed path variable is the same parameter.
        let old_vars = openapi::path_variables(&old_op.path);
        let new_vars = openapi::path_variables(&new_op.path);
        let mut pairs: Vec<(&Parameter<'a>, &Parameter<'a>)> = Vec::new();
        for (old_var, new_var) in old_vars.iter().zip(&new_vars) {
            let old_param = old_params.iter().find(|p| p.location == "path" && &p.name == old_var);
            let new_param = new_params.iter().find(|p| p.location == "path" && &p.name == new_var);
            if let (Some(o), Some(n)) = (old_param, new_param) {
                pairs.push((o, n));
            }
        }
        for old_param in old_params.iter().filter(|p| p.location != "path") {
            if let Some(new_param) =
                new_params.iter().find(|n| n.location == old_param.location && n.name == old_param.name)
            {
                pairs.push((old_param, new_param));
            }
        }
        for old_param in &old_params {
            if !pairs.iter().any(|(o, _)| std::ptr::eq(*o, old_param)) {
                let message = format!("removed the {} parameter `{}`", old_param.location, old_param.name);
                self.emit("request-parameter-removed", Side::Old, &old_param.node.pointer, message);
            }
        }
        for new_param in &new_params {
            if pairs.iter().any(|(_, n)| std::ptr::eq(*n, new_param)) {
                continue;
            }
            let required = new_param.required || new_param.location == "path";
            let id = if required { "new-required-request-parameter" } else { "new-optional-request-parameter" };
            let message = format!(
                "added the {} {} parameter `{}`",
                if required { "required" } else { "optional" },
                new_param.location,
                new_param.name
            );
            self.emit(id, Side::New, &new_param.node.pointer, message);
        }
        for (old_param, new_param) in pairs {
            let pointer = &new_param.node.pointer;
            if old_param.name != new_param.name {
                let message = format!(
                    "renamed the path parameter `{}` to `{}` (path parameters are positional)",
                    old_param.name, new_param.name
                );
                self.emit("request-path-parameter-renamed", Side::New, pointer, message);
            }
            match (old_param.required, new_param.required) {
                (false, true) => {
                    let message = format!("the {} parameter `{}` became required", new_param.location, new_param.name);
                    self.emit("request-parameter-became-required", Side::New, pointer, message);
                }
                (true, false) => {
                    let message = format!("the {} parameter `{}` became optional", new_param.location, new_param.name);
                    self.emit("request-parameter-became-optional", Side::New, pointer, message);
                }
                _ => {}
            }
            if let (Some(o), Some(n)) = (old_param.node.child("schema"), new_param.node.child("schema")) {
                self.schema(&o, &n, Direction::Request, &Place::Parameter(new_param.name.clone()));
            }
        }
    }

    fn request_body(&mut self, old_op: &Operation<'a>, new_op: &Operation<'a>) {
        match (old_op.request_body(), new_op.request_body()) {
            (None, None) => {}
            (Some(old_body), None) => {
                self.emit("request-body-removed", Side::Old, &old_body.pointer, "removed the request body".into());
            }
            (None, Some(new_body)) => {
                if new_body.bool("required").unwrap_or(false) {
                    let message = "added a required request body".to_owned();
                    self.emit("request-body-added-required", Side::New, &new_body.pointer, message);
                } else {
                    let message = "added an optional request body".to_owned();
                    self.emit("request-body-added-optional", Side::New, &new_body.pointer, message);
                }
            }
            (Some(old_body), Some(new_body)) => {
                match (old_body.bool("required").unwrap_or(false), new_body.bool("required").unwrap_or(false)) {
                    (false, true) => self.emit(
                        "request-body-became-required",
                        Side::New,
                        &new_body.pointer,
                        "the request body became required".into(),
                    ),
                    (true, false) => self.emit(
                        "request-body-became-optional",
                        Side::New,
                        &new_body.pointer,
                        "the request body became optional".into(),
                    ),
                    _ => {}
                }
                self.content(&old_body, &new_body, Direction::Request);
            }
        }
    }

    fn responses(&mut self, old_op: &Operation<'a>, new_op: &Operation<'a>) {
        let old_responses = old_op.responses();
        let new_responses = new_op.responses();
        for old_response in &old_responses {
            match new_responses.iter().find(|n| n.status == old_response.status) {
                None => {
                    let success = openapi::is_success(&old_response.status);
                    let (id, kind) = if success {
                        ("response-success-status-removed", "success")
                    } else {
                        ("response-non-success-status-removed", "non-success")
                    };
                    let message = format!("removed the {kind} response status {}", old_response.status);
                    self.emit(id, Side::Old, &old_response.site.pointer, message);
                }
                Some(new_response) => self.content(&old_response.node, &new_response.node, Direction::Response),
            }
        }
        for new_response in &new_responses {
            if !old_responses.iter().any(|o| o.status == new_response.status) {
                let success = openapi::is_success(&new_response.status);
                let (id, kind) = if success {
                    ("response-success-status-added", "success")
                } else {
                    ("response-non-success-status-added", "non-success")
                };
                let message = format!("added the {kind} response status {}", new_response.status);
                self.emit(id, Side::New, &new_response.site.pointer, message);
            }
        }
    }

    fn content(&mut self, old_holder: &Node<'a>, new_holder: &Node<'a>, direction: Direction) {
        let old_media = openapi::media_types(old_holder);
        let new_media = openapi::media_types(new_holder);
        let (prefix, what) = match direction {
            Direction::Request => ("request-body", "request body"),
            Direction::Response => ("response", "response"),
        };
        for (media_type, old_node) in &old_media {
            match new_media.iter().find(|(n, _)| n == media_type) {
                None => {
                    let message = format!("removed the {what} media type {media_type}");
                    self.emit(&format!("{prefix}-media-type-removed"), Side::Old, &old_node.pointer, message);
                }
                Some((_, new_node)) => {
                    if let (Some(o), Some(n)) = (old_node.child("schema"), new_node.child("schema")) {
                        self.schema(&o, &n, direction, &Place::Body);
                    }
                }
            }
        }
        for (media_type, new_node) in &new_media {
            if !old_media.iter().any(|(o, _)| o == media_type) {
                let message = format!("added the {what} media type {media_type}");
                self.emit(&format!("{prefix}-media-type-added"), Side::New, &new_node.pointer, message);
            }
        }
    }

    fn security(&mut self, old_op: &Operation<'a>, new_op: &Operation<'a>) {
        let (old_security, _) = old_op.security();
        let (new_security, pointer) = new_op.security();
        if old_security == new_security {
            return;
        }
        let before = openapi::security_text(&old_security);
        let after = openapi::security_text(&new_security);
        if new_security.is_empty() {
            let message = format!("the operation no longer requires authentication (was: {before})");
            self.emit("api-security-removed", Side::New, &pointer, message);
            return;
        }
        if old_security.is_empty() {
            let message = format!("the operation now requires authentication: {after}");
            self.emit("api-security-added", Side::New, &pointer, message);
            return;
        }
        for removed in old_security.difference(&new_security) {
            let one = openapi::security_text(&[removed.clone()].into_iter().collect());
            let message = format!("clients authenticating with {one} are refused (now: {after})");
            self.emit("api-security-alternative-removed", Side::New, &pointer, message);
        }
        for added in new_security.difference(&old_security) {
            let one = openapi::security_text(&[added.clone()].into_iter().collect());
            let message = format!("clients may also authenticate with {one}");
            self.emit("api-security-alternative-added", Side::New, &pointer, message);
        }
    }

    fn components(&mut self) {
        let names = |doc: &'a Value, kind: &str| -> Vec<(String, Node<'a>)> {
            Node::at(doc, &format!("/components/{kind}")).map(|n| n.members()).unwrap_or_default()
        };
        let (old_schemas, new_schemas) = (names(self.old, "schemas"), names(self.new, "schemas"));
        for (name, node) in &old_schemas {
            if !new_schemas.iter().any(|(n, _)| n == name) {
                self.emit("api-schema-removed", Side::Old, &node.pointer, format!("removed the schema {name}"));
            }
        }
        for (name, node) in &new_schemas {
            if !old_schemas.iter().any(|(o, _)| o == name) {
                self.emit("api-schema-added", Side::New, &node.pointer, format!("added the schema {name}"));
            }
        }
        let (old_schemes, new_schemes) = (names(self.old, "securitySchemes"), names(self.new, "securitySchemes"));
        for (name, node) in &old_schemes {
            match new_schemes.iter().find(|(n, _)| n == name) {
                None => {
                    let message = format!("removed the security scheme {name}");
                    self.emit("api-security-component-removed", Side::Old, &node.pointer, message);
                }
                Some((_, new_node)) => self.security_scheme(name, &node.resolved(), &new_node.resolved()),
            }
        }
        for (name, node) in &new_schemes {
            if !old_schemes.iter().any(|(o, _)| o == name) {
                let message = format!("added the security scheme {name}");
                self.emit("api-security-component-added", Side::New, &node.pointer, message);
            }
        }
    }

    /// A security scheme kept under the same name: its type (INFO, as oasdiff), and where an API
    /// key travels or which HTTP scheme is used (ERR: clients send the credential where the
    /// server no longer looks), for every operation that uses it.
    fn security_scheme(&mut self, name: &str, old: &Node<'a>, new: &Node<'a>) {
        let users: Vec<String> = openapi::operations(self.new)
            .iter()
            .filter(|op| op.security().0.iter().any(|alternative| alternative.contains_key(name)))
            .map(Operation::label)
            .collect();
        let (old_type, new_type) = (old.str("type"), new.str("type"));
        let mut changes = Vec::new();
        if old_type != new_type {
            let message = format!(
                "the security scheme {name} changed type from {} to {}",
                old_type.unwrap_or("none"),
                new_type.unwrap_or("none")
            );
            changes.push(("api-security-component-type-changed", new.pointer.clone(), message));
        } else {
            for (field, id) in [
                ("in", "api-security-component-location-changed"),
                ("name", "api-security-component-location-changed"),
                ("scheme", "api-security-component-scheme-changed"),
            ] {
                let (before, after) = (old.str(field), new.str(field));
                let same = match (before, after) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    (a, b) => a == b,
                };
                if !same {
                    let message = format!(
                        "the security scheme {name} changed `{field}` from {} to {}: clients send the credential where the server no longer reads it",
                        before.unwrap_or("none"),
                        after.unwrap_or("none")
                    );
                    changes.push((id, format!("{}/{field}", new.pointer), message));
                }
            }
        }
        for (id, pointer, message) in changes {
            if users.is_empty() {
                self.emit_capped(id, true, Side::New, &pointer, message);
                continue;
            }
            for user in &users {
                self.operation = Some(user.clone());
                self.emit(id, Side::New, &pointer, message.clone());
            }
            self.operation = None;
        }
    }

    // ---- schemas ------------------------------------------------------------------------------

    fn schema(&mut self, old_node: &Node<'a>, new_node: &Node<'a>, direction: Direction, place: &Place) {
        let old = Shape::of(old_node);
        let new = Shape::of(new_node);
        let key = (old.definition.clone(), new.definition.clone(), direction == Direction::Request);
        let recursive = old.reference.is_some() || new.reference.is_some();
        if recursive && !self.stack.insert(key.clone()) {
            return;
        }
        self.schema_facets(&old, &new, direction, place);
        if recursive {
            self.stack.remove(&key);
        }
    }

    fn schema_facets(&mut self, old: &Shape<'a>, new: &Shape<'a>, direction: Direction, place: &Place) {
        let rule = Rule::new(direction, place);
        let subject = rule.subject.clone();
        let pointer = facet_pointer(old, new, &["type"]);

        if old.types != new.types {
            let widened = types_include(&new.types, &old.types);
            let narrowed = types_include(&old.types, &new.types);
            let message = format!("{subject}: type changed from {} to {}", old.types_text(), new.types_text());
            self.type_change(&rule, &pointer, message, widened, narrowed);
            return;
        }
        if old.format != new.format {
            let pointer = facet_pointer(old, new, &["format"]);
            let message = format!(
                "{subject}: format changed from {} to {}",
                old.format.as_deref().unwrap_or("none"),
                new.format.as_deref().unwrap_or("none")
            );
            let widened = format_widens(old.format.as_deref(), new.format.as_deref());
            let narrowed = format_widens(new.format.as_deref(), old.format.as_deref());
            self.type_change(&rule, &pointer, message, widened, narrowed);
        }
        if old.nullable != new.nullable {
            let pointer = facet_pointer(old, new, &["nullable", "type", "oneOf", "anyOf", "enum"]);
            let suffix = if new.nullable { "became-nullable" } else { "became-not-nullable" };
            let message = format!("{subject}: {}", suffix.replace('-', " "));
            self.emit_schema(&rule, suffix, &pointer, message);
        }
        self.enumeration(old, new, &rule, &facet_pointer(old, new, &["enum", "const"]));
        self.constraints(old, new, &rule);

        let path = match place {
            Place::Property { path, .. } => path.clone(),
            _ => String::new(),
        };
        let ignored = matches!(place, Place::Property { ignored: true, .. });
        if let (Some(o), Some(n)) = (&old.items, &new.items) {
            let items = Place::Property { path: format!("{path}[]"), ignored };
            self.schema(o, n, direction, &items);
        }
        self.properties(old, new, direction, &path, ignored);
        self.additional(
            old,
            new,
            &rule,
            &facet_pointer(old, new, &["additionalProperties"]),
            direction,
            &path,
            ignored,
        );
        if old.alternatives.len() != new.alternatives.len() {
            let pointer = facet_pointer(old, new, &["oneOf", "anyOf"]);
            let message = format!(
                "{subject}: oneOf/anyOf changed from {} to {} alternatives",
                old.alternatives.len(),
                new.alternatives.len()
            );
            let suffix = if new.alternatives.len() > old.alternatives.len() {
                "alternatives-added"
            } else {
                "alternatives-removed"
            };
            self.emit_schema(&rule, suffix, &pointer, message);
        } else {
            for (o, n) in old.alternatives.iter().zip(&new.alternatives) {
                self.schema(o, n, direction, place);
            }
        }
    }

    /// A type or format change: widening is fine for requests (and still breaks responses:
    /// clients may not read the wider values), narrowing is fine for responses.
    fn type_change(&mut self, rule: &Rule, pointer: &str, message: String, widened: bool, narrowed: bool) {
        let suffix = match (rule.direction, widened, narrowed) {
            (_, true, _) => "type-generalized",
            (Direction::Response, _, true) => "type-specialized",
            _ => "type-changed",
        };
        self.emit_schema(rule, suffix, pointer, message);
    }

    fn enumeration(&mut self, old: &Shape<'a>, new: &Shape<'a>, rule: &Rule, pointer: &str) {
        let subject = &rule.subject;
        match (&old.enumeration, &new.enumeration) {
            (None, None) => {}
            (None, Some(values)) => {
                let message = format!("{subject}: became an enum {}", Value::Array(values.clone()));
                self.emit_schema(rule, "became-enum", pointer, message);
            }
            (Some(values), None) => {
                let message = format!("{subject}: is no longer an enum (was {})", Value::Array(values.clone()));
                self.emit_schema(rule, "became-not-enum", pointer, message);
            }
            (Some(old_values), Some(new_values)) => {
                let (old_set, new_set) = (schema::enum_set(old_values), schema::enum_set(new_values));
                for removed in old_set.difference(&new_set) {
                    let message = format!("{subject}: removed the enum value {removed}");
                    self.emit_schema(rule, "enum-value-removed", pointer, message);
                }
                for added in new_set.difference(&old_set) {
                    let message = format!("{subject}: added the enum value {added}");
                    self.emit_schema(rule, "enum-value-added", pointer, message);
                }
            }
        }
    }

    fn constraints(&mut self, old: &Shape<'a>, new: &Shape<'a>, rule: &Rule) {
        let keys: BTreeSet<&str> = old.constraints.keys().chain(new.constraints.keys()).copied().collect();
        for key in keys {
            let pointer = &facet_pointer(old, new, &[key]);
            let (before, after) = (old.constraints.get(key), new.constraints.get(key));
            if before == after {
                continue;
            }
            let message = format!(
                "{}: {key} changed from {} to {}",
                rule.subject,
                before.map_or_else(|| "none".to_owned(), Value::to_string),
                after.map_or_else(|| "none".to_owned(), Value::to_string)
            );
            let suffix = match rules::bound(key) {
                Some((stem, _)) => {
                    let (b, a) = (before.and_then(Value::as_f64), after.and_then(Value::as_f64));
                    let change = match (b, a) {
                        (None, Some(_)) => "set",
                        (Some(_), None) => "unset",
                        (Some(b), Some(a)) => {
                            if a < b {
                                "decreased"
                            } else {
                                "increased"
                            }
                        }
                        (None, None) => "changed",
                    };
                    format!("{stem}-{change}")
                }
                None if key == "pattern" => match (before, after) {
                    (None, Some(_)) => "pattern-added".to_owned(),
                    (Some(_), None) => "pattern-removed".to_owned(),
                    _ => "pattern-changed".to_owned(),
                },
                None if key == "uniqueItems" => {
                    if after.is_some() { "unique-items-set" } else { "unique-items-unset" }.to_owned()
                }
                None => "multiple-of-changed".to_owned(),
            };
            self.emit_schema(rule, &suffix, pointer, message);
        }
    }

    fn properties(&mut self, old: &Shape<'a>, new: &Shape<'a>, direction: Direction, path: &str, ignored: bool) {
        let join = |name: &str| if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
        for (name, old_node) in &old.properties {
            let property = join(name);
            let old_required = old.required.contains(name);
            let old_shape = Shape::of(old_node);
            match new.property(name) {
                None => {
                    let id = match direction {
                        Direction::Request => "request-property-removed",
                        Direction::Response if old_shape.write_only => "response-optional-write-only-property-removed",
                        Direction::Response if old_required => "response-required-property-removed",
                        Direction::Response => "response-optional-property-removed",
                    };
                    let message = format!("removed the {} property `{property}`", direction_word(direction));
                    self.emit_capped(id, ignored, Side::Old, &old_node.pointer, message);
                }
                Some(new_node) => {
                    let new_shape = Shape::of(new_node);
                    let new_required = new.required.contains(name);
                    self.property_access(&old_shape, &new_shape, new_required, direction, &property, &new_node.pointer);
                    if old_required != new_required {
                        let id = match (direction, new_required) {
                            (Direction::Request, true) => "request-property-became-required",
                            (Direction::Request, false) => "request-property-became-optional",
                            (Direction::Response, false) if !new_shape.write_only => {
                                "response-property-became-optional"
                            }
                            (Direction::Response, false) => "response-write-only-property-became-optional",
                            (Direction::Response, true) => "response-property-became-required",
                        };
                        // A readOnly property is not required of requests.
                        let not_asked = direction == Direction::Request && new_shape.read_only;
                        let message = format!(
                            "the {} property `{property}` became {}",
                            direction_word(direction),
                            if new_required { "required" } else { "optional" }
                        );
                        self.emit_capped(id, ignored || not_asked, Side::New, &new_node.pointer, message);
                    }
                    let skip = match direction {
                        Direction::Request => new_shape.read_only && old_shape.read_only,
                        Direction::Response => new_shape.write_only && old_shape.write_only,
                    };
                    let place = Place::Property { path: property, ignored: ignored || skip };
                    self.schema(old_node, new_node, direction, &place);
                }
            }
        }
        for (name, new_node) in &new.properties {
            if old.property(name).is_some() {
                continue;
            }
            let property = join(name);
            let new_shape = Shape::of(new_node);
            let required = new.required.contains(name);
            let (id, what) = match direction {
                Direction::Request if required && !new_shape.read_only => {
                    ("new-required-request-property", "required request")
                }
                Direction::Request if required => ("new-optional-request-property", "readOnly request"),
                Direction::Request => ("new-optional-request-property", "optional request"),
                Direction::Response if required => ("response-required-property-added", "required response"),
                Direction::Response => ("response-optional-property-added", "optional response"),
            };
            let message = format!("added the {what} property `{property}`");
            self.emit_capped(id, ignored, Side::New, &new_node.pointer, message);
        }
    }

    fn property_access(
        &mut self,
        old: &Shape<'a>,
        new: &Shape<'a>,
        required: bool,
        direction: Direction,
        property: &str,
        pointer: &str,
    ) {
        let requiredness = if required { "required" } else { "optional" };
        for (facet, before, after) in
            [("read-only", old.read_only, new.read_only), ("write-only", old.write_only, new.write_only)]
        {
            if before == after {
                continue;
            }
            let change = if after { format!("became-{facet}") } else { format!("became-not-{facet}") };
            let id = format!("{}-{requiredness}-property-{change}", direction_word(direction));
            let message =
                format!("the {} property `{property}` {}", direction_word(direction), change.replace('-', " "));
            self.emit(&id, Side::New, pointer, message);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn additional(
        &mut self,
        old: &Shape<'a>,
        new: &Shape<'a>,
        rule: &Rule,
        pointer: &str,
        direction: Direction,
        path: &str,
        ignored: bool,
    ) {
        match (&old.additional, &new.additional) {
            (Additional::Any, Additional::Any) | (Additional::Forbidden, Additional::Forbidden) => {}
            (Additional::Schema(o), Additional::Schema(n)) => {
                let place = Place::Property { path: format!("{path}{{*}}"), ignored };
                self.schema(o, n, direction, &place);
            }
            (_, Additional::Forbidden) => {
                // Clients that follow the spec send no undeclared property; some may: WARN.
                let message = format!("{}: additional properties are no longer allowed", rule.subject);
                self.emit_schema(rule, "additional-properties-forbidden", pointer, message);
            }
            (Additional::Forbidden, _) | (Additional::Schema(_), Additional::Any) => {
                let message = format!("{}: additional properties of any type are allowed", rule.subject);
                self.emit_schema(rule, "additional-properties-allowed", pointer, message);
            }
            (Additional::Any, Additional::Schema(_)) => {
                let message = format!("{}: additional properties are restricted to a schema", rule.subject);
                self.emit_schema(rule, "additional-properties-restricted", pointer, message);
            }
        }
    }
}

/// The rule id prefix and level cap of a schema's place.
struct Rule {
    direction: Direction,
    prefix: &'static str,
    subject: String,
    ignored: bool,
}

impl Rule {
    fn new(direction: Direction, place: &Place) -> Self {
        let (prefix, subject, ignored) = match (direction, place) {
            (Direction::Request, Place::Body) => ("request-body", "the request body".to_owned(), false),
            (Direction::Response, Place::Body) => ("response-body", "the response body".to_owned(), false),
            (_, Place::Parameter(name)) => ("request-parameter", format!("the parameter `{name}`"), false),
            (Direction::Request, Place::Property { path, ignored }) => {
                ("request-property", format!("the request property `{path}`"), *ignored)
            }
            (Direction::Response, Place::Property { path, ignored }) => {
                ("response-property", format!("the response property `{path}`"), *ignored)
            }
        };
        Rule { direction, prefix, subject, ignored }
    }

    fn id(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Request => "request",
        Direction::Response => "response",
    }
}

/// Where a facet changed: the use site when either version writes one of `keywords` there
/// (next to a `$ref`), else the definition the use site refers to.
fn facet_pointer(old: &Shape<'_>, new: &Shape<'_>, keywords: &[&str]) -> String {
    let at_use_site = keywords.iter().any(|k| old.own_keywords.contains(*k) || new.own_keywords.contains(*k));
    if at_use_site { new.pointer.clone() } else { new.definition.clone() }
}

/// Whether every value of the `inner` types is a value of the `outer` types (no types = any).
fn types_include(outer: &BTreeSet<String>, inner: &BTreeSet<String>) -> bool {
    if outer.is_empty() {
        return true;
    }
    if inner.is_empty() {
        return false;
    }
    inner.iter().all(|t| outer.contains(t) || (t == "integer" && outer.contains("number")))
}

/// Whether the `to` format accepts every value of the `from` format.
fn format_widens(from: Option<&str>, to: Option<&str>) -> bool {
    match (from, to) {
        (_, None) => true,
        (Some(a), Some(b)) => {
            matches!((a, b), ("int8" | "int16", "int32" | "int64") | ("int32", "int64") | ("float", "double"))
        }
        (None, Some(_)) => false,
    }
}

fn describe_operation(operation: &Operation<'_>) -> String {
    match operation.operation_id() {
        Some(id) => format!("{} (`{id}`)", operation.label()),
        None => operation.label(),
    }
}

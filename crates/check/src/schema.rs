//! One canonical form for a JSON Schema, whichever dialect wrote it.
//!
//! The spec is OpenAPI 3.0 (`nullable: true`, `#/components/schemas/X`); utoipa writes OpenAPI 3.1
//! (`type: [T, "null"]`, `oneOf: [$ref, {type: null}]`); schemars 0.8 writes draft 7
//! (`#/definitions/X`, `anyOf: [$ref, {type: null}]`). [`Shape::of`] reads any of them into the
//! same [`Shape`]:
//!
//! - nullability: `nullable: true`, a `"null"` type entry, a `null` enum value and a
//!   `oneOf`/`anyOf` branch `{type: null}` / `{enum: [null]}` / `{const: null}` all set
//!   [`Shape::nullable`];
//! - references: `$ref` (with or without sibling keywords) and a single-element `allOf: [$ref]`
//!   are the same; the sibling keywords apply on top of the target; the referenced name is kept
//!   whatever the prefix (`#/components/schemas/`, `#/definitions/`, `#/$defs/`);
//! - `allOf` with several elements is merged; `oneOf`/`anyOf` with one non-null branch is that
//!   branch;
//! - `format: uintN` is `format: intN` plus `minimum: 0`; 3.0's boolean `exclusiveMinimum` /
//!   `exclusiveMaximum` become 3.1's numeric form; numbers compare by value (`0.0` is `0`);
//! - `additionalProperties` absent, `true` and `{}` all mean "any".
//!
//! Children (properties, items, alternatives) stay [`Node`]s, read on demand, so recursive
//! schemas are fine.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rainbond_codegen::spec::escape_token;
use serde_json::Value;

/// The constraint keywords compared between two schemas, in report order.
pub const CONSTRAINTS: &[&str] = &[
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// How many `$ref`/`allOf` levels one schema may nest before it is treated as a loop.
const MAX_DEPTH: usize = 64;

/// `{}`: any value.
static ANY_SCHEMA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Object(serde_json::Map::new()));

/// Keywords that document a schema without constraining its values.
const ANNOTATIONS: &[&str] = &["description", "title", "example", "examples", "deprecated", "externalDocs"];

/// The names a named schema stands for: itself, then, while it is only a reference to another
/// (`$ref: X` or `allOf: [$ref: X]`, with annotations beside), that other one. typify and
/// schemars use the last name of the chain wherever the first is referred to.
pub fn alias_chain(root: &Value, name: &str) -> Vec<String> {
    let mut chain = vec![name.to_owned()];
    while chain.len() < MAX_DEPTH {
        let current = chain.last().expect("never empty");
        let pointer = format!("/components/schemas/{}", escape_token(current));
        let Some(target) = root.pointer(&pointer).and_then(alias_target) else { break };
        if chain.contains(&target) {
            break;
        }
        chain.push(target);
    }
    chain
}

/// The schema name `schema` is an alias of, if it is only a reference with annotations.
fn alias_target(schema: &Value) -> Option<String> {
    let map = schema.as_object()?;
    let reference = match (map.get("$ref"), map.get("allOf").and_then(Value::as_array).map(Vec::as_slice)) {
        (Some(reference), None) => reference.as_str()?,
        (None, Some([single])) if single.as_object().is_some_and(|m| m.len() == 1) => single.get("$ref")?.as_str()?,
        _ => return None,
    };
    let annotations_only =
        map.keys().all(|key| matches!(key.as_str(), "$ref" | "allOf") || ANNOTATIONS.contains(&key.as_str()));
    annotations_only.then(|| reference_name(reference).map(str::to_owned)).flatten()
}

/// Whether `node` takes any value: `{}`, annotations only, or a reference to such a schema.
fn is_any_schema(node: &Node<'_>) -> bool {
    let target = node.resolved();
    target.value.as_object().is_some_and(|map| map.keys().all(|key| ANNOTATIONS.contains(&key.as_str())))
}

/// A node of a JSON document (a spec, a utoipa document, a schemars root schema), with the root
/// it lives in so that local `$ref`s resolve.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The whole document.
    pub root: &'a Value,
    /// This node.
    pub value: &'a Value,
    /// JSON pointer of this node in `root`.
    pub pointer: String,
}

impl<'a> Node<'a> {
    /// The node at `pointer` in `root`.
    pub fn at(root: &'a Value, pointer: &str) -> Option<Self> {
        Some(Node { root, value: root.pointer(pointer)?, pointer: pointer.to_owned() })
    }

    /// The member `key` of this node.
    pub fn child(&self, key: &str) -> Option<Node<'a>> {
        let value = self.value.get(key)?;
        Some(Node { root: self.root, value, pointer: format!("{}/{}", self.pointer, escape_token(key)) })
    }

    /// The element `index` of this node (an array).
    pub fn element(&self, index: usize) -> Option<Node<'a>> {
        let value = self.value.get(index)?;
        Some(Node { root: self.root, value, pointer: format!("{}/{index}", self.pointer) })
    }

    /// The members of this node (an object), in document order.
    pub fn members(&self) -> Vec<(String, Node<'a>)> {
        self.value
            .as_object()
            .map(|map| map.keys().filter_map(|key| Some((key.clone(), self.child(key)?))).collect())
            .unwrap_or_default()
    }

    /// The elements of this node (an array).
    pub fn elements(&self) -> Vec<Node<'a>> {
        let count = self.value.as_array().map_or(0, Vec::len);
        (0..count).filter_map(|index| self.element(index)).collect()
    }

    /// The target of a local reference (`#/...`) in this node's document.
    pub fn resolve_reference(&self, reference: &str) -> Option<Node<'a>> {
        let pointer = reference.strip_prefix('#')?;
        Node::at(self.root, pointer)
    }

    /// Follows `$ref` (non-schema objects: parameters, responses, request bodies) to the
    /// object it names; the node itself when it is not a reference.
    pub fn resolved(&self) -> Node<'a> {
        let mut current = self.clone();
        for _ in 0..MAX_DEPTH {
            match current.value.get("$ref").and_then(Value::as_str).and_then(|r| current.resolve_reference(r)) {
                Some(target) => current = target,
                None => break,
            }
        }
        current
    }

    /// A string member.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.value.get(key).and_then(Value::as_str)
    }

    /// A boolean member (`None` when absent).
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.value.get(key).and_then(Value::as_bool)
    }
}

/// The name a schema reference points at, whatever the dialect's prefix.
pub fn reference_name(reference: &str) -> Option<&str> {
    ["#/components/schemas/", "#/definitions/", "#/$defs/"]
        .iter()
        .find_map(|prefix| reference.strip_prefix(prefix))
        .filter(|name| !name.contains('/'))
}

/// What `additionalProperties` allows.
#[derive(Debug, Clone, Default)]
pub enum Additional<'a> {
    /// Anything (absent, `true` or `{}`).
    #[default]
    Any,
    /// Nothing (`false`).
    Forbidden,
    /// Values of this schema.
    Schema(Node<'a>),
}

/// A schema in canonical form. See the module documentation for what is normalised.
#[derive(Debug, Clone)]
pub struct Shape<'a> {
    /// Where the schema is used (the property, the items, the media type's schema).
    pub pointer: String,
    /// Where it is defined: the target of the first `$ref` followed, else [`Shape::pointer`].
    pub definition: String,
    /// The keywords written at the use site itself (next to a `$ref`, or the whole schema).
    pub own_keywords: BTreeSet<String>,
    /// The named schema this one refers to, when it is a reference.
    pub reference: Option<String>,
    /// JSON types other than `null`; empty means any.
    pub types: BTreeSet<String>,
    /// Whether `null` is allowed.
    pub nullable: bool,
    /// The `format`, with unsigned formats folded into signed ones.
    pub format: Option<String>,
    /// The allowed values other than `null`.
    pub enumeration: Option<Vec<Value>>,
    /// `readOnly`.
    pub read_only: bool,
    /// `writeOnly`.
    pub write_only: bool,
    /// String, number, array and object constraints, by keyword.
    pub constraints: BTreeMap<&'static str, Value>,
    /// `description`, trimmed.
    pub description: Option<String>,
    /// `title`, trimmed.
    pub title: Option<String>,
    /// The properties, in document order.
    pub properties: Vec<(String, Node<'a>)>,
    /// The required property names.
    pub required: BTreeSet<String>,
    /// The array items.
    pub items: Option<Node<'a>>,
    /// What other properties may hold.
    pub additional: Additional<'a>,
    /// `oneOf`/`anyOf` branches left after dropping the `null` ones, when more than one is left.
    pub alternatives: Vec<Node<'a>>,
}

#[derive(Default)]
struct Flags {
    unsigned: bool,
    exclusive_minimum: bool,
    exclusive_maximum: bool,
}

impl<'a> Shape<'a> {
    /// Reads `node` into canonical form.
    pub fn of(node: &Node<'a>) -> Shape<'a> {
        let mut shape = Shape {
            pointer: node.pointer.clone(),
            definition: node.pointer.clone(),
            own_keywords: node.value.as_object().map(|map| map.keys().cloned().collect()).unwrap_or_default(),
            reference: None,
            types: BTreeSet::new(),
            nullable: false,
            format: None,
            enumeration: None,
            read_only: false,
            write_only: false,
            constraints: BTreeMap::new(),
            description: None,
            title: None,
            properties: Vec::new(),
            required: BTreeSet::new(),
            items: None,
            additional: Additional::Any,
            alternatives: Vec::new(),
        };
        let mut flags = Flags::default();
        shape.apply(node, true, 0, &mut flags);
        shape.finish(&flags);
        shape.declare_required_members(node);
        shape
    }

    /// A required name that no property declares is a member of any value (typify and the
    /// server's `serde_json::Value` field say so too).
    fn declare_required_members(&mut self, node: &Node<'a>) {
        if self.properties.is_empty() && !self.types.contains("object") {
            return;
        }
        let undeclared: Vec<String> =
            self.required.iter().filter(|name| self.property(name).is_none()).cloned().collect();
        for name in undeclared {
            let pointer = self.property_pointer(&name);
            self.properties.push((name, Node { root: node.root, value: &ANY_SCHEMA, pointer }));
        }
    }

    /// The pointer under which a property `name` is (or would be) declared.
    pub fn property_pointer(&self, name: &str) -> String {
        match self.properties.first() {
            Some((first, node)) => {
                let holder = node.pointer.strip_suffix(&format!("/{}", escape_token(first))).unwrap_or(&node.pointer);
                format!("{holder}/{}", escape_token(name))
            }
            None => format!("{}/properties/{}", self.definition, escape_token(name)),
        }
    }

    /// Where the spec says one of `keywords`: the use site when it writes one of them itself,
    /// else the definition it refers to.
    pub fn pointer_for(&self, keywords: &[&str]) -> &str {
        if keywords.iter().any(|k| self.own_keywords.contains(*k)) { &self.pointer } else { &self.definition }
    }

    /// The property `name`, if declared.
    pub fn property(&self, name: &str) -> Option<&Node<'a>> {
        self.properties.iter().find(|(key, _)| key == name).map(|(_, node)| node)
    }

    fn apply(&mut self, node: &Node<'a>, top: bool, depth: usize, flags: &mut Flags) {
        if depth > MAX_DEPTH {
            return;
        }
        let Some(map) = node.value.as_object() else { return };

        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            if top && self.reference.is_none() {
                self.reference = reference_name(reference).map(str::to_owned);
            }
            if let Some(target) = node.resolve_reference(reference) {
                if self.definition == self.pointer {
                    self.definition = target.pointer.clone();
                }
                self.apply(&target, false, depth + 1, flags);
            }
        }

        if let Some(all_of) = node.child("allOf") {
            let elements = all_of.elements();
            let single = elements.len() == 1;
            for element in &elements {
                self.apply(element, top && single, depth + 1, flags);
            }
        }

        for keyword in ["oneOf", "anyOf"] {
            let Some(branches) = node.child(keyword) else { continue };
            let (nulls, others): (Vec<_>, Vec<_>) = branches.elements().into_iter().partition(is_null_schema);
            if !nulls.is_empty() {
                self.nullable = true;
            }
            match others.as_slice() {
                [single] => self.apply(single, top, depth + 1, flags),
                [] => {}
                _ => self.alternatives = others,
            }
        }

        self.apply_keywords(node, map, flags);
    }

    fn apply_keywords(&mut self, node: &Node<'a>, map: &serde_json::Map<String, Value>, flags: &mut Flags) {
        match map.get("type") {
            Some(Value::String(name)) => self.merge_types([name.as_str()]),
            Some(Value::Array(names)) => self.merge_types(names.iter().filter_map(Value::as_str)),
            _ => {}
        }
        if map.get("nullable").and_then(Value::as_bool) == Some(true) {
            self.nullable = true;
        }
        if let Some(format) = map.get("format").and_then(Value::as_str) {
            match format.strip_prefix('u').filter(|rest| rest.starts_with("int")) {
                Some(signed) => {
                    flags.unsigned = true;
                    self.format = (signed != "int").then(|| signed.to_owned());
                }
                None => self.format = Some(format.to_owned()),
            }
        }
        if let Some(values) = map.get("enum").and_then(Value::as_array) {
            if values.iter().any(Value::is_null) {
                self.nullable = true;
            }
            self.enumeration = Some(values.iter().filter(|v| !v.is_null()).cloned().collect());
        }
        if let Some(value) = map.get("const") {
            if value.is_null() {
                self.nullable = true;
            } else {
                self.enumeration = Some(vec![value.clone()]);
            }
        }
        if let Some(read_only) = map.get("readOnly").and_then(Value::as_bool) {
            self.read_only = read_only;
        }
        if let Some(write_only) = map.get("writeOnly").and_then(Value::as_bool) {
            self.write_only = write_only;
        }
        for &keyword in CONSTRAINTS {
            match (keyword, map.get(keyword)) {
                (_, None) => {}
                ("exclusiveMinimum", Some(Value::Bool(set))) => flags.exclusive_minimum = *set,
                ("exclusiveMaximum", Some(Value::Bool(set))) => flags.exclusive_maximum = *set,
                ("uniqueItems", Some(Value::Bool(set))) => {
                    if *set {
                        self.constraints.insert(keyword, Value::Bool(true));
                    } else {
                        self.constraints.remove(keyword);
                    }
                }
                (_, Some(value)) => {
                    self.constraints.insert(keyword, canonical_number(value));
                }
            }
        }
        if let Some(text) = map.get("description").and_then(Value::as_str) {
            self.description = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        }
        if let Some(text) = map.get("title").and_then(Value::as_str) {
            self.title = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        }
        if let Some(properties) = node.child("properties") {
            for (name, property) in properties.members() {
                match self.properties.iter_mut().find(|(key, _)| *key == name) {
                    Some(slot) => slot.1 = property,
                    None => self.properties.push((name, property)),
                }
            }
        }
        if let Some(required) = map.get("required").and_then(Value::as_array) {
            self.required.extend(required.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(items) = node.child("items").filter(|items| items.value.is_object()) {
            self.items = Some(items);
        }
        if let Some(additional) = node.child("additionalProperties") {
            self.additional = match additional.value {
                Value::Bool(false) => Additional::Forbidden,
                Value::Object(_) if !is_any_schema(&additional) => Additional::Schema(additional),
                _ => Additional::Any,
            };
        }
    }

    fn merge_types<'n>(&mut self, names: impl IntoIterator<Item = &'n str>) {
        let mut types = BTreeSet::new();
        for name in names {
            if name == "null" {
                self.nullable = true;
            } else {
                types.insert(name.to_owned());
            }
        }
        if types.is_empty() {
            return;
        }
        self.types = if self.types.is_empty() { types } else { self.types.intersection(&types).cloned().collect() };
    }

    fn finish(&mut self, flags: &Flags) {
        if flags.unsigned
            && !self.constraints.contains_key("minimum")
            && !self.constraints.contains_key("exclusiveMinimum")
        {
            self.constraints.insert("minimum", Value::from(0));
        }
        if flags.exclusive_minimum
            && let Some(minimum) = self.constraints.remove("minimum")
        {
            self.constraints.insert("exclusiveMinimum", minimum);
        }
        if flags.exclusive_maximum
            && let Some(maximum) = self.constraints.remove("maximum")
        {
            self.constraints.insert("exclusiveMaximum", maximum);
        }
    }

    /// The types as words: `string`, `integer or string`, `any`.
    pub fn types_text(&self) -> String {
        if self.types.is_empty() {
            return "any type".to_owned();
        }
        self.types.iter().cloned().collect::<Vec<_>>().join(" or ")
    }

    /// A one-line summary: `string (int32), nullable`.
    pub fn summary(&self) -> String {
        let mut text = self.reference.clone().unwrap_or_else(|| self.types_text());
        if let Some(format) = &self.format {
            let _ = write!(text, " ({format})");
        }
        if self.nullable {
            text.push_str(", nullable");
        }
        text
    }
}

/// Whether a `oneOf`/`anyOf` branch only allows `null`.
fn is_null_schema(node: &Node<'_>) -> bool {
    let Some(map) = node.value.as_object() else { return false };
    let type_is_null = match map.get("type") {
        Some(Value::String(name)) => name == "null",
        Some(Value::Array(names)) => names.iter().all(|name| name == "null"),
        _ => false,
    };
    let enum_is_null = map
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| !values.is_empty() && values.iter().all(Value::is_null));
    let const_is_null = map.get("const").is_some_and(Value::is_null);
    type_is_null || enum_is_null || const_is_null
}

/// Numbers by value: `64.0` is `64`; other values unchanged.
pub fn canonical_number(value: &Value) -> Value {
    match value.as_f64() {
        Some(number) if value.is_number() => {
            if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
                #[allow(clippy::cast_possible_truncation)]
                Value::from(number as i64)
            } else {
                Value::from(number)
            }
        }
        _ => value.clone(),
    }
}

/// A JSON value as compact text (`64`, `"^a"`, `["a","b"]`).
pub fn value_text(value: &Value) -> String {
    value.to_string()
}

/// The values of an enum, sorted by their JSON text, so that order does not matter.
pub fn enum_set(values: &[Value]) -> BTreeSet<String> {
    values.iter().map(value_text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape_of(root: &Value, pointer: &str) -> Shape<'static> {
        let root: &'static Value = Box::leak(Box::new(root.clone()));
        Shape::of(&Node::at(root, pointer).unwrap())
    }

    #[test]
    fn the_three_nullable_encodings_are_one() {
        let doc = json!({
            "a": {"type": "string", "nullable": true},
            "b": {"type": ["string", "null"]},
            "c": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "d": {"oneOf": [{"type": "string"}, {"enum": [null]}]},
            "e": {"type": "string", "enum": ["x", null]},
        });
        for key in ["a", "b", "c", "d", "e"] {
            let shape = shape_of(&doc, &format!("/{key}"));
            assert!(shape.nullable, "{key}");
            assert_eq!(shape.types_text(), "string", "{key}");
        }
    }

    #[test]
    fn references_through_any_prefix_and_wrapper_keep_the_name_and_siblings() {
        let doc = json!({
            "components": {"schemas": {"X": {"type": "object", "description": "target"}}},
            "definitions": {"X": {"type": "object"}},
            "plain": {"$ref": "#/components/schemas/X"},
            "wrapped": {"allOf": [{"$ref": "#/components/schemas/X"}], "description": "here"},
            "draft7": {"anyOf": [{"$ref": "#/definitions/X"}, {"type": "null"}]},
            "sibling": {"$ref": "#/components/schemas/X", "description": "sibling", "nullable": true},
        });
        let plain = shape_of(&doc, "/plain");
        assert_eq!(plain.reference.as_deref(), Some("X"));
        assert_eq!(plain.description.as_deref(), Some("target"));
        let wrapped = shape_of(&doc, "/wrapped");
        assert_eq!(wrapped.reference.as_deref(), Some("X"));
        assert_eq!(wrapped.description.as_deref(), Some("here"));
        let draft7 = shape_of(&doc, "/draft7");
        assert_eq!(draft7.reference.as_deref(), Some("X"));
        assert!(draft7.nullable);
        let sibling = shape_of(&doc, "/sibling");
        assert_eq!(sibling.description.as_deref(), Some("sibling"));
        assert!(sibling.nullable);
        assert_eq!(sibling.types_text(), "object");
    }

    #[test]
    fn a_component_that_only_refers_to_another_stands_for_it() {
        let doc = json!({"components": {"schemas": {
            "Period": {"description": "a period", "allOf": [{"$ref": "#/components/schemas/Span"}]},
            "Window": {"$ref": "#/components/schemas/Period"},
            "Span": {"type": "object"},
            "Narrowed": {"allOf": [{"$ref": "#/components/schemas/Span"}], "required": ["secs"]},
        }}});
        assert_eq!(alias_chain(&doc, "Window"), ["Window", "Period", "Span"]);
        assert_eq!(alias_chain(&doc, "Narrowed"), ["Narrowed"], "a constraint beside the reference makes a new schema");
    }

    #[test]
    fn a_required_name_without_a_property_is_a_member_of_any_value() {
        let doc = json!({"s": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}});
        let shape = shape_of(&doc, "/s");
        let b = shape.property("b").expect("declared by `required`");
        assert_eq!(b.pointer, "/s/properties/b");
        assert_eq!(Shape::of(b).types_text(), "any type");
        assert!(shape.required.contains("b"));
    }

    #[test]
    fn map_values_of_a_schema_that_takes_anything_are_any() {
        let doc = json!({
            "components": {"schemas": {"Anything": {"description": "free-form"}}},
            "m": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Anything"}},
            "n": {"type": "object", "additionalProperties": {"type": "string"}},
        });
        assert!(matches!(shape_of(&doc, "/m").additional, Additional::Any));
        assert!(matches!(shape_of(&doc, "/n").additional, Additional::Schema(_)));
    }

    #[test]
    fn unsigned_formats_and_boolean_exclusive_bounds_fold() {
        let doc = json!({
            "u": {"type": "integer", "format": "uint32", "minimum": 0.0},
            "i": {"type": "integer", "format": "int32", "minimum": 0},
            "x30": {"type": "integer", "minimum": 5, "exclusiveMinimum": true},
            "x31": {"type": "integer", "exclusiveMinimum": 5.0},
        });
        let (u, i) = (shape_of(&doc, "/u"), shape_of(&doc, "/i"));
        assert_eq!(u.format, i.format);
        assert_eq!(u.constraints, i.constraints);
        assert_eq!(shape_of(&doc, "/x30").constraints, shape_of(&doc, "/x31").constraints);
    }

    #[test]
    fn all_of_merges_properties_and_required() {
        let doc = json!({
            "s": {"allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"type": "integer"}}, "required": ["b"]}
            ]}
        });
        let shape = shape_of(&doc, "/s");
        assert_eq!(shape.properties.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(shape.required.len(), 2);
        assert_eq!(shape.property("b").unwrap().pointer, "/s/allOf/1/properties/b");
    }
}

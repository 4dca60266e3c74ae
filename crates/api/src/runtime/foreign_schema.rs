//! The router document's schema of a model whose type is typify's (a "foreign" model, see the
//! generator's `server/foreign.rs`): read from the type's schemars schema, so the document says
//! what the code says.
//!
//! schemars writes draft 7 with the referenced types under `definitions`. Here a reference to a
//! component of the spec stays a reference (`#/components/schemas/<spec name>`), a reference to
//! one of typify's inner types (an inline schema of the spec) is replaced by that type's schema,
//! and the JSON is read into utoipa's model, which needs a `type` key (`null` when any type goes).

use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// Where schemars puts the types a schema refers to.
const DEFINITIONS: &str = "#/definitions/";
/// Where the document keeps components.
const COMPONENTS: &str = "#/components/schemas/";
/// How deep inner types may nest (a recursive inner type is left as a reference past it).
const MAX_INLINE_DEPTH: usize = 32;
/// The keywords that tell utoipa what kind of schema a JSON object is.
const KIND_KEYWORDS: &[&str] = &["type", "$ref", "oneOf", "anyOf", "allOf", "items"];

/// `T`'s schema for the document. `components` maps each component's name in schemars to its
/// name in the spec.
pub fn foreign_schema<T: schemars::JsonSchema>(components: &[(&str, &str)]) -> RefOr<Schema> {
    let root = schemars::r#gen::SchemaGenerator::default().into_root_schema_for::<T>();
    let definitions: Map<String, Value> = root
        .definitions
        .iter()
        .map(|(name, schema)| (name.clone(), serde_json::to_value(schema).expect("a JSON Schema serializes")))
        .collect();
    let mut schema = serde_json::to_value(&root.schema).expect("a JSON Schema serializes");
    if let Value::Object(map) = &mut schema {
        map.remove("$schema");
        map.remove("title");
    }
    let schema = document_form(schema, &definitions, components, 0);
    serde_json::from_value(schema).expect("a draft 7 schema reads as an OpenAPI 3.1 schema")
}

/// `schema` with references resolved as the module says and a `type` wherever utoipa needs one.
fn document_form(schema: Value, definitions: &Map<String, Value>, components: &[(&str, &str)], depth: usize) -> Value {
    let map = match schema {
        Value::Bool(true) => Map::new(),
        Value::Object(map) => map,
        other => return other,
    };
    if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix(DEFINITIONS)) {
        if let Some((_, spec_name)) = components.iter().find(|(schemars_name, _)| *schemars_name == name) {
            return serde_json::json!({ "$ref": format!("{COMPONENTS}{spec_name}") });
        }
        if depth < MAX_INLINE_DEPTH
            && let Some(inner) = definitions.get(name)
        {
            return document_form(inner.clone(), definitions, components, depth + 1);
        }
    }
    let each = |schema: Value| document_form(schema, definitions, components, depth);
    let mut map: Map<String, Value> = map
        .into_iter()
        .map(|(key, value)| {
            let value = match (holds(&key), value) {
                (Holds::Schemas, Value::Array(list)) => Value::Array(list.into_iter().map(each).collect()),
                (Holds::NamedSchemas, Value::Object(named)) => {
                    Value::Object(named.into_iter().map(|(name, schema)| (name, each(schema))).collect())
                }
                (Holds::Schema, schema) => each(schema),
                (_, other) => other,
            };
            (key, value)
        })
        .collect();
    if !KIND_KEYWORDS.iter().any(|keyword| map.contains_key(*keyword)) {
        map.insert("type".to_owned(), Value::Null);
    }
    Value::Object(map)
}

/// What a keyword's value is.
enum Holds {
    /// One schema (`items` may also be a list, which draft 7 allows for tuples).
    Schema,
    /// A list of schemas.
    Schemas,
    /// Schemas by name.
    NamedSchemas,
    /// Anything else (`enum`, `default`, `required`, ...): left as it is.
    Value,
}

fn holds(keyword: &str) -> Holds {
    match keyword {
        "items" | "additionalProperties" | "not" | "contains" | "propertyNames" | "additionalItems" => Holds::Schema,
        "oneOf" | "anyOf" | "allOf" => Holds::Schemas,
        "properties" | "patternProperties" | "definitions" => Holds::NamedSchemas,
        _ => Holds::Value,
    }
}

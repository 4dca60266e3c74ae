//! Objects sent as arrays. serde builds a struct from a JSON array of its field values as well as
//! from an object, so `{"items": [["a", 1]]}` would pass for `{"items": [{"name": "a", "n": 1}]}`.
//! The JSON Schema of the body type (schemars, the same one `rainbond-check` compares with the
//! spec) says where objects belong; [`array_in_place_of_object`] finds an array there.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// The body type's JSON Schema, generated once per type.
fn schema_of<T: schemars::JsonSchema + 'static>() -> Arc<Value> {
    static SCHEMAS: OnceLock<Mutex<HashMap<TypeId, Arc<Value>>>> = OnceLock::new();
    let mut schemas = SCHEMAS.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    schemas
        .entry(TypeId::of::<T>())
        .or_insert_with(|| Arc::new(serde_json::to_value(schemars::schema_for!(T)).expect("a JSON Schema serializes")))
        .clone()
}

/// The path (as serde_path_to_error writes it: `.` for the whole body, `services[0]`) of the first
/// array where `T`'s schema wants an object, if any.
pub fn array_in_place_of_object<T: schemars::JsonSchema + 'static>(body: &Value) -> Option<String> {
    let root = schema_of::<T>();
    let walker = Walker { definitions: root.get("definitions").and_then(Value::as_object) };
    walker.find(body, &root, &mut Vec::new()).map(|path| if path.is_empty() { ".".to_owned() } else { path })
}

struct Walker<'a> {
    definitions: Option<&'a serde_json::Map<String, Value>>,
}

/// One step into a value: a property name or an array index.
enum Step<'a> {
    Property(&'a str),
    Index(usize),
}

impl Walker<'_> {
    fn find<'v>(&self, value: &'v Value, schema: &Value, path: &mut Vec<Step<'v>>) -> Option<String> {
        let schema = self.resolve(schema);
        if let Some(found) = self.find_in_subschemas(value, schema, path) {
            return Some(found);
        }
        match value {
            Value::Array(_) if wants_object(schema) => Some(render(path)),
            Value::Array(items) => {
                let item_schema = schema.get("items")?;
                items
                    .iter()
                    .enumerate()
                    .find_map(|(index, item)| self.descend(item, item_schema, path, Step::Index(index)))
            }
            Value::Object(fields) => fields.iter().find_map(|(name, field)| {
                let field_schema = schema
                    .get("properties")
                    .and_then(|properties| properties.get(name))
                    .or_else(|| schema.get("additionalProperties").filter(|extra| extra.is_object()))?;
                self.descend(field, field_schema, path, Step::Property(name))
            }),
            _ => None,
        }
    }

    fn descend<'v>(
        &self,
        value: &'v Value,
        schema: &Value,
        path: &mut Vec<Step<'v>>,
        step: Step<'v>,
    ) -> Option<String> {
        path.push(step);
        let found = self.find(value, schema, path);
        path.pop();
        found
    }

    /// `allOf`: every part applies. `anyOf`/`oneOf` (schemars' form of `Option` and of
    /// unions): an array in place of an object counts only when no alternative takes the value.
    fn find_in_subschemas<'v>(&self, value: &'v Value, schema: &Value, path: &mut Vec<Step<'v>>) -> Option<String> {
        let parts = |key: &str| schema.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if let Some(found) = parts("allOf").iter().find_map(|part| self.find(value, part, path)) {
            return Some(found);
        }
        for key in ["anyOf", "oneOf"] {
            let candidates: Vec<&Value> = parts(key)
                .iter()
                .map(|alternative| self.resolve(alternative))
                .filter(|alternative| {
                    admits_type(alternative, value) || (value.is_array() && wants_object(alternative))
                })
                .collect();
            let mut found = candidates.iter().map(|alternative| self.find(value, alternative, path));
            if let Some(Some(first)) = found.next()
                && found.all(|other| other.is_some())
            {
                return Some(first);
            }
        }
        None
    }

    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        let target = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix("#/definitions/"))
            .and_then(|name| self.definitions?.get(name));
        target.map_or(schema, |target| self.resolve(target))
    }
}

/// Whether the schema's `type` (if it has one) allows the value's JSON type.
fn admits_type(schema: &Value, value: &Value) -> bool {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allows = |allowed: &Value| allowed == kind || (kind == "integer" && allowed == "number");
    match schema.get("type") {
        Some(Value::String(_)) => allows(&schema["type"]),
        Some(Value::Array(kinds)) => kinds.iter().any(allows),
        _ => true,
    }
}

/// Whether the schema's `type` allows an object and not an array.
fn wants_object(schema: &Value) -> bool {
    let allows = |wanted: &str| match schema.get("type") {
        Some(Value::String(kind)) => kind == wanted,
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == wanted),
        _ => false,
    };
    allows("object") && !allows("array")
}

fn render(path: &[Step<'_>]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Property(name) if text.is_empty() => text.push_str(name),
            Step::Property(name) => {
                text.push('.');
                text.push_str(name);
            }
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        count: Option<u32>,
    }

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Body {
        items: Vec<Item>,
        single: Option<Item>,
        tags: Vec<String>,
        by_name: std::collections::BTreeMap<String, Item>,
    }

    fn check(body: Value) -> Option<String> {
        array_in_place_of_object::<Body>(&body)
    }

    #[test]
    fn objects_where_objects_belong_pass() {
        let body = json!({"items": [{"name": "a"}], "single": null, "tags": ["x"], "by_name": {"a": {"name": "a"}}});
        assert_eq!(check(body), None);
        assert_eq!(check(json!({"single": {"name": "b", "count": 2}})), None);
    }

    #[test]
    fn an_array_in_place_of_an_object_is_found_with_its_path() {
        assert_eq!(check(json!(["a", 1])), Some(".".to_owned()));
        assert_eq!(check(json!({"items": [{"name": "a"}, ["b", 1]]})), Some("items[1]".to_owned()));
        assert_eq!(check(json!({"single": ["b", null]})), Some("single".to_owned()));
        assert_eq!(check(json!({"by_name": {"k": ["b", 1]}})), Some("by_name.k".to_owned()));
    }
}

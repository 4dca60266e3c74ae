//! The router's OpenAPI document with an annotation utoipa misplaces put back where the
//! attributes wrote it: a field written inline (`#[schema(inline)]`, the server's inline models)
//! with a description, title, default, `readOnly` or `writeOnly` comes out as `allOf: [schema,
//! {type: object, <annotations>}]`, which no string or array satisfies; the annotations go onto
//! the schema.
//!
//! (utoipa 6 also writes a `Vec` field's `readOnly` on its items, because its `Array` has no
//! such field: that one cannot be moved, and `rainbond-check` reads it as unverifiable.)

use serde_json::{Map, Value};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr, schema::Schema};

/// The keywords utoipa's wrapper carries.
const WRAPPER_ANNOTATIONS: &[&str] = &["description", "title", "default", "readOnly", "writeOnly"];

/// `document` with the annotations described in the module documentation in place, in every
/// component schema and every schema of a request or response body.
pub fn annotations_in_place(mut document: OpenApi) -> OpenApi {
    if let Some(components) = &mut document.components {
        components.schemas.values_mut().for_each(tidy);
    }
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        operations.into_iter().flatten().for_each(tidy_operation);
    }
    document
}

fn tidy_operation(operation: &mut Operation) {
    let bodies = operation.request_body.iter_mut().flat_map(|body| match body {
        RefOr::T(body) => Some(body.content.values_mut()),
        RefOr::Ref(_) => None,
    });
    let answers = operation.responses.responses.values_mut().flat_map(|response| match response {
        RefOr::T(response) => Some(response.content.values_mut()),
        RefOr::Ref(_) => None,
    });
    let contents = bodies.flatten().chain(answers.flatten()).filter_map(|content| match content {
        RefOr::T(content) => content.schema.as_mut(),
        RefOr::Ref(_) => None,
    });
    contents.for_each(tidy);
}

/// One schema, through JSON: left as it is when nothing changes, or when utoipa could not read
/// the result back (it reads fewer schemas than it writes).
fn tidy(schema: &mut RefOr<Schema>) {
    let Ok(mut value) = serde_json::to_value(&*schema) else { return };
    let before = value.clone();
    walk(&mut value);
    if value != before
        && let Ok(tidied) = serde_json::from_value(value)
    {
        *schema = tidied;
    }
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            unwrap_annotation_all_of(map);
            map.values_mut().for_each(walk);
        }
        Value::Array(list) => list.iter_mut().for_each(walk),
        _ => {}
    }
}

/// `allOf: [schema, {type: object, <annotations>}]` → `schema` with the annotations.
fn unwrap_annotation_all_of(map: &mut Map<String, Value>) {
    let Some(Value::Array(parts)) = map.get("allOf") else { return };
    // A reference keeps its wrapper: utoipa's `Ref` has no place for `readOnly` and the like.
    let [Value::Object(schema), Value::Object(wrapper)] = parts.as_slice() else { return };
    if schema.contains_key("$ref") {
        return;
    }
    let is_wrapper = wrapper.get("type") == Some(&Value::from("object"))
        && wrapper.keys().all(|key| key == "type" || WRAPPER_ANNOTATIONS.contains(&key.as_str()));
    if !is_wrapper {
        return;
    }
    let Some(Value::Array(mut parts)) = map.remove("allOf") else { return };
    let Value::Object(wrapper) = parts.pop().expect("two parts") else { return };
    let Value::Object(schema) = parts.pop().expect("two parts") else { return };
    for (key, value) in schema.into_iter().chain(wrapper.into_iter().filter(|(key, _)| key != "type")) {
        map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tidied(mut value: Value) -> Value {
        walk(&mut value);
        value
    }

    #[test]
    fn an_inline_schemas_annotation_wrapper_is_folded_into_it() {
        let wrapped = json!({"allOf": [
            {"type": "string", "enum": ["a", "b"], "title": "Kind"},
            {"type": "object", "description": "the kind", "readOnly": true},
        ]});
        assert_eq!(
            tidied(wrapped),
            json!({"type": "string", "enum": ["a", "b"], "title": "Kind", "description": "the kind", "readOnly": true})
        );
        // A real intersection is left alone, and so is a reference's wrapper.
        let both = json!({"allOf": [{"type": "object"}, {"type": "object", "required": ["x"]}]});
        assert_eq!(tidied(both.clone()), both);
        let reference = json!({"allOf": [{"$ref": "#/components/schemas/A"}, {"type": "object", "readOnly": true}]});
        assert_eq!(tidied(reference.clone()), reference);
    }
}

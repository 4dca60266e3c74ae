//! serde and schemars helpers that make the generated models say exactly what the spec says
//! about required, nullable and readOnly properties (see the table in `rainbond-codegen`'s
//! `emit_models`).

use std::marker::PhantomData;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::Schema;
use serde::{Deserialize, Deserializer};

/// An optional, non-nullable property: absent is `None`, `null` is an error.
pub fn non_null<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// An optional, nullable property: absent is `None`, `null` is `Some(None)`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// `Some(inner)` as `inner` (so `Some(None)` as `null`); `None` is skipped by the field's
    /// `skip_serializing_if`.
    pub fn serialize<T: Serialize, S: Serializer>(value: &Option<Option<T>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    /// A present value (`null` included) as `Some`; an absent one is the field's `default`.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// A readOnly property: whatever a request sends is ignored.
pub fn ignore_input<'de, T: Default, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| T::default())
}

/// Schema of a readOnly property (schemars cannot say readOnly otherwise).
pub struct ReadOnly<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for ReadOnly<T> {
    fn schema_name() -> String {
        T::schema_name()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<T>().into_object();
        schema.metadata().read_only = true;
        Schema::Object(schema)
    }
}

/// Schema of a required, nullable property (schemars treats every `Option` as optional).
pub struct RequiredNullable<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for RequiredNullable<T> {
    fn schema_name() -> String {
        format!("Nullable_{}", T::schema_name())
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Option<T>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
    struct Pet {
        #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
        nickname: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
        #[schemars(with = "Option<String>")]
        owner: Option<Option<String>>,
        #[serde(default, deserialize_with = "ignore_input", skip_serializing_if = "Option::is_none")]
        #[schemars(with = "ReadOnly<i64>")]
        id: Option<i64>,
        #[serde(deserialize_with = "Option::deserialize")]
        #[schemars(with = "RequiredNullable<String>")]
        keeper: Option<String>,
    }

    fn pet(json: &str) -> Result<Pet, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn an_optional_non_nullable_property_may_be_absent_but_not_null() {
        assert_eq!(pet(r#"{"keeper":null}"#).unwrap().nickname, None);
        assert_eq!(pet(r#"{"keeper":null,"nickname":"Rex"}"#).unwrap().nickname.as_deref(), Some("Rex"));
        assert!(pet(r#"{"keeper":null,"nickname":null}"#).is_err());
    }

    #[test]
    fn an_optional_nullable_property_tells_absent_from_null_both_ways() {
        let absent = pet(r#"{"keeper":null}"#).unwrap();
        let null = pet(r#"{"keeper":null,"owner":null}"#).unwrap();
        assert_eq!((absent.owner.clone(), null.owner.clone()), (None, Some(None)));
        assert_eq!(serde_json::to_string(&absent).unwrap(), r#"{"keeper":null}"#);
        assert_eq!(serde_json::to_string(&null).unwrap(), r#"{"owner":null,"keeper":null}"#);
    }

    #[test]
    fn a_read_only_property_ignores_what_a_request_sends() {
        assert_eq!(pet(r#"{"keeper":null,"id":42}"#).unwrap().id, None);
        assert_eq!(pet(r#"{"keeper":null,"id":{"any":"thing"}}"#).unwrap().id, None);
    }

    #[test]
    fn a_required_nullable_property_must_be_present() {
        assert!(pet("{}").is_err());
        assert_eq!(pet(r#"{"keeper":"Alex"}"#).unwrap().keeper.as_deref(), Some("Alex"));
    }

    #[test]
    fn the_schemas_say_read_only_and_required_nullable() {
        let schema = serde_json::to_value(schemars::schema_for!(Pet)).unwrap();
        assert_eq!(schema["properties"]["id"]["readOnly"], true, "{schema:#}");
        assert_eq!(schema["properties"]["keeper"]["type"], serde_json::json!(["string", "null"]), "{schema:#}");
        assert_eq!(schema["required"], serde_json::json!(["keeper"]), "{schema:#}");
    }
}

//! Every rule `diff` applies on the wire: its id, its level and what it means, in one place (as
//! oasdiff lists its checks). The differ names a rule by its id; its level comes from here.
//!
//! Two kinds of rule: [`OPERATION_RULES`], whose id is fixed, and [`SCHEMA_RULES`] plus the bound
//! rules ([`BOUNDS`] × [`BOUND_CHANGES`]), which apply to a schema wherever it is used and whose
//! id is the place's prefix ([`REQUEST_PREFIXES`], [`RESPONSE_PREFIXES`]) and the rule's suffix:
//! `request-property-enum-value-removed`. Changes inside a property that the direction ignores
//! (readOnly in a request, writeOnly in a response; also the requiredness of a readOnly request
//! property) and changes to a security scheme no operation uses are at most INFO.

use super::Level::{self, Err, Info, Warn};

/// A rule with a fixed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireRule {
    /// The id (oasdiff's where it has the rule).
    pub id: &'static str,
    /// How much a change under this rule breaks.
    pub level: Level,
    /// What the rule reports.
    pub meaning: &'static str,
}

const fn rule(id: &'static str, level: Level, meaning: &'static str) -> WireRule {
    WireRule { id, level, meaning }
}

/// The rules with a fixed id: operations, parameters, bodies, responses, properties, security,
/// components.
pub const OPERATION_RULES: &[WireRule] = &[
    rule("api-path-removed-without-deprecation", Err, "an operation and its whole path removed, not deprecated first"),
    rule("api-path-removed-with-deprecation", Info, "a deprecated operation and its whole path removed"),
    rule("api-removed-without-deprecation", Err, "an operation removed (its path kept), not deprecated first"),
    rule("api-removed-with-deprecation", Info, "a deprecated operation removed (its path kept)"),
    rule("endpoint-added", Info, "an operation added"),
    rule("endpoint-deprecated", Info, "an operation deprecated"),
    rule("endpoint-reactivated", Info, "an operation no longer deprecated"),
    rule("api-operation-id-removed", Info, "an operationId removed or changed"),
    rule("api-operation-id-added", Info, "an operationId added"),
    rule("api-tag-removed", Info, "a tag removed from an operation"),
    rule("api-tag-added", Info, "a tag added to an operation"),
    rule("request-parameter-removed", Warn, "a parameter removed (clients may still send it)"),
    rule("new-required-request-parameter", Err, "a required parameter added"),
    rule("new-optional-request-parameter", Info, "an optional parameter added"),
    rule("request-path-parameter-renamed", Info, "a path parameter renamed (path parameters are positional)"),
    rule("request-parameter-became-required", Err, "a parameter became required"),
    rule("request-parameter-became-optional", Info, "a parameter became optional"),
    rule("request-body-removed", Err, "the request body removed"),
    rule("request-body-added-required", Err, "a required request body added"),
    rule("request-body-added-optional", Info, "an optional request body added"),
    rule("request-body-became-required", Err, "the request body became required"),
    rule("request-body-became-optional", Info, "the request body became optional"),
    rule("request-body-media-type-removed", Err, "a media type of the request body removed"),
    rule("request-body-media-type-added", Info, "a media type of the request body added"),
    rule("response-success-status-removed", Err, "a success (2xx) response status removed"),
    rule("response-non-success-status-removed", Info, "a non-success response status removed"),
    rule("response-success-status-added", Info, "a success (2xx) response status added"),
    rule("response-non-success-status-added", Info, "a non-success response status added"),
    rule("response-media-type-removed", Err, "a media type of a response removed"),
    rule("response-media-type-added", Info, "a media type of a response added"),
    rule("request-property-removed", Warn, "a request property removed (clients may still send it)"),
    rule("new-required-request-property", Err, "a required request property added"),
    rule("new-optional-request-property", Info, "an optional (or readOnly) request property added"),
    rule("request-property-became-required", Err, "a request property became required"),
    rule("request-property-became-optional", Info, "a request property became optional"),
    rule("response-required-property-removed", Err, "a required response property removed"),
    rule("response-optional-property-removed", Warn, "an optional response property removed"),
    rule("response-optional-write-only-property-removed", Info, "an optional writeOnly response property removed"),
    rule("response-property-became-optional", Err, "a response property became optional"),
    rule("response-write-only-property-became-optional", Info, "a writeOnly response property became optional"),
    rule("response-property-became-required", Info, "a response property became required"),
    rule("response-required-property-added", Info, "a required response property added"),
    rule("response-optional-property-added", Info, "an optional response property added"),
    rule("api-security-removed", Info, "an operation no longer requires authentication"),
    rule("api-security-added", Err, "an operation requires authentication where it required none"),
    rule("api-security-alternative-removed", Err, "one of an operation's ways to authenticate removed"),
    rule("api-security-alternative-added", Info, "a way to authenticate added to an operation"),
    rule("api-security-component-removed", Info, "a security scheme removed"),
    rule("api-security-component-added", Info, "a security scheme added"),
    rule("api-security-component-type-changed", Info, "a security scheme's type changed"),
    rule("api-security-component-location-changed", Err, "an API key moved (another header, query or cookie name)"),
    rule("api-security-component-scheme-changed", Err, "a security scheme's HTTP scheme changed"),
    rule("api-schema-removed", Info, "a schema removed from components"),
    rule("api-schema-added", Info, "a schema added to components"),
];

/// The readOnly and writeOnly moves of a property, all INFO (neither changes what a client may
/// send or read): `{request|response}-{required|optional}-property-MOVE`.
pub const ACCESS_MOVES: [&str; 4] =
    ["became-read-only", "became-not-read-only", "became-write-only", "became-not-write-only"];

/// The ids of [`ACCESS_MOVES`].
fn access_move_ids() -> impl Iterator<Item = String> {
    ["request", "response"].into_iter().flat_map(|direction| {
        ["required", "optional"].into_iter().flat_map(move |requiredness| {
            ACCESS_MOVES.iter().map(move |change| format!("{direction}-{requiredness}-property-{change}"))
        })
    })
}

/// The id prefixes of a schema used in a request: the body, a parameter, a property.
pub const REQUEST_PREFIXES: [&str; 3] = ["request-body", "request-parameter", "request-property"];
/// The id prefixes of a schema used in a response: the body, a property.
pub const RESPONSE_PREFIXES: [&str; 2] = ["response-body", "response-property"];

/// A rule on a schema, wherever it is used; `None`: the rule never applies in that direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaRule {
    /// The id's suffix, after the place's prefix.
    pub suffix: &'static str,
    /// The level where the schema is read from requests.
    pub request: Option<Level>,
    /// The level where the schema is written in responses.
    pub response: Option<Level>,
    /// What the rule reports.
    pub meaning: &'static str,
}

const fn schema_rule(
    suffix: &'static str,
    request: Option<Level>,
    response: Option<Level>,
    meaning: &'static str,
) -> SchemaRule {
    SchemaRule { suffix, request, response, meaning }
}

/// The rules on a schema, besides bounds.
pub const SCHEMA_RULES: &[SchemaRule] = &[
    schema_rule("type-generalized", Some(Info), Some(Err), "the type or format accepts more values"),
    schema_rule("type-specialized", None, Some(Info), "the type or format accepts fewer values"),
    schema_rule("type-changed", Some(Err), Some(Err), "the type or format changed otherwise"),
    schema_rule("became-nullable", Some(Info), Some(Err), "null became allowed"),
    schema_rule("became-not-nullable", Some(Err), Some(Info), "null is no longer allowed"),
    schema_rule("became-enum", Some(Err), Some(Info), "the values became an enum"),
    schema_rule("became-not-enum", Some(Info), Some(Warn), "the values are no longer an enum"),
    schema_rule("enum-value-removed", Some(Err), Some(Info), "an enum value removed"),
    schema_rule("enum-value-added", Some(Info), Some(Warn), "an enum value added"),
    schema_rule("pattern-added", Some(Err), Some(Info), "a pattern added"),
    schema_rule("pattern-removed", Some(Info), Some(Info), "the pattern removed"),
    schema_rule("pattern-changed", Some(Warn), Some(Info), "the pattern changed"),
    schema_rule("unique-items-set", Some(Warn), Some(Info), "uniqueItems set"),
    schema_rule("unique-items-unset", Some(Info), Some(Warn), "uniqueItems unset"),
    schema_rule("multiple-of-changed", Some(Warn), Some(Warn), "multipleOf changed"),
    schema_rule("additional-properties-forbidden", Some(Warn), Some(Info), "additional properties no longer allowed"),
    schema_rule("additional-properties-allowed", Some(Info), Some(Warn), "additional properties of any type allowed"),
    schema_rule(
        "additional-properties-restricted",
        Some(Warn),
        Some(Info),
        "additional properties restricted to a schema",
    ),
    schema_rule("alternatives-added", Some(Info), Some(Err), "oneOf/anyOf alternatives added"),
    schema_rule("alternatives-removed", Some(Err), Some(Info), "oneOf/anyOf alternatives removed"),
];

/// The bound keywords: their id stem, and whether they bound from above.
pub const BOUNDS: [(&str, &str, bool); 10] = [
    ("maxLength", "max-length", true),
    ("minLength", "min-length", false),
    ("maximum", "max", true),
    ("minimum", "min", false),
    ("exclusiveMaximum", "exclusive-max", true),
    ("exclusiveMinimum", "exclusive-min", false),
    ("maxItems", "max-items", true),
    ("minItems", "min-items", false),
    ("maxProperties", "max-properties", true),
    ("minProperties", "min-properties", false),
];

/// How a bound changed (the id is `PREFIX-STEM-CHANGE`): the levels in requests and responses of
/// an upper bound, then of a lower bound. A narrower bound breaks requests, a wider one breaks
/// responses; a new bound in a request is WARN (clients may not send such values); `changed`: a
/// bound that is not a number on either side.
pub const BOUND_CHANGES: [(&str, [Level; 2], [Level; 2]); 5] = [
    ("set", [Warn, Info], [Warn, Info]),
    ("unset", [Info, Err], [Info, Err]),
    ("decreased", [Err, Info], [Info, Err]),
    ("increased", [Info, Err], [Err, Info]),
    ("changed", [Info, Err], [Info, Err]),
];

/// The level of the rule with a fixed id.
///
/// # Panics
/// When no rule has the id: the differ only names rules of this table.
pub fn level(id: &str) -> Level {
    match OPERATION_RULES.iter().find(|rule| rule.id == id) {
        Some(rule) => rule.level,
        None if access_move_ids().any(|move_id| move_id == id) => Info,
        None => panic!("no wire rule `{id}`"),
    }
}

/// The level of the schema rule `suffix` (a [`SCHEMA_RULES`] suffix or `STEM-CHANGE` of a bound)
/// in requests or responses.
///
/// # Panics
/// When no rule has the suffix in that direction.
pub fn schema_level(suffix: &str, request: bool) -> Level {
    schema_rule_level(suffix, request)
        .unwrap_or_else(|| panic!("no wire rule `{suffix}` for {}", if request { "requests" } else { "responses" }))
}

fn schema_rule_level(suffix: &str, request: bool) -> Option<Level> {
    match SCHEMA_RULES.iter().find(|rule| rule.suffix == suffix) {
        Some(rule) => {
            if request {
                rule.request
            } else {
                rule.response
            }
        }
        None => bound_level(suffix, request),
    }
}

fn bound_level(suffix: &str, request: bool) -> Option<Level> {
    let direction = usize::from(!request);
    BOUNDS.iter().find_map(|(_, stem, upper)| {
        let change = suffix.strip_prefix(stem)?.strip_prefix('-')?;
        let (_, upper_levels, lower_levels) = BOUND_CHANGES.iter().find(|(name, ..)| *name == change)?;
        Some(if *upper { upper_levels[direction] } else { lower_levels[direction] })
    })
}

/// The id stem of a bound keyword and whether it is an upper bound.
pub fn bound(keyword: &str) -> Option<(&'static str, bool)> {
    BOUNDS.iter().find(|(name, ..)| *name == keyword).map(|(_, stem, upper)| (*stem, *upper))
}

/// Every rule id with its level, expanded over the access moves, the places of schema rules and
/// the bounds.
pub fn all() -> Vec<(String, Level)> {
    let mut rules: Vec<(String, Level)> = OPERATION_RULES.iter().map(|rule| (rule.id.to_owned(), rule.level)).collect();
    rules.extend(access_move_ids().map(|id| (id, Info)));
    let mut suffixes: Vec<String> = SCHEMA_RULES.iter().map(|rule| rule.suffix.to_owned()).collect();
    for (_, stem, _) in BOUNDS {
        suffixes.extend(BOUND_CHANGES.iter().map(|(change, ..)| format!("{stem}-{change}")));
    }
    for (prefixes, request) in [(&REQUEST_PREFIXES[..], true), (&RESPONSE_PREFIXES[..], false)] {
        for suffix in &suffixes {
            if let Some(level) = schema_rule_level(suffix, request) {
                rules.extend(prefixes.iter().map(|prefix| (format!("{prefix}-{suffix}"), level)));
            }
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_unique() {
        let rules = all();
        let mut seen = std::collections::BTreeSet::new();
        let repeated: Vec<&str> = rules.iter().map(|(id, _)| id.as_str()).filter(|id| !seen.insert(*id)).collect();
        assert!(repeated.is_empty(), "{repeated:?}");
    }

    #[test]
    fn bounds_narrowing_requests_break_them() {
        assert_eq!(schema_level("max-length-decreased", true), Err);
        assert_eq!(schema_level("max-length-decreased", false), Info);
        assert_eq!(schema_level("min-items-increased", true), Err);
        assert_eq!(schema_level("min-items-decreased", false), Err);
        assert_eq!(schema_level("max-set", true), Warn);
        assert_eq!(schema_level("exclusive-min-unset", false), Err);
    }
}

//! What a request names, looked up in one statement: the source team, region and app of the URL
//! and, for a copy, the target team, region and app of the body. The API's checks (membership,
//! initialised regions, ownership) and their order are the service's; the store only finds.
//!
//! One query text serves both backends. Their dialects differ only in the name of the function
//! that builds a JSON object and in how a JSON value keeps its type through a subquery (SQLite
//! needs `json(…)` around it), so [`scope_query!`] takes both as arguments. The statement
//! returns one JSON text, decoded by [`Scope::from_json`].

use serde::Deserialize;

use super::StoreError;
use crate::model::{App, Region, Team, User, bool_or_integer};

/// A team, region and app named by a request.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The team: its id or name for the source, its name among the caller's teams for the target.
    pub team: &'a str,
    /// The region's name.
    pub region: &'a str,
    /// The app's id; `None` when the request's id is not a number (no app has it).
    pub app_id: Option<i32>,
}

/// What to look up for a request of `caller`.
#[derive(Debug, Clone, Copy)]
pub struct ScopeNames<'a> {
    /// The authenticated caller; teams and regions are looked up in their enterprise.
    pub caller: &'a User,
    /// The URL's team (id or name), region and app.
    pub source: Place<'a>,
    /// The copy's target team (name), region and app; `None` for a request without one.
    pub target: Option<Place<'a>>,
}

/// What the store holds for one [`Place`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Side {
    /// The team, if found (the target's only among the caller's teams).
    pub team: Option<Team>,
    /// Whether the caller is a member of the team (false without a team).
    #[serde(deserialize_with = "bool_or_integer")]
    pub member: bool,
    /// The region of the caller's enterprise with that name.
    pub region: Option<Region>,
    /// Whether the team is initialised in the region named (false without a team).
    #[serde(deserialize_with = "bool_or_integer")]
    pub team_in_region: bool,
    /// The app with that id, whichever team it belongs to.
    pub app: Option<App>,
}

/// What the store holds for a [`ScopeNames`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Scope {
    /// For the URL's names.
    pub source: Side,
    /// For the body's names (all empty without a target).
    pub target: Side,
}

impl Scope {
    /// Decodes the text [`scope_query!`] returns.
    pub(super) fn from_json(text: &str) -> Result<Scope, StoreError> {
        serde_json::from_str(text).map_err(|error| StoreError {
            context: "decoding the request's teams, regions and apps",
            source: sqlx::Error::Decode(Box::new(error)),
        })
    }
}

/// The parameters of [`scope_query!`], in order: `$1` enterprise id, `$2` source team id or
/// name, `$3` user id, `$4` target team name, `$5` source region, `$6` source app id, `$7`
/// target region, `$8` target app id. Each first appears in that order, so SQLite numbers its
/// `$N` parameters as PostgreSQL does.
impl<'a> ScopeNames<'a> {
    /// The text parameters `$1`, `$2`, `$4`, `$5`, `$7` and the numbers `$3`, `$6`, `$8`.
    pub(super) fn parameters(&self) -> ScopeParameters<'a> {
        let target = self.target.as_ref();
        ScopeParameters {
            enterprise_id: &self.caller.enterprise_id,
            source_team: self.source.team,
            user_id: self.caller.user_id,
            target_team: target.map(|place| place.team),
            source_region: self.source.region,
            source_app_id: self.source.app_id,
            target_region: target.map(|place| place.region),
            target_app_id: target.and_then(|place| place.app_id),
        }
    }
}

/// The bound values of [`scope_query!`], `$1` to `$8` in field order.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScopeParameters<'a> {
    pub enterprise_id: &'a str,
    pub source_team: &'a str,
    pub user_id: i32,
    pub target_team: Option<&'a str>,
    pub source_region: &'a str,
    pub source_app_id: Option<i32>,
    pub target_region: Option<&'a str>,
    pub target_app_id: Option<i32>,
}

/// The lookup of a [`ScopeNames`] in one statement, in a dialect: `$object` builds a JSON object
/// from key, value pairs, and `$json` keeps a subquery's JSON a JSON value (empty where it does
/// anyway).
macro_rules! scope_query {
    ($object:literal, $json:literal) => {
        concat!(
            "WITH source_team AS (SELECT tenant_id, tenant_name, tenant_alias, enterprise_id FROM tenants \
             WHERE enterprise_id = $1 AND (tenant_id = $2 OR tenant_name = $2) ORDER BY tenant_id = $2 DESC LIMIT 1), \
             target_team AS (SELECT t.tenant_id, t.tenant_name, t.tenant_alias, t.enterprise_id FROM tenants t \
             JOIN tenant_members m ON m.tenant_id = t.tenant_id WHERE m.user_id = $3 AND t.tenant_name = $4) \
             SELECT CAST(", $object, "('source', ", $object, "(",
            "'team', ", $json, "((SELECT ", $object, "('tenant_id', tenant_id, 'tenant_name', tenant_name, \
             'tenant_alias', tenant_alias, 'enterprise_id', enterprise_id) FROM source_team)), \
             'member', EXISTS (SELECT 1 FROM source_team s JOIN tenant_members m ON m.tenant_id = s.tenant_id \
             WHERE m.user_id = $3), ",
            "'region', ", $json, "((SELECT ", $object, "('region_name', region_name, 'region_alias', region_alias, \
             'enterprise_id', enterprise_id, 'status', status) FROM regions WHERE enterprise_id = $1 AND region_name = $5)), \
             'team_in_region', EXISTS (SELECT 1 FROM source_team s JOIN tenant_regions r ON r.tenant_id = s.tenant_id \
             WHERE r.region_name = $5 AND r.is_init = 1), ",
            "'app', ", $json, "((SELECT ", $object, "('app_id', app_id, 'tenant_id', tenant_id, 'region_name', region_name, \
             'app_name', app_name, 'governance_mode', governance_mode) FROM apps WHERE app_id = $6))), ",
            "'target', ", $object, "(",
            "'team', ", $json, "((SELECT ", $object, "('tenant_id', tenant_id, 'tenant_name', tenant_name, \
             'tenant_alias', tenant_alias, 'enterprise_id', enterprise_id) FROM target_team)), \
             'member', EXISTS (SELECT 1 FROM target_team), ",
            "'region', ", $json, "((SELECT ", $object, "('region_name', region_name, 'region_alias', region_alias, \
             'enterprise_id', enterprise_id, 'status', status) FROM regions WHERE enterprise_id = $1 AND region_name = $7)), \
             'team_in_region', EXISTS (SELECT 1 FROM target_team s JOIN tenant_regions r ON r.tenant_id = s.tenant_id \
             WHERE r.region_name = $7 AND r.is_init = 1), ",
            "'app', ", $json, "((SELECT ", $object, "('app_id', app_id, 'tenant_id', tenant_id, 'region_name', region_name, \
             'app_name', app_name, 'governance_mode', governance_mode) FROM apps WHERE app_id = $8)))) AS TEXT)"
        )
    };
}

/// [`scope_query!`] in SQLite's dialect.
pub(super) const SQLITE_QUERY: &str = scope_query!("json_object", "json");
/// [`scope_query!`] in PostgreSQL's dialect.
pub(super) const POSTGRES_QUERY: &str = scope_query!("json_build_object", "");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parameter_first_appears_in_its_number_order() {
        for query in [SQLITE_QUERY, POSTGRES_QUERY] {
            let mut firsts: Vec<(usize, u32)> =
                (1..=8).map(|n| (query.find(&format!("${n}")).unwrap_or_else(|| panic!("${n} is used")), n)).collect();
            firsts.sort();
            let order: Vec<u32> = firsts.into_iter().map(|(_, n)| n).collect();
            assert_eq!(order, (1..=8).collect::<Vec<_>>(), "{query}");
        }
    }

    #[test]
    fn an_empty_side_decodes_from_either_dialects_booleans() {
        let empty = r#"{"team":null,"member":0,"region":null,"team_in_region":false,"app":null}"#;
        let scope = Scope::from_json(&format!(r#"{{"source":{empty},"target":{empty}}}"#)).unwrap();
        assert_eq!(scope, Scope::default());
    }
}

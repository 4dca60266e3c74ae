//! The copy and the fixture load, written once for both backends. A backend supplies
//! [`Statements`], the few statements whose SQL differs between SQLite and PostgreSQL, run on one
//! connection inside the transaction the backend opened; everything else (the order of the steps,
//! the storage-independent copy rules of [`crate::copy`], which rows are written to which table)
//! is here.
//!
//! Rows are written as one text per table, bound as one parameter (a JSON array on SQLite, the
//! text of an array of the table's row type on PostgreSQL, see [`RowEncoding`]): a statement's
//! parameter count does not grow with the rows (PostgreSQL refuses more than 65,535 parameters,
//! which a copy at the documented limit of 1,000 components with 9 variables each would need
//! 72,000 of), and the statement text depends on the tables only, so each connection prepares it
//! once.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use super::pg_records::RecordLayouts;
use super::{AttachedRows, CopyError, CopyOutcome, CopyRequest, KeyedCopy, LoadError, StoreError, StoredAnswer};
use crate::copy::{self, Identity, NameCandidates, SelectionError, TakenNames, Target, UuidRandomness};
use crate::fixture::Dataset;
use crate::idempotency;
use crate::model::{Component, ComponentGraph, Port};

/// A table rows are inserted into, and the columns that are written: each column takes the
/// field of the same name of the rows.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static str,
    /// Binary columns, sent as `\x`-prefixed hex strings (PostgreSQL's `bytea` text form).
    pub bytes: &'static [&'static str],
    /// The rows name a volume of their component (`service_id`, `volume_name`) instead of its id:
    /// each is linked to the volume, which must be in [`VOLUMES`] (written before, or in the same
    /// batch).
    pub links_volume: bool,
    /// What an error says was being done.
    pub what: &'static str,
}

impl Table {
    const fn new(name: &'static str, columns: &'static str, what: &'static str) -> Table {
        Table { name, columns, bytes: &[], links_volume: false, what }
    }

    /// The column names, unquoted.
    pub fn column_names(&self) -> impl Iterator<Item = &'static str> {
        self.columns.split(',').map(|column| column.trim().trim_matches('"'))
    }
}

static COMPONENTS: Table = Table::new("tenant_services", component_columns!(), "inserting components");
/// The owners of port service names: one row per team, name and component (see
/// [`Writes::add_port_names`]).
static PORT_NAMES: Table =
    Table::new("port_service_names", "tenant_id, k8s_service_name, service_id", "recording the owners of port names");
static PORTS: Table = Table::new(
    "service_ports",
    "service_id, tenant_id, container_port, protocol, port_alias, is_inner_service, is_outer_service, k8s_service_name",
    "inserting ports",
);
static ENVS: Table = Table::new(
    "service_envs",
    "service_id, tenant_id, container_port, name, attr_name, attr_value, is_change, scope",
    "inserting environment variables",
);
pub(crate) static VOLUMES: Table = Table::new(
    "service_volumes",
    "service_id, volume_name, volume_path, volume_type, volume_capacity, access_mode, host_path",
    "inserting volumes",
);
static CONFIG_FILES: Table = Table {
    name: "service_config_files",
    columns: "service_id, volume_id, volume_name, file_content",
    bytes: &[],
    links_volume: true,
    what: "inserting configuration files",
};
static LABELS: Table =
    Table::new("service_labels", "service_id, tenant_id, region, label_name, label_value", "inserting labels");
static DEPENDENCIES: Table =
    Table::new("service_dependencies", "service_id, dep_service_id, tenant_id, dep_order", "inserting dependencies");
static SOURCE_AUTHS: Table =
    Table::new("service_source_auth", "service_id, user_name, password", "inserting build-source credentials");
static USERS: Table = Table::new("users", "user_id, nick_name, enterprise_id", "inserting users");
static ACCESS_KEYS: Table = Table {
    name: "user_access_keys",
    columns: "user_id, key_sha256, expire_time",
    bytes: &["key_sha256"],
    links_volume: false,
    what: "inserting access keys",
};
static REGIONS: Table = Table::new("regions", "region_name, region_alias, enterprise_id, status", "inserting regions");
static TEAMS: Table = Table::new("tenants", "tenant_id, tenant_name, tenant_alias, enterprise_id", "inserting teams");
static MEMBERS: Table = Table::new("tenant_members", "tenant_id, user_id", "inserting team members");
static TEAM_REGIONS: Table =
    Table::new("tenant_regions", "tenant_id, region_name, is_init", "inserting teams' regions");
static APPS: Table = Table::new("apps", "app_id, tenant_id, region_name, app_name, governance_mode", "inserting apps");
static PROBES: Table = Table::new("service_probes", "service_id, mode, scheme, port, path", "inserting probes");

/// Every table a copy or a fixture writes.
pub(crate) static ALL_TABLES: [&Table; 17] = [
    &COMPONENTS,
    &PORTS,
    &ENVS,
    &VOLUMES,
    &CONFIG_FILES,
    &LABELS,
    &DEPENDENCIES,
    &SOURCE_AUTHS,
    &USERS,
    &ACCESS_KEYS,
    &REGIONS,
    &TEAMS,
    &MEMBERS,
    &TEAM_REGIONS,
    &APPS,
    &PROBES,
    &PORT_NAMES,
];

/// How a backend's write statement takes a table's rows, as one text.
#[derive(Debug, Clone)]
pub(crate) enum RowEncoding {
    /// A JSON array of objects, each field named as its column.
    Json,
    /// The text of an array of the table's row type, in the database's column order.
    Records(Arc<RecordLayouts>),
}

impl RowEncoding {
    /// `rows` of `table` in this encoding.
    fn encode<T: Serialize>(&self, table: &'static Table, rows: &[T]) -> Result<String, StoreError> {
        match self {
            RowEncoding::Json => serde_json::to_string(rows)
                .map_err(|error| StoreError { context: table.what, source: sqlx::Error::Encode(error.into()) }),
            RowEncoding::Records(layouts) => layouts.encode(table, rows),
        }
    }
}

/// The rows for one table, as one text in the backend's [`RowEncoding`].
#[derive(Debug)]
pub(crate) struct TableRows {
    pub table: &'static Table,
    pub rows: String,
}

/// Everything a copy or a fixture writes: the tables that get rows, in the order they are
/// written (a row's table comes after the tables its foreign keys name).
#[derive(Debug)]
pub(crate) struct Writes {
    pub tables: Vec<TableRows>,
    encoding: RowEncoding,
    /// How many rows link to a volume.
    linked: usize,
}

impl Writes {
    fn new(encoding: RowEncoding) -> Writes {
        Writes { tables: Vec::new(), encoding, linked: 0 }
    }

    /// Adds `rows` for `table` (nothing when there are none).
    fn add<T: Serialize>(&mut self, table: &'static Table, rows: &[T]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let text = self.encoding.encode(table, rows)?;
        if table.links_volume {
            self.linked += rows.len();
        }
        self.tables.push(TableRows { table, rows: text });
        Ok(())
    }

    /// Components and everything attached to them. Components go first, so that dependencies
    /// between them satisfy the foreign keys, and volumes before the files that link to them.
    fn add_graphs(&mut self, graphs: &[ComponentGraph]) -> Result<(), StoreError> {
        fn all<'a, T>(graphs: &'a [ComponentGraph], rows: impl Fn(&'a ComponentGraph) -> &'a [T]) -> Vec<&'a T> {
            graphs.iter().flat_map(rows).collect()
        }
        let components: Vec<&Component> = graphs.iter().map(|g| &g.component).collect();
        self.add(&COMPONENTS, &components)?;
        let ports = all(graphs, |g| &g.ports);
        self.add_port_names(&ports)?;
        self.add(&PORTS, &ports)?;
        self.add(&ENVS, &all(graphs, |g| &g.envs))?;
        self.add(&VOLUMES, &all(graphs, |g| &g.volumes))?;
        self.add(&CONFIG_FILES, &all(graphs, |g| &g.config_files))?;
        self.add(&LABELS, &all(graphs, |g| &g.labels))?;
        self.add(&DEPENDENCIES, &all(graphs, |g| &g.dependencies))?;
        let auths: Vec<_> = graphs.iter().filter_map(|g| g.source_auth.as_ref()).collect();
        self.add(&SOURCE_AUTHS, &auths)
    }

    /// The owner rows of the port service names of `ports`, each once: a port's foreign key names
    /// the row of its team, its name and its component. A copy's names are new to their team (the
    /// plan gives its ports no name another component owns); a fixture that gives one name to two
    /// components of a team is refused by the owners' key.
    fn add_port_names(&mut self, ports: &[&Port]) -> Result<(), StoreError> {
        #[derive(Serialize)]
        struct PortName<'a> {
            tenant_id: &'a str,
            k8s_service_name: &'a str,
            service_id: &'a str,
        }
        let mut seen = HashSet::new();
        let owners: Vec<PortName> = ports
            .iter()
            .map(|port| PortName {
                tenant_id: &port.tenant_id,
                k8s_service_name: &port.k8s_service_name,
                service_id: &port.service_id,
            })
            .filter(|owner| seen.insert((owner.tenant_id, owner.k8s_service_name, owner.service_id)))
            .collect();
        self.add(&PORT_NAMES, &owners)
    }

    /// Every row of a fixture.
    fn of_dataset(encoding: RowEncoding, data: &Dataset) -> Result<Writes, StoreError> {
        #[derive(Serialize)]
        struct AccessKey {
            user_id: i32,
            key_sha256: String,
            expire_time: Option<i64>,
        }
        #[derive(Serialize)]
        struct Member<'a> {
            tenant_id: &'a str,
            user_id: i32,
        }
        #[derive(Serialize)]
        struct TeamRegion<'a> {
            tenant_id: &'a str,
            region_name: &'a str,
            is_init: i32,
        }
        let mut writes = Writes::new(encoding);
        writes.add(&USERS, &data.users)?;
        let keys: Vec<_> = data
            .access_keys
            .iter()
            .map(|k| AccessKey { user_id: k.user_id, key_sha256: bytea_hex(&k.key_sha256), expire_time: k.expire_time })
            .collect();
        writes.add(&ACCESS_KEYS, &keys)?;
        writes.add(&REGIONS, &data.regions)?;
        writes.add(&TEAMS, &data.teams)?;
        let members: Vec<_> = data.members.iter().map(|(t, u)| Member { tenant_id: t, user_id: *u }).collect();
        writes.add(&MEMBERS, &members)?;
        let team_regions: Vec<_> =
            data.team_regions.iter().map(|(t, r)| TeamRegion { tenant_id: t, region_name: r, is_init: 1 }).collect();
        writes.add(&TEAM_REGIONS, &team_regions)?;
        writes.add(&APPS, &data.apps)?;
        writes.add_graphs(&data.components)?;
        writes.add(&PROBES, &data.probes)?;
        Ok(writes)
    }
}

/// Writes `writes` with the backend's [`Statements::write`], and checks that every row that names
/// a volume found it.
async fn write<S: Statements>(db: &mut S, writes: Writes) -> Result<(), StoreError> {
    let linked = db.write(&writes.tables).await?;
    if linked != writes.linked as u64 {
        return Err(StoreError {
            context: "linking a configuration file to its volume",
            source: sqlx::Error::RowNotFound,
        });
    }
    Ok(())
}

/// The source app's components, oldest first (`$1`: the app id). This SQL and the two below are
/// the same in both dialects (SQLite also takes `$n` parameters).
pub(crate) const SOURCE_COMPONENTS: &str = concat!(
    "SELECT ",
    component_columns!(),
    " FROM tenant_services WHERE app_id = $1 ORDER BY create_time, service_id"
);
/// Whether the fixture named `$1` was loaded (a count), and how many users, teams, regions, apps
/// and components the database holds.
pub(crate) const FIXTURE_STATE: &str = "SELECT (SELECT count(*) FROM applied_fixtures WHERE name = $1), \
    (SELECT count(*) FROM users) + (SELECT count(*) FROM tenants) + (SELECT count(*) FROM regions) \
    + (SELECT count(*) FROM apps) + (SELECT count(*) FROM tenant_services)";
/// Records a loaded fixture: name, digest, when.
pub(crate) const RECORD_FIXTURE: &str = "INSERT INTO applied_fixtures (name, sha256, applied_at) VALUES ($1, $2, $3)";

/// The unexpired answer remembered for a user's idempotency key (`$1`: user, `$2`: key, `$3`:
/// now): fingerprint, status, body.
pub(crate) const STORED_ANSWER: &str = "SELECT fingerprint, status, body FROM idempotency_keys \
    WHERE user_id = $1 AND idempotency_key = $2 AND expires_at > $3";
/// Remembers an answer with a user's key (user, key, fingerprint, status, body, expiry), replacing
/// the expired answer of the key if there is one (an unexpired one was found by [`STORED_ANSWER`]
/// in the same transaction, under the key's lock).
pub(crate) const REMEMBER_ANSWER: &str = "INSERT INTO idempotency_keys \
    (user_id, idempotency_key, fingerprint, status, body, expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
    ON CONFLICT (user_id, idempotency_key) DO UPDATE SET fingerprint = excluded.fingerprint, \
    status = excluded.status, body = excluded.body, expires_at = excluded.expires_at";

/// The names a copy looks up where it goes, all in one statement: its new aliases across the
/// store, its component-name candidates in the target app, its port-name candidates in the target
/// team.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    pub aliases: Vec<String>,
    pub app_id: i32,
    pub component_names: Vec<String>,
    pub tenant_id: String,
    pub port_names: Vec<String>,
}

impl Lookup {
    /// The lookup in two halves, each list split in the middle.
    pub fn halves(&self) -> (Lookup, Lookup) {
        fn split(names: &[String]) -> (Vec<String>, Vec<String>) {
            let (first, second) = names.split_at(names.len() / 2);
            (first.to_vec(), second.to_vec())
        }
        let (aliases, other_aliases) = split(&self.aliases);
        let (component_names, other_component_names) = split(&self.component_names);
        let (port_names, other_port_names) = split(&self.port_names);
        let half = |aliases, component_names, port_names| Lookup {
            aliases,
            app_id: self.app_id,
            component_names,
            tenant_id: self.tenant_id.clone(),
            port_names,
        };
        (half(aliases, component_names, port_names), half(other_aliases, other_component_names, other_port_names))
    }

    /// The lookup of the copies at `indices`: their aliases and their name candidates.
    fn new(identities: &[Identity], candidates: &NameCandidates, indices: &[usize], target: &Target<'_>) -> Lookup {
        Lookup {
            aliases: indices.iter().map(|&i| identities[i].service_alias.clone()).collect(),
            app_id: target.app.app_id,
            component_names: indices
                .iter()
                .flat_map(|&i| candidates.component_names_of(i))
                .map(str::to_owned)
                .collect(),
            tenant_id: target.team.tenant_id.clone(),
            port_names: indices.iter().flat_map(|&i| candidates.port_names_of(i)).map(str::to_owned).collect(),
        }
    }
}

/// What a [`Lookup`] found, as `(kind, name, service_id)` rows: kind [`TAKEN_ALIAS`],
/// [`TAKEN_COMPONENT_NAME`] or [`TAKEN_PORT_NAME`]; the id is the port's component (else empty).
pub(crate) type TakenRow = (String, String, String);
pub(crate) const TAKEN_ALIAS: &str = "alias";
pub(crate) const TAKEN_COMPONENT_NAME: &str = "component";
pub(crate) const TAKEN_PORT_NAME: &str = "port";

/// The taken aliases and names of a [`Lookup`]'s rows.
fn taken_from(rows: Vec<TakenRow>) -> (HashSet<String>, TakenNames) {
    let mut aliases = HashSet::new();
    let mut names = TakenNames::default();
    for (kind, name, service_id) in rows {
        match kind.as_str() {
            TAKEN_ALIAS => {
                aliases.insert(name);
            }
            TAKEN_COMPONENT_NAME => {
                names.component_names.insert(name);
            }
            _ => {
                names.port_names.entry(name).or_default().insert(service_id);
            }
        }
    }
    (aliases, names)
}

/// The reads of a copy's sources ([`read_sources`]), which a backend may run on another
/// connection than the copy's, before its transaction.
pub(crate) trait SourceReads: Send {
    /// The source app's components, oldest first.
    fn source_components(&mut self, app_id: i32) -> impl Future<Output = Result<Vec<Component>, StoreError>> + Send;

    /// The rows attached to the components with these ids.
    fn attached_rows(
        &mut self,
        service_ids: Vec<String>,
    ) -> impl Future<Output = Result<AttachedRows, StoreError>> + Send;
}

/// The statements of one backend, run on the connection of an open transaction.
pub(crate) trait Statements: Send {
    /// How [`Statements::write`] takes each table's rows.
    fn row_encoding(&self) -> RowEncoding {
        RowEncoding::Json
    }

    /// The rows of the [`Lookup`], in one statement.
    fn taken(&mut self, lookup: &Lookup) -> impl Future<Output = Result<Vec<TakenRow>, StoreError>> + Send;

    /// Inserts every table's rows, in order; each table's rows in their order. Returns how many
    /// rows of [`Table::links_volume`] tables were linked to their volume.
    fn write(&mut self, writes: &[TableRows]) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Takes the user's idempotency key for this transaction, without waiting: `false` when a
    /// copy with the key is running in another transaction (always `true` where the transaction
    /// already writes alone).
    fn claim_key(&mut self, user_id: i32, key: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes at most `limit` idempotency keys expired at `now`, oldest first.
    fn delete_expired_keys(&mut self, now: i64, limit: i64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The answer remembered for the user's key, unless it expired at `now`.
    fn stored_answer(
        &mut self,
        user_id: i32,
        key: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<StoredAnswer>, StoreError>> + Send;

    /// Remembers `status` and `body` as the answer of the keyed copy.
    fn remember(
        &mut self,
        keyed: &KeyedCopy<'_>,
        status: u16,
        body: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether the fixture named `name` was loaded, and how many users, teams, regions, apps and
    /// components the database holds.
    fn fixture_state(&mut self, name: &str) -> impl Future<Output = Result<(bool, i64), StoreError>> + Send;

    /// Records that the fixture was loaded, at `now`.
    fn record_fixture(
        &mut self,
        name: &str,
        sha256: &str,
        now: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The status of the answers remembered with idempotency keys (only successful copies are: an
/// error changed nothing, and the request may be sent again with its key).
const REMEMBERED_STATUS: u16 = 200;

/// The request's source components with their rows, in copy order (see [`copy::select`]); or why
/// they cannot be copied.
pub(crate) type Sources = Result<Vec<ComponentGraph>, SelectionError>;

/// Reads the components the request copies, with their rows: the first step of a copy, which a
/// backend may run before the copy's transaction (and outside the copy's turn).
pub(crate) async fn read_sources<S: SourceReads>(db: &mut S, request: &CopyRequest<'_>) -> Result<Sources, StoreError> {
    let app_components = db.source_components(request.source_app.app_id).await?;
    let selected = match copy::select(&app_components, request.requested) {
        Ok(selected) => selected,
        Err(error) => return Ok(Err(error)),
    };
    let ids = selected.iter().map(|c| c.service_id.clone()).collect();
    Ok(Ok(db.attached_rows(ids).await?.into_graphs(&selected)))
}

/// Makes a copy of `sources` (see [`super::Repository::copy_components`]): with an idempotency
/// key, answers what the key remembers (even when the sources can no longer be copied), else
/// copies and remembers the answer with the key.
pub(crate) async fn copy<S: Statements>(
    db: &mut S,
    request: &CopyRequest<'_>,
    sources: &Sources,
) -> Result<CopyOutcome, CopyError> {
    let Some(keyed) = &request.idempotency else {
        return Ok(CopyOutcome::Copied(copy_components(db, request, sources).await?));
    };
    if let Some(answer) = remembered(db, keyed).await? {
        return Ok(CopyOutcome::Replayed(answer));
    }
    let copies = copy_components(db, request, sources).await?;
    db.remember(keyed, REMEMBERED_STATUS, &(keyed.answer_body)(&copies)).await?;
    Ok(CopyOutcome::Copied(copies))
}

/// Takes the key and looks it up (deleting a few expired keys on the way): the answer remembered
/// for the same request, `None` for a new or expired key, or why the request cannot be answered.
async fn remembered<S: Statements>(db: &mut S, keyed: &KeyedCopy<'_>) -> Result<Option<StoredAnswer>, CopyError> {
    if !db.claim_key(keyed.user_id, keyed.key).await? {
        return Err(CopyError::KeyInProgress);
    }
    db.delete_expired_keys(keyed.now, idempotency::EXPIRED_DELETED_PER_COPY).await?;
    match db.stored_answer(keyed.user_id, keyed.key, keyed.now).await? {
        Some(answer) if answer.fingerprint != keyed.fingerprint => Err(CopyError::KeyReused),
        answer => Ok(answer),
    }
}

/// Copies the sources: draws identities and name candidates, looks up which are taken
/// ([`free_identities`]), plans and writes. The backend runs it at least in the target app's
/// turn (copies into one app take turns), so the component names looked up stay free until the
/// commit. Where copies into other apps run beside it (PostgreSQL), a name of the team (a port
/// service name) or of the store (an alias) that one of them takes first makes the write fail,
/// and the backend tries the copy again.
async fn copy_components<S: Statements>(
    db: &mut S,
    request: &CopyRequest<'_>,
    sources: &Sources,
) -> Result<Vec<Component>, CopyError> {
    let sources = sources.as_ref().map_err(|error| CopyError::Selection(error.clone()))?;
    let (identities, candidates, taken) = free_identities(db, sources, &request.target).await?;
    let copies = copy::plan(sources, &identities, &candidates, &request.target, &taken)?;
    let mut writes = Writes::new(db.row_encoding());
    writes.add_graphs(&copies)?;
    write(db, writes).await?;
    Ok(copies.into_iter().map(|copy| copy.component).collect())
}

/// Draws an identity and name candidates for each source and looks up which are taken. The
/// copies whose alias clashes draw again, and only theirs are looked up again (a large copy into
/// a large store nearly always meets one taken alias), up to [`copy::MAX_ATTEMPTS`] lookups.
/// Returns the identities, their candidates, and every candidate found taken.
async fn free_identities<S: Statements>(
    db: &mut S,
    sources: &[ComponentGraph],
    target: &Target<'_>,
) -> Result<(Vec<Identity>, NameCandidates, TakenNames), CopyError> {
    let mut random = UuidRandomness;
    let mut identities: Vec<Identity> = (0..sources.len()).map(|_| Identity::fresh(&mut random)).collect();
    let mut candidates = NameCandidates::draw(sources, &identities, &mut random);
    let mut to_look_up: Vec<usize> = (0..sources.len()).collect();
    let (mut taken_aliases, mut taken_names) = (HashSet::new(), TakenNames::default());
    for _ in 0..copy::MAX_ATTEMPTS {
        let (aliases, names) = taken_from(db.taken(&Lookup::new(&identities, &candidates, &to_look_up, target)).await?);
        taken_aliases.extend(aliases);
        taken_names.extend(names);
        to_look_up = copy::clashing_identities(&identities, &taken_aliases);
        if to_look_up.is_empty() {
            return Ok((identities, candidates, taken_names));
        }
        for &index in &to_look_up {
            identities[index] = Identity::fresh(&mut random);
        }
        candidates.redraw(sources, &identities, &to_look_up, &mut random);
    }
    Err(copy::PlanError::NamesExhausted { what: "component alias", base: "gr".to_owned() }.into())
}

/// Loads a fixture's rows (see [`super::Repository::load_dataset`]).
pub(crate) async fn load_dataset<S: Statements>(
    db: &mut S,
    data: &Dataset,
    only_into_empty: bool,
) -> Result<bool, LoadError> {
    let (applied, stored_rows) = db.fixture_state(&data.name).await?;
    if applied {
        return Ok(false);
    }
    if only_into_empty && stored_rows > 0 {
        return Err(LoadError::NotEmpty(data.name.clone()));
    }
    write(db, Writes::of_dataset(db.row_encoding(), data)?).await?;
    db.record_fixture(&data.name, &data.sha256, crate::clock::now_text()).await?;
    Ok(true)
}

/// Bytes as PostgreSQL's `bytea` hex text: `\x` and two hex digits per byte.
fn bytea_hex(bytes: &[u8]) -> String {
    format!("\\x{}", crate::fixture::hex(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_columns_are_written_as_bytea_hex() {
        assert_eq!(bytea_hex(&[0x00, 0xab, 0x10]), "\\x00ab10");
    }

    #[test]
    fn lookup_rows_are_sorted_into_aliases_component_names_and_port_owners() {
        let row = |kind: &str, name: &str, id: &str| (kind.to_owned(), name.to_owned(), id.to_owned());
        let (aliases, names) = taken_from(vec![
            row(TAKEN_ALIAS, "gr123456", ""),
            row(TAKEN_COMPONENT_NAME, "web", ""),
            row(TAKEN_PORT_NAME, "web-80", "a"),
            row(TAKEN_PORT_NAME, "web-80", "b"),
        ]);
        assert_eq!(aliases, HashSet::from(["gr123456".to_owned()]));
        assert_eq!(names.component_names, HashSet::from(["web".to_owned()]));
        assert_eq!(names.port_names["web-80"], HashSet::from(["a".to_owned(), "b".to_owned()]));
    }

    /// A store whose first lookup finds the first alias and the first component name it is
    /// asked about taken, and whose later lookups find nothing; it keeps every lookup.
    #[derive(Default)]
    struct TakenOnFirstLookup {
        lookups: Vec<Lookup>,
    }

    impl Statements for TakenOnFirstLookup {
        async fn taken(&mut self, lookup: &Lookup) -> Result<Vec<TakenRow>, StoreError> {
            let row = |kind: &str, name: &String| (kind.to_owned(), name.clone(), String::new());
            let rows = match self.lookups.is_empty() {
                true => {
                    vec![row(TAKEN_ALIAS, &lookup.aliases[0]), row(TAKEN_COMPONENT_NAME, &lookup.component_names[0])]
                }
                false => vec![],
            };
            self.lookups.push(lookup.clone());
            Ok(rows)
        }
        async fn write(&mut self, _: &[TableRows]) -> Result<u64, StoreError> {
            unreachable!("a lookup writes nothing")
        }
        async fn claim_key(&mut self, _: i32, _: &str) -> Result<bool, StoreError> {
            unreachable!("a lookup claims no key")
        }
        async fn delete_expired_keys(&mut self, _: i64, _: i64) -> Result<(), StoreError> {
            unreachable!("a lookup deletes no key")
        }
        async fn stored_answer(&mut self, _: i32, _: &str, _: i64) -> Result<Option<StoredAnswer>, StoreError> {
            unreachable!("a lookup reads no answer")
        }
        async fn remember(&mut self, _: &KeyedCopy<'_>, _: u16, _: &str) -> Result<(), StoreError> {
            unreachable!("a lookup remembers no answer")
        }
        async fn fixture_state(&mut self, _: &str) -> Result<(bool, i64), StoreError> {
            unreachable!("a lookup reads no fixture")
        }
        async fn record_fixture(&mut self, _: &str, _: &str, _: String) -> Result<(), StoreError> {
            unreachable!("a lookup records no fixture")
        }
    }

    #[tokio::test]
    async fn after_an_alias_clash_only_the_clashing_copy_is_looked_up_again_and_earlier_findings_stay() {
        let graph = |id: &str, name: &str| copy::tests::graph(copy::tests::component(id, name));
        let sources = [graph("a", "web"), graph("b", "api"), graph("c", "db")];
        let team = crate::model::Team {
            tenant_id: "t".into(),
            tenant_name: "target".into(),
            tenant_alias: "T".into(),
            enterprise_id: "e".into(),
        };
        let app = crate::model::App {
            app_id: 9,
            tenant_id: "t".into(),
            region_name: "r".into(),
            app_name: "a".into(),
            governance_mode: "KUBERNETES_NATIVE_SERVICE".into(),
        };
        let target =
            Target { team: &team, region: "r", app: &app, creater: 1, now: "", same_team: true, same_region: true };
        let mut store = TakenOnFirstLookup::default();

        let (identities, candidates, taken) = free_identities(&mut store, &sources, &target).await.unwrap();

        let [first, second] = &store.lookups[..] else { panic!("two lookups: {:?}", store.lookups) };
        assert_eq!((first.aliases.len(), first.component_names.len()), (3, 9));
        assert_eq!(second.aliases.len(), 1, "only the clashing copy again");
        assert_ne!(second.aliases[0], first.aliases[0], "with a new alias");
        assert_eq!(identities[0].service_alias, second.aliases[0]);
        assert_eq!(second.component_names, candidates.component_names_of(0).collect::<Vec<_>>());
        assert!(taken.component_names.contains("web"), "the first lookup's findings are kept");
    }

    #[test]
    fn column_names_are_unquoted() {
        assert!(COMPONENTS.column_names().any(|c| c == "desc"));
        assert_eq!(
            DEPENDENCIES.column_names().collect::<Vec<_>>(),
            ["service_id", "dep_service_id", "tenant_id", "dep_order"]
        );
    }
}

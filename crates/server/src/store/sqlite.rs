//! The embedded SQLite backend: WAL journal, foreign keys on, full synchronous commits (an
//! acknowledged copy survives a crash), a busy timeout, and copies in `BEGIN IMMEDIATE`
//! transactions so that concurrent copies take turns instead of failing.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Sqlite, SqliteConnection, Transaction};

use super::{Context, CopyError, CopyRequest, LoadError, Repository, StoreError};
use crate::copy::{self, Identity, NameCandidates, Randomness, TakenNames, Target, UuidRandomness};
use crate::fixture::Dataset;
use crate::model::{App, Component, ComponentGraph, ConfigFile, Region, SourceAuth, Team, User};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a statement waits for another connection's write lock, and a request for a pooled
/// connection, unless `serve --busy-timeout` says otherwise. Past it the store answers
/// [`StoreError::is_unavailable`] errors.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections in the pool (SQLite runs one writer at a time anyway).
const MAX_CONNECTIONS: u32 = 8;

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Write transactions of this process take turns here, in arrival order. SQLite runs one
    /// writer at a time anyway; queueing in a fair lock instead of in SQLite's busy handler (which
    /// sleeps and polls) keeps the latency of concurrent copies close to their service time.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The longest wait for the writer turn and the write lock together.
    busy_timeout: Duration,
}

/// A write transaction and this process's writer turn (hold it until the transaction ends).
type WriteTransaction = (Transaction<'static, Sqlite>, tokio::sync::OwnedMutexGuard<()>);

impl SqliteStore {
    /// Opens the database at `location` (a `sqlite:` URL or a file path), creating the file if
    /// needed, and brings its schema up to date.
    pub async fn open(location: &str) -> Result<Self, StoreError> {
        Self::open_with_busy_timeout(location, DEFAULT_BUSY_TIMEOUT).await
    }

    /// [`SqliteStore::open`], waiting at most `busy_timeout` for a lock (another process's, or
    /// this process's turn to write) or a pooled connection.
    pub async fn open_with_busy_timeout(location: &str, busy_timeout: Duration) -> Result<Self, StoreError> {
        let options = Self::connect_options(location)?.busy_timeout(busy_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(busy_timeout)
            .connect_with(options)
            .await
            .context("opening the SQLite database")?;
        MIGRATOR.run(&pool).await.map_err(sqlx::Error::from).context("migrating the database schema")?;
        Ok(SqliteStore { pool, writer: Arc::default(), busy_timeout })
    }

    /// The connection settings of the store for `location` (a `sqlite:` URL or a file path): WAL,
    /// full synchronous commits, foreign keys, the busy timeout; the file is created if needed.
    pub fn connect_options(location: &str) -> Result<SqliteConnectOptions, StoreError> {
        let options = if location.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(location).context("parsing the database URL")?
        } else {
            SqliteConnectOptions::new().filename(location)
        };
        Ok(options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(DEFAULT_BUSY_TIMEOUT))
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (the WAL is checkpointed by the last one).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Waits for this process's writer turn and the database's write lock, at most the busy
    /// timeout for both; past it, the error is [`StoreError::is_unavailable`].
    async fn begin_write(&self, what: &'static str) -> Result<WriteTransaction, StoreError> {
        let begin = async {
            let turn = self.writer.clone().lock_owned().await;
            let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.context(what)?;
            Ok((tx, turn))
        };
        // A turn not reached in time counts as a busy database, like a lock held elsewhere.
        tokio::time::timeout(self.busy_timeout, begin)
            .await
            .unwrap_or(Err(StoreError { context: what, source: sqlx::Error::PoolTimedOut }))
    }
}

/// `column IN in_ids!()` matches a list of ids bound as one JSON array.
macro_rules! in_ids {
    () => {
        "(SELECT value FROM json_each(?))"
    };
}

fn json_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::to_string(&ids.into_iter().collect::<Vec<_>>()).expect("strings serialize")
}

impl Repository for SqliteStore {
    async fn user_by_access_key(&self, key_sha256: [u8; 32], now: i64) -> Result<Option<User>, StoreError> {
        let row: Option<(Vec<u8>, i32, String, String)> = sqlx::query_as(
            "SELECT k.key_sha256, u.user_id, u.nick_name, u.enterprise_id FROM user_access_keys k \
             JOIN users u ON u.user_id = k.user_id \
             WHERE k.key_sha256 = ? AND (k.expire_time IS NULL OR k.expire_time > ?)",
        )
        .bind(&key_sha256[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .context("looking up an access key")?;
        // The digest found must equal the digest sent; compare without an early exit.
        Ok(row
            .filter(|(stored, ..)| bool::from(subtle::ConstantTimeEq::ct_eq(stored.as_slice(), &key_sha256[..])))
            .map(|(_, user_id, nick_name, enterprise_id)| User { user_id, nick_name, enterprise_id }))
    }

    async fn team(&self, enterprise_id: &str, id_or_name: &str) -> Result<Option<Team>, StoreError> {
        sqlx::query_as(
            "SELECT tenant_id, tenant_name, tenant_alias, enterprise_id FROM tenants \
             WHERE enterprise_id = ? AND (tenant_id = ? OR tenant_name = ?) \
             ORDER BY tenant_id = ? DESC LIMIT 1",
        )
        .bind(enterprise_id)
        .bind(id_or_name)
        .bind(id_or_name)
        .bind(id_or_name)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a team")
    }

    async fn is_member(&self, tenant_id: &str, user_id: i32) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM tenant_members WHERE tenant_id = ? AND user_id = ?")
            .bind(tenant_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .context("checking a team membership")?;
        Ok(row.is_some())
    }

    async fn member_team_by_name(&self, user_id: i32, tenant_name: &str) -> Result<Option<Team>, StoreError> {
        sqlx::query_as(
            "SELECT t.tenant_id, t.tenant_name, t.tenant_alias, t.enterprise_id FROM tenants t \
             JOIN tenant_members m ON m.tenant_id = t.tenant_id WHERE m.user_id = ? AND t.tenant_name = ?",
        )
        .bind(user_id)
        .bind(tenant_name)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a team of the caller")
    }

    async fn region(&self, enterprise_id: &str, region_name: &str) -> Result<Option<Region>, StoreError> {
        sqlx::query_as(
            "SELECT region_name, region_alias, enterprise_id, status FROM regions WHERE enterprise_id = ? AND region_name = ?",
        )
        .bind(enterprise_id)
        .bind(region_name)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a region")
    }

    async fn team_in_region(&self, tenant_id: &str, region_name: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM tenant_regions WHERE tenant_id = ? AND region_name = ? AND is_init = 1")
                .bind(tenant_id)
                .bind(region_name)
                .fetch_optional(&self.pool)
                .await
                .context("checking a team's regions")?;
        Ok(row.is_some())
    }

    async fn app(&self, app_id: i32) -> Result<Option<App>, StoreError> {
        sqlx::query_as("SELECT app_id, tenant_id, region_name, app_name, governance_mode FROM apps WHERE app_id = ?")
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
            .context("looking up an app")
    }

    async fn app_components(&self, app_id: i32) -> Result<Vec<Component>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            component_columns!(),
            " FROM tenant_services WHERE app_id = ? ORDER BY update_time DESC, service_id"
        ))
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .context("listing an app's components")
    }

    async fn copy_components(&self, request: CopyRequest<'_>) -> Result<Vec<Component>, CopyError> {
        let (mut tx, _turn) = self.begin_write("starting the copy transaction").await?;
        let app_components: Vec<Component> = sqlx::query_as(concat!(
            "SELECT ",
            component_columns!(),
            " FROM tenant_services WHERE app_id = ? ORDER BY create_time, service_id"
        ))
        .bind(request.source_app.app_id)
        .fetch_all(&mut *tx)
        .await
        .context("reading the source app's components")?;
        let selected = copy::select(&app_components, request.requested)?;
        let sources = load_graphs(&mut tx, &selected).await?;
        let mut random = UuidRandomness;
        let identities = free_identities(&mut tx, sources.len(), &mut random).await?;
        let candidates = NameCandidates::draw(&sources, &identities, &mut random);
        let taken = taken_names(&mut tx, &request.target, &candidates).await?;
        let copies = copy::plan(&sources, &identities, &candidates, &request.target, &taken)?;
        insert_graphs(&mut tx, &copies).await?;
        tx.commit().await.context("committing the copy")?;
        Ok(copies.into_iter().map(|copy| copy.component).collect())
    }

    async fn load_dataset(&self, data: &Dataset, only_into_empty: bool) -> Result<bool, LoadError> {
        let (mut tx, _turn) = self.begin_write("starting the fixture transaction").await?;
        let applied: Option<(String,)> = sqlx::query_as("SELECT name FROM applied_fixtures WHERE name = ?")
            .bind(&data.name)
            .fetch_optional(&mut *tx)
            .await
            .context("reading the applied fixtures")?;
        if applied.is_some() {
            return Ok(false);
        }
        if only_into_empty {
            let (rows,): (i64,) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM tenants) + (SELECT count(*) FROM regions) \
                 + (SELECT count(*) FROM apps) + (SELECT count(*) FROM tenant_services)",
            )
            .fetch_one(&mut *tx)
            .await
            .context("checking that the database is empty")?;
            if rows > 0 {
                return Err(LoadError::NotEmpty(data.name.clone()));
            }
        }
        insert_dataset(&mut tx, data).await?;
        sqlx::query("INSERT INTO applied_fixtures (name, sha256, applied_at) VALUES (?, ?, datetime('now'))")
            .bind(&data.name)
            .bind(&data.sha256)
            .execute(&mut *tx)
            .await
            .context("recording the fixture")?;
        tx.commit().await.context("committing the fixture")?;
        Ok(true)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Taking the write lock (and giving it back) proves that copies can be written.
        let (tx, _turn) = self.begin_write("taking the database's write lock").await?;
        tx.rollback().await.context("releasing the database's write lock")
    }
}

/// The rows attached to the components whose ids are bound as one JSON array, in one statement:
/// one JSON array per table (booleans as JSON booleans), each in the order the copy keeps.
const ATTACHED_ROWS: &str = "WITH ids(id) AS (SELECT value FROM json_each(?)) SELECT \
    (SELECT json_group_array(json_object('service_id', service_id, 'tenant_id', tenant_id, \
        'container_port', container_port, 'protocol', protocol, 'port_alias', port_alias, \
        'is_inner_service', json(iif(is_inner_service, 'true', 'false')), \
        'is_outer_service', json(iif(is_outer_service, 'true', 'false')), \
        'k8s_service_name', k8s_service_name) ORDER BY container_port) \
        FROM service_ports WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'tenant_id', tenant_id, \
        'container_port', container_port, 'name', name, 'attr_name', attr_name, 'attr_value', attr_value, \
        'is_change', json(iif(is_change, 'true', 'false')), 'scope', scope) ORDER BY id) \
        FROM service_envs WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'volume_name', volume_name, \
        'volume_path', volume_path, 'volume_type', volume_type, 'volume_capacity', volume_capacity, \
        'access_mode', access_mode, 'host_path', host_path) ORDER BY id) \
        FROM service_volumes WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'volume_name', volume_name, \
        'file_content', file_content) ORDER BY id) \
        FROM service_config_files WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'tenant_id', tenant_id, 'region', region, \
        'label_name', label_name, 'label_value', label_value) ORDER BY id) \
        FROM service_labels WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'dep_service_id', dep_service_id, \
        'tenant_id', tenant_id, 'dep_order', dep_order) ORDER BY dep_order, dep_service_id) \
        FROM service_dependencies WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'user_name', user_name, 'password', password)) \
        FROM service_source_auth WHERE service_id IN ids)";

/// Loads the selected components with everything copied along with them, in selection order
/// (one statement, [`ATTACHED_ROWS`]).
async fn load_graphs(tx: &mut SqliteConnection, selected: &[&Component]) -> Result<Vec<ComponentGraph>, StoreError> {
    type Arrays = (String, String, String, String, String, String, String);
    let (ports, envs, volumes, config_files, labels, dependencies, auths): Arrays = sqlx::query_as(ATTACHED_ROWS)
        .bind(json_ids(selected.iter().map(|c| c.service_id.as_str())))
        .fetch_one(&mut *tx)
        .await
        .context("reading the components' ports, variables, volumes, files, labels, dependencies and credentials")?;
    Ok(super::AttachedRows {
        ports: from_json_array(&ports, "reading ports")?,
        envs: from_json_array(&envs, "reading environment variables")?,
        volumes: from_json_array(&volumes, "reading volumes")?,
        config_files: from_json_array(&config_files, "reading configuration files")?,
        labels: from_json_array(&labels, "reading labels")?,
        dependencies: from_json_array(&dependencies, "reading dependencies")?,
        auths: from_json_array(&auths, "reading build-source credentials")?,
    }
    .into_graphs(selected))
}

/// The rows of one JSON array of [`ATTACHED_ROWS`].
fn from_json_array<T: serde::de::DeserializeOwned>(array: &str, what: &'static str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(array).map_err(|error| StoreError { context: what, source: sqlx::Error::Decode(error.into()) })
}

/// Which of the candidate names are used: component names in the target app, port service names
/// in the target team. Two indexed lookups of the candidates only.
async fn taken_names(
    tx: &mut SqliteConnection,
    target: &Target<'_>,
    candidates: &NameCandidates,
) -> Result<TakenNames, StoreError> {
    let component_names: Vec<(String,)> = sqlx::query_as(concat!(
        "SELECT k8s_component_name FROM tenant_services WHERE app_id = ? AND k8s_component_name IN ",
        in_ids!(),
        ""
    ))
    .bind(target.app.app_id)
    .bind(json_ids(candidates.component_names()))
    .fetch_all(&mut *tx)
    .await
    .context("reading the target app's component names")?;
    let port_names: Vec<(String, String)> = sqlx::query_as(concat!(
        "SELECT k8s_service_name, service_id FROM service_ports WHERE tenant_id = ? AND k8s_service_name IN ",
        in_ids!(),
        ""
    ))
    .bind(&target.team.tenant_id)
    .bind(json_ids(candidates.port_names()))
    .fetch_all(&mut *tx)
    .await
    .context("reading the target team's port names")?;
    Ok(super::taken_names_from(component_names, port_names))
}

/// `count` identities whose aliases no component of the store (nor of the batch) uses.
async fn free_identities(
    tx: &mut SqliteConnection,
    count: usize,
    random: &mut dyn Randomness,
) -> Result<Vec<Identity>, CopyError> {
    let mut identities: Vec<Identity> = (0..count).map(|_| Identity::fresh(random)).collect();
    for _ in 0..copy::MAX_ATTEMPTS {
        let aliases = json_ids(identities.iter().map(|i| i.service_alias.as_str()));
        let taken: Vec<(String,)> =
            sqlx::query_as(concat!("SELECT service_alias FROM tenant_services WHERE service_alias IN ", in_ids!(), ""))
                .bind(&aliases)
                .fetch_all(&mut *tx)
                .await
                .context("checking new aliases")?;
        let taken: HashSet<String> = taken.into_iter().map(|(a,)| a).collect();
        let clashes = copy::clashing_identities(&identities, &taken);
        if clashes.is_empty() {
            return Ok(identities);
        }
        for index in clashes {
            identities[index] = Identity::fresh(random);
        }
    }
    Err(copy::PlanError::NamesExhausted { what: "component alias", base: "gr".to_owned() }.into())
}

/// The column list of `table` as it is inserted from JSON rows.
struct Columns {
    table: &'static str,
    columns: &'static str,
}

const COMPONENTS: Columns = Columns { table: "tenant_services", columns: component_columns!() };
const PORTS: Columns = Columns {
    table: "service_ports",
    columns: "service_id, tenant_id, container_port, protocol, port_alias, is_inner_service, is_outer_service, \
              k8s_service_name",
};
const ENVS: Columns = Columns {
    table: "service_envs",
    columns: "service_id, tenant_id, container_port, name, attr_name, attr_value, is_change, scope",
};
const VOLUMES: Columns = Columns {
    table: "service_volumes",
    columns: "service_id, volume_name, volume_path, volume_type, volume_capacity, access_mode, host_path",
};
const LABELS: Columns =
    Columns { table: "service_labels", columns: "service_id, tenant_id, region, label_name, label_value" };
const DEPENDENCIES: Columns =
    Columns { table: "service_dependencies", columns: "service_id, dep_service_id, tenant_id, dep_order" };
const SOURCE_AUTHS: Columns = Columns { table: "service_source_auth", columns: "service_id, user_name, password" };

/// Inserts `rows` in one statement: they are bound as one JSON array, and each column takes the
/// field of the same name. The statement text depends on the table only, so it is prepared once.
async fn insert_rows<T: serde::Serialize>(
    tx: &mut SqliteConnection,
    into: &Columns,
    rows: &[T],
    what: &'static str,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let fields: Vec<String> =
        into.columns.split(',').map(|column| format!("value->>'{}'", column.trim().trim_matches('"'))).collect();
    let sql = format!(
        "INSERT INTO {} ({}) SELECT {} FROM jsonb_each(?) ORDER BY key",
        into.table,
        into.columns,
        fields.join(", ")
    );
    sqlx::query(AssertSqlSafe(sql)).bind(json_rows(rows)).execute(&mut *tx).await.context(what)?;
    Ok(())
}

fn json_rows<T: serde::Serialize>(rows: &[T]) -> String {
    serde_json::to_string(rows).expect("rows serialize")
}

/// Inserts configuration files, each linked to the volume of its component with its volume name.
async fn insert_config_files(tx: &mut SqliteConnection, files: &[&ConfigFile]) -> Result<(), StoreError> {
    if files.is_empty() {
        return Ok(());
    }
    let inserted = sqlx::query(
        "INSERT INTO service_config_files (service_id, volume_id, volume_name, file_content) \
         SELECT f.value->>'service_id', v.id, f.value->>'volume_name', f.value->>'file_content' \
         FROM jsonb_each(?) f JOIN service_volumes v \
         ON v.service_id = f.value->>'service_id' AND v.volume_name = f.value->>'volume_name' ORDER BY f.key",
    )
    .bind(json_rows(files))
    .execute(&mut *tx)
    .await
    .context("inserting configuration files")?;
    if inserted.rows_affected() != files.len() as u64 {
        return Err(StoreError {
            context: "linking a configuration file to its volume",
            source: sqlx::Error::RowNotFound,
        });
    }
    Ok(())
}

/// Writes components and everything attached to them, one statement per table whatever the
/// number of rows. Components go in first, so that dependencies between them satisfy the foreign
/// keys, and volumes before the configuration files that link to them.
async fn insert_graphs(tx: &mut SqliteConnection, graphs: &[ComponentGraph]) -> Result<(), StoreError> {
    fn all<'a, T>(graphs: &'a [ComponentGraph], rows: impl Fn(&'a ComponentGraph) -> &'a [T]) -> Vec<&'a T> {
        graphs.iter().flat_map(rows).collect()
    }
    let components: Vec<&Component> = graphs.iter().map(|g| &g.component).collect();
    insert_rows(tx, &COMPONENTS, &components, "inserting components").await?;
    insert_rows(tx, &PORTS, &all(graphs, |g| &g.ports), "inserting ports").await?;
    insert_rows(tx, &ENVS, &all(graphs, |g| &g.envs), "inserting environment variables").await?;
    insert_rows(tx, &VOLUMES, &all(graphs, |g| &g.volumes), "inserting volumes").await?;
    insert_config_files(tx, &all(graphs, |g| &g.config_files)).await?;
    insert_rows(tx, &LABELS, &all(graphs, |g| &g.labels), "inserting labels").await?;
    insert_rows(tx, &DEPENDENCIES, &all(graphs, |g| &g.dependencies), "inserting dependencies").await?;
    let auths: Vec<&SourceAuth> = graphs.iter().filter_map(|g| g.source_auth.as_ref()).collect();
    insert_rows(tx, &SOURCE_AUTHS, &auths, "inserting build-source credentials").await?;
    Ok(())
}

async fn insert_dataset(tx: &mut SqliteConnection, data: &Dataset) -> Result<(), StoreError> {
    for u in &data.users {
        sqlx::query("INSERT INTO users (user_id, nick_name, enterprise_id) VALUES (?, ?, ?)")
            .bind(u.user_id)
            .bind(&u.nick_name)
            .bind(&u.enterprise_id)
            .execute(&mut *tx)
            .await
            .context("inserting a user")?;
    }
    for k in &data.access_keys {
        sqlx::query("INSERT INTO user_access_keys (user_id, key_sha256, expire_time) VALUES (?, ?, ?)")
            .bind(k.user_id)
            .bind(&k.key_sha256[..])
            .bind(k.expire_time)
            .execute(&mut *tx)
            .await
            .context("inserting an access key")?;
    }
    for r in &data.regions {
        sqlx::query("INSERT INTO regions (region_name, region_alias, enterprise_id, status) VALUES (?, ?, ?, ?)")
            .bind(&r.region_name)
            .bind(&r.region_alias)
            .bind(&r.enterprise_id)
            .bind(&r.status)
            .execute(&mut *tx)
            .await
            .context("inserting a region")?;
    }
    for t in &data.teams {
        sqlx::query("INSERT INTO tenants (tenant_id, tenant_name, tenant_alias, enterprise_id) VALUES (?, ?, ?, ?)")
            .bind(&t.tenant_id)
            .bind(&t.tenant_name)
            .bind(&t.tenant_alias)
            .bind(&t.enterprise_id)
            .execute(&mut *tx)
            .await
            .context("inserting a team")?;
    }
    for (tenant_id, user_id) in &data.members {
        sqlx::query("INSERT INTO tenant_members (tenant_id, user_id) VALUES (?, ?)")
            .bind(tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .context("inserting a team member")?;
    }
    for (tenant_id, region_name) in &data.team_regions {
        sqlx::query("INSERT INTO tenant_regions (tenant_id, region_name, is_init) VALUES (?, ?, 1)")
            .bind(tenant_id)
            .bind(region_name)
            .execute(&mut *tx)
            .await
            .context("inserting a team's region")?;
    }
    for a in &data.apps {
        sqlx::query(
            "INSERT INTO apps (app_id, tenant_id, region_name, app_name, governance_mode) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(a.app_id)
        .bind(&a.tenant_id)
        .bind(&a.region_name)
        .bind(&a.app_name)
        .bind(&a.governance_mode)
        .execute(&mut *tx)
        .await
        .context("inserting an app")?;
    }
    insert_graphs(tx, &data.components).await?;
    for p in &data.probes {
        sqlx::query("INSERT INTO service_probes (service_id, mode, scheme, port, path) VALUES (?, ?, ?, ?, ?)")
            .bind(&p.service_id)
            .bind(&p.mode)
            .bind(&p.scheme)
            .bind(p.port)
            .bind(&p.path)
            .execute(&mut *tx)
            .await
            .context("inserting a probe")?;
    }
    Ok(())
}

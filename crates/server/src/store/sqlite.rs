//! The embedded SQLite backend: WAL journal, foreign keys on, full synchronous commits (an
//! acknowledged copy survives a crash), a busy timeout, and copies in `BEGIN IMMEDIATE`
//! transactions. The short reads and a copy's sources run on rusqlite [`Readers`]; the rest of a
//! copy, fixture loads and the health check's write probe run on the [`Writer`] thread, each as
//! one unit of work, committed together with the units queued beside it; sqlx's pool migrates the
//! schema.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::pipeline::{self, Table};
use super::scope::{self, Scope, ScopeNames};
use super::sqlite_readers::{self, Readers, SourceReader};
use super::sqlite_writer::{self, Writer};
use super::{Context, CopyError, CopyOutcome, CopyRequest, KeyedCopy, LoadError, Repository, StoreError};
use crate::copy::Target;
use crate::fixture::Dataset;
use crate::model::{App, Component, Team, User};

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
    /// The thread copies and fixture loads run on.
    writer: Writer,
    /// The connections the short reads run on.
    readers: Readers,
}

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
            .connect_with(options.clone())
            .await
            .context("opening the SQLite database")?;
        MIGRATOR.run(&pool).await.map_err(sqlx::Error::from).context("migrating the database schema")?;
        let writer = Writer::open(options.get_filename(), busy_timeout)?;
        let readers = Readers::new(options.get_filename(), busy_timeout);
        Ok(SqliteStore { pool, writer, readers })
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

    /// Closes every connection, the writer's too (the WAL is checkpointed by the last one).
    pub async fn close(&self) {
        self.pool.close().await;
        self.readers.close();
        self.writer.close();
    }
}

impl Repository for SqliteStore {
    async fn user_by_access_key(&self, key_sha256: [u8; 32], now: i64) -> Result<Option<User>, StoreError> {
        let row = self.readers.optional_row(
            "looking up an access key",
            "SELECT k.key_sha256, u.user_id, u.nick_name, u.enterprise_id FROM user_access_keys k \
             JOIN users u ON u.user_id = k.user_id \
             WHERE k.key_sha256 = ?1 AND (k.expire_time IS NULL OR k.expire_time > ?2)",
            rusqlite::params![&key_sha256[..], now],
            |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    User { user_id: row.get(1)?, nick_name: row.get(2)?, enterprise_id: row.get(3)? },
                ))
            },
        )?;
        // The digest found must equal the digest sent; compare without an early exit.
        Ok(row
            .filter(|(stored, _)| bool::from(subtle::ConstantTimeEq::ct_eq(stored.as_slice(), &key_sha256[..])))
            .map(|(_, user)| user))
    }

    async fn scope(&self, names: &ScopeNames<'_>) -> Result<Scope, StoreError> {
        let p = names.parameters();
        let parameters = rusqlite::params![
            p.enterprise_id,
            p.source_team,
            p.user_id,
            p.target_team,
            p.source_region,
            p.source_app_id,
            p.target_region,
            p.target_app_id
        ];
        let text = self.readers.optional_row(
            "looking up the request's teams, regions and apps",
            scope::SQLITE_QUERY,
            parameters,
            |row| row.get::<_, String>(0),
        )?;
        Scope::from_json(text.as_deref().unwrap_or_default())
    }

    async fn app_components(&self, app_id: i32) -> Result<Vec<Component>, StoreError> {
        let what = "listing an app's components";
        let sql = concat!(
            "SELECT ",
            component_columns!(),
            " FROM tenant_services WHERE app_id = ?1 ORDER BY update_time DESC, service_id"
        );
        self.readers.read(what, |connection| sqlite_readers::components(connection, sql, [app_id], what))
    }

    /// Reads the sources on a reader connection, where the request runs (they are read from
    /// the last committed copy, as a copy's transaction would see them), then hands the rest of
    /// the copy to the writer.
    async fn copy_components(&self, request: CopyRequest<'_>) -> Result<CopyOutcome, CopyError> {
        let sources = self.readers.read("reading the source components", |connection| {
            sqlite_writer::complete(pipeline::read_sources(&mut SourceReader(connection), &request))
        })?;
        let request = OwnedCopyRequest::of(&request);
        self.writer.run(move |db| sqlite_writer::complete(pipeline::copy(db, &request.request(), &sources))).await
    }

    async fn load_dataset(&self, data: &Dataset, only_into_empty: bool) -> Result<bool, LoadError> {
        let data = data.clone();
        self.writer.run(move |db| sqlite_writer::complete(pipeline::load_dataset(db, &data, only_into_empty))).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Taking the write lock (and committing nothing) proves that copies can be written.
        self.writer.run(|_| Ok(())).await
    }
}

/// A [`CopyRequest`] holding its own data, to hand to the writer thread.
#[derive(Debug)]
struct OwnedCopyRequest {
    source_app: App,
    requested: Vec<String>,
    team: Team,
    region: String,
    app: App,
    creater: i32,
    now: String,
    same_team: bool,
    same_region: bool,
    idempotency: Option<OwnedKeyedCopy>,
}

/// A [`KeyedCopy`] holding its own data.
#[derive(Debug)]
struct OwnedKeyedCopy {
    user_id: i32,
    key: String,
    fingerprint: String,
    now: i64,
    expires_at: i64,
    answer_body: fn(&[Component]) -> String,
}

impl OwnedCopyRequest {
    fn of(request: &CopyRequest<'_>) -> OwnedCopyRequest {
        let target = &request.target;
        OwnedCopyRequest {
            source_app: request.source_app.clone(),
            requested: request.requested.to_vec(),
            team: target.team.clone(),
            region: target.region.to_owned(),
            app: target.app.clone(),
            creater: target.creater,
            now: target.now.to_owned(),
            same_team: target.same_team,
            same_region: target.same_region,
            idempotency: request.idempotency.as_ref().map(|keyed| OwnedKeyedCopy {
                user_id: keyed.user_id,
                key: keyed.key.to_owned(),
                fingerprint: keyed.fingerprint.to_owned(),
                now: keyed.now,
                expires_at: keyed.expires_at,
                answer_body: keyed.answer_body,
            }),
        }
    }

    fn request(&self) -> CopyRequest<'_> {
        CopyRequest {
            source_app: &self.source_app,
            requested: &self.requested,
            target: Target {
                team: &self.team,
                region: &self.region,
                app: &self.app,
                creater: self.creater,
                now: &self.now,
                same_team: self.same_team,
                same_region: self.same_region,
            },
            idempotency: self.idempotency.as_ref().map(|keyed| KeyedCopy {
                user_id: keyed.user_id,
                key: &keyed.key,
                fingerprint: &keyed.fingerprint,
                now: keyed.now,
                expires_at: keyed.expires_at,
                answer_body: keyed.answer_body,
            }),
        }
    }
}

/// The rows attached to the components whose ids are bound as one JSON array, in one statement:
/// one JSON array per table (booleans as JSON booleans), in no particular order, the variables',
/// volumes', files' and labels' rows with their row ids ([`super::JsonArrays`]).
pub(super) const ATTACHED_ROWS: &str = "WITH ids(id) AS (SELECT value FROM json_each(?)) SELECT \
    (SELECT json_group_array(json_object('service_id', service_id, 'tenant_id', tenant_id, \
        'container_port', container_port, 'protocol', protocol, 'port_alias', port_alias, \
        'is_inner_service', json(iif(is_inner_service, 'true', 'false')), \
        'is_outer_service', json(iif(is_outer_service, 'true', 'false')), \
        'k8s_service_name', k8s_service_name)) \
        FROM service_ports WHERE service_id IN ids), \
    (SELECT json_group_array(json_array(id, json_object('service_id', service_id, 'tenant_id', tenant_id, \
        'container_port', container_port, 'name', name, 'attr_name', attr_name, 'attr_value', attr_value, \
        'is_change', json(iif(is_change, 'true', 'false')), 'scope', scope))) \
        FROM service_envs WHERE service_id IN ids), \
    (SELECT json_group_array(json_array(id, json_object('service_id', service_id, 'volume_name', volume_name, \
        'volume_path', volume_path, 'volume_type', volume_type, 'volume_capacity', volume_capacity, \
        'access_mode', access_mode, 'host_path', host_path))) \
        FROM service_volumes WHERE service_id IN ids), \
    (SELECT json_group_array(json_array(id, json_object('service_id', service_id, 'volume_name', volume_name, \
        'file_content', file_content))) \
        FROM service_config_files WHERE service_id IN ids), \
    (SELECT json_group_array(json_array(id, json_object('service_id', service_id, 'tenant_id', tenant_id, \
        'region', region, 'label_name', label_name, 'label_value', label_value))) \
        FROM service_labels WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'dep_service_id', dep_service_id, \
        'tenant_id', tenant_id, 'dep_order', dep_order)) \
        FROM service_dependencies WHERE service_id IN ids), \
    (SELECT json_group_array(json_object('service_id', service_id, 'user_name', user_name, 'password', password)) \
        FROM service_source_auth WHERE service_id IN ids)";

/// The statement that inserts the rows of a JSON array (bound as its one parameter) into `table`,
/// in array order: each column takes the field of its name; binary columns are decoded from
/// their `\x` hex text; a row that links a volume takes the id of its component's volume of that
/// name. `jsonb_each` parses the array once into SQLite's binary JSON, so each `->>` reads a field
/// without parsing its row's text again (as `json_each` values would be). The array order is
/// `ORDER BY rowid`, which `jsonb_each` declares it yields already (its rows come out by position),
/// so SQLite sorts nothing; `ORDER BY key` would cost a sort per table. Each text is made once.
pub(super) fn insert_statement(table: &Table) -> &'static str {
    static STATEMENTS: LazyLock<HashMap<&'static str, String>> =
        LazyLock::new(|| pipeline::ALL_TABLES.iter().map(|table| (table.name, insert_statement_text(table))).collect());
    STATEMENTS.get(table.name).expect("every table written is in pipeline::ALL_TABLES")
}

/// The text of [`insert_statement`], made once per table.
fn insert_statement_text(table: &Table) -> String {
    if table.links_volume {
        return format!(
            "INSERT INTO {} ({}) SELECT f.value->>'service_id', v.id, f.value->>'volume_name', \
             f.value->>'file_content' FROM jsonb_each(?) f JOIN {} v \
             ON v.service_id = f.value->>'service_id' AND v.volume_name = f.value->>'volume_name' ORDER BY f.rowid",
            table.name,
            table.columns,
            pipeline::VOLUMES.name
        );
    }
    let fields: Vec<String> = table
        .column_names()
        .map(|column| {
            if table.bytes.contains(&column) {
                format!("unhex(substr(value->>'{column}', 3))")
            } else {
                format!("value->>'{column}'")
            }
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM jsonb_each(?) ORDER BY rowid",
        table.name,
        table.columns,
        fields.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan's steps of `sql` on `connection`.
    fn plan(connection: &rusqlite::Connection, sql: &str) -> Vec<String> {
        let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("a valid statement");
        let steps = statement.query_map([rusqlite::types::Null], |row| row.get(3)).expect("a plan");
        steps.collect::<Result<_, _>>().expect("plan steps")
    }

    #[tokio::test]
    async fn inserts_keep_the_array_order_without_a_sort() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("plans.db");
        let store = SqliteStore::open(path.to_str().expect("a UTF-8 path")).await.expect("the store");
        let connection = rusqlite::Connection::open(&path).expect("a connection");
        for table in pipeline::ALL_TABLES {
            let steps = plan(&connection, insert_statement(table));
            assert!(!steps.iter().any(|step| step.contains("TEMP B-TREE")), "{}: {steps:?}", table.name);
        }
        // What the test looks for: the same statement in the order of a JSON field is sorted.
        let by_key = insert_statement(pipeline::ALL_TABLES[1]).replace("ORDER BY rowid", "ORDER BY key");
        assert!(plan(&connection, &by_key).iter().any(|step| step.contains("USE TEMP B-TREE FOR ORDER BY")));
        store.close().await;
    }

    /// Rows of each kind that migration 0007 makes again, written before it.
    const ROWS_BEFORE_0007: &str = "\
        INSERT INTO regions (region_name, region_alias, enterprise_id) VALUES ('r', 'R', 'e');
        INSERT INTO tenants (tenant_id, tenant_name, tenant_alias, enterprise_id) VALUES ('t', 'team', 'Team', 'e');
        INSERT INTO apps (app_id, tenant_id, region_name, app_name) VALUES (1, 't', 'r', 'app');
        INSERT INTO tenant_services (service_id, service_alias, tenant_id, service_region, app_id, service_key, \
            service_cname, category, version, image, creater, k8s_component_name, create_time, update_time) \
            VALUES ('s', 'grs', 't', 'r', 1, 'k', 'S', 'app', '1', 'nginx', 1, 's', 'then', 'then');
        INSERT INTO port_service_names (tenant_id, k8s_service_name, service_id) VALUES ('t', 's-80', 's');
        INSERT INTO service_ports (service_id, tenant_id, container_port, protocol, port_alias, is_inner_service, \
            is_outer_service, k8s_service_name) VALUES ('s', 't', 80, 'http', 'S80', 1, 0, 's-80');
        INSERT INTO service_dependencies (service_id, dep_service_id, tenant_id, dep_order) VALUES ('s', 's', 't', 2);
        INSERT INTO service_source_auth (service_id, user_name, password) VALUES ('s', 'me', 'secret');";

    #[tokio::test]
    async fn migration_0007_keeps_the_rows_of_the_tables_it_makes_again() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let earlier = dir.path().join("migrations");
        std::fs::create_dir(&earlier).expect("a folder for the earlier migrations");
        let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        for entry in std::fs::read_dir(&all).expect("the migrations") {
            let path = entry.expect("a migration").path();
            if path.file_name().is_some_and(|name| name.to_string_lossy().as_ref() < "0007") {
                std::fs::copy(&path, earlier.join(path.file_name().expect("a name"))).expect("copied");
            }
        }
        let location = dir.path().join("old.db");
        let options = SqliteStore::connect_options(location.to_str().expect("a UTF-8 path")).expect("options");
        let pool = SqlitePool::connect_with(options).await.expect("the database");
        sqlx::migrate::Migrator::new(earlier).await.expect("0001–0006").run(&pool).await.expect("migrated to 0006");
        sqlx::raw_sql(ROWS_BEFORE_0007).execute(&pool).await.expect("rows written at 0006");
        MIGRATOR.run(&pool).await.expect("migrated to the last version");

        let kept: Vec<(String,)> = sqlx::query_as(
            "SELECT concat_ws('|', p.service_id, p.container_port, p.port_alias, p.is_inner_service, \
             p.is_outer_service, p.k8s_service_name, d.dep_service_id, d.dep_order, a.user_name, a.password) \
             FROM service_ports p, service_dependencies d, service_source_auth a",
        )
        .fetch_all(&pool)
        .await
        .expect("the rows");
        assert_eq!(kept, [("s|80|S80|1|0|s-80|s|2|me|secret".to_owned(),)], "each row kept, as it was");
        let broken_keys: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&pool).await.expect("the check");
        assert!(broken_keys.is_empty(), "rows whose foreign keys find nothing: {broken_keys:?}");
        let stored_by_key: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID' ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .expect("the tables");
        let names: Vec<&str> = stored_by_key.iter().map(|(name,)| name.as_str()).collect();
        assert_eq!(names, ["port_service_names", "service_dependencies", "service_ports", "service_source_auth"]);
        pool.close().await;
    }
}

//! The embedded SQLite backend: WAL journal, foreign keys on, full synchronous commits (an
//! acknowledged copy survives a crash), a busy timeout, and copies in `BEGIN IMMEDIATE`
//! transactions so that concurrent copies take turns instead of failing. Reads go through sqlx's
//! pool; copies and fixture loads run on the [`Writer`] connection, each as one blocking call.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use super::pipeline::{self, Table};
use super::sqlite_writer::Writer;
use super::{Context, CopyError, CopyOutcome, CopyRequest, LoadError, Repository, StoreError};
use crate::fixture::Dataset;
use crate::model::{App, Component, Region, Team, User};

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
    turn: Arc<tokio::sync::Mutex<()>>,
    /// The connection copies and fixture loads run on.
    writer: Writer,
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
            .connect_with(options.clone())
            .await
            .context("opening the SQLite database")?;
        MIGRATOR.run(&pool).await.map_err(sqlx::Error::from).context("migrating the database schema")?;
        let writer = Writer::open(options.get_filename(), busy_timeout)?;
        Ok(SqliteStore { pool, turn: Arc::default(), writer, busy_timeout })
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
        self.writer.close();
    }

    /// Waits for this process's writer turn, at most the busy timeout; past it, the error is
    /// [`StoreError::is_unavailable`] (like a lock held elsewhere).
    async fn writer_turn(&self, what: &'static str) -> Result<tokio::sync::OwnedMutexGuard<()>, StoreError> {
        tokio::time::timeout(self.busy_timeout, self.turn.clone().lock_owned())
            .await
            .map_err(|_| StoreError { context: what, source: sqlx::Error::PoolTimedOut })
    }

    /// Waits for this process's writer turn and the database's write lock (on a pooled
    /// connection), at most the busy timeout for both.
    async fn begin_write(&self, what: &'static str) -> Result<WriteTransaction, StoreError> {
        let begin = async {
            let turn = self.writer_turn(what).await?;
            let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.context(what)?;
            Ok((tx, turn))
        };
        tokio::time::timeout(self.busy_timeout, begin)
            .await
            .unwrap_or(Err(StoreError { context: what, source: sqlx::Error::PoolTimedOut }))
    }
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

    async fn copy_components(&self, request: CopyRequest<'_>) -> Result<CopyOutcome, CopyError> {
        let _turn = self.writer_turn("waiting for the turn to write").await?;
        self.writer.transaction(async |db| pipeline::copy(db, &request).await)
    }

    async fn load_dataset(&self, data: &Dataset, only_into_empty: bool) -> Result<bool, LoadError> {
        let _turn = self.writer_turn("waiting for the turn to write").await?;
        self.writer.transaction(async |db| pipeline::load_dataset(db, data, only_into_empty).await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Taking the write lock (and giving it back) proves that copies can be written.
        let (tx, _turn) = self.begin_write("taking the database's write lock").await?;
        tx.rollback().await.context("releasing the database's write lock")
    }
}

/// The rows attached to the components whose ids are bound as one JSON array, in one statement:
/// one JSON array per table (booleans as JSON booleans), each in the order the copy keeps
/// ([`super::JsonArrays`]).
pub(super) const ATTACHED_ROWS: &str = "WITH ids(id) AS (SELECT value FROM json_each(?)) SELECT \
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

/// The statement that inserts the rows of a JSON array (bound as its one parameter) into `table`,
/// in array order: each column takes the field of its name; binary columns are decoded from
/// their `\x` hex text; a row that links a volume takes the id of its component's volume of that
/// name. `jsonb_each` parses the array once into SQLite's binary JSON, so each `->>` reads a field
/// without parsing its row's text again (as `json_each` values would be).
pub(super) fn insert_statement(table: &Table) -> String {
    if table.links_volume {
        return format!(
            "INSERT INTO {} ({}) SELECT f.value->>'service_id', v.id, f.value->>'volume_name', \
             f.value->>'file_content' FROM jsonb_each(?) f JOIN {} v \
             ON v.service_id = f.value->>'service_id' AND v.volume_name = f.value->>'volume_name' ORDER BY f.key",
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
        "INSERT INTO {} ({}) SELECT {} FROM jsonb_each(?) ORDER BY key",
        table.name,
        table.columns,
        fields.join(", ")
    )
}

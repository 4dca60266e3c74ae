//! The PostgreSQL backend, for several server instances on one database.
//!
//! A copy first reads its source components and their rows, on a pooled connection and outside
//! any turn (copies into one app read side by side). It then plans and writes at READ COMMITTED
//! under a transaction-scoped advisory lock on the target app (`pg_advisory_xact_lock`): copies
//! into one app take turns across every instance, and each looks up the component names the
//! previous one committed, so the plan's component names never clash inside the app, however
//! many copies go to it at once. Copies into different apps of one team run side by side: the
//! one rule they share, a port service name owned by one component of the team, is enforced by
//! the key of the names' owners (`port_service_names`), and a copy that loses a name to a
//! concurrent one is tried again
//! (then the name is taken, and it draws another). Within an instance copies queue first on an
//! in-process lock ([`TURN_QUEUES`] of them, by app), so that copies waiting for a busy app do not
//! each hold a pooled connection (and starve the other requests of the instance). When the copy
//! ahead in the queue found the database unreachable, the ones behind it fail at once rather than
//! each waiting the acquire timeout again.
//! The database enforces every uniqueness rule (see migrations/postgres); a statement that breaks
//! one (an alias drawn at the same moment by another copy, a port service name chosen at the same
//! moment by a copy into another app of the team), a deadlock or a serialization failure rolls the
//! whole transaction back, and the copy is tried again, up to [`MAX_COPY_ATTEMPTS`] times. Retries
//! are counted ([`PgStore::retries`]) and logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Transaction};

use super::pg_records::RecordLayouts;
use super::pipeline::{self, Lookup, RowEncoding, SourceReads, Sources, Statements, TableRows, TakenRow};
use super::scope::{self, Scope, ScopeNames};
use super::{
    AttachedRows, Context, CopyError, CopyOutcome, CopyRequest, KeyedCopy, LoadError, Repository, StoreError,
    StoredAnswer,
};
use crate::fixture::Dataset;
use crate::model::{Component, User};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A pooled connection idle for longer than this is checked (one round trip) before it is used,
/// so that one the database dropped meanwhile (a restart) is replaced instead of failing a
/// request. One used more recently is taken as it is: checking every use cost a copy four round
/// trips more (the access key, the scope, the sources and the copy's turn each take a connection).
pub const CHECK_CONNECTIONS_IDLE_FOR: Duration = Duration::from_secs(1);
/// How many times a copy is tried before [`CopyError::Contended`] is returned.
pub const MAX_COPY_ATTEMPTS: u32 = 8;
/// How long a request waits for a pooled connection (or for a new one to be opened) before it is
/// answered as "database unavailable".
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a statement may run by default (`serve --statement-timeout`); a copy waiting for
/// the app's lock counts.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// First advisory-lock key: copies into an app (the second key is the app's id). The class of
/// the earlier lock per team (`0x5242_0001`) is not reused: instances of one database run one
/// version.
pub const COPY_LOCK_CLASS: i32 = 0x5242_0004;
/// In-process queues of an instance's copies, each for the apps whose id it is by modulo: copies
/// into one app always meet in one queue, and the number of queues stays fixed however many apps
/// are copied into.
const TURN_QUEUES: usize = 256;
/// First advisory-lock key: a copy with an idempotency key (the second key is the hash of the user
/// and the key). Taken without waiting: a key held elsewhere is a copy still running.
pub const KEY_LOCK_CLASS: i32 = 0x5242_0003;
/// Deletes a few expired idempotency keys (`$1`: now, `$2`: how many at most), skipping rows
/// another transaction is deleting.
const DELETE_EXPIRED_KEYS: &str = "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(\
    SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))";
/// Advisory lock taken while a fixture is loaded, so that instances started together with
/// `--demo` load it once.
const FIXTURE_LOCK: (i32, i32) = (0x5242_0002, 0);
/// SQLSTATEs after which the whole copy is tried again: serialization failure, deadlock, unique
/// violation.
const RETRYABLE_SQLSTATES: [&str; 3] = ["40001", "40P01", "23505"];

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    retries: Arc<AtomicU64>,
    /// [`TURN_QUEUES`] queues for this instance's copies (a target app's is [`PgStore::turn_queue`]),
    /// each holding when the last copy of the queue found the database unreachable.
    turn_queues: Arc<[TurnQueue]>,
    /// Where each written table's columns sit in its row type, read when the store opened.
    layouts: Arc<RecordLayouts>,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`) with a pool of at most `pool_size`
    /// connections and brings its schema up to date (instances migrating together take turns).
    pub async fn open(url: &str, pool_size: u32) -> Result<Self, StoreError> {
        Self::open_with_statement_timeout(url, pool_size, DEFAULT_STATEMENT_TIMEOUT).await
    }

    /// [`PgStore::open`], cancelling a statement that runs longer than `statement_timeout`.
    pub async fn open_with_statement_timeout(
        url: &str,
        pool_size: u32,
        statement_timeout: Duration,
    ) -> Result<Self, StoreError> {
        // Appended after the default's: the server applies `-c` options in order, the last one wins.
        let options = Self::connect_options(url)?
            .options([("statement_timeout", format!("{}ms", statement_timeout.as_millis()))]);
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|connection, idle| Box::pin(check_if_idle_long(connection, idle)))
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        MIGRATOR.run(&pool).await.map_err(sqlx::Error::from).context("migrating the database schema")?;
        let layouts = Arc::new(Self::read_layouts(&pool).await?);
        let turn_queues = (0..TURN_QUEUES).map(|_| TurnQueue::default()).collect();
        Ok(PgStore { pool, retries: Arc::default(), turn_queues, layouts })
    }

    /// The [`RecordLayouts`] of every table a copy or a fixture writes.
    async fn read_layouts(pool: &PgPool) -> Result<RecordLayouts, StoreError> {
        let what = "reading the columns of the tables written";
        let names: Vec<&str> = pipeline::ALL_TABLES.iter().map(|table| table.name).collect();
        let rows = sqlx::query_as(RecordLayouts::QUERY).bind(names).fetch_all(pool).await.context(what)?;
        RecordLayouts::new(&pipeline::ALL_TABLES, rows)
            .map_err(|error| StoreError { context: what, source: sqlx::Error::Configuration(error.into()) })
    }

    /// The copy's or the fixture's statements on `connection`.
    fn turn<'c>(&'c self, connection: &'c mut PgConnection) -> PgTurn<'c> {
        PgTurn { connection, layouts: Arc::clone(&self.layouts), pool: &self.pool }
    }

    /// The connection settings of the store for `url` (`postgres://…`): the application name, the
    /// statement timeout, one generic plan per prepared statement, no sequential scans, and no JIT
    /// compilation; commits keep the server's `synchronous_commit`.
    ///
    /// Every statement of the server looks up keys, and each has an index to do it with. A generic
    /// plan is made once per pooled connection and kept while the tables grow (PostgreSQL does not
    /// replan when autovacuum updates the row counts): without sequential scans it can only be
    /// index lookups, whatever the tables held when it was made, so it stays right as they grow.
    /// A custom plan, made at each execution, cost a third of PostgreSQL's CPU under small copies,
    /// and a foreign-key check was planned again for each row written. Without sequential scans,
    /// too, a stale row estimate cannot turn a lookup of a few keys into a read of a whole table
    /// (as it did for a list of 1,000 ids with `= ANY`, see `ATTACHED_ROWS`). No JIT, because the
    /// statements are short and the planner's row estimates for id lists are high: a
    /// 1,000-component copy's port read spent 56 ms compiling and 5 ms running.
    pub fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
        let options: PgConnectOptions = url.parse().context("parsing the database URL")?;
        Ok(options.application_name("rainbond-server").options([
            ("statement_timeout", format!("{}ms", DEFAULT_STATEMENT_TIMEOUT.as_millis())),
            ("plan_cache_mode", "force_generic_plan".to_owned()),
            ("enable_seqscan", "off".to_owned()),
            ("jit", "off".to_owned()),
        ]))
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// How many copies were tried again after a clash with a concurrent writer, since the store
    /// was opened.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// This instance's queue for copies into the app.
    fn turn_queue(&self, app_id: i32) -> &TurnQueue {
        &self.turn_queues[app_id.unsigned_abs() as usize % TURN_QUEUES]
    }

    /// Reads the request's sources on pooled connections, outside any transaction: before the
    /// copy takes its app's turn, so that copies into one app read side by side.
    async fn read_sources(&self, request: &CopyRequest<'_>) -> Result<Sources, StoreError> {
        pipeline::read_sources(&mut SourceReader(&self.pool), request).await
    }

    async fn try_copy(&self, request: &CopyRequest<'_>, sources: &Sources) -> Result<CopyOutcome, CopyError> {
        let app_id = request.target.app.app_id;
        let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({COPY_LOCK_CLASS}, {app_id})");
        let mut tx = self.pool.begin_with(AssertSqlSafe(begin)).await.context("starting the copy in the app's turn")?;
        let copies = pipeline::copy(&mut self.turn(&mut tx), request, sources).await?;
        tx.commit().await.context("committing the copy")?;
        Ok(copies)
    }

    /// Runs the copy, again after a clash, up to [`MAX_COPY_ATTEMPTS`] times.
    async fn copy_with_retries(&self, request: CopyRequest<'_>, sources: &Sources) -> Result<CopyOutcome, CopyError> {
        let mut attempt = 1;
        loop {
            match self.try_copy(&request, sources).await {
                Err(error) if is_retryable(&error) => {
                    let CopyError::Store(last) = error else { unreachable!("only store errors are retried") };
                    if attempt == MAX_COPY_ATTEMPTS {
                        return Err(CopyError::Contended { attempts: attempt, last });
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(attempt, error = %last, "the copy clashed with a concurrent writer; trying again");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn begin_fixture(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await.context("starting the fixture transaction")?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(FIXTURE_LOCK.0)
            .bind(FIXTURE_LOCK.1)
            .execute(&mut *tx)
            .await
            .context("locking the fixture loader")?;
        Ok(tx)
    }
}

/// Whether a pooled connection may be used: one idle for [`CHECK_CONNECTIONS_IDLE_FOR`] must
/// answer a ping first (else the pool closes it and takes or opens another).
async fn check_if_idle_long(connection: &mut PgConnection, idle: PoolConnectionMetadata) -> Result<bool, sqlx::Error> {
    if idle.idle_for >= CHECK_CONNECTIONS_IDLE_FOR {
        sqlx::Connection::ping(connection).await?;
    }
    Ok(true)
}

/// Copies into the apps of one queue from one instance, one at a time; the value is when the last
/// of them found the database unreachable.
type TurnQueue = tokio::sync::Mutex<Option<Instant>>;

/// Whether the copy waited the whole acquire timeout for a connection: then the copies queued
/// behind it fail at once for that long, instead of each waiting it again. Any other failure,
/// even an outage met during the copy (after which the pool opens a new connection), leaves the
/// next copy of the queue to try for itself.
fn waited_for_a_connection_in_vain(result: &Result<CopyOutcome, CopyError>) -> bool {
    matches!(result, Err(CopyError::Store(StoreError { source: sqlx::Error::PoolTimedOut, .. })))
}

/// Whether a failed copy may succeed if tried again from the start.
fn is_retryable(error: &CopyError) -> bool {
    let CopyError::Store(StoreError { source: sqlx::Error::Database(db), .. }) = error else { return false };
    db.code().is_some_and(|code| RETRYABLE_SQLSTATES.contains(&code.as_ref()))
}

/// A short random pause before trying again, growing with the attempt, so that clashing copies
/// do not meet again in lock step.
fn backoff(attempt: u32) -> Duration {
    let jitter = u64::from(uuid::Uuid::new_v4().as_u128() as u16 % 10);
    Duration::from_millis(u64::from(attempt) * 5 + jitter)
}

impl Repository for PgStore {
    async fn user_by_access_key(&self, key_sha256: [u8; 32], now: i64) -> Result<Option<User>, StoreError> {
        let row: Option<(Vec<u8>, i32, String, String)> = sqlx::query_as(
            "SELECT k.key_sha256, u.user_id, u.nick_name, u.enterprise_id FROM user_access_keys k \
             JOIN users u ON u.user_id = k.user_id \
             WHERE k.key_sha256 = $1 AND (k.expire_time IS NULL OR k.expire_time > $2)",
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

    async fn scope(&self, names: &ScopeNames<'_>) -> Result<Scope, StoreError> {
        let p = names.parameters();
        let text: String = sqlx::query_scalar(scope::POSTGRES_QUERY)
            .bind(p.enterprise_id)
            .bind(p.source_team)
            .bind(p.user_id)
            .bind(p.target_team)
            .bind(p.source_region)
            .bind(p.source_app_id)
            .bind(p.target_region)
            .bind(p.target_app_id)
            .fetch_one(&self.pool)
            .await
            .context("looking up the request's teams, regions and apps")?;
        Scope::from_json(&text)
    }

    async fn app_components(&self, app_id: i32) -> Result<Vec<Component>, StoreError> {
        sqlx::query_as(concat!(
            "SELECT ",
            component_columns!(),
            " FROM tenant_services WHERE app_id = $1 ORDER BY update_time DESC, service_id"
        ))
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .context("listing an app's components")
    }

    async fn copy_components(&self, request: CopyRequest<'_>) -> Result<CopyOutcome, CopyError> {
        let sources = self.read_sources(&request).await?;
        let mut turn = self.turn_queue(request.target.app.app_id).lock().await;
        if turn.is_some_and(|failed| failed.elapsed() < ACQUIRE_TIMEOUT) {
            let source = sqlx::Error::PoolTimedOut;
            return Err(
                StoreError { context: "waiting behind a copy that found the database unreachable", source }.into()
            );
        }
        let result = self.copy_with_retries(request, &sources).await;
        *turn = waited_for_a_connection_in_vain(&result).then(Instant::now);
        result
    }

    async fn load_dataset(&self, data: &Dataset, only_into_empty: bool) -> Result<bool, LoadError> {
        let mut tx = self.begin_fixture().await?;
        let loaded = pipeline::load_dataset(&mut self.turn(&mut tx), data, only_into_empty).await?;
        tx.commit().await.context("committing the fixture")?;
        Ok(loaded)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A write statement, rolled back: a read-only transaction or a standby refuses it (25006).
        let mut tx = self.pool.begin().await.context("pinging the database")?;
        sqlx::query("UPDATE applied_fixtures SET name = name WHERE false")
            .execute(&mut *tx)
            .await
            .context("checking that the database takes writes")?;
        tx.rollback().await.context("ending the write check")
    }
}

/// One JSON array (as text) of the rows of `$table` (named `$alias`) that belong to the ids of
/// `$1`, each row as `$json`.
macro_rules! rows_of_the_ids {
    ($alias:literal, $json:literal, $table:literal) => {
        concat!(
            "(SELECT coalesce(json_agg(",
            $json,
            "), '[]')::text FROM ",
            $table,
            " ",
            $alias,
            " WHERE service_id = ANY($1::text[]))"
        )
    };
}

/// The rows attached to the components whose ids are bound as one `text[]`, in one statement: one
/// JSON array per table, in no particular order, the variables', volumes', files' and labels' rows
/// with their row ids ([`super::JsonArrays`]).
///
/// Each table is read through its index on `service_id` with the whole id list (a bitmap scan):
/// with generic plans and no sequential scans ([`PgStore::connect_options`]) no estimate can turn
/// it into a read of the whole table, as stale statistics and custom plans once did (84,000
/// variables read to find 3,000). Looking each id up in a LATERAL subquery, as it was read then,
/// made five plan nodes per table to start at every execution, and cost a 3-component copy's read
/// a third more of PostgreSQL's time.
const ATTACHED_ROWS: &str = concat!(
    "SELECT ",
    rows_of_the_ids!("p", "p", "service_ports"),
    ", ",
    rows_of_the_ids!("e", "json_build_array(e.id, e)", "service_envs"),
    ", ",
    rows_of_the_ids!("v", "json_build_array(v.id, v)", "service_volumes"),
    ", ",
    rows_of_the_ids!("f", "json_build_array(f.id, f)", "service_config_files"),
    ", ",
    rows_of_the_ids!("l", "json_build_array(l.id, l)", "service_labels"),
    ", ",
    rows_of_the_ids!("d", "d", "service_dependencies"),
    ", ",
    rows_of_the_ids!("a", "a", "service_source_auth"),
);

/// One statement that writes every table of `writes`, the rows of table `n` bound as parameter
/// `n` (the text of an array of the table's row type, [`RecordLayouts`]): one data-modifying
/// `WITH` query per table (foreign keys are checked at the end of the statement, so the order
/// within it does not matter), in array order. Rows that link
/// a volume join the volumes written by the same statement. It returns how many rows were linked.
fn write_statement(writes: &[TableRows]) -> String {
    const NEW_VOLUMES: &str = "new_volumes";
    let mut queries = Vec::with_capacity(writes.len());
    let mut linked = "0::bigint".to_owned();
    for (index, TableRows { table, .. }) in writes.iter().enumerate() {
        let (name, columns, n) = (table.name, table.columns, index + 1);
        let rows = format!("unnest(${n}::text::{name}[]) WITH ORDINALITY AS r");
        let (alias, query) = if table.links_volume {
            linked = format!("(SELECT count(*) FROM w{n})");
            let query = format!(
                "INSERT INTO {name} ({columns}) SELECT r.service_id, v.id, r.volume_name, r.file_content FROM {rows} \
                 JOIN {NEW_VOLUMES} v ON v.service_id = r.service_id AND v.volume_name = r.volume_name \
                 ORDER BY r.ordinality RETURNING 1"
            );
            (format!("w{n}"), query)
        } else if name == pipeline::VOLUMES.name {
            let query = format!(
                "INSERT INTO {name} ({columns}) SELECT {columns} FROM {rows} ORDER BY r.ordinality \
                 RETURNING id, service_id, volume_name"
            );
            (NEW_VOLUMES.to_owned(), query)
        } else {
            (
                format!("w{n}"),
                format!("INSERT INTO {name} ({columns}) SELECT {columns} FROM {rows} ORDER BY r.ordinality"),
            )
        };
        queries.push(format!("{alias} AS ({query})"));
    }
    format!("WITH {} SELECT {linked}", queries.join(", "))
}

/// Which of a [`Lookup`]'s aliases, component names and port service names are taken, each name
/// looked up alone (a LATERAL subquery per name, kept from flattening by `OFFSET 0`). Under custom
/// plans, with `name = ANY($n)`, the planner read the whole target app's component names, the
/// whole team's port names and, for a long list, every alias of the store: 30 ms of a
/// 1,000-component copy into a grown store, growing with it. Under the generic plans of
/// [`PgStore::connect_options`] both forms make the same index lookups at the same cost; this one
/// does not depend on them. A port name is looked up among the names' owners.
const TAKEN: &str = "SELECT $1, t.service_alias, '' FROM unnest($2::text[]) AS n(name) CROSS JOIN LATERAL \
        (SELECT service_alias FROM tenant_services WHERE service_alias = n.name OFFSET 0) t \
    UNION ALL SELECT $3, t.k8s_component_name, '' FROM unnest($5::text[]) AS n(name) CROSS JOIN LATERAL \
        (SELECT k8s_component_name FROM tenant_services WHERE app_id = $4 AND k8s_component_name = n.name OFFSET 0) t \
    UNION ALL SELECT $6, o.k8s_service_name, o.service_id FROM unnest($8::text[]) AS n(name) CROSS JOIN LATERAL \
        (SELECT k8s_service_name, service_id FROM port_service_names \
        WHERE tenant_id = $7 AND k8s_service_name = n.name OFFSET 0) o";

/// The reads of a copy's sources on PostgreSQL, each on a pooled connection, outside any
/// transaction.
struct SourceReader<'p>(&'p PgPool);

/// A read about more components than this (the rows attached to the sources, the lookup of the
/// copies' names) is split in two halves, read side by side on two pooled connections: for a
/// large copy such a read is mostly PostgreSQL's work of finding rows (and making their JSON),
/// which two backends share between two cores. Below it, one statement costs less than a second
/// connection.
pub const SPLIT_READS_ABOVE: usize = 200;

impl SourceReader<'_> {
    async fn attached_rows_of(&self, service_ids: &[String]) -> Result<AttachedRows, StoreError> {
        let arrays = sqlx::query_as(ATTACHED_ROWS).bind(service_ids).fetch_one(self.0).await.context(
            "reading the components' ports, variables, volumes, files, labels, dependencies and credentials",
        )?;
        AttachedRows::from_json(arrays)
    }
}

impl SourceReads for SourceReader<'_> {
    async fn source_components(&mut self, app_id: i32) -> Result<Vec<Component>, StoreError> {
        sqlx::query_as(pipeline::SOURCE_COMPONENTS)
            .bind(app_id)
            .fetch_all(self.0)
            .await
            .context("reading the source app's components")
    }

    async fn attached_rows(&mut self, service_ids: Vec<String>) -> Result<AttachedRows, StoreError> {
        if service_ids.len() <= SPLIT_READS_ABOVE {
            return self.attached_rows_of(&service_ids).await;
        }
        let (first, second) = service_ids.split_at(service_ids.len() / 2);
        let (mut rows, rest) = tokio::try_join!(self.attached_rows_of(first), self.attached_rows_of(second))?;
        rows.append(rest);
        Ok(rows)
    }
}

/// The rows of [`TAKEN`] for `lookup`.
async fn taken_names(connection: &mut PgConnection, lookup: &Lookup) -> Result<Vec<TakenRow>, StoreError> {
    sqlx::query_as(TAKEN)
        .bind(pipeline::TAKEN_ALIAS)
        .bind(&lookup.aliases)
        .bind(pipeline::TAKEN_COMPONENT_NAME)
        .bind(lookup.app_id)
        .bind(&lookup.component_names)
        .bind(pipeline::TAKEN_PORT_NAME)
        .bind(&lookup.tenant_id)
        .bind(&lookup.port_names)
        .fetch_all(connection)
        .await
        .context("looking up the new aliases and names")
}

/// A copy's or a fixture load's connection, inside its READ COMMITTED transaction, with the
/// layouts its rows are written in.
struct PgTurn<'c> {
    connection: &'c mut PgConnection,
    layouts: Arc<RecordLayouts>,
    /// Where a large lookup takes a second connection from, if one is idle.
    pool: &'c PgPool,
}

/// The statements of a copy or a fixture load on PostgreSQL.
impl Statements for PgTurn<'_> {
    fn row_encoding(&self) -> RowEncoding {
        RowEncoding::Records(Arc::clone(&self.layouts))
    }

    /// A lookup of more than [`SPLIT_READS_ABOVE`] copies is split in two halves, the second
    /// looked up side by side on another pooled connection when one is idle (never waiting for
    /// one, as the turn already holds a connection). The other connection sees what this one
    /// would: the app's turn keeps its component names from changing, and a name of the team or
    /// the store taken meanwhile is refused by its key at the write, as it is for one lookup. An
    /// idle connection is taken unchecked: if its half fails, it is looked up again here.
    async fn taken(&mut self, lookup: &Lookup) -> Result<Vec<TakenRow>, StoreError> {
        if lookup.aliases.len() > SPLIT_READS_ABOVE
            && let Some(mut other) = self.pool.try_acquire()
        {
            let (first, second) = lookup.halves();
            let (taken, rest) = tokio::join!(taken_names(self.connection, &first), taken_names(&mut other, &second));
            let mut taken = taken?;
            match rest {
                Ok(rest) => taken.extend(rest),
                Err(error) => {
                    tracing::info!(%error, "a half of the name lookup failed on another connection; looking it up again");
                    taken.extend(taken_names(self.connection, &second).await?);
                }
            }
            return Ok(taken);
        }
        taken_names(self.connection, lookup).await
    }

    async fn fixture_state(&mut self, name: &str) -> Result<(bool, i64), StoreError> {
        let (applied, stored): (i64, i64) = sqlx::query_as(pipeline::FIXTURE_STATE)
            .bind(name)
            .fetch_one(&mut *self.connection)
            .await
            .context("reading the applied fixtures")?;
        Ok((applied > 0, stored))
    }

    async fn record_fixture(&mut self, name: &str, sha256: &str, now: String) -> Result<(), StoreError> {
        sqlx::query(pipeline::RECORD_FIXTURE)
            .bind(name)
            .bind(sha256)
            .bind(now)
            .execute(&mut *self.connection)
            .await
            .context("recording the fixture")?;
        Ok(())
    }

    async fn claim_key(&mut self, user_id: i32, key: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1, hashtext($2 || ':' || $3))")
            .bind(KEY_LOCK_CLASS)
            .bind(user_id.to_string())
            .bind(key)
            .fetch_one(&mut *self.connection)
            .await
            .context("locking the idempotency key")
    }

    async fn delete_expired_keys(&mut self, now: i64, limit: i64) -> Result<(), StoreError> {
        sqlx::query(DELETE_EXPIRED_KEYS)
            .bind(now)
            .bind(limit)
            .execute(&mut *self.connection)
            .await
            .context("deleting expired idempotency keys")?;
        Ok(())
    }

    async fn stored_answer(&mut self, user_id: i32, key: &str, now: i64) -> Result<Option<StoredAnswer>, StoreError> {
        let row: Option<(String, i32, String)> = sqlx::query_as(pipeline::STORED_ANSWER)
            .bind(user_id)
            .bind(key)
            .bind(now)
            .fetch_optional(&mut *self.connection)
            .await
            .context("looking up the idempotency key")?;
        Ok(row.map(|(fingerprint, status, body)| StoredAnswer { fingerprint, status: status as u16, body }))
    }

    async fn remember(&mut self, keyed: &KeyedCopy<'_>, status: u16, body: &str) -> Result<(), StoreError> {
        sqlx::query(pipeline::REMEMBER_ANSWER)
            .bind(keyed.user_id)
            .bind(keyed.key)
            .bind(keyed.fingerprint)
            .bind(i32::from(status))
            .bind(body)
            .bind(keyed.expires_at)
            .execute(&mut *self.connection)
            .await
            .context("remembering the answer of the idempotency key")?;
        Ok(())
    }

    async fn write(&mut self, writes: &[TableRows]) -> Result<u64, StoreError> {
        if writes.is_empty() {
            return Ok(0);
        }
        let mut query = sqlx::query_scalar(AssertSqlSafe(write_statement(writes)));
        for TableRows { rows, .. } in writes {
            query = query.bind(rows);
        }
        let what = "inserting components, ports, variables, volumes, files, labels, dependencies and credentials";
        let linked: i64 = query.fetch_one(&mut *self.connection).await.context(what)?;
        Ok(linked as u64)
    }
}

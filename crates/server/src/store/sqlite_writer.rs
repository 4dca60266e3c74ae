//! SQLite's copies and fixture loads as one unit of blocking work on one connection.
//!
//! sqlx runs each SQLite connection on its own worker thread and hands every statement to it and
//! its rows back, so a copy of a dozen statements cost a dozen thread hand-offs, and the wake-ups
//! took more of the server's CPU than SQLite itself. The writer is instead one rusqlite
//! connection (the same libsqlite3-sys as sqlx's driver, so one SQLite is linked), with the
//! store's settings and cached prepared statements, on which a whole copy (every lookup and
//! every write, in one `BEGIN IMMEDIATE` transaction) runs as one blocking call on the calling
//! worker thread ([`tokio::task::block_in_place`]).

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::{Map, Value};

use super::pipeline::{self, Lookup, Statements, TableRows, TakenRow};
use super::{AttachedRows, KeyedCopy, StoreError, StoredAnswer};
use crate::model::Component;

/// The lookups of a [`Lookup`] in one statement; each list is bound as one JSON array.
const TAKEN: &str = "SELECT ?1, service_alias, '' FROM tenant_services \
    WHERE service_alias IN (SELECT value FROM json_each(?2)) \
    UNION ALL SELECT ?3, k8s_component_name, '' FROM tenant_services \
    WHERE app_id = ?4 AND k8s_component_name IN (SELECT value FROM json_each(?5)) \
    UNION ALL SELECT ?6, k8s_service_name, service_id FROM service_ports \
    WHERE tenant_id = ?7 AND k8s_service_name IN (SELECT value FROM json_each(?8))";

/// Deletes a few expired idempotency keys (`?1`: now, `?2`: how many at most), oldest first.
const DELETE_EXPIRED_KEYS: &str = "DELETE FROM idempotency_keys WHERE rowid IN \
    (SELECT rowid FROM idempotency_keys WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)";

/// The writer connection (none once the store is closed).
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    connection: Arc<Mutex<Option<Connection>>>,
}

impl Writer {
    /// Opens the database file at `path` (already created and migrated) with the store's
    /// settings: WAL, full synchronous commits, foreign keys, the busy timeout.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Writer, StoreError> {
        let what = "opening the SQLite writer connection";
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(path, flags).map_err(store_error(what))?;
        connection.busy_timeout(busy_timeout).map_err(store_error(what))?;
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(store_error(what))?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(Writer { connection: Arc::new(Mutex::new(Some(connection))) })
    }

    /// Closes the connection; later work fails as on a closed pool.
    pub fn close(&self) {
        let connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(Err((_, error))) = connection.map(Connection::close) {
            tracing::warn!(%error, "closing the SQLite writer connection");
        }
    }

    /// Runs `work` on the writer in one `BEGIN IMMEDIATE` transaction, committed when it succeeds
    /// and rolled back otherwise, as one blocking call on this thread. `work` is a pipeline step
    /// over [`Statements`], whose statements here never wait, so it completes in one poll.
    pub fn transaction<T, E>(&self, work: impl AsyncFnOnce(&mut WriterTransaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let run = || {
            let mut guard = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(connection) = guard.as_mut() else {
                return Err(StoreError { context: "writing", source: sqlx::Error::PoolClosed }.into());
            };
            connection.execute_batch("BEGIN IMMEDIATE").map_err(store_error("starting the write transaction"))?;
            let result = complete(work(&mut WriterTransaction(connection)));
            let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
            match connection.execute_batch(end).map_err(store_error("ending the write transaction")) {
                Ok(()) => result,
                Err(error) => {
                    // A failed COMMIT leaves the transaction open: give it up.
                    let _ = connection.execute_batch("ROLLBACK");
                    Err(error.into())
                }
            }
        };
        // `block_in_place` needs the multi-threaded runtime; elsewhere (a single-threaded test
        // runtime) the work simply blocks the thread it runs on.
        match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        }
    }
}

/// The value of a future that completes in its first poll.
fn complete<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut TaskContext::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("the SQLite writer's statements never wait"),
    }
}

/// The writer's connection, in its open transaction.
pub(crate) struct WriterTransaction<'c>(&'c mut Connection);

impl WriterTransaction<'_> {
    /// The rows of `sql` with `params`, as JSON objects named by column.
    fn json_rows(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        what: &'static str,
    ) -> Result<Vec<Value>, StoreError> {
        let mut statement = self.0.prepare_cached(sql).map_err(store_error(what))?;
        let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = statement.query(params).map_err(store_error(what))?;
        let mut values = Vec::new();
        while let Some(row) = rows.next().map_err(store_error(what))? {
            let mut object = Map::with_capacity(names.len());
            for (index, name) in names.iter().enumerate() {
                object.insert(name.clone(), json_value(row.get_ref(index).map_err(store_error(what))?));
            }
            values.push(Value::Object(object));
        }
        Ok(values)
    }
}

/// A column value as JSON (text, integer, real or null; blobs are not read here).
fn json_value(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null | ValueRef::Blob(_) => Value::Null,
        ValueRef::Integer(n) => Value::from(n),
        ValueRef::Real(x) => Value::from(x),
        ValueRef::Text(text) => Value::from(String::from_utf8_lossy(text).into_owned()),
    }
}

impl Statements for WriterTransaction<'_> {
    async fn source_components(&mut self, app_id: i32) -> Result<Vec<Component>, StoreError> {
        let what = "reading the source app's components";
        let rows = self.json_rows(pipeline::SOURCE_COMPONENTS, [app_id], what)?;
        rows.into_iter()
            .map(|row| {
                serde_json::from_value(row)
                    .map_err(|e| StoreError { context: what, source: sqlx::Error::Decode(e.into()) })
            })
            .collect()
    }

    async fn attached_rows(&mut self, service_ids: Vec<String>) -> Result<AttachedRows, StoreError> {
        let what = "reading the components' ports, variables, volumes, files, labels, dependencies and credentials";
        let ids = serde_json::to_string(&service_ids).expect("strings serialize");
        let mut statement = self.0.prepare_cached(super::sqlite::ATTACHED_ROWS).map_err(store_error(what))?;
        let arrays = statement
            .query_row([ids], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
            })
            .map_err(store_error(what))?;
        AttachedRows::from_json(arrays)
    }

    async fn lock_team(&mut self, _tenant_id: &str) -> Result<(), StoreError> {
        // The transaction is `BEGIN IMMEDIATE`: it already writes alone.
        Ok(())
    }

    async fn taken(&mut self, lookup: &Lookup) -> Result<Vec<TakenRow>, StoreError> {
        let what = "looking up the new aliases and names";
        let list = |list: &[String]| serde_json::to_string(list).expect("strings serialize");
        let mut statement = self.0.prepare_cached(TAKEN).map_err(store_error(what))?;
        let rows = statement
            .query_map(
                rusqlite::params![
                    pipeline::TAKEN_ALIAS,
                    list(&lookup.aliases),
                    pipeline::TAKEN_COMPONENT_NAME,
                    lookup.app_id,
                    list(&lookup.component_names),
                    pipeline::TAKEN_PORT_NAME,
                    lookup.tenant_id,
                    list(&lookup.port_names),
                ],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(store_error(what))?;
        rows.collect::<Result<_, _>>().map_err(store_error(what))
    }

    async fn write(&mut self, writes: &[TableRows]) -> Result<u64, StoreError> {
        let mut linked = 0;
        for TableRows { table, rows } in writes {
            let sql = super::sqlite::insert_statement(table);
            let mut statement = self.0.prepare_cached(&sql).map_err(store_error(table.what))?;
            let inserted = statement.execute([rows]).map_err(store_error(table.what))?;
            if table.links_volume {
                linked += inserted as u64;
            }
        }
        Ok(linked)
    }

    async fn claim_key(&mut self, _user_id: i32, _key: &str) -> Result<bool, StoreError> {
        // The transaction is `BEGIN IMMEDIATE`: a copy with the same key ran before it or runs after.
        Ok(true)
    }

    async fn delete_expired_keys(&mut self, now: i64, limit: i64) -> Result<(), StoreError> {
        let what = "deleting expired idempotency keys";
        let mut statement = self.0.prepare_cached(DELETE_EXPIRED_KEYS).map_err(store_error(what))?;
        statement.execute([now, limit]).map_err(store_error(what))?;
        Ok(())
    }

    async fn stored_answer(&mut self, user_id: i32, key: &str, now: i64) -> Result<Option<StoredAnswer>, StoreError> {
        let what = "looking up the idempotency key";
        let mut statement = self.0.prepare_cached(pipeline::STORED_ANSWER).map_err(store_error(what))?;
        statement
            .query_row(rusqlite::params![user_id, key, now], |row| {
                Ok(StoredAnswer { fingerprint: row.get(0)?, status: row.get(1)?, body: row.get(2)? })
            })
            .optional()
            .map_err(store_error(what))
    }

    async fn remember(&mut self, keyed: &KeyedCopy<'_>, status: u16, body: &str) -> Result<(), StoreError> {
        let what = "remembering the answer of the idempotency key";
        let mut statement = self.0.prepare_cached(pipeline::REMEMBER_ANSWER).map_err(store_error(what))?;
        statement
            .execute(rusqlite::params![keyed.user_id, keyed.key, keyed.fingerprint, status, body, keyed.expires_at])
            .map_err(store_error(what))?;
        Ok(())
    }

    async fn fixture_state(&mut self, name: &str) -> Result<(bool, i64), StoreError> {
        let what = "reading the applied fixtures";
        let mut statement = self.0.prepare_cached(pipeline::FIXTURE_STATE).map_err(store_error(what))?;
        let (applied, stored): (i64, i64) =
            statement.query_row([name], |row| Ok((row.get(0)?, row.get(1)?))).map_err(store_error(what))?;
        Ok((applied > 0, stored))
    }

    async fn record_fixture(&mut self, name: &str, sha256: &str, now: String) -> Result<(), StoreError> {
        let what = "recording the fixture";
        let mut statement = self.0.prepare_cached(pipeline::RECORD_FIXTURE).map_err(store_error(what))?;
        statement.execute(rusqlite::params![name, sha256, now]).map_err(store_error(what))?;
        Ok(())
    }
}

/// A SQLite error of the writer, as a database error of the store (its code is SQLite's extended
/// result code, as sqlx's SQLite errors give it).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct WriterError {
    message: String,
    code: i32,
}

impl sqlx::error::DatabaseError for WriterError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}

/// Maps a rusqlite error to a [`StoreError`] with `context`: SQLite's own failures as database
/// errors (so that a lock held elsewhere is [`StoreError::is_unavailable`]), anything else (a
/// value of an unexpected type) as a decoding error.
fn store_error(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| {
        let source = match error {
            rusqlite::Error::SqliteFailure(failure, message) => {
                let message = message.unwrap_or_else(|| failure.to_string());
                sqlx::Error::Database(Box::new(WriterError { message, code: failure.extended_code }))
            }
            other => sqlx::Error::Decode(Box::new(other)),
        };
        StoreError { context, source }
    }
}

//! SQLite's reads (an access key, a request's scope, an app's components, a copy's sources) on
//! rusqlite reader connections, run where the request's task runs.
//!
//! Through sqlx, each of these reads was a hand-off to the connection's worker thread and back,
//! and the wake-ups cost more than the lookups. A reader is instead a plain connection with cached
//! prepared statements, used by one request at a time: WAL lets it read the last committed state
//! beside the [`super::sqlite_writer::Writer`] without waiting for it, so a copy's sources read
//! here stay off the writer's serial chain. Most reads are a few index pages and run on the
//! calling thread like any other short computation; the longest, the sources of a 1,000-component
//! copy (its components and their 12,000 rows: 12–17 ms in SQLite) or the list of such an app,
//! hold one of the runtime's threads for that long, as the encoding of their answers does.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use serde::de::value::MapDeserializer;
use serde_json::Value;

use super::pipeline::{self, SourceReads};
use super::sqlite_writer::{open_connection, store_error};
use super::{AttachedRows, StoreError};
use crate::model::Component;

/// How many idle reader connections are kept for the next reads (more are opened when more
/// requests read at once, and closed after use).
const MAX_IDLE_READERS: usize = 8;

/// The reader connections of a database file.
#[derive(Debug, Clone)]
pub(crate) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    /// Idle connections; `None` once the store is closed.
    idle: Arc<Mutex<Option<Vec<Connection>>>>,
}

impl Readers {
    /// Readers of the database file at `path` (already created and migrated).
    pub fn new(path: &Path, busy_timeout: Duration) -> Readers {
        Readers { path: path.to_owned(), busy_timeout, idle: Arc::new(Mutex::new(Some(Vec::new()))) }
    }

    /// Runs `read` on an idle reader connection (a new one if none is idle).
    pub fn read<T>(
        &self,
        what: &'static str,
        read: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self.take(what)?;
        let result = read(&mut connection);
        self.give_back(connection);
        result
    }

    /// The first row of `sql` with `params`, mapped by `map`, if there is one.
    pub fn optional_row<T>(
        &self,
        what: &'static str,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        self.read(what, |connection| {
            let mut statement = connection.prepare_cached(sql).map_err(store_error(what))?;
            statement.query_row(params, map).optional().map_err(store_error(what))
        })
    }

    /// Closes the idle connections; later reads fail as on a closed pool.
    pub fn close(&self) {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).take();
        for connection in idle.into_iter().flatten() {
            if let Err((_, error)) = connection.close() {
                tracing::warn!(%error, "closing a SQLite reader connection");
            }
        }
    }

    fn take(&self, what: &'static str) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).as_mut().map(Vec::pop);
        match idle {
            None => Err(StoreError { context: what, source: sqlx::Error::PoolClosed }),
            Some(Some(connection)) => Ok(connection),
            Some(None) => {
                let connection = open_connection(&self.path, self.busy_timeout, "opening a SQLite reader connection")?;
                connection.pragma_update(None, "query_only", true).map_err(store_error(what))?;
                Ok(connection)
            }
        }
    }

    fn give_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(idle) = idle.as_mut().filter(|idle| idle.len() < MAX_IDLE_READERS) {
            idle.push(connection);
        }
    }
}

/// The components `sql` reads with `params` (the columns of [`Component`], named as its fields).
/// Each row is deserialized straight from its (column name, value) pairs, without building a JSON
/// object first.
pub(super) fn components(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    what: &'static str,
) -> Result<Vec<Component>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(store_error(what))?;
    let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = statement.query(params).map_err(store_error(what))?;
    let mut components = Vec::new();
    while let Some(row) = rows.next().map_err(store_error(what))? {
        let values = (0..names.len()).map(|index| row.get_ref(index).map(json_value)).collect::<Result<Vec<_>, _>>();
        let fields = names.iter().map(String::as_str).zip(values.map_err(store_error(what))?);
        let component = Component::deserialize(MapDeserializer::<_, serde_json::Error>::new(fields))
            .map_err(|e| StoreError { context: what, source: sqlx::Error::Decode(e.into()) })?;
        components.push(component);
    }
    Ok(components)
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

/// A copy's source reads on a SQLite connection: a reader's, before the copy is handed to the
/// writer, so that the writer's serial work is only the copy's lookups and writes.
pub(super) struct SourceReader<'c>(pub &'c mut Connection);

impl SourceReads for SourceReader<'_> {
    async fn source_components(&mut self, app_id: i32) -> Result<Vec<Component>, StoreError> {
        components(self.0, pipeline::SOURCE_COMPONENTS, [app_id], "reading the source app's components")
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
}

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

use super::StoreError;
use super::sqlite_writer::{open_connection, store_error};

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

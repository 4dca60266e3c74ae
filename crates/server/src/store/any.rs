//! [`Store`]: the backend named by a database location.

use std::time::Duration;

use super::{
    CopyError, CopyOutcome, CopyRequest, DEFAULT_BUSY_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, LoadError, PgStore,
    PoolStats, Repository, Scope, ScopeNames, SqliteStore, StoreError,
};
use crate::fixture::Dataset;
use crate::model::{Component, User};

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// PostgreSQL: the most connections the instance opens (SQLite uses a fixed small pool).
    pub pool_size: u32,
    /// SQLite: how long a statement waits for a lock held by another connection or process
    /// before the request is answered 503.
    pub busy_timeout: Duration,
    /// PostgreSQL: the longest a statement may run (waiting for a lock included) before it is
    /// cancelled and the request answered 503.
    pub statement_timeout: Duration,
}

impl StoreOptions {
    /// The default PostgreSQL pool size of an instance.
    pub const DEFAULT_POOL_SIZE: u32 = 16;
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pool_size: Self::DEFAULT_POOL_SIZE,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }
}

/// The SQLite or PostgreSQL store.
#[derive(Debug, Clone)]
pub enum Store {
    /// An embedded SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database, possibly shared by several instances.
    Postgres(PgStore),
}

/// Whether a database location names PostgreSQL (`postgres://…` or `postgresql://…`) rather than
/// SQLite (`sqlite:…` or a file path).
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Store {
    /// Opens the database at `location`: PostgreSQL for a `postgres://` URL, else SQLite.
    pub async fn open(location: &str, options: StoreOptions) -> Result<Store, StoreError> {
        Ok(if is_postgres_url(location) {
            Store::Postgres(
                PgStore::open_with_statement_timeout(location, options.pool_size, options.statement_timeout).await?,
            )
        } else {
            Store::Sqlite(SqliteStore::open_with_busy_timeout(location, options.busy_timeout).await?)
        })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(store) => store.close().await,
            Store::Postgres(store) => store.close().await,
        }
    }
}

/// Calls the same method on whichever backend `$store` is, counted as a store call in the
/// metrics while it runs.
macro_rules! delegate {
    ($store:expr, $backend:ident => $call:expr) => {{
        let _call = crate::metrics::global().store_call();
        match $store {
            Store::Sqlite($backend) => $call,
            Store::Postgres($backend) => $call,
        }
    }};
}

impl Repository for Store {
    async fn user_by_access_key(&self, key_sha256: [u8; 32], now: i64) -> Result<Option<User>, StoreError> {
        delegate!(self, s => s.user_by_access_key(key_sha256, now).await)
    }

    async fn scope(&self, names: &ScopeNames<'_>) -> Result<Scope, StoreError> {
        delegate!(self, s => s.scope(names).await)
    }

    async fn app_components(&self, app_id: i32) -> Result<Vec<Component>, StoreError> {
        delegate!(self, s => s.app_components(app_id).await)
    }

    async fn copy_components(&self, request: CopyRequest<'_>) -> Result<CopyOutcome, CopyError> {
        delegate!(self, s => s.copy_components(request).await)
    }

    async fn load_dataset(&self, data: &Dataset, only_into_empty: bool) -> Result<bool, LoadError> {
        delegate!(self, s => s.load_dataset(data, only_into_empty).await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self, s => s.ping().await)
    }

    fn pool_stats(&self) -> PoolStats {
        match self {
            Store::Sqlite(store) => PoolStats::of(store.pool(), 0),
            Store::Postgres(store) => PoolStats::of(store.pool(), store.retries()),
        }
    }
}

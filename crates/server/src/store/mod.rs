//! Persistence. [`Repository`] is what the API needs from a database; [`SqliteStore`] implements
//! it on an embedded SQLite file. A second backend implements the same trait and reuses the
//! storage-independent copy steps of [`crate::copy`].

mod sqlite;

use std::future::Future;

pub use sqlite::{DEFAULT_BUSY_TIMEOUT, SqliteStore};

use crate::copy::{PlanError, SelectionError, Target};
use crate::fixture::Dataset;
use crate::model::{App, Component, Region, Team, User};

/// A database failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct StoreError {
    /// What was being done.
    pub context: &'static str,
    /// The driver's error.
    #[source]
    pub source: sqlx::Error,
}

impl StoreError {
    /// Whether the database was only busy: another connection or process held the lock, or no
    /// pooled connection came free, for longer than the busy timeout. Retrying later may work.
    pub fn is_busy(&self) -> bool {
        match &self.source {
            sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(error) => error
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED)),
            _ => false,
        }
    }
}

/// SQLite's primary result codes for "another connection holds the lock".
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;

/// Adds a context to database results.
pub(crate) trait Context<T> {
    fn context(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError { context, source })
    }
}

/// Why a copy failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The request selects components that cannot be copied.
    #[error(transparent)]
    Selection(#[from] SelectionError),
    /// No free name or alias could be found.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a fixture could not be loaded. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The database already holds other data than this fixture.
    #[error("the database already holds data; `{0}` is only loaded into an empty database")]
    NotEmpty(String),
    /// The database refused a row (for example a duplicate id or name).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A copy to make: the source app, the requested component ids (empty: every complete
/// component), and the target.
#[derive(Debug, Clone)]
pub struct CopyRequest<'a> {
    /// The source app (already checked to belong to the caller's team and the URL's region).
    pub source_app: &'a App,
    /// Requested component ids, as sent.
    pub requested: &'a [String],
    /// Where the copies go.
    pub target: Target<'a>,
}

/// What the API needs from storage. Every method is one short read, except
/// [`Repository::copy_components`], which runs a whole copy in one transaction.
pub trait Repository: Send + Sync + 'static {
    /// The user whose access key has this SHA-256 digest, if the key exists and has not expired
    /// at `now` (unix seconds).
    fn user_by_access_key(
        &self,
        key_sha256: [u8; 32],
        now: i64,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// The team of `enterprise_id` whose tenant id, or else tenant name, is `id_or_name`.
    fn team(
        &self,
        enterprise_id: &str,
        id_or_name: &str,
    ) -> impl Future<Output = Result<Option<Team>, StoreError>> + Send;

    /// Whether the user is a member of the team.
    fn is_member(&self, tenant_id: &str, user_id: i32) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The team named `tenant_name` among the teams the user is a member of.
    fn member_team_by_name(
        &self,
        user_id: i32,
        tenant_name: &str,
    ) -> impl Future<Output = Result<Option<Team>, StoreError>> + Send;

    /// The region of `enterprise_id` named `region_name`.
    fn region(
        &self,
        enterprise_id: &str,
        region_name: &str,
    ) -> impl Future<Output = Result<Option<Region>, StoreError>> + Send;

    /// Whether the team is initialised in the region.
    fn team_in_region(
        &self,
        tenant_id: &str,
        region_name: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The app with this id.
    fn app(&self, app_id: i32) -> impl Future<Output = Result<Option<App>, StoreError>> + Send;

    /// The app's components, most recently updated first.
    fn app_components(&self, app_id: i32) -> impl Future<Output = Result<Vec<Component>, StoreError>> + Send;

    /// Copies components in one transaction: selects them ([`crate::copy::select`]), draws
    /// identities whose aliases are free across the store, plans the copies
    /// ([`crate::copy::plan`]) and writes them. Returns the new components in copy order.
    fn copy_components(
        &self,
        request: CopyRequest<'_>,
    ) -> impl Future<Output = Result<Vec<Component>, CopyError>> + Send;

    /// Loads a fixture's rows in one transaction. With `only_into_empty`, refuses a database
    /// that holds anything; loading a fixture that is already recorded does nothing and returns
    /// `false`.
    fn load_dataset(
        &self,
        data: &Dataset,
        only_into_empty: bool,
    ) -> impl Future<Output = Result<bool, LoadError>> + Send;

    /// Whether the database answers and accepts writes.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

//! Persistence. [`Repository`] is what the API needs from a database; [`SqliteStore`] implements
//! it on an embedded SQLite file, [`PgStore`] on a PostgreSQL database that several server
//! instances share. Both reuse the storage-independent copy steps of [`crate::copy`];
//! [`Store`] is either, chosen by the database location.

/// The columns of `tenant_services`, in [`Component`] order.
macro_rules! component_columns {
    () => {
        "service_id, service_alias, tenant_id, service_region, app_id, service_key, service_cname, \"desc\", category, \
         version, update_version, image, cmd, min_node, min_cpu, container_gpu, min_memory, extend_method, code_from, \
         git_url, git_project_id, git_full_name, code_version, service_type, creater, language, total_memory, is_service, \
         service_origin, tenant_service_group_id, open_webhooks, service_source, create_status, check_uuid, \
         check_event_id, docker_cmd, server_type, is_upgrate, build_upgrade, oauth_service_id, k8s_component_name, \
         deploy_version, create_time, update_time"
    };
}

mod any;
mod pg_records;
mod pipeline;
mod postgres;
mod scope;
mod sqlite;
mod sqlite_readers;
mod sqlite_writer;

use std::collections::HashMap;
use std::future::Future;

pub use any::{Store, StoreOptions, is_postgres_url};
pub use postgres::{
    CHECK_CONNECTIONS_IDLE_FOR, COPY_LOCK_CLASS, DEFAULT_STATEMENT_TIMEOUT, KEY_LOCK_CLASS, MAX_COPY_ATTEMPTS, PgStore,
};
pub use scope::{Place, Scope, ScopeNames, Side};
pub use sqlite::{DEFAULT_BUSY_TIMEOUT, SqliteStore};

use crate::copy::{PlanError, SelectionError, Target};
use crate::fixture::Dataset;
use crate::model::{
    App, Component, ComponentGraph, ConfigFile, Dependency, EnvVar, Label, Port, SourceAuth, User, Volume,
};

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

/// SQLite's primary result codes for "another connection holds the lock".
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;

/// Adds a context to database results.
pub(crate) trait Context<T> {
    fn context(self, context: &'static str) -> Result<T, StoreError>;
}

impl StoreError {
    /// Whether the database could not be used for now, rather than refusing the statement: it is
    /// down or restarting, another connection or process held its lock past the busy timeout, or
    /// no pooled connection came free in time. Nothing was changed; retrying later may work.
    /// Anything else (a statement the database or the driver refuses, such as one with more
    /// parameters than the protocol carries) would fail again, and is not an outage.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self.source,
            sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
        ) || matches!(&self.source, sqlx::Error::Database(e) if is_unavailable_database_error(e.as_ref()))
    }
}

/// SQLite's codes of a lock held elsewhere, and PostgreSQL's SQLSTATEs of a server that is
/// shutting down, starting up or refusing connections (classes 08 and 57P), or of a statement
/// cancelled by the statement timeout (57014).
fn is_unavailable_database_error(error: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = error.code() else { return false };
    if error.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        || error.try_downcast_ref::<sqlite_writer::WriterError>().is_some()
    {
        code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
    } else {
        // 57014: a statement cancelled, by the statement timeout (a lock held past it) or by an operator.
        code.starts_with("08") || code.starts_with("57P") || code == "57014"
    }
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
    /// The idempotency key was used, within its lifetime, for another request of the user.
    #[error("the idempotency key was already used for another request")]
    KeyReused,
    /// A copy with the same key is still running (on another instance).
    #[error("a copy with the same idempotency key is still running")]
    KeyInProgress,
    /// Concurrent writers kept clashing with this copy (serialization failures, deadlocks or
    /// uniqueness races) after every allowed attempt.
    #[error("the copy clashed with concurrent writers {attempts} times in a row; last: {last}")]
    Contended {
        /// How many times the copy was tried.
        attempts: u32,
        /// The last clash.
        last: StoreError,
    },
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
    /// The request's idempotency key, if it has one.
    pub idempotency: Option<KeyedCopy<'a>>,
}

/// The idempotency key of a copy request: its answer is remembered with it, and a request with
/// the same key gets that answer instead of a new copy (see [`crate::idempotency`]).
#[derive(Debug, Clone)]
pub struct KeyedCopy<'a> {
    /// The caller (keys of one user never match another user's).
    pub user_id: i32,
    /// The key, as checked by [`crate::idempotency::checked_key`].
    pub key: &'a str,
    /// The request's [`crate::idempotency::fingerprint`].
    pub fingerprint: &'a str,
    /// Now, in unix seconds: a key whose `expires_at` is not after it has expired.
    pub now: i64,
    /// When the answer of this copy expires (unix seconds).
    pub expires_at: i64,
    /// The body of the copy's `200` answer, from the new components.
    pub answer_body: fn(&[Component]) -> String,
}

/// An answer remembered with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The fingerprint of the request that made it.
    pub fingerprint: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its body.
    pub body: String,
}

/// What a copy did.
#[derive(Debug, Clone)]
pub enum CopyOutcome {
    /// The new components, in copy order.
    Copied(Vec<Component>),
    /// Nothing: the request's key was used before by the same request, whose answer this is.
    Replayed(StoredAnswer),
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

    /// The teams, regions and apps a request names, and the caller's standing in them, in one
    /// lookup ([`Scope`]).
    fn scope(&self, names: &ScopeNames<'_>) -> impl Future<Output = Result<Scope, StoreError>> + Send;

    /// The app's components, most recently updated first.
    fn app_components(&self, app_id: i32) -> impl Future<Output = Result<Vec<Component>, StoreError>> + Send;

    /// Copies components in one transaction: selects them ([`crate::copy::select`]), draws
    /// identities whose aliases are free across the store, plans the copies
    /// ([`crate::copy::plan`]) and writes them. Returns the new components in copy order.
    ///
    /// With an idempotency key, the same transaction first looks the key up: an answer
    /// remembered for the same request is returned and nothing is copied
    /// ([`CopyOutcome::Replayed`]); one for another request is [`CopyError::KeyReused`]; a key
    /// held by a copy still running elsewhere is [`CopyError::KeyInProgress`]. Otherwise the
    /// copy's answer is remembered with the key, and a few expired keys are deleted.
    fn copy_components(&self, request: CopyRequest<'_>) -> impl Future<Output = Result<CopyOutcome, CopyError>> + Send;

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

    /// The connection pool's figures and the copy retries, for the metrics.
    fn pool_stats(&self) -> PoolStats {
        PoolStats::default()
    }
}

/// A store's connection pool and retry figures, as of now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// The most connections the pool opens.
    pub max: u32,
    /// Connections open (in use or idle).
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// Copies tried again after a clash (PostgreSQL) since the store was opened.
    pub copy_retries: u64,
}

impl PoolStats {
    /// The figures of a sqlx pool.
    pub(crate) fn of<DB: sqlx::Database>(pool: &sqlx::Pool<DB>, copy_retries: u64) -> PoolStats {
        PoolStats {
            max: pool.options().get_max_connections(),
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            copy_retries,
        }
    }
}

/// The rows attached to a set of components, as read by a backend, before they are grouped by
/// component. The backends read them in no particular order (an `ORDER BY` inside each table's
/// aggregate cost SQLite a sort per table and about a tenth of a copy's time on the writer);
/// [`AttachedRows::into_graphs`] puts each component's rows in the order the copy keeps.
#[derive(Debug, Default)]
pub(crate) struct AttachedRows {
    pub ports: Vec<Port>,
    pub envs: Vec<WithRowId<EnvVar>>,
    pub volumes: Vec<WithRowId<Volume>>,
    pub config_files: Vec<WithRowId<ConfigFile>>,
    pub labels: Vec<WithRowId<Label>>,
    pub dependencies: Vec<Dependency>,
    pub auths: Vec<SourceAuth>,
}

/// A row and its table's row id (`id`), read as the JSON array `[id, row]`: the order of a
/// component's variables, volumes, files and labels is the order they were added in.
pub(crate) type WithRowId<T> = (i64, T);

/// [`AttachedRows`] read as one JSON array per table: ports, variables, volumes, configuration
/// files, labels, dependencies, build-source credentials.
pub(crate) type JsonArrays = (String, String, String, String, String, String, String);

impl AttachedRows {
    /// Adds the rows of `other` (read for other components).
    pub fn append(&mut self, mut other: AttachedRows) {
        self.ports.append(&mut other.ports);
        self.envs.append(&mut other.envs);
        self.volumes.append(&mut other.volumes);
        self.config_files.append(&mut other.config_files);
        self.labels.append(&mut other.labels);
        self.dependencies.append(&mut other.dependencies);
        self.auths.append(&mut other.auths);
    }

    /// The rows of [`JsonArrays`].
    pub fn from_json(arrays: JsonArrays) -> Result<AttachedRows, StoreError> {
        let (ports, envs, volumes, config_files, labels, dependencies, auths) = arrays;
        Ok(AttachedRows {
            ports: from_json_array(&ports, "reading ports")?,
            envs: from_json_array(&envs, "reading environment variables")?,
            volumes: from_json_array(&volumes, "reading volumes")?,
            config_files: from_json_array(&config_files, "reading configuration files")?,
            labels: from_json_array(&labels, "reading labels")?,
            dependencies: from_json_array(&dependencies, "reading dependencies")?,
            auths: from_json_array(&auths, "reading build-source credentials")?,
        })
    }

    /// One graph per selected component, in selection order. Each component's rows are in the
    /// order the copy keeps: ports by container port, dependencies by `dep_order` then the
    /// component they name, the other tables by row id. The rows are grouped by component once (a
    /// map) and each component's few rows sorted, so the cost stays linear in the rows read.
    pub fn into_graphs(self, selected: &[&Component]) -> Vec<ComponentGraph> {
        let mut ports = by_service(self.ports, |r| &r.service_id);
        let mut envs = by_service(self.envs, |(_, r)| &r.service_id);
        let mut volumes = by_service(self.volumes, |(_, r)| &r.service_id);
        let mut config_files = by_service(self.config_files, |(_, r)| &r.service_id);
        let mut labels = by_service(self.labels, |(_, r)| &r.service_id);
        let mut dependencies = by_service(self.dependencies, |r| &r.service_id);
        let mut auths = by_service(self.auths, |r| &r.service_id);
        selected
            .iter()
            .map(|component| {
                let id = component.service_id.as_str();
                ComponentGraph {
                    component: (*component).clone(),
                    ports: sorted(ports.remove(id), |a, b| a.container_port.cmp(&b.container_port)),
                    envs: in_row_id_order(envs.remove(id)),
                    volumes: in_row_id_order(volumes.remove(id)),
                    config_files: in_row_id_order(config_files.remove(id)),
                    labels: in_row_id_order(labels.remove(id)),
                    dependencies: sorted(dependencies.remove(id), |a, b| {
                        (a.dep_order, &a.dep_service_id).cmp(&(b.dep_order, &b.dep_service_id))
                    }),
                    source_auth: auths.remove(id).and_then(|auths| auths.into_iter().next()),
                }
            })
            .collect()
    }
}

/// A component's rows (none when it has none), sorted by `compare`.
fn sorted<T>(rows: Option<Vec<T>>, compare: impl FnMut(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut rows = rows.unwrap_or_default();
    rows.sort_by(compare);
    rows
}

/// A component's rows (none when it has none), sorted by row id, without it.
fn in_row_id_order<T>(rows: Option<Vec<WithRowId<T>>>) -> Vec<T> {
    sorted(rows, |(a, _), (b, _)| a.cmp(b)).into_iter().map(|(_, row)| row).collect()
}

/// The rows of one JSON array.
fn from_json_array<T: serde::de::DeserializeOwned>(array: &str, what: &'static str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(array).map_err(|error| StoreError { context: what, source: sqlx::Error::Decode(error.into()) })
}

/// Rows grouped by their component id, in their order.
fn by_service<T>(rows: Vec<T>, service_id: impl Fn(&T) -> &str) -> HashMap<String, Vec<T>> {
    let mut grouped: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(service_id(&row).to_owned()).or_default().push(row);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_error(source: sqlx::Error) -> StoreError {
        StoreError { context: "testing", source }
    }

    #[test]
    fn each_components_rows_come_out_in_the_copys_order_whatever_the_read_order() {
        use serde_json::json;
        let port = |id: &str, number: i64| {
            json!({"service_id": id, "tenant_id": "t", "container_port": number, "protocol": "http",
                "port_alias": "P", "is_inner_service": false, "is_outer_service": false, "k8s_service_name": "n"})
        };
        let env = |row_id: i64, id: &str, name: &str| {
            json!([row_id, {"service_id": id, "tenant_id": "t", "container_port": 0, "name": "", "attr_name": name,
                "attr_value": "v", "is_change": true, "scope": "inner"}])
        };
        let volume = |row_id: i64, id: &str, name: &str| {
            json!([row_id, {"service_id": id, "volume_name": name, "volume_path": "/p", "volume_type": "share-file",
                "volume_capacity": 0, "access_mode": "RWO", "host_path": "/h"}])
        };
        let file = |row_id: i64, id: &str, name: &str| json!([row_id, {"service_id": id, "volume_name": name, "file_content": "x"}]);
        let label = |row_id: i64, id: &str, name: &str| json!([row_id, {"service_id": id, "tenant_id": "t", "region": "r", "label_name": name, "label_value": "v"}]);
        let dependency = |id: &str, on: &str, order: i64| json!({"service_id": id, "dep_service_id": on, "tenant_id": "t", "dep_order": order});
        let arrays = (
            json!([port("a", 8080), port("b", 443), port("a", 80)]).to_string(),
            json!([env(30, "a", "C"), env(7, "b", "B1"), env(2, "a", "A"), env(11, "a", "B")]).to_string(),
            json!([volume(5, "a", "z"), volume(3, "a", "y")]).to_string(),
            json!([file(9, "a", "z"), file(4, "a", "y")]).to_string(),
            json!([label(12, "a", "second"), label(10, "a", "first")]).to_string(),
            json!([dependency("a", "y", 2), dependency("a", "z", 1), dependency("a", "x", 2)]).to_string(),
            "[]".to_owned(),
        );
        let (a, b) = (crate::copy::tests::component("a", "A"), crate::copy::tests::component("b", "B"));
        let graphs = AttachedRows::from_json(arrays).expect("valid arrays").into_graphs(&[&b, &a]);

        let (b_graph, a_graph) = (&graphs[0], &graphs[1]);
        assert_eq!(b_graph.component.service_id, "b", "graphs in selection order");
        assert_eq!(b_graph.ports.iter().map(|p| p.container_port).collect::<Vec<_>>(), [443]);
        assert_eq!(b_graph.envs.iter().map(|e| e.attr_name.as_str()).collect::<Vec<_>>(), ["B1"]);
        assert_eq!(a_graph.ports.iter().map(|p| p.container_port).collect::<Vec<_>>(), [80, 8080]);
        assert_eq!(a_graph.envs.iter().map(|e| e.attr_name.as_str()).collect::<Vec<_>>(), ["A", "B", "C"]);
        assert_eq!(a_graph.volumes.iter().map(|v| v.volume_name.as_str()).collect::<Vec<_>>(), ["y", "z"]);
        assert_eq!(a_graph.config_files.iter().map(|f| f.volume_name.as_str()).collect::<Vec<_>>(), ["y", "z"]);
        assert_eq!(a_graph.labels.iter().map(|l| l.label_name.as_str()).collect::<Vec<_>>(), ["first", "second"]);
        let dependencies: Vec<(i64, &str)> =
            a_graph.dependencies.iter().map(|d| (d.dep_order, d.dep_service_id.as_str())).collect();
        assert_eq!(dependencies, [(1, "z"), (2, "x"), (2, "y")]);
    }

    #[test]
    fn only_a_database_that_cannot_be_used_is_unavailable() {
        assert!(store_error(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(store_error(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())).is_unavailable());
        // What the driver refuses to send (for example too many parameters) fails again when retried.
        assert!(!store_error(sqlx::Error::Protocol("too many arguments for query: 72000".into())).is_unavailable());
        assert!(!store_error(sqlx::Error::RowNotFound).is_unavailable());
    }
}

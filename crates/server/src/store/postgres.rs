//! The PostgreSQL backend, for several server instances on one database.
//!
//! Copies run at READ COMMITTED under a transaction-scoped advisory lock on the target team
//! (`pg_advisory_xact_lock`): copies into one team take turns across every instance, and each
//! reads the names the previous one committed, so the plan never clashes inside the team. Within
//! an instance they queue first on an in-process lock per team, so that copies waiting for a busy
//! team do not each hold a pooled connection (and starve the other requests of the instance).
//! When the copy ahead in the queue found the database unreachable, the ones behind it fail at
//! once rather than each waiting the acquire timeout again.
//! The database still enforces every uniqueness rule (see migrations/postgres); a statement that
//! breaks one anyway (an alias drawn at the same moment by a copy into another team), a deadlock
//! or a serialization failure rolls the whole transaction back, and the copy is tried again, up to
//! [`MAX_COPY_ATTEMPTS`] times. Retries are counted ([`PgStore::retries`]) and logged.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder, Transaction};

use super::{Context, CopyError, CopyRequest, LoadError, Repository, StoreError};
use crate::copy::{self, Identity, NameCandidates, Randomness, TakenNames, Target, UuidRandomness};
use crate::fixture::Dataset;
use crate::model::{
    App, Component, ComponentGraph, ConfigFile, Dependency, EnvVar, Label, Port, Region, SourceAuth, Team, User, Volume,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How many times a copy is tried before [`CopyError::Contended`] is returned.
pub const MAX_COPY_ATTEMPTS: u32 = 8;
/// How long a request waits for a pooled connection (or for a new one to be opened) before it is
/// answered as "database unavailable".
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a statement may run by default (`serve --statement-timeout`); a copy waiting for
/// the team lock counts.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// First advisory-lock key: copies into a team (the second key is the team's hash).
const COPY_LOCK_CLASS: i32 = 0x5242_0001;
/// Advisory lock taken while a fixture is loaded, so that instances started together with
/// `--demo` load it once.
const FIXTURE_LOCK: (i32, i32) = (0x5242_0002, 0);
/// SQLSTATEs after which the whole copy is tried again: serialization failure, deadlock, unique
/// violation, exclusion violation.
const RETRYABLE_SQLSTATES: [&str; 4] = ["40001", "40P01", "23505", "23P01"];

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    retries: Arc<AtomicU64>,
    /// One queue per target team (by tenant id) for this instance's copies, holding when the
    /// last copy of the queue found the database unreachable. Teams are few and long-lived, so
    /// entries are kept.
    team_queues: Arc<SyncMutex<HashMap<String, TeamQueue>>>,
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
            // A connection broken by a server restart is found and replaced before use.
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        MIGRATOR.run(&pool).await.map_err(sqlx::Error::from).context("migrating the database schema")?;
        Ok(PgStore { pool, retries: Arc::default(), team_queues: Arc::default() })
    }

    /// The connection settings of the store for `url` (`postgres://…`): the application name, the
    /// statement timeout, a plan made for each execution of a statement, and no JIT compilation;
    /// commits keep the server's `synchronous_commit`.
    ///
    /// Custom plans, because pooled connections live long and their prepared statements with them:
    /// a generic plan chosen while the tables were small (a sequential scan) would otherwise be
    /// kept while the tables grow (PostgreSQL does not replan when autovacuum updates the row
    /// counts), and every copy would read whole tables. No JIT, because the copy's statements are
    /// short and the planner's row estimates for id lists are high: a 1,000-component copy's port
    /// read spent 56 ms compiling and 5 ms running.
    pub fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
        let options: PgConnectOptions = url.parse().context("parsing the database URL")?;
        Ok(options.application_name("rainbond-server").options([
            ("statement_timeout", format!("{}ms", DEFAULT_STATEMENT_TIMEOUT.as_millis())),
            ("plan_cache_mode", "force_custom_plan".to_owned()),
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

    /// This instance's queue for copies into the team.
    fn team_queue(&self, tenant_id: &str) -> TeamQueue {
        let mut queues = self.team_queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        queues.entry(tenant_id.to_owned()).or_default().clone()
    }

    async fn try_copy(&self, request: &CopyRequest<'_>) -> Result<Vec<Component>, CopyError> {
        let mut tx = self.pool.begin().await.context("starting the copy transaction")?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(COPY_LOCK_CLASS)
            .bind(&request.target.team.tenant_id)
            .execute(&mut *tx)
            .await
            .context("locking the target team")?;
        let app_components: Vec<Component> = sqlx::query_as(concat!(
            "SELECT ",
            component_columns!(),
            " FROM tenant_services WHERE app_id = $1 ORDER BY create_time, service_id"
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

    /// Runs the copy, again after a clash, up to [`MAX_COPY_ATTEMPTS`] times.
    async fn copy_with_retries(&self, request: CopyRequest<'_>) -> Result<Vec<Component>, CopyError> {
        let mut attempt = 1;
        loop {
            match self.try_copy(&request).await {
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

/// Copies into one team from one instance, one at a time; the value is when the last of them
/// found the database unreachable.
type TeamQueue = Arc<tokio::sync::Mutex<Option<Instant>>>;

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

/// `= ANY($n)` binds a list as one array.
fn ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    ids.into_iter().map(str::to_owned).collect()
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

    async fn team(&self, enterprise_id: &str, id_or_name: &str) -> Result<Option<Team>, StoreError> {
        sqlx::query_as(
            "SELECT tenant_id, tenant_name, tenant_alias, enterprise_id FROM tenants \
             WHERE enterprise_id = $1 AND (tenant_id = $2 OR tenant_name = $2) \
             ORDER BY tenant_id = $2 DESC LIMIT 1",
        )
        .bind(enterprise_id)
        .bind(id_or_name)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a team")
    }

    async fn is_member(&self, tenant_id: &str, user_id: i32) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM tenant_members WHERE tenant_id = $1 AND user_id = $2")
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
             JOIN tenant_members m ON m.tenant_id = t.tenant_id WHERE m.user_id = $1 AND t.tenant_name = $2",
        )
        .bind(user_id)
        .bind(tenant_name)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a team of the caller")
    }

    async fn region(&self, enterprise_id: &str, region_name: &str) -> Result<Option<Region>, StoreError> {
        sqlx::query_as(
            "SELECT region_name, region_alias, enterprise_id, status FROM regions \
             WHERE enterprise_id = $1 AND region_name = $2",
        )
        .bind(enterprise_id)
        .bind(region_name)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a region")
    }

    async fn team_in_region(&self, tenant_id: &str, region_name: &str) -> Result<bool, StoreError> {
        let row: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM tenant_regions WHERE tenant_id = $1 AND region_name = $2 AND is_init = 1")
                .bind(tenant_id)
                .bind(region_name)
                .fetch_optional(&self.pool)
                .await
                .context("checking a team's regions")?;
        Ok(row.is_some())
    }

    async fn app(&self, app_id: i32) -> Result<Option<App>, StoreError> {
        sqlx::query_as("SELECT app_id, tenant_id, region_name, app_name, governance_mode FROM apps WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
            .context("looking up an app")
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

    async fn copy_components(&self, request: CopyRequest<'_>) -> Result<Vec<Component>, CopyError> {
        let queue = self.team_queue(&request.target.team.tenant_id);
        let mut turn = queue.lock().await;
        if turn.is_some_and(|failed| failed.elapsed() < ACQUIRE_TIMEOUT) {
            let source = sqlx::Error::PoolTimedOut;
            return Err(
                StoreError { context: "waiting behind a copy that found the database unreachable", source }.into()
            );
        }
        let result = self.copy_with_retries(request).await;
        *turn = matches!(&result, Err(CopyError::Store(error)) if error.is_unavailable()).then(Instant::now);
        result
    }

    async fn load_dataset(&self, data: &Dataset, only_into_empty: bool) -> Result<bool, LoadError> {
        let mut tx = self.begin_fixture().await?;
        let applied: Option<(String,)> = sqlx::query_as("SELECT name FROM applied_fixtures WHERE name = $1")
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
        sqlx::query(
            "INSERT INTO applied_fixtures (name, sha256, applied_at) \
             VALUES ($1, $2, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))",
        )
        .bind(&data.name)
        .bind(&data.sha256)
        .execute(&mut *tx)
        .await
        .context("recording the fixture")?;
        tx.commit().await.context("committing the fixture")?;
        Ok(true)
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

/// Loads the selected components with everything copied along with them, in selection order.
async fn load_graphs(tx: &mut PgConnection, selected: &[&Component]) -> Result<Vec<ComponentGraph>, StoreError> {
    let ids = ids(selected.iter().map(|c| c.service_id.as_str()));
    // Looked up through the primary key, one id at a time. An equality on service_id (`= ANY($1)`
    // or a join) lets the planner pick the GiST index of the port-name exclusion constraint,
    // which holds service_id but not first: a scan of the whole index, whose cost grows with every
    // port of the store. The row range below means `service_id = id` (any port), and only a
    // btree can serve a row comparison, so the primary key is the one index it can use. The range
    // sits in a LATERAL subquery that `OFFSET 0` keeps from being flattened into a join: as a
    // join condition it is neither hashable nor mergeable, so for a long id list the planner chose
    // a nested loop over the whole table (O(ids × ports): 5 s for 1,000 ids at 80,000 ports).
    let ports: Vec<Port> = sqlx::query_as(
        "SELECT p.service_id, p.tenant_id, p.container_port, p.protocol, p.port_alias, p.is_inner_service, \
         p.is_outer_service, p.k8s_service_name FROM unnest($1::text[]) AS ids(id) CROSS JOIN LATERAL \
         (SELECT * FROM service_ports WHERE (service_id, container_port) BETWEEN (ids.id, $2) AND (ids.id, $3) \
         OFFSET 0) p ORDER BY p.container_port",
    )
    .bind(&ids)
    .bind(i64::MIN)
    .bind(i64::MAX)
    .fetch_all(&mut *tx)
    .await
    .context("reading ports")?;
    let envs: Vec<EnvVar> = sqlx::query_as(
        "SELECT service_id, tenant_id, container_port, name, attr_name, attr_value, is_change, scope \
         FROM service_envs WHERE service_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .context("reading environment variables")?;
    let volumes: Vec<Volume> = sqlx::query_as(
        "SELECT service_id, volume_name, volume_path, volume_type, volume_capacity, access_mode, host_path \
         FROM service_volumes WHERE service_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .context("reading volumes")?;
    let config_files: Vec<ConfigFile> = sqlx::query_as(
        "SELECT service_id, volume_name, file_content FROM service_config_files WHERE service_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .context("reading configuration files")?;
    let labels: Vec<Label> = sqlx::query_as(
        "SELECT service_id, tenant_id, region, label_name, label_value FROM service_labels \
         WHERE service_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .context("reading labels")?;
    let dependencies: Vec<Dependency> = sqlx::query_as(
        "SELECT service_id, dep_service_id, tenant_id, dep_order FROM service_dependencies \
         WHERE service_id = ANY($1) ORDER BY dep_order, dep_service_id",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .context("reading dependencies")?;
    let auths: Vec<SourceAuth> =
        sqlx::query_as("SELECT service_id, user_name, password FROM service_source_auth WHERE service_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await
            .context("reading build-source credentials")?;
    Ok(super::AttachedRows { ports, envs, volumes, config_files, labels, dependencies, auths }.into_graphs(selected))
}

/// Which of the candidate names are used: component names in the target app, port service names
/// in the target team. Two indexed lookups of the candidates only.
async fn taken_names(
    tx: &mut PgConnection,
    target: &Target<'_>,
    candidates: &NameCandidates,
) -> Result<TakenNames, StoreError> {
    let component_names: Vec<(String,)> = sqlx::query_as(
        "SELECT k8s_component_name FROM tenant_services WHERE app_id = $1 AND k8s_component_name = ANY($2)",
    )
    .bind(target.app.app_id)
    .bind(ids(candidates.component_names()))
    .fetch_all(&mut *tx)
    .await
    .context("reading the target app's component names")?;
    let port_names: Vec<(String, String)> = sqlx::query_as(
        "SELECT k8s_service_name, service_id FROM service_ports WHERE tenant_id = $1 AND k8s_service_name = ANY($2)",
    )
    .bind(&target.team.tenant_id)
    .bind(ids(candidates.port_names()))
    .fetch_all(&mut *tx)
    .await
    .context("reading the target team's port names")?;
    Ok(super::taken_names_from(component_names, port_names))
}

/// `count` identities whose aliases no component of the store (nor of the batch) uses.
async fn free_identities(
    tx: &mut PgConnection,
    count: usize,
    random: &mut dyn Randomness,
) -> Result<Vec<Identity>, CopyError> {
    let mut identities: Vec<Identity> = (0..count).map(|_| Identity::fresh(random)).collect();
    for _ in 0..copy::MAX_ATTEMPTS {
        let aliases = ids(identities.iter().map(|i| i.service_alias.as_str()));
        let taken: Vec<(String,)> =
            sqlx::query_as("SELECT service_alias FROM tenant_services WHERE service_alias = ANY($1)")
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

/// Inserts `rows` into `table` in one statement (nothing when there are none).
async fn insert_rows<T>(
    tx: &mut PgConnection,
    table_and_columns: &str,
    rows: Vec<T>,
    bind: impl FnMut(sqlx::query_builder::Separated<'_, Postgres, &'static str>, T),
    what: &'static str,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Postgres>::new(format!("INSERT INTO {table_and_columns} "));
    query.push_values(rows, bind);
    query.build().execute(&mut *tx).await.context(what)?;
    Ok(())
}

fn bind_component(mut row: sqlx::query_builder::Separated<'_, Postgres, &'static str>, c: &Component) {
    row.push_bind(c.service_id.clone())
        .push_bind(c.service_alias.clone())
        .push_bind(c.tenant_id.clone())
        .push_bind(c.service_region.clone())
        .push_bind(c.app_id)
        .push_bind(c.service_key.clone())
        .push_bind(c.service_cname.clone())
        .push_bind(c.desc.clone())
        .push_bind(c.category.clone())
        .push_bind(c.version.clone())
        .push_bind(c.update_version)
        .push_bind(c.image.clone())
        .push_bind(c.cmd.clone())
        .push_bind(c.min_node)
        .push_bind(c.min_cpu)
        .push_bind(c.container_gpu)
        .push_bind(c.min_memory)
        .push_bind(c.extend_method.clone())
        .push_bind(c.code_from.clone())
        .push_bind(c.git_url.clone())
        .push_bind(c.git_project_id)
        .push_bind(c.git_full_name.clone())
        .push_bind(c.code_version.clone())
        .push_bind(c.service_type.clone())
        .push_bind(c.creater)
        .push_bind(c.language.clone())
        .push_bind(c.total_memory)
        .push_bind(c.is_service)
        .push_bind(c.service_origin.clone())
        .push_bind(c.tenant_service_group_id)
        .push_bind(c.open_webhooks)
        .push_bind(c.service_source.clone())
        .push_bind(c.create_status.clone())
        .push_bind(c.check_uuid.clone())
        .push_bind(c.check_event_id.clone())
        .push_bind(c.docker_cmd.clone())
        .push_bind(c.server_type.clone())
        .push_bind(c.is_upgrate)
        .push_bind(c.build_upgrade)
        .push_bind(c.oauth_service_id)
        .push_bind(c.k8s_component_name.clone())
        .push_bind(c.deploy_version.clone())
        .push_bind(c.create_time.clone())
        .push_bind(c.update_time.clone());
}

/// Writes components and everything attached to them, one statement per table. All components
/// go in first, so that dependencies between them satisfy the foreign keys.
async fn insert_graphs(tx: &mut PgConnection, graphs: &[ComponentGraph]) -> Result<(), StoreError> {
    let table = concat!("tenant_services (", component_columns!(), ")");
    insert_rows(tx, table, graphs.iter().map(|g| &g.component).collect(), bind_component, "inserting components")
        .await?;
    insert_rows(
        tx,
        "service_ports (service_id, tenant_id, container_port, protocol, port_alias, is_inner_service, \
         is_outer_service, k8s_service_name)",
        graphs.iter().flat_map(|g| &g.ports).collect(),
        |mut row, p| {
            row.push_bind(p.service_id.clone())
                .push_bind(p.tenant_id.clone())
                .push_bind(p.container_port)
                .push_bind(p.protocol.clone())
                .push_bind(p.port_alias.clone())
                .push_bind(p.is_inner_service)
                .push_bind(p.is_outer_service)
                .push_bind(p.k8s_service_name.clone());
        },
        "inserting ports",
    )
    .await?;
    insert_rows(
        tx,
        "service_envs (service_id, tenant_id, container_port, name, attr_name, attr_value, is_change, scope)",
        graphs.iter().flat_map(|g| &g.envs).collect(),
        |mut row, e| {
            row.push_bind(e.service_id.clone())
                .push_bind(e.tenant_id.clone())
                .push_bind(e.container_port)
                .push_bind(e.name.clone())
                .push_bind(e.attr_name.clone())
                .push_bind(e.attr_value.clone())
                .push_bind(e.is_change)
                .push_bind(e.scope.clone());
        },
        "inserting environment variables",
    )
    .await?;
    insert_volumes_and_files(tx, graphs).await?;
    insert_rows(
        tx,
        "service_labels (service_id, tenant_id, region, label_name, label_value)",
        graphs.iter().flat_map(|g| &g.labels).collect(),
        |mut row, l| {
            row.push_bind(l.service_id.clone())
                .push_bind(l.tenant_id.clone())
                .push_bind(l.region.clone())
                .push_bind(l.label_name.clone())
                .push_bind(l.label_value.clone());
        },
        "inserting labels",
    )
    .await?;
    insert_rows(
        tx,
        "service_dependencies (service_id, dep_service_id, tenant_id, dep_order)",
        graphs.iter().flat_map(|g| &g.dependencies).collect(),
        |mut row, d| {
            row.push_bind(d.service_id.clone())
                .push_bind(d.dep_service_id.clone())
                .push_bind(d.tenant_id.clone())
                .push_bind(d.dep_order);
        },
        "inserting dependencies",
    )
    .await?;
    insert_rows(
        tx,
        "service_source_auth (service_id, user_name, password)",
        graphs.iter().filter_map(|g| g.source_auth.as_ref()).collect(),
        |mut row, a| {
            row.push_bind(a.service_id.clone()).push_bind(a.user_name.clone()).push_bind(a.password.clone());
        },
        "inserting build-source credentials",
    )
    .await
}

/// Writes volumes, then the configuration files linked to them by the new volumes' ids.
async fn insert_volumes_and_files(tx: &mut PgConnection, graphs: &[ComponentGraph]) -> Result<(), StoreError> {
    let volumes: Vec<&Volume> = graphs.iter().flat_map(|g| &g.volumes).collect();
    if volumes.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Postgres>::new(
        "INSERT INTO service_volumes (service_id, volume_name, volume_path, volume_type, volume_capacity, \
         access_mode, host_path) ",
    );
    query.push_values(&volumes, |mut row, v| {
        row.push_bind(v.service_id.clone())
            .push_bind(v.volume_name.clone())
            .push_bind(v.volume_path.clone())
            .push_bind(v.volume_type.clone())
            .push_bind(v.volume_capacity)
            .push_bind(v.access_mode.clone())
            .push_bind(v.host_path.clone());
    });
    query.push(" RETURNING service_id, volume_name, id");
    let ids: Vec<(String, String, i64)> =
        query.build_query_as().fetch_all(&mut *tx).await.context("inserting volumes")?;
    let volume_ids: HashMap<(String, String), i64> =
        ids.into_iter().map(|(service_id, name, id)| ((service_id, name), id)).collect();
    let mut files = Vec::new();
    for f in graphs.iter().flat_map(|g| &g.config_files) {
        let Some(volume_id) = volume_ids.get(&(f.service_id.clone(), f.volume_name.clone())) else {
            return Err(StoreError {
                context: "linking a configuration file to its volume",
                source: sqlx::Error::RowNotFound,
            });
        };
        files.push((f, *volume_id));
    }
    insert_rows(
        tx,
        "service_config_files (service_id, volume_id, volume_name, file_content)",
        files,
        |mut row, (f, volume_id)| {
            row.push_bind(f.service_id.clone())
                .push_bind(volume_id)
                .push_bind(f.volume_name.clone())
                .push_bind(f.file_content.clone());
        },
        "inserting configuration files",
    )
    .await
}

async fn insert_dataset(tx: &mut PgConnection, data: &Dataset) -> Result<(), StoreError> {
    insert_rows(
        tx,
        "users (user_id, nick_name, enterprise_id)",
        data.users.iter().collect(),
        |mut row, u| {
            row.push_bind(u.user_id).push_bind(u.nick_name.clone()).push_bind(u.enterprise_id.clone());
        },
        "inserting users",
    )
    .await?;
    insert_rows(
        tx,
        "user_access_keys (user_id, key_sha256, expire_time)",
        data.access_keys.iter().collect(),
        |mut row, k| {
            row.push_bind(k.user_id).push_bind(k.key_sha256.to_vec()).push_bind(k.expire_time);
        },
        "inserting access keys",
    )
    .await?;
    insert_rows(
        tx,
        "regions (region_name, region_alias, enterprise_id, status)",
        data.regions.iter().collect(),
        |mut row, r| {
            row.push_bind(r.region_name.clone())
                .push_bind(r.region_alias.clone())
                .push_bind(r.enterprise_id.clone())
                .push_bind(r.status.clone());
        },
        "inserting regions",
    )
    .await?;
    insert_rows(
        tx,
        "tenants (tenant_id, tenant_name, tenant_alias, enterprise_id)",
        data.teams.iter().collect(),
        |mut row, t| {
            row.push_bind(t.tenant_id.clone())
                .push_bind(t.tenant_name.clone())
                .push_bind(t.tenant_alias.clone())
                .push_bind(t.enterprise_id.clone());
        },
        "inserting teams",
    )
    .await?;
    insert_rows(
        tx,
        "tenant_members (tenant_id, user_id)",
        data.members.iter().collect(),
        |mut row, (tenant_id, user_id)| {
            row.push_bind(tenant_id.clone()).push_bind(*user_id);
        },
        "inserting team members",
    )
    .await?;
    insert_rows(
        tx,
        "tenant_regions (tenant_id, region_name, is_init)",
        data.team_regions.iter().collect(),
        |mut row, (tenant_id, region_name)| {
            row.push_bind(tenant_id.clone()).push_bind(region_name.clone()).push_bind(1_i32);
        },
        "inserting teams' regions",
    )
    .await?;
    insert_rows(
        tx,
        "apps (app_id, tenant_id, region_name, app_name, governance_mode)",
        data.apps.iter().collect(),
        |mut row, a| {
            row.push_bind(a.app_id)
                .push_bind(a.tenant_id.clone())
                .push_bind(a.region_name.clone())
                .push_bind(a.app_name.clone())
                .push_bind(a.governance_mode.clone());
        },
        "inserting apps",
    )
    .await?;
    insert_graphs(tx, &data.components).await?;
    insert_rows(
        tx,
        "service_probes (service_id, mode, scheme, port, path)",
        data.probes.iter().collect(),
        |mut row, p| {
            row.push_bind(p.service_id.clone())
                .push_bind(p.mode.clone())
                .push_bind(p.scheme.clone())
                .push_bind(p.port)
                .push_bind(p.path.clone());
        },
        "inserting probes",
    )
    .await
}

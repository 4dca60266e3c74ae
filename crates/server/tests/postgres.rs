//! What only the PostgreSQL backend promises: a schema in step with SQLite's, several instances on
//! one database, bounded retries of clashing copies, and riding out a database restart.
//!
//! These tests need `.ci/with-postgres` (they skip without it, and fail in CI).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::backend::{POSTGRES_URL_VAR, cluster_url};
use common::*;
use rainbond_client::types::{AppCopyCRes, ErrorBody};
use rainbond_server::store::{CHECK_CONNECTIONS_IDLE_FOR, MAX_COPY_ATTEMPTS, Repository, Store, StoreOptions};
use sqlx::Connection;

/// The second cluster, which [`the_server_rides_out_a_database_restart`] stops and starts.
const OUTAGE_URL_VAR: &str = "RAINBOND_TEST_POSTGRES_OUTAGE_URL";
/// How often the two-instance test repeats itself, each time on a new database.
const ROUNDS: usize = 5;
/// Concurrent copies per round and phase.
const COPIES: usize = 64;

/// Copies every component of app 1 (o19p6wen, rainbond) into `target` through `server`.
async fn copy_app_1(server: &TestServer, target: (&str, i32)) -> Result<AppCopyCRes, (u16, ErrorBody)> {
    let result = server
        .client(ADMIN)
        .copy_app()
        .team_id(SHOP_TEAM)
        .region_name("rainbond")
        .app_id("1")
        .body(copy_body(target.0, "rainbond", target.1, &[]))
        .send()
        .await;
    match result {
        Ok(response) => Ok(response.into_inner()),
        Err(rainbond_client::Error::ErrorResponse(response)) => {
            Err((response.status().as_u16(), response.into_inner()))
        }
        Err(other) => panic!("unexpected client error: {other}"),
    }
}

fn retries(server: &TestServer) -> u64 {
    match &server.store {
        Store::Postgres(store) => store.retries(),
        Store::Sqlite(_) => unreachable!("a PostgreSQL test server"),
    }
}

/// Rows of `table` that belong to the components of `app_id`.
async fn rows_of_app(db: &Inspector, table: &str, app_id: i32) -> i64 {
    let sql = if table == "tenant_services" {
        format!("SELECT count(*) FROM {table} WHERE app_id = $1")
    } else {
        format!(
            "SELECT count(*) FROM {table} WHERE service_id IN (SELECT service_id FROM tenant_services WHERE app_id = $1)"
        )
    };
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(app_id).fetch_one(&db.0).await.unwrap();
    n
}

/// Every table a copy of app 1 writes holds exactly `copies` times app 1's rows in the apps
/// `targets` (probes: none), so no copy is duplicated, lost or half-written.
async fn assert_whole_copies(db: &Inspector, targets: &[i32], copies: i64) {
    for table in std::iter::once("tenant_services").chain(common::ATTACHED_TABLES) {
        let per_copy = if table == "service_probes" { 0 } else { rows_of_app(db, table, 1).await };
        let mut found = 0;
        for app in targets {
            found += rows_of_app(db, table, *app).await;
        }
        assert_eq!(found, copies * per_copy, "{table}: {copies} copies of app 1 into {targets:?}");
    }
}

/// No alias or id twice in the store, no component name twice in an app, no port service name
/// shared by two components of a team.
async fn assert_unique_names(db: &Inspector) {
    let (duplicates,): (i64,) = sqlx::query_as(
        "SELECT (SELECT count(*) - count(DISTINCT service_alias) FROM tenant_services) \
         + (SELECT count(*) - count(DISTINCT (app_id, k8s_component_name)) FROM tenant_services) \
         + (SELECT count(*) FROM (SELECT 1 FROM service_ports GROUP BY tenant_id, k8s_service_name \
            HAVING count(DISTINCT service_id) > 1) shared)",
    )
    .fetch_one(&db.0)
    .await
    .unwrap();
    assert_eq!(duplicates, 0, "aliases, component names and port service names are unique");
}

/// Adds `count` empty apps to o19p6wen and k2x9qa7d (alternately) in `rainbond`, from app id
/// `first`; returns `(team name, app id)` of each.
async fn add_apps(db: &Inspector, first: i32, count: usize) -> Vec<(&'static str, i32)> {
    let mut apps = Vec::new();
    for index in 0..count {
        let app_id = first + index as i32;
        let team = [SHOP_TEAM, BLOG_TEAM][index % 2];
        sqlx::query(
            "INSERT INTO apps (app_id, tenant_id, region_name, app_name, governance_mode) \
             SELECT $1, tenant_id, 'rainbond', $2, 'KUBERNETES_NATIVE_SERVICE' FROM tenants WHERE tenant_name = $3",
        )
        .bind(app_id)
        .bind(format!("target-{app_id}"))
        .bind(team)
        .execute(&db.0)
        .await
        .unwrap();
        apps.push((team, app_id));
    }
    apps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_database_without_duplicates() {
    let Some(cluster) = cluster_url(POSTGRES_URL_VAR) else { return };
    let (mut total_retries, mut total_copies) = (0, 0);
    for round in 1..=ROUNDS {
        let database = TestDatabase::postgres_in(&cluster).await;
        let first = TestServer::demo(&database).await;
        let second = TestServer::on(&database).await;
        let instances = [&first, &second];
        let db = first.inspect().await;

        // 64 copies into one app, split across both instances.
        let results =
            futures::future::join_all((0..COPIES).map(|i| copy_app_1(instances[i % 2], (SHOP_TEAM, 2)))).await;
        for result in &results {
            assert_eq!(result.as_ref().map(|r| r.services.len()), Ok(3), "round {round}: every copy succeeds");
        }
        assert_whole_copies(&db, &[2], COPIES as i64).await;
        assert_unique_names(&db).await;

        // 64 copies into 64 apps of two teams, from both instances.
        let targets = add_apps(&db, 1000, COPIES).await;
        let results = futures::future::join_all(
            targets.iter().enumerate().map(|(i, target)| copy_app_1(instances[i % 2], *target)),
        )
        .await;
        for result in &results {
            assert_eq!(result.as_ref().map(|r| r.services.len()), Ok(3), "round {round}: every copy succeeds");
        }
        let app_ids: Vec<i32> = targets.iter().map(|(_, app)| *app).collect();
        assert_whole_copies(&db, &app_ids, COPIES as i64).await;
        for app in &app_ids {
            assert_eq!(rows_of_app(&db, "tenant_services", *app).await, 3, "app {app} got exactly one copy");
        }
        assert_unique_names(&db).await;

        let retried = retries(&first) + retries(&second);
        eprintln!("round {round}: {retried} retries over {} copies", 2 * COPIES);
        total_retries += retried;
        total_copies += 2 * COPIES as u64;
        db.close().await;
        first.stop().await;
        second.stop().await;
    }
    eprintln!(
        "retry rate: {total_retries} retries over {total_copies} copies ({:.2} per 100 copies)",
        100.0 * total_retries as f64 / total_copies as f64
    );
}

/// Copies into one app take turns across instances (the app's advisory lock, held here by another
/// connection), and copies into the other apps of the team go on meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_take_turns_per_app_not_per_team() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;
    let other_app = add_apps(&db, 1000, 1).await[0];
    assert_eq!(other_app.0, SHOP_TEAM, "the held app's team");
    let mut elsewhere =
        common::backend::holding_advisory_lock(&database.location, rainbond_server::store::COPY_LOCK_CLASS, "2").await;

    let mut into_held_app = Box::pin(copy_app_1(&server, (SHOP_TEAM, 2)));
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut into_held_app).await;
    assert!(waited.is_err(), "a copy into app 2 waits for its turn: {waited:?}");
    let beside = tokio::time::timeout(Duration::from_secs(10), copy_app_1(&server, other_app)).await;
    assert_eq!(beside.expect("not held up").map(|copy| copy.services.len()), Ok(3), "another app of the team");
    assert_eq!(rows_of_app(&db, "tenant_services", 2).await, 0, "nothing in app 2 before its turn");

    sqlx::query("ROLLBACK").execute(&mut elsewhere).await.unwrap();
    let copied = into_held_app.await.map(|copy| copy.services.len());
    assert_eq!(copied, Ok(3), "copied once its turn came");
    assert_whole_copies(&db, &[2, other_app.1], 2).await;
    assert_unique_names(&db).await;
    db.close().await;
    server.stop().await;
}

/// A copy that loses a port service name of its team to a concurrent writer (here another
/// connection's transaction, which takes the name of the shop's web port in the blog team after
/// the copy looked it up) is refused by the key of the names' owners once that writer commits, tried
/// again, and then draws another name: copies into other apps of a team need no turn of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_copy_that_loses_a_port_name_to_a_concurrent_writer_is_retried_with_another() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;
    let target = add_apps(&db, 1000, 2).await[1];
    assert_eq!(target.0, BLOG_TEAM);
    let mut elsewhere = common::backend::in_transaction(&database.location).await;
    sqlx::query(
        "INSERT INTO port_service_names (tenant_id, k8s_service_name, service_id) \
         SELECT tenant_id, 'web-5000', service_id FROM tenant_services WHERE app_id = 4",
    )
    .execute(&mut elsewhere)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO service_ports (service_id, tenant_id, container_port, protocol, port_alias, \
         is_inner_service, is_outer_service, k8s_service_name) \
         SELECT service_id, tenant_id, 5000, 'http', 'WEB', true, false, 'web-5000' FROM tenant_services WHERE app_id = 4",
    )
    .execute(&mut elsewhere)
    .await
    .unwrap();

    let mut copying = Box::pin(copy_app_1(&server, target));
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut copying).await;
    assert!(waited.is_err(), "the copy waits for the writer of the same name: {waited:?}");
    sqlx::query("COMMIT").execute(&mut elsewhere).await.unwrap();
    let copied = copying.await.expect("retried with another name");
    assert_eq!(copied.services.len(), 3);
    assert_eq!(retries(&server), 1, "one retry");
    assert_whole_copies(&db, &[target.1], 1).await;
    assert_unique_names(&db).await;
    let (web_ports,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM service_ports p JOIN tenant_services c ON c.service_id = p.service_id \
         WHERE c.app_id = $1 AND p.container_port = 5000 AND p.k8s_service_name LIKE 'web-5000-%'",
    )
    .bind(target.1)
    .fetch_one(&db.0)
    .await
    .unwrap();
    assert_eq!(web_ports, 1, "the copied web port drew a new name");
    db.close().await;
    server.stop().await;
}

/// Makes every insert into `tenant_services` fail with a serialization failure (40001) while the
/// sequence `injected_clashes` has not passed `clashes`.
async fn inject_clashes(db: &Inspector, clashes: i64) {
    for statement in [
        "CREATE SEQUENCE IF NOT EXISTS injected_clashes".to_owned(),
        "SELECT setval('injected_clashes', 1, false)".to_owned(),
        format!(
            "CREATE OR REPLACE FUNCTION injected_clash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF nextval('injected_clashes') <= {clashes} THEN \
             RAISE EXCEPTION 'injected clash' USING ERRCODE = '40001'; END IF; RETURN NEW; END $$"
        ),
        "CREATE OR REPLACE TRIGGER injected_clash BEFORE INSERT ON tenant_services \
         FOR EACH ROW EXECUTE FUNCTION injected_clash()"
            .to_owned(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&db.0).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clashing_copies_are_retried_up_to_the_bound() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;

    // Two clashes, then the copy goes through: the client never sees them.
    inject_clashes(&db, 2).await;
    let copied = copy_app_1(&server, (SHOP_TEAM, 2)).await.expect("retried until it succeeds");
    assert_eq!(copied.services.len(), 3);
    assert_eq!(retries(&server), 2);
    assert_whole_copies(&db, &[2], 1).await;

    // Clashing every time: given up after MAX_COPY_ATTEMPTS tries with the documented 409.
    inject_clashes(&db, 1_000).await;
    let (status, body) = copy_app_1(&server, (SHOP_TEAM, 2)).await.expect_err("given up");
    assert_eq!((status, body.code), (409, 10409), "{body:?}");
    assert_eq!(retries(&server), 2 + u64::from(MAX_COPY_ATTEMPTS - 1));
    assert_whole_copies(&db, &[2], 1).await;
    db.close().await;
    server.stop().await;
}

/// Runs a shell command line from the environment (the cluster's stop or start command).
async fn run(variable: &str) {
    let command = std::env::var(variable).unwrap_or_else(|_| panic!("{variable} is set with {OUTAGE_URL_VAR}"));
    let status = tokio::process::Command::new("sh").arg("-c").arg(&command).status().await.unwrap();
    assert!(status.success(), "{command}: {status}");
}

/// Starts the stopped cluster again when dropped before [`Outage::end`] (a failed assertion must
/// not leave it down for the next run).
struct Outage {
    ended: bool,
}

impl Outage {
    async fn begin() -> Outage {
        run("RAINBOND_TEST_POSTGRES_OUTAGE_STOP").await;
        Outage { ended: false }
    }

    async fn end(mut self) {
        self.ended = true;
        run("RAINBOND_TEST_POSTGRES_OUTAGE_START").await;
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if !self.ended
            && let Ok(command) = std::env::var("RAINBOND_TEST_POSTGRES_OUTAGE_START")
        {
            let _ = std::process::Command::new("sh").arg("-c").arg(command).status();
        }
    }
}

/// The status of `GET {server}/{probe}` (`healthz` or `readyz`).
async fn probe(server: &TestServer, probe: &str) -> u16 {
    reqwest::get(format!("{}/{probe}", server.url)).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_rides_out_a_database_restart() {
    let Some(cluster) = cluster_url(OUTAGE_URL_VAR) else { return };
    let database = TestDatabase::postgres_in(&cluster).await;
    let server = TestServer::demo(&database).await;
    assert!(copy_app_1(&server, (SHOP_TEAM, 2)).await.is_ok());

    // Copies in flight while the database shuts down: each is whole or absent.
    let in_flight = futures::future::join_all((0..8).map(|_| copy_app_1(&server, (SHOP_TEAM, 2))));
    let (results, outage) = tokio::join!(in_flight, Outage::begin());
    let succeeded = results.iter().filter(|r| r.is_ok()).count();
    for result in &results {
        if let Err((status, body)) = result {
            assert_eq!((*status, body.code), (503, 10402), "{body:?}");
        }
    }

    // During the outage: a server that is alive but not ready (within a second), and the
    // documented error.
    let asked = Instant::now();
    assert_eq!(probe(&server, "readyz").await, 503);
    assert!(asked.elapsed() < Duration::from_secs(1), "/readyz answered after {:?}", asked.elapsed());
    assert_eq!(probe(&server, "healthz").await, 200);
    let (status, body) = copy_app_1(&server, (SHOP_TEAM, 2)).await.expect_err("the database is down");
    assert_eq!((status, body.code), (503, 10402), "{body:?}");
    assert!(body.msg.contains("unavailable"), "{}", body.msg);

    // Back by itself once the database is: no restart of the server.
    outage.end().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while probe(&server, "readyz").await != 200 {
        assert!(Instant::now() < deadline, "the server did not recover within 60 s of the database");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(copy_app_1(&server, (SHOP_TEAM, 2)).await.is_ok());

    let db = server.inspect().await;
    let copies = rows_of_app(&db, "tenant_services", 2).await / 3;
    assert!(copies as usize >= 2 + succeeded, "every acknowledged copy is there: {copies} < 2 + {succeeded}");
    assert_whole_copies(&db, &[2], copies).await;
    db.close().await;
    server.stop().await;
}

/// A table as both backends describe it: columns (type class, NOT NULL), unique column sets
/// (primary key included) and foreign keys (the referenced table and each column's pair, sorted).
#[derive(Debug, Default, PartialEq, Eq)]
struct TableShape {
    columns: BTreeMap<String, (&'static str, bool)>,
    uniques: BTreeSet<Vec<String>>,
    foreign_keys: BTreeSet<ForeignKey>,
}

/// A foreign key: the table it references and its (column, referenced column) pairs, sorted.
type ForeignKey = (String, Vec<(String, String)>);

/// Foreign keys from rows of (key id, referenced table, column, referenced column).
fn foreign_keys(rows: Vec<(i64, String, String, String)>) -> BTreeSet<ForeignKey> {
    let mut keys: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    for (id, table, from, to) in rows {
        keys.entry(id).or_insert_with(|| (table, Vec::new())).1.push((from, to));
    }
    keys.into_values()
        .map(|(table, mut pairs)| {
            (table, {
                pairs.sort();
                pairs
            })
        })
        .collect()
}

/// The type classes a column may have on both backends: SQLite's declared type, PostgreSQL's.
fn type_class(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        // SQLite has one integer type; PostgreSQL's are sized, and booleans are integers in SQLite.
        "integer" | "bigint" | "boolean" => "integer",
        "text" => "text",
        "blob" | "bytea" => "bytes",
        other => panic!("a column type the schemas do not use: {other}"),
    }
}

async fn sqlite_shape(pool: &sqlx::SqlitePool) -> BTreeMap<String, TableShape> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut shapes = BTreeMap::new();
    for (table,) in tables {
        let mut shape = TableShape::default();
        let columns: Vec<(String, String, bool, i64)> =
            sqlx::query_as("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
                .bind(&table)
                .fetch_all(pool)
                .await
                .unwrap();
        let mut key: Vec<(i64, String)> = Vec::new();
        for (name, declared, not_null, pk) in columns {
            // A primary key column holds no NULL in either backend (SQLite allows it only by a quirk
            // that no row uses).
            shape.columns.insert(name.clone(), (type_class(&declared), not_null || pk > 0));
            if pk > 0 {
                key.push((pk, name));
            }
        }
        if !key.is_empty() {
            shape.uniques.insert(sorted(key.into_iter().map(|(_, name)| name)));
        }
        let indexes: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_index_list($1) WHERE \"unique\" = 1")
            .bind(&table)
            .fetch_all(pool)
            .await
            .unwrap();
        for (index,) in indexes {
            let columns: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1)").bind(&index).fetch_all(pool).await.unwrap();
            shape.uniques.insert(sorted(columns.into_iter().map(|(c,)| c)));
        }
        let keys: Vec<(i64, String, String, String)> =
            sqlx::query_as("SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1)")
                .bind(&table)
                .fetch_all(pool)
                .await
                .unwrap();
        shape.foreign_keys = foreign_keys(keys);
        shapes.insert(table, shape);
    }
    shapes
}

async fn postgres_shape(connection: &mut sqlx::PgConnection) -> BTreeMap<String, TableShape> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&mut *connection)
    .await
    .unwrap();
    let mut shapes = BTreeMap::new();
    for (table,) in tables {
        let mut shape = TableShape::default();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&table)
        .fetch_all(&mut *connection)
        .await
        .unwrap();
        for (name, data_type, nullable) in columns {
            shape.columns.insert(name, (type_class(&data_type), nullable == "NO"));
        }
        let uniques: Vec<(Vec<String>,)> = sqlx::query_as(
            "SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_constraint c \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
             WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u') GROUP BY c.oid",
        )
        .bind(&table)
        .fetch_all(&mut *connection)
        .await
        .unwrap();
        shape.uniques = uniques.into_iter().map(|(columns,)| columns).collect();
        let keys: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT c.oid::bigint, c.confrelid::regclass::text, a.attname::text, f.attname::text FROM pg_constraint c \
             CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, ref) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col \
             JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = k.ref \
             WHERE c.conrelid = $1::regclass AND c.contype = 'f'",
        )
        .bind(&table)
        .fetch_all(&mut *connection)
        .await
        .unwrap();
        shape.foreign_keys = foreign_keys(keys);
        shapes.insert(table, shape);
    }
    shapes
}

fn sorted(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names
}

#[tokio::test]
async fn both_schemas_match() {
    let Some(postgres) = TestDatabase::postgres().await else { return };
    let sqlite = TestDatabase::sqlite();
    // Opening a store migrates it.
    for database in [&sqlite, &postgres] {
        Store::open(&database.location, Default::default()).await.unwrap().close().await;
    }
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", sqlite.location)).await.unwrap();
    let sqlite_tables = sqlite_shape(&pool).await;
    pool.close().await;
    let mut connection = sqlx::PgConnection::connect(&postgres.location).await.unwrap();
    let postgres_tables = postgres_shape(&mut connection).await;
    connection.close().await.unwrap();

    assert_eq!(sqlite_tables.keys().collect::<Vec<_>>(), postgres_tables.keys().collect::<Vec<_>>(), "the same tables");
    assert!(sqlite_tables.contains_key("tenant_services") && sqlite_tables["tenant_services"].columns.len() == 44);
    for (table, shape) in &sqlite_tables {
        assert_eq!(shape, &postgres_tables[table], "table {table}: SQLite (left) and PostgreSQL (right) differ");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_databases_refuse_a_port_service_name_of_another_component() {
    let Some(postgres) = TestDatabase::postgres().await else { return };
    for database in [TestDatabase::sqlite(), postgres] {
        let server = TestServer::demo(&database).await;
        let db = server.inspect().await;
        let insert = |service_id: &'static str, port: i64| {
            sqlx::query(
                "INSERT INTO service_ports (service_id, tenant_id, container_port, protocol, port_alias, \
                 is_inner_service, is_outer_service, k8s_service_name) VALUES ($1, $2, $3, 'http', 'X', FALSE, FALSE, 'db-mysql')",
            )
            .bind(service_id)
            .bind(SHOP_TEAM_ID)
            .bind(port)
            .execute(&db.0)
        };
        let kind = |error: sqlx::Error| error.as_database_error().map(|e| e.kind());
        // `db-mysql` is db's: db may use it for another port, web may not, nor claim it.
        insert(DB, 3307).await.expect("the owner reuses its name");
        let refused = insert(WEB, 3308).await.expect_err("another component of the team");
        assert_eq!(kind(refused), Some(sqlx::error::ErrorKind::ForeignKeyViolation), "{:?}", database.backend);
        let claimed = sqlx::query(
            "INSERT INTO port_service_names (tenant_id, k8s_service_name, service_id) VALUES ($1, 'db-mysql', $2)",
        )
        .bind(SHOP_TEAM_ID)
        .bind(WEB)
        .execute(&db.0)
        .await
        .expect_err("a name has one owner in its team");
        assert_eq!(kind(claimed), Some(sqlx::error::ErrorKind::UniqueViolation), "{:?}", database.backend);
        db.close().await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_databases_refuse_a_row_that_names_another_team_than_its_components() {
    let Some(postgres) = TestDatabase::postgres().await else { return };
    for database in [TestDatabase::sqlite(), postgres] {
        let server = TestServer::demo(&database).await;
        let db = server.inspect().await;
        let (blog_team_id,): (String,) = sqlx::query_as("SELECT tenant_id FROM tenants WHERE tenant_name = $1")
            .bind(BLOG_TEAM)
            .fetch_one(&db.0)
            .await
            .unwrap();
        let insert = |tenant_id: String| {
            sqlx::query(
                "INSERT INTO service_envs (service_id, tenant_id, attr_name, attr_value) VALUES ($1, $2, 'X', 'y')",
            )
            .bind(WEB)
            .bind(tenant_id)
            .execute(&db.0)
        };
        insert(SHOP_TEAM_ID.to_owned()).await.expect("web's own team");
        let refused = insert(blog_team_id).await.expect_err("a team web is not in");
        assert!(refused.to_string().to_lowercase().contains("foreign key"), "{:?}: {refused}", database.backend);
        db.close().await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_opens_at_most_pool_size_connections() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let store =
        Store::open(&database.location, StoreOptions { pool_size: 2, ..StoreOptions::default() }).await.unwrap();
    let fixture = rainbond_server::fixture::Fixture::parse(rainbond_server::fixture::DEMO).unwrap();
    store.load_dataset(&fixture.to_dataset(rainbond_server::fixture::DEMO).unwrap(), true).await.unwrap();
    let router =
        rainbond_server::http::router(std::sync::Arc::new(rainbond_server::service::CopyService::new(store.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = tokio::spawn(rainbond_server::http::serve(
        listener,
        router,
        rainbond_server::limits::Limits::default(),
        std::future::pending(),
    ));

    // Eight concurrent copies share two connections: all succeed, one after another.
    let client = rainbond_client::Client::with_access_key(&url, ADMIN).unwrap();
    let copies = futures::future::join_all((0..8).map(|_| {
        client
            .copy_app()
            .team_id(SHOP_TEAM)
            .region_name("rainbond")
            .app_id("1")
            .body(copy_body(SHOP_TEAM, "rainbond", 2, &[]))
            .send()
    }))
    .await;
    assert!(copies.iter().all(Result::is_ok), "every copy succeeds with a pool of 2");
    let db = Inspector::connect(&database.location).await;
    let (opened,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'rainbond-server'",
    )
    .fetch_one(&db.0)
    .await
    .unwrap();
    assert!((1..=2).contains(&opened), "{opened} connections for --pool-size 2");
    serving.abort();
    db.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_the_database_dropped_while_idle_are_replaced_before_use() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let server = TestServer::demo(&database).await;
    assert!(copy_app_1(&server, (SHOP_TEAM, 2)).await.is_ok());

    // Every connection of the server's pool is dropped by the database (as a restart would).
    let db = Inspector::connect(&database.location).await;
    let (dropped,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'rainbond-server') t",
    )
    .fetch_one(&db.0)
    .await
    .unwrap();
    assert!(dropped > 0, "the server had pooled connections");
    tokio::time::sleep(CHECK_CONNECTIONS_IDLE_FOR + Duration::from_millis(200)).await;

    // Idle for longer than the check's threshold, each is found broken and replaced: no request fails.
    for _ in 0..3 {
        assert!(copy_app_1(&server, (SHOP_TEAM, 2)).await.is_ok(), "a copy after the connections were dropped");
    }
    db.close().await;
    server.stop().await;
}

//! The two storage backends the end-to-end tests run on, and [`on_both_backends!`], which runs
//! one test body on each.
//!
//! PostgreSQL tests need `RAINBOND_TEST_POSTGRES_URL` (a superuser URL of a throwaway cluster:
//! `.ci/with-postgres cargo test …` starts one). Without it they skip with a message, except when
//! `CI` is set, where they fail.

use sqlx::Connection;

/// The variable naming the PostgreSQL cluster the tests may create databases in.
pub const POSTGRES_URL_VAR: &str = "RAINBOND_TEST_POSTGRES_URL";

/// A storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database location selects.
    pub fn of(location: &str) -> Backend {
        if rainbond_server::store::is_postgres_url(location) { Backend::Postgres } else { Backend::Sqlite }
    }
}

/// A new, empty database for one test: a file in a temporary directory, or a PostgreSQL
/// database with a random name in the test cluster.
pub struct TestDatabase {
    pub backend: Backend,
    /// What `--database` takes.
    pub location: String,
    dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().join("copy.db").to_str().unwrap().to_owned();
        TestDatabase { backend: Backend::Sqlite, location, dir: Some(dir) }
    }

    /// A new database in the cluster at [`POSTGRES_URL_VAR`], or `None` (the test skips) when the
    /// variable is unset outside CI.
    pub async fn postgres() -> Option<TestDatabase> {
        let cluster = cluster_url(POSTGRES_URL_VAR)?;
        Some(TestDatabase::postgres_in(&cluster).await)
    }

    /// A new database in the cluster whose superuser URL is `cluster`.
    pub async fn postgres_in(cluster: &str) -> TestDatabase {
        let name = format!("rainbond_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(cluster).await.expect("the test cluster answers");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        let (base, _) = cluster.rsplit_once('/').expect("a URL with a database path");
        TestDatabase { backend: Backend::Postgres, location: format!("{base}/{name}"), dir: None }
    }

    /// The temporary directory of a SQLite database (for other files of the test).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }
}

/// The value of `variable`, or `None` after saying why the test skips. In CI (`CI` set) a missing
/// cluster is a failure, not a skip.
pub fn cluster_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) => {
            panic!("{variable} is not set, and CI runs the PostgreSQL tests: run them under .ci/with-postgres")
        }
        _ => {
            eprintln!("skipping: {variable} is not set (run `.ci/with-postgres cargo test …` to include PostgreSQL)");
            None
        }
    }
}

/// Runs each listed `async fn name(database: TestDatabase)` twice: in module `sqlite` on a new
/// SQLite file, and in module `postgres` on a new PostgreSQL database.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test($crate::common::TestDatabase::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    if let Some(database) = $crate::common::TestDatabase::postgres().await {
                        super::$test(database).await;
                    }
                }
            )*
        }
    };
}

/// A connection to the PostgreSQL database at `location`, in an open transaction (a concurrent
/// writer that commits or rolls back when the test says so).
pub async fn in_transaction(location: &str) -> sqlx::PgConnection {
    let mut connection = sqlx::PgConnection::connect(location).await.unwrap();
    sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
    connection
}

/// Drops `connection` without a goodbye (as a crashed client would) and waits, at most 10 s, until
/// PostgreSQL has noticed and ended its backend: only then are its transaction and its locks gone.
pub async fn close_hard_and_wait_until_its_backend_ends(mut connection: sqlx::PgConnection, location: &str) {
    let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()").fetch_one(&mut connection).await.unwrap();
    connection.close_hard().await.unwrap();
    let mut observer = sqlx::PgConnection::connect(location).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (alive,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
            .bind(pid)
            .fetch_one(&mut observer)
            .await
            .unwrap();
        if alive == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "backend {pid} still runs 10 s after its client left");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    observer.close().await.unwrap();
}

/// A connection to the PostgreSQL database at `location`, in an open transaction that holds the
/// advisory lock `(class, key)` (`key`: an SQL expression) until it ends.
pub async fn holding_advisory_lock(location: &str, class: i32, key: &str) -> sqlx::PgConnection {
    let mut connection = in_transaction(location).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT pg_advisory_xact_lock($1, {key})")))
        .bind(class)
        .execute(&mut connection)
        .await
        .unwrap();
    connection
}

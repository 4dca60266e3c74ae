//! The database the benchmark runs on: a SQLite file, or a database it creates in a PostgreSQL
//! cluster. Either is recreated empty at the start of a run and left in place afterwards.

use anyhow::{Context, bail};
use rainbond_server::store::is_postgres_url;
use sqlx::Connection;

/// The database the benchmark creates in a PostgreSQL cluster.
pub const POSTGRES_DATABASE: &str = "rainbond_bench";

/// Where the server's data lives during the run.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file (a `sqlite:` URL or a path).
    Sqlite {
        /// What `--database` of the server takes.
        location: String,
    },
    /// [`POSTGRES_DATABASE`] in the cluster of the given URL.
    Postgres {
        /// The URL the run was given (its database is only used to connect to the cluster).
        cluster: String,
        /// The benchmark's database in that cluster.
        location: String,
    },
}

impl Database {
    /// The database for `location`: a `postgres://` URL names the cluster (its user must be allowed
    /// to create databases), anything else the SQLite file.
    pub fn for_location(location: &str) -> anyhow::Result<Database> {
        if !is_postgres_url(location) {
            return Ok(Database::Sqlite { location: location.to_owned() });
        }
        let mut url =
            reqwest::Url::parse(location).with_context(|| format!("parsing the PostgreSQL URL {location:?}"))?;
        url.set_path(POSTGRES_DATABASE);
        Ok(Database::Postgres { cluster: location.to_owned(), location: url.to_string() })
    }

    /// What the server's `--database` takes.
    pub fn location(&self) -> &str {
        match self {
            Database::Sqlite { location } | Database::Postgres { location, .. } => location,
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Database::Sqlite { .. } => "sqlite",
            Database::Postgres { .. } => "postgres",
        }
    }

    /// The numbers of server instances the throughput runs use: one SQLite file has one server;
    /// a PostgreSQL database is also measured with two instances sharing it.
    pub fn instance_counts(&self) -> &'static [usize] {
        match self {
            Database::Sqlite { .. } => &[1],
            Database::Postgres { .. } => &[1, 2],
        }
    }

    /// Removes what an earlier run left, so that the server starts on an empty database.
    pub async fn recreate(&self) -> anyhow::Result<()> {
        match self {
            Database::Sqlite { location } => remove_sqlite_files(location),
            Database::Postgres { cluster, .. } => {
                let mut admin =
                    sqlx::PgConnection::connect(cluster).await.context("connecting to the PostgreSQL cluster")?;
                for statement in [
                    format!("DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)"),
                    format!("CREATE DATABASE {POSTGRES_DATABASE}"),
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                        .execute(&mut admin)
                        .await
                        .with_context(|| format!("running {statement:?} on the cluster"))?;
                }
                admin.close().await.context("closing the cluster connection")
            }
        }
    }
}

fn remove_sqlite_files(location: &str) -> anyhow::Result<()> {
    let file = location.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let file = file.split('?').next().unwrap_or(file);
    if file.is_empty() || file == ":memory:" {
        bail!("the benchmark needs an on-disk database, not {location:?}");
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{file}{suffix}");
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).with_context(|| format!("removing {path}"));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_names_the_cluster_and_the_benchmark_gets_its_own_database() {
        let database = Database::for_location("postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable").unwrap();
        assert_eq!(database.backend(), "postgres");
        assert_eq!(database.location(), "postgres://postgres@127.0.0.1:5433/rainbond_bench?sslmode=disable");
        assert_eq!(database.instance_counts(), &[1, 2]);
        let database = Database::for_location("/tmp/bench.db").unwrap();
        assert_eq!((database.backend(), database.location()), ("sqlite", "/tmp/bench.db"));
        assert_eq!(database.instance_counts(), &[1]);
    }

    /// The cluster `.ci/with-postgres` started, or `None` (the test skips) outside CI.
    fn test_cluster() -> Option<String> {
        const VAR: &str = "RAINBOND_TEST_POSTGRES_URL";
        match std::env::var(VAR) {
            Ok(url) if !url.is_empty() => Some(url),
            _ if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) => panic!("{VAR} is not set in CI"),
            _ => {
                eprintln!("skipping: {VAR} is not set (run under .ci/with-postgres)");
                None
            }
        }
    }

    #[tokio::test]
    async fn a_postgres_run_starts_on_an_empty_database_and_the_ceiling_leaves_no_table() {
        let Some(cluster) = test_cluster() else { return };
        let database = Database::for_location(&cluster).unwrap();
        database.recreate().await.unwrap();
        let mut connection = sqlx::PgConnection::connect(database.location()).await.unwrap();
        sqlx::query("CREATE TABLE left_by_an_earlier_run (id INTEGER)").execute(&mut connection).await.unwrap();
        connection.close().await.unwrap();

        database.recreate().await.unwrap();
        let rate = crate::ceiling::storage_commits_per_second(&database, 20).await.unwrap();
        assert!(rate > 0.0, "{rate}");
        let description = crate::ceiling::describe(&database).await.unwrap();
        assert!(description.contains("PostgreSQL, synchronous_commit="), "{description}");

        let mut connection = sqlx::PgConnection::connect(database.location()).await.unwrap();
        let (tables,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        assert_eq!(tables, 0, "neither the earlier run's table nor the ceiling's scratch table is left");
        connection.close().await.unwrap();
    }
}

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
}

//! The storage ceiling: how many minimal one-row write transactions the server's database
//! commits per second, one writer, with the server's own connection settings. A copy is one such
//! durable transaction (plus its reads and rows), so no copy rate can exceed this.

use std::time::Instant;

use anyhow::Context;
use rainbond_server::store::{PgStore, SqliteStore};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::database::Database;

/// The scratch table the ceiling writes to (dropped afterwards).
const TABLE: &str = "bench_ceiling";

/// What the ceiling measures, for the figure's name: the backend and its durability settings.
pub async fn describe(database: &Database) -> anyhow::Result<String> {
    Ok(match database {
        Database::Sqlite { .. } => "storage: one-row commits/s (SQLite, WAL, synchronous=FULL)".to_owned(),
        Database::Postgres { location, .. } => {
            let mut connection = connect_postgres(location).await?;
            let mut settings = Vec::new();
            for name in ["synchronous_commit", "fsync"] {
                let (value,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SHOW {name}")))
                    .fetch_one(&mut connection)
                    .await
                    .with_context(|| format!("reading {name}"))?;
                settings.push(format!("{name}={value}"));
            }
            connection.close().await.context("closing the database")?;
            format!("storage: one-row commits/s (PostgreSQL, {})", settings.join(", "))
        }
    })
}

/// Commits `count` one-row transactions (one INSERT each) into a scratch table of `database`;
/// returns commits per second.
pub async fn storage_commits_per_second(database: &Database, count: usize) -> anyhow::Result<f64> {
    match database {
        Database::Sqlite { location } => {
            let options = SqliteStore::connect_options(location).context("the database settings")?;
            let connection = SqliteConnection::connect_with(&options).await.context("opening the database")?;
            let create = format!("CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)");
            commit_rows::<sqlx::Sqlite>(connection, &create, "BEGIN IMMEDIATE", "?", count).await
        }
        Database::Postgres { location, .. } => {
            let connection = connect_postgres(location).await?;
            let create = format!(
                "CREATE TABLE IF NOT EXISTS {TABLE} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL)"
            );
            commit_rows::<sqlx::Postgres>(connection, &create, "BEGIN", "$1", count).await
        }
    }
}

/// Creates the scratch table, times `count` transactions `begin`, INSERT, COMMIT, drops the table.
async fn commit_rows<DB>(
    mut connection: DB::Connection,
    create: &str,
    begin: &'static str,
    param: &str,
    count: usize,
) -> anyhow::Result<f64>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query(sqlx::AssertSqlSafe(create.to_owned()))
        .execute(&mut connection)
        .await
        .context("creating the scratch table")?;
    let insert = format!("INSERT INTO {TABLE} (at) VALUES ({param})");
    let started = Instant::now();
    for index in 0..count {
        let mut tx = connection.begin_with(begin).await.context("beginning")?;
        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(index as i64)
            .execute(&mut *tx)
            .await
            .context("inserting")?;
        tx.commit().await.context("committing")?;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {TABLE}")))
        .execute(&mut connection)
        .await
        .context("dropping the scratch table")?;
    connection.close().await.context("closing the database")?;
    Ok(rate)
}

async fn connect_postgres(location: &str) -> anyhow::Result<PgConnection> {
    let options = PgStore::connect_options(location).context("the database settings")?;
    PgConnection::connect_with(&options).await.context("connecting to the database")
}

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
/// Creates [`TABLE`] on PostgreSQL.
const POSTGRES_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS bench_ceiling (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL)";

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
            commit_rows::<sqlx::Postgres>(connection, POSTGRES_TABLE, "BEGIN", "$1", count).await
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
    let started = Instant::now();
    commit_each::<DB>(&mut connection, begin, param, count).await?;
    let rate = count as f64 / started.elapsed().as_secs_f64();
    drop_table::<DB>(connection).await?;
    Ok(rate)
}

/// `count` transactions `begin`, one-row INSERT (its value bound as `param`), COMMIT.
async fn commit_each<DB>(
    connection: &mut DB::Connection,
    begin: &'static str,
    param: &str,
    count: usize,
) -> anyhow::Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let insert = format!("INSERT INTO {TABLE} (at) VALUES ({param})");
    for index in 0..count {
        let mut tx = connection.begin_with(begin).await.context("beginning")?;
        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(index as i64)
            .execute(&mut *tx)
            .await
            .context("inserting")?;
        tx.commit().await.context("committing")?;
    }
    Ok(())
}

/// Drops the scratch table and closes the connection.
async fn drop_table<DB>(mut connection: DB::Connection) -> anyhow::Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {TABLE}")))
        .execute(&mut connection)
        .await
        .context("dropping the scratch table")?;
    connection.close().await.context("closing the database")
}

/// PostgreSQL only: `count` one-row transactions spread over `connections` connections committing
/// at once (the bound of copies that do not wait for each other's turn: into as many apps);
/// returns commits per second.
pub async fn parallel_commits_per_second(location: &str, count: usize, connections: usize) -> anyhow::Result<f64> {
    let mut admin = connect_postgres(location).await?;
    sqlx::query(sqlx::AssertSqlSafe(POSTGRES_TABLE.to_owned()))
        .execute(&mut admin)
        .await
        .context("creating the scratch table")?;
    let mut writers: Vec<PgConnection> = Vec::with_capacity(connections);
    for _ in 0..connections {
        writers.push(connect_postgres(location).await?);
    }
    let per_writer = count.div_ceil(connections);
    let started = Instant::now();
    // One task drives every connection: the work is the database's, the waits overlap.
    let commits =
        writers.iter_mut().map(|connection| commit_each::<sqlx::Postgres>(connection, "BEGIN", "$1", per_writer));
    futures::future::try_join_all(commits).await?;
    let elapsed = started.elapsed();
    for connection in writers {
        connection.close().await.context("closing the database")?;
    }
    let rate = (per_writer * connections) as f64 / elapsed.as_secs_f64();
    drop_table::<sqlx::Postgres>(admin).await?;
    Ok(rate)
}

async fn connect_postgres(location: &str) -> anyhow::Result<PgConnection> {
    let options = PgStore::connect_options(location).context("the database settings")?;
    PgConnection::connect_with(&options).await.context("connecting to the database")
}

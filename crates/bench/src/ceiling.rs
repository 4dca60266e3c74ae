//! The storage ceiling: how many minimal one-row write transactions the server's database file
//! commits per second, one writer, with the server's own connection settings. A copy is one such
//! durable transaction (plus its reads and rows), so no copy rate can exceed this.

use std::time::Instant;

use anyhow::Context;
use rainbond_server::store::SqliteStore;
use sqlx::{Connection, SqliteConnection};

/// Commits `count` one-row transactions (`BEGIN IMMEDIATE`, one INSERT, COMMIT) into a scratch
/// table of the database at `location`; returns commits per second.
pub async fn storage_commits_per_second(location: &str, count: usize) -> anyhow::Result<f64> {
    let options = SqliteStore::connect_options(location).context("the database settings")?;
    let mut connection = SqliteConnection::connect_with(&options).await.context("opening the database")?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_ceiling (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)")
        .execute(&mut connection)
        .await
        .context("creating the scratch table")?;
    let started = Instant::now();
    for index in 0..count {
        let mut tx = connection.begin_with("BEGIN IMMEDIATE").await.context("beginning")?;
        sqlx::query("INSERT INTO bench_ceiling (at) VALUES (?)")
            .bind(index as i64)
            .execute(&mut *tx)
            .await
            .context("inserting")?;
        tx.commit().await.context("committing")?;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_ceiling").execute(&mut connection).await.context("dropping the scratch table")?;
    connection.close().await.context("closing the database")?;
    Ok(rate)
}

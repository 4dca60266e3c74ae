//! SQLite's copies and fixture loads: each one unit of blocking work on the writer connection,
//! and the work queued at once committed together.
//!
//! sqlx runs each SQLite connection on its own worker thread and hands every statement to it and
//! its rows back, so a copy of a dozen statements cost a dozen thread hand-offs, and the wake-ups
//! took more of the server's CPU than SQLite itself. The writer is instead one rusqlite
//! connection (the same libsqlite3-sys as sqlx's driver, so one SQLite is linked), with the
//! store's settings and cached prepared statements, owned by one thread: a copy (every lookup
//! and every write) is handed to it once, and its answer comes back once.
//!
//! SQLite commits one transaction at a time, each with its own `fsync`, so copies that each
//! committed alone queued for the disk. The writer thread instead takes every unit of work queued
//! when it comes free (at most [`MAX_BATCH`]) into one `BEGIN IMMEDIATE` transaction, each unit in
//! its own savepoint: a unit that fails is rolled back to its savepoint without touching the
//! others, and every unit is answered only after the one `COMMIT` (group commit). A commit that
//! fails answers every unit of the batch with its error: nothing of it was written.

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::pipeline::{self, Lookup, Statements, TableRows, TakenRow};
use super::{KeyedCopy, StoreError, StoredAnswer};

/// The lookups of a [`Lookup`] in one statement; each list is bound as one JSON array.
const TAKEN: &str = "SELECT ?1, service_alias, '' FROM tenant_services \
    WHERE service_alias IN (SELECT value FROM json_each(?2)) \
    UNION ALL SELECT ?3, k8s_component_name, '' FROM tenant_services \
    WHERE app_id = ?4 AND k8s_component_name IN (SELECT value FROM json_each(?5)) \
    UNION ALL SELECT ?6, k8s_service_name, service_id FROM port_service_names \
    WHERE tenant_id = ?7 AND k8s_service_name IN (SELECT value FROM json_each(?8))";

/// Deletes a few expired idempotency keys (`?1`: now, `?2`: how many at most), oldest first.
const DELETE_EXPIRED_KEYS: &str = "DELETE FROM idempotency_keys WHERE rowid IN \
    (SELECT rowid FROM idempotency_keys WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)";

/// The most units of work committed in one transaction (a bound on how long a unit waits for
/// the others of its batch).
pub(crate) const MAX_BATCH: usize = 32;

/// Where units of work are sent to the writer thread.
type Queue = mpsc::Sender<Box<dyn Job>>;

/// The writer thread, through the queue of work it runs (none once the store is closed).
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    queue: Arc<Mutex<Option<Queue>>>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
    /// The longest a unit of work waits in the queue before it is given up.
    busy_timeout: Duration,
}

impl Writer {
    /// Opens the database file at `path` (already created and migrated) with the store's
    /// settings, and starts the writer thread on it.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Writer, StoreError> {
        let what = "starting the SQLite writer thread";
        let connection = open_connection(path, busy_timeout, "opening the SQLite writer connection")?;
        connection.pragma_update(None, "wal_autocheckpoint", 0).map_err(store_error(what))?;
        let checkpoints = Checkpoints::start(path, busy_timeout)?;
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run_batches(connection, &receiver, checkpoints))
            .map_err(|error| StoreError { context: what, source: sqlx::Error::Io(error) })?;
        Ok(Writer {
            queue: Arc::new(Mutex::new(Some(sender))),
            thread: Arc::new(Mutex::new(Some(thread))),
            busy_timeout,
        })
    }

    /// Stops taking work and waits for the thread to finish what is queued and close the
    /// connection.
    pub fn close(&self) {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).take();
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(Err(_)) = thread.map(std::thread::JoinHandle::join) {
            tracing::warn!("the SQLite writer thread panicked");
        }
    }

    /// Runs `work` on the writer thread, in a transaction with the other work queued at the same
    /// time: its writes are committed when it succeeds, and rolled back (its own only) otherwise.
    /// Work still queued after the busy timeout is given up, unrun, with an
    /// [`StoreError::is_unavailable`] error, and so is work whose requester stopped waiting (the
    /// returned future was dropped); work that started runs to its end.
    pub async fn run<T, E>(
        &self,
        work: impl FnOnce(&mut WriterTransaction<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (sender, mut receiver) = tokio::sync::oneshot::channel();
        let state = Arc::new(AtomicU8::new(QUEUED));
        let job = Box::new(Unit { work: Some(work), result: None, sender, state: state.clone() });
        let queued = self.queue.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|queue| queue.send(job));
        if !matches!(queued, Some(Ok(()))) {
            return Err(StoreError { context: "writing", source: sqlx::Error::PoolClosed }.into());
        }
        if let Ok(answer) = tokio::time::timeout(self.busy_timeout, &mut receiver).await {
            return answer.unwrap_or_else(|_| Err(writer_gone()));
        }
        if state.compare_exchange(QUEUED, GIVEN_UP, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            let source = sqlx::Error::PoolTimedOut;
            return Err(StoreError { context: "waiting for the turn to write", source }.into());
        }
        receiver.await.unwrap_or_else(|_| Err(writer_gone()))
    }
}

/// The error of work whose answer never came (the writer thread stopped).
fn writer_gone<E: From<StoreError>>() -> E {
    StoreError { context: "writing", source: sqlx::Error::WorkerCrashed }.into()
}

/// A unit of work's state: queued, started by the writer, or given up by its requester.
const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const GIVEN_UP: u8 = 2;

/// A unit of work in the writer's queue.
trait Job: Send {
    /// Runs the work in the batch's open transaction (unless its requester gave up on it or
    /// stopped waiting);
    /// whether its writes are kept.
    fn run(&mut self, tx: &mut WriterTransaction<'_>) -> bool;
    /// Answers the requester once the batch ended: the work's own result if the batch was
    /// committed, else the error that ended it.
    fn answer(self: Box<Self>, ended: Result<(), StoreError>);
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// A unit of work, its result once run, and where its answer goes.
struct Unit<W, T, E> {
    work: Option<W>,
    result: Option<Result<T, E>>,
    sender: tokio::sync::oneshot::Sender<Result<T, E>>,
    state: Arc<AtomicU8>,
}

impl<W, T, E> Job for Unit<W, T, E>
where
    W: FnOnce(&mut WriterTransaction<'_>) -> Result<T, E> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, tx: &mut WriterTransaction<'_>) -> bool {
        // A requester that stopped waiting (its request timed out or was cancelled) gets no work done.
        if self.sender.is_closed()
            || self.state.compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire).is_err()
        {
            return true;
        }
        let Some(work) = self.work.take() else { return true };
        let result = work(tx);
        let kept = result.is_ok();
        self.result = Some(result);
        kept
    }

    fn answer(self: Box<Self>, ended: Result<(), StoreError>) {
        let answer = match (ended, self.result) {
            (Ok(()), Some(result)) | (Err(_), Some(result @ Err(_))) => result,
            (Ok(()), None) => return,
            (Err(error), _) => Err(error.into()),
        };
        // The requester may have stopped waiting (its request was cancelled).
        let _ = self.sender.send(answer);
    }
}

/// The writer thread: runs the queued work in batches until the queue is closed, then closes
/// the connection.
fn run_batches(mut connection: Connection, queue: &mpsc::Receiver<Box<dyn Job>>, mut checkpoints: Checkpoints) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(MAX_BATCH - 1));
        let ended = run_batch(&mut connection, &mut batch);
        for job in batch {
            job.answer(ended.as_ref().map(|_| ()).map_err(duplicate));
        }
        if ended.is_ok() {
            checkpoints.committed(&connection);
        }
    }
    checkpoints.stop();
    if let Err((_, error)) = connection.close() {
        tracing::warn!(%error, "closing the SQLite writer connection");
    }
}

/// Commits between two checkpoints of the WAL on the checkpoint thread. Often, so that the
/// writer's own checkpoint finds little left to copy: with one every 64 commits, that checkpoint
/// copied up to 64 commits' pages and synced them while every copy waited, longer as the database
/// grew, and the p99 of copies under sustained load grew with it (10 → 37 ms over six 6-second
/// runs at c=8; 6–9 ms throughout with 8). README, Performance.
const COMMITS_PER_CHECKPOINT: u32 = 8;
/// Commits between two checkpoints on the writer itself, which let the WAL start over.
const COMMITS_PER_WRITER_CHECKPOINT: u32 = 256;

/// The WAL's checkpoints. SQLite's automatic checkpoint runs in the commit that fills the WAL
/// past its threshold, so every few dozen copies one copy also copied a thousand pages into the
/// database file and synced it. The writer has it turned off and asks a thread of its own (with
/// its own connection) for a `PASSIVE` checkpoint every [`COMMITS_PER_CHECKPOINT`] commits,
/// which copies the WAL's pages beside the writer. A checkpoint that runs while the writer keeps
/// appending never leaves the WAL wholly copied when the writer starts its next transaction, and
/// only then does the WAL start over: so every [`COMMITS_PER_WRITER_CHECKPOINT`] commits the
/// writer checkpoints itself, between two batches, copying only what the thread has not.
struct Checkpoints {
    due: Option<mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    commits: u32,
}

impl Checkpoints {
    fn start(path: &Path, busy_timeout: Duration) -> Result<Checkpoints, StoreError> {
        let what = "starting the SQLite checkpoint thread";
        let connection = open_connection(path, busy_timeout, what)?;
        let (due, requests) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run_checkpoints(connection, &requests))
            .map_err(|error| StoreError { context: what, source: sqlx::Error::Io(error) })?;
        Ok(Checkpoints { due: Some(due), thread: Some(thread), commits: 0 })
    }

    /// Counts a commit of the writer's `connection`, and checkpoints when one is due.
    fn committed(&mut self, connection: &Connection) {
        self.commits = self.commits.wrapping_add(1);
        if self.commits.is_multiple_of(COMMITS_PER_WRITER_CHECKPOINT) {
            checkpoint(connection);
        } else if self.commits.is_multiple_of(COMMITS_PER_CHECKPOINT)
            && let Some(due) = &self.due
        {
            // Not waiting: a checkpoint asked for and not yet run covers this one too.
            let _ = due.try_send(());
        }
    }

    /// Stops the thread, after the checkpoint it is running.
    fn stop(&mut self) {
        self.due.take();
        if let Some(Err(_)) = self.thread.take().map(std::thread::JoinHandle::join) {
            tracing::warn!("the SQLite checkpoint thread panicked");
        }
    }
}

/// The checkpoint thread: a checkpoint per request, until the requests stop.
fn run_checkpoints(connection: Connection, requests: &mpsc::Receiver<()>) {
    while requests.recv().is_ok() {
        checkpoint(&connection);
    }
    if let Err((_, error)) = connection.close() {
        tracing::warn!(%error, "closing the SQLite checkpoint connection");
    }
}

/// A `PASSIVE` checkpoint on `connection` (it waits for no other connection).
fn checkpoint(connection: &Connection) {
    if let Err(error) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "checkpointing the SQLite WAL");
    }
}

/// Runs `batch` in one transaction, each unit in a savepoint; commits.
fn run_batch(connection: &mut Connection, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    connection.execute_batch("BEGIN IMMEDIATE").map_err(store_error("starting the write transaction"))?;
    let ended = run_units(connection, batch)
        .and_then(|()| connection.execute_batch("COMMIT").map_err(store_error("committing the write transaction")));
    if ended.is_err() && !connection.is_autocommit() {
        // A failed statement or COMMIT can leave the transaction open: give it up.
        let _ = connection.execute_batch("ROLLBACK");
    }
    ended
}

/// Runs each unit in its own savepoint, rolled back when the unit fails.
fn run_units(connection: &mut Connection, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    let what = "isolating a unit of work in its savepoint";
    for job in batch.iter_mut() {
        connection.execute_batch("SAVEPOINT unit").map_err(store_error(what))?;
        let end =
            if job.run(&mut WriterTransaction(connection)) { "RELEASE unit" } else { "ROLLBACK TO unit; RELEASE unit" };
        connection.execute_batch(end).map_err(store_error(what))?;
    }
    Ok(())
}

/// The settings of every rusqlite connection of the store: a WAL journal, a sync of the WAL at
/// every commit (an acknowledged copy survives a crash), foreign keys, and temporary storage in
/// memory. The last one matters to the writer: each unit of work runs in a savepoint, whose
/// journal keeps the first version of every page the unit changes. SQLite keeps such a journal in
/// memory up to 64 KiB and otherwise spills it to a temporary file, so a batch of copies (a few
/// dozen changed pages each) created, wrote and deleted a file at every commit; in memory, the
/// writer spends about a sixth less time per copy.
const CONNECTION_SETTINGS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;";

/// A connection to the database file at `path` (already created and migrated) with the store's
/// [`CONNECTION_SETTINGS`], the busy timeout and a cache of prepared statements.
pub(super) fn open_connection(
    path: &Path,
    busy_timeout: Duration,
    what: &'static str,
) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags).map_err(store_error(what))?;
    connection.busy_timeout(busy_timeout).map_err(store_error(what))?;
    connection.execute_batch(CONNECTION_SETTINGS).map_err(store_error(what))?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// The value of a future that completes in its first poll (a pipeline step over
/// [`Statements`], whose statements here never wait).
pub(super) fn complete<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut TaskContext::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("the SQLite writer's statements never wait"),
    }
}

/// The writer's connection, in its open transaction.
pub(crate) struct WriterTransaction<'c>(&'c mut Connection);

impl Statements for WriterTransaction<'_> {
    async fn taken(&mut self, lookup: &Lookup) -> Result<Vec<TakenRow>, StoreError> {
        let what = "looking up the new aliases and names";
        let list = |list: &[String]| serde_json::to_string(list).expect("strings serialize");
        let mut statement = self.0.prepare_cached(TAKEN).map_err(store_error(what))?;
        let rows = statement
            .query_map(
                rusqlite::params![
                    pipeline::TAKEN_ALIAS,
                    list(&lookup.aliases),
                    pipeline::TAKEN_COMPONENT_NAME,
                    lookup.app_id,
                    list(&lookup.component_names),
                    pipeline::TAKEN_PORT_NAME,
                    lookup.tenant_id,
                    list(&lookup.port_names),
                ],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(store_error(what))?;
        rows.collect::<Result<_, _>>().map_err(store_error(what))
    }

    async fn write(&mut self, writes: &[TableRows]) -> Result<u64, StoreError> {
        let mut linked = 0;
        for TableRows { table, rows } in writes {
            let sql = super::sqlite::insert_statement(table);
            let mut statement = self.0.prepare_cached(sql).map_err(store_error(table.what))?;
            let inserted = statement.execute([rows]).map_err(store_error(table.what))?;
            if table.links_volume {
                linked += inserted as u64;
            }
        }
        Ok(linked)
    }

    async fn claim_key(&mut self, _user_id: i32, _key: &str) -> Result<bool, StoreError> {
        // The transaction is `BEGIN IMMEDIATE`: a copy with the same key ran before it or runs after.
        Ok(true)
    }

    async fn delete_expired_keys(&mut self, now: i64, limit: i64) -> Result<(), StoreError> {
        let what = "deleting expired idempotency keys";
        let mut statement = self.0.prepare_cached(DELETE_EXPIRED_KEYS).map_err(store_error(what))?;
        statement.execute([now, limit]).map_err(store_error(what))?;
        Ok(())
    }

    async fn stored_answer(&mut self, user_id: i32, key: &str, now: i64) -> Result<Option<StoredAnswer>, StoreError> {
        let what = "looking up the idempotency key";
        let mut statement = self.0.prepare_cached(pipeline::STORED_ANSWER).map_err(store_error(what))?;
        statement
            .query_row(rusqlite::params![user_id, key, now], |row| {
                Ok(StoredAnswer { fingerprint: row.get(0)?, status: row.get(1)?, body: row.get(2)? })
            })
            .optional()
            .map_err(store_error(what))
    }

    async fn remember(&mut self, keyed: &KeyedCopy<'_>, status: u16, body: &str) -> Result<(), StoreError> {
        let what = "remembering the answer of the idempotency key";
        let mut statement = self.0.prepare_cached(pipeline::REMEMBER_ANSWER).map_err(store_error(what))?;
        statement
            .execute(rusqlite::params![keyed.user_id, keyed.key, keyed.fingerprint, status, body, keyed.expires_at])
            .map_err(store_error(what))?;
        Ok(())
    }

    async fn fixture_state(&mut self, name: &str) -> Result<(bool, i64), StoreError> {
        let what = "reading the applied fixtures";
        let mut statement = self.0.prepare_cached(pipeline::FIXTURE_STATE).map_err(store_error(what))?;
        let (applied, stored): (i64, i64) =
            statement.query_row([name], |row| Ok((row.get(0)?, row.get(1)?))).map_err(store_error(what))?;
        Ok((applied > 0, stored))
    }

    async fn record_fixture(&mut self, name: &str, sha256: &str, now: String) -> Result<(), StoreError> {
        let what = "recording the fixture";
        let mut statement = self.0.prepare_cached(pipeline::RECORD_FIXTURE).map_err(store_error(what))?;
        statement.execute(rusqlite::params![name, sha256, now]).map_err(store_error(what))?;
        Ok(())
    }
}

/// A SQLite error of the writer, as a database error of the store (its code is SQLite's extended
/// result code, as sqlx's SQLite errors give it).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub(crate) struct WriterError {
    message: String,
    code: i32,
}

impl sqlx::error::DatabaseError for WriterError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}

/// Maps a rusqlite error to a [`StoreError`] with `context`: SQLite's own failures as database
/// errors (so that a lock held elsewhere is [`StoreError::is_unavailable`]), anything else (a
/// value of an unexpected type) as a decoding error.
pub(super) fn store_error(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| {
        let source = match error {
            rusqlite::Error::SqliteFailure(failure, message) => {
                let message = message.unwrap_or_else(|| failure.to_string());
                sqlx::Error::Database(Box::new(WriterError { message, code: failure.extended_code }))
            }
            other => sqlx::Error::Decode(Box::new(other)),
        };
        StoreError { context, source }
    }
}

/// The same error again, for each unit of a batch that failed: a SQLite failure as itself,
/// anything else by its message.
fn duplicate(error: &StoreError) -> StoreError {
    let source = match &error.source {
        sqlx::Error::Database(database) => match database.try_downcast_ref::<WriterError>() {
            Some(failure) => sqlx::Error::Database(Box::new(failure.clone())),
            None => sqlx::Error::Protocol(database.to_string()),
        },
        other => sqlx::Error::Protocol(other.to_string()),
    };
    StoreError { context: error.context, source }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;

    use super::*;

    /// A database file with one table `t (n INTEGER PRIMARY KEY)`, and a writer on it.
    fn writer(busy_timeout: Duration) -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("writer.db");
        let setup = Connection::open(&path).expect("creating the database");
        setup.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER PRIMARY KEY)").expect("the table");
        drop(setup);
        let writer = Writer::open(&path, busy_timeout).expect("the writer");
        (dir, writer)
    }

    /// A unit that inserts `n`, then fails if `fail`.
    fn insert(n: i64, fail: bool) -> impl FnOnce(&mut WriterTransaction<'_>) -> Result<i64, StoreError> + Send {
        move |tx| {
            tx.0.execute("INSERT INTO t (n) VALUES (?1)", [n]).map_err(store_error("inserting"))?;
            if fail {
                return Err(StoreError { context: "failing on purpose", source: sqlx::Error::RowNotFound });
            }
            Ok(n)
        }
    }

    /// The rows of `t`, in order (read on the writer, after everything queued before).
    async fn rows(writer: &Writer) -> Vec<i64> {
        writer
            .run(|tx| {
                let mut statement = tx.0.prepare("SELECT n FROM t ORDER BY n").map_err(store_error("reading"))?;
                let rows = statement.query_map([], |row| row.get(0)).map_err(store_error("reading"))?;
                rows.collect::<Result<Vec<i64>, _>>().map_err(store_error("reading"))
            })
            .await
            .expect("reading the rows")
    }

    /// Holds the writer thread (in a unit of its own) until the returned sender is used or dropped;
    /// resolves once the unit has started.
    async fn hold(writer: &Writer) -> (tokio::task::JoinHandle<()>, std_mpsc::Sender<()>) {
        let (release, released) = std_mpsc::channel::<()>();
        let (started, has_started) = tokio::sync::oneshot::channel();
        let held = writer.clone();
        let task = tokio::spawn(async move {
            held.run(move |_| {
                let _ = started.send(());
                let _ = released.recv();
                Ok::<_, StoreError>(())
            })
            .await
            .expect("the holding unit");
        });
        has_started.await.expect("the holding unit starts");
        (task, release)
    }

    /// Releases the writer held by [`hold`], checks that the table is still empty, closes.
    async fn release_expecting_no_rows(
        writer: Writer,
        holder: tokio::task::JoinHandle<()>,
        release: std_mpsc::Sender<()>,
        why: &str,
    ) {
        release.send(()).expect("releasing the writer");
        holder.await.expect("the holding task");
        assert_eq!(rows(&writer).await, Vec::<i64>::new(), "{why}");
        writer.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn units_queued_together_commit_together_and_a_failing_one_is_rolled_back_alone() {
        let (_dir, writer) = writer(Duration::from_secs(10));
        let (holder, release) = hold(&writer).await;
        // Queued while the writer is held, these three run in one batch.
        let units = [(1, false), (2, true), (3, false)].map(|(n, fail)| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.run(insert(n, fail)).await })
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        release.send(()).expect("releasing the writer");
        holder.await.expect("the holding task");
        let mut answers = Vec::new();
        for unit in units {
            answers.push(unit.await.expect("a unit's task").map_err(|error| error.context));
        }
        assert_eq!(answers, [Ok(1), Err("failing on purpose"), Ok(3)]);
        assert_eq!(rows(&writer).await, [1, 3], "the failed unit's row was rolled back, the others' kept");
        writer.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unit_still_queued_after_the_busy_timeout_is_given_up_unrun() {
        let (_dir, writer) = writer(Duration::from_millis(200));
        let (holder, release) = hold(&writer).await;
        let error = writer.run(insert(7, false)).await.expect_err("the writer is held past the busy timeout");
        assert!(error.is_unavailable(), "answered as a busy database: {error}");
        release_expecting_no_rows(writer, holder, release, "the unit that was given up never ran").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_unit_whose_requester_stopped_waiting_is_not_run() {
        let (_dir, writer) = writer(Duration::from_secs(10));
        let (holder, release) = hold(&writer).await;
        let waited = tokio::time::timeout(Duration::from_millis(100), writer.run(insert(5, false))).await;
        assert!(waited.is_err(), "still queued behind the held writer");
        release_expecting_no_rows(writer, holder, release, "the abandoned unit never ran").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_while_the_writer_never_pauses() {
        let (dir, writer) = writer(Duration::from_secs(10));
        let commits = 5 * i64::from(COMMITS_PER_WRITER_CHECKPOINT);
        for n in 0..commits {
            writer.run(insert(n, false)).await.expect("a commit");
        }
        let wal = std::fs::metadata(dir.path().join("writer.db-wal")).expect("the WAL").len();
        // Each commit appends at least one page frame (4 KiB and a header), so without the
        // writer's own checkpoints the WAL would hold all of them; with them it starts over every
        // `COMMITS_PER_WRITER_CHECKPOINT` commits.
        let bound = u64::from(2 * COMMITS_PER_WRITER_CHECKPOINT) * 4200;
        assert!(wal < bound, "the WAL holds {wal} bytes after {commits} commits");
        assert_eq!(rows(&writer).await.len(), commits as usize);
        writer.close();
    }

    #[test]
    fn connections_sync_every_commit_and_keep_savepoint_journals_in_memory() {
        let (dir, writer) = writer(Duration::from_secs(10));
        writer.close();
        let connection =
            open_connection(&dir.path().join("writer.db"), Duration::from_secs(1), "opening").expect("open");
        let journal_mode: String =
            connection.pragma_query_value(None, "journal_mode", |row| row.get(0)).expect("journal_mode");
        let number = |name: &str| connection.pragma_query_value(None, name, |row| row.get::<_, i64>(0)).expect(name);
        // synchronous 2 = FULL, temp_store 2 = MEMORY.
        let settings = ["synchronous", "foreign_keys", "temp_store"].map(number);
        assert_eq!((journal_mode.as_str(), settings), ("wal", [2, 1, 2]));
    }

    #[test]
    fn the_linked_sqlite_keeps_no_memory_counters() {
        let connection = Connection::open_in_memory().expect("a database");
        let mut statement = connection.prepare("PRAGMA compile_options").expect("the pragma");
        let options: Vec<String> =
            statement.query_map([], |row| row.get(0)).expect("options").collect::<Result<_, _>>().expect("options");
        assert!(options.iter().any(|option| option == "DEFAULT_MEMSTATUS=0"), "built with {options:?}");
    }

    #[tokio::test]
    async fn a_closed_writer_refuses_work() {
        let (_dir, writer) = writer(Duration::from_secs(10));
        writer.close();
        let error = writer.run(insert(1, false)).await.expect_err("closed");
        assert!(matches!(error.source, sqlx::Error::PoolClosed));
    }
}

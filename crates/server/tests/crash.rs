//! `kill -9` during a stream of copies, five times on one database: every acknowledged copy is
//! there in full, every other copy is there in full or not at all, and the file is intact.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::checks;
use common::process::{COPY_SHOP, ServerProcess, copy_all_into};
use common::{ADMIN, API, DB, WEB};
use sqlx::SqlitePool;

/// Crashes per round.
const CRASHES: usize = 5;
/// The crash test runs this many rounds in a row, each on a new database.
const ROUNDS: usize = 3;
const CLIENTS: usize = 4;
/// The target apps (o19p6wen, rainbond) the clients copy the shop into.
const TARGETS: [i32; 2] = [2, 100];

/// The component ids of each copy a client saw acknowledged with 200.
type Acknowledged = Arc<Mutex<Vec<Vec<String>>>>;

/// Copies the shop until the server goes away; records every acknowledged copy.
async fn client(url: String, target_app_id: i32, acknowledged: Acknowledged) {
    let http = reqwest::Client::new();
    // Bounded: the server is killed within two seconds; this stops by itself regardless.
    for _ in 0..10_000 {
        let Ok(response) = http
            .post(format!("{url}{COPY_SHOP}"))
            .header("authorization", ADMIN)
            .json(&copy_all_into(target_app_id))
            .send()
            .await
        else {
            return;
        };
        if response.status() != reqwest::StatusCode::OK {
            panic!("a copy answered {}: {:?}", response.status(), response.text().await);
        }
        let Ok(body) = response.json::<serde_json::Value>().await else { return };
        let ids = body["services"].as_array().unwrap().iter().map(|c| c["service_id"].as_str().unwrap().to_owned());
        acknowledged.lock().unwrap().push(ids.collect());
    }
}

/// The child-row counts of the shop's components, by display name of their copies.
async fn source_counts(pool: &SqlitePool) -> HashMap<String, Vec<i64>> {
    let mut counts = HashMap::new();
    for (id, name) in [(WEB, "web"), (API, "api"), (DB, "db")] {
        counts.insert(format!("{name}-copy"), checks::child_counts(pool, id).await);
    }
    counts
}

/// Every copy in the target apps is complete; the acknowledged ones are all there.
async fn verify(pool: &SqlitePool, acknowledged: &[Vec<String>], expected: &HashMap<String, Vec<i64>>, crash: usize) {
    assert_eq!(checks::integrity(pool).await, "ok", "crash {crash}: integrity_check");
    let mut present = HashMap::new();
    for app in TARGETS {
        let components = checks::components_of(pool, app).await;
        assert_eq!(components.len() % 3, 0, "crash {crash}: app {app} holds a partial copy");
        for (id, name) in components {
            let counts = checks::child_counts(pool, &id).await;
            assert_eq!(Some(&counts), expected.get(&name), "crash {crash}: {name} {id} is incomplete");
            present.insert(id, name);
        }
    }
    for copy in acknowledged {
        for id in copy {
            assert!(present.contains_key(id), "crash {crash}: acknowledged component {id} is missing");
        }
        // Dependencies stay within the copy: web -> api -> db, all of this copy.
        for id in copy {
            for dependency in checks::dependencies_of(pool, id).await {
                assert!(copy.contains(&dependency), "crash {crash}: {id} depends on {dependency}, outside its copy");
            }
        }
    }
    assert_eq!(checks::uniqueness_violations(pool).await, Vec::<String>::new(), "crash {crash}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_copies_survive_kill_9_and_the_rest_are_whole_or_absent() {
    for round in 1..=ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("crash.db");
        drop(ServerProcess::start(&database, &[]));
        let pool = checks::open(&database).await;
        checks::add_apps(&pool, [TARGETS[1]]).await;
        let expected = source_counts(&pool).await;
        pool.close().await;

        let acknowledged: Acknowledged = Arc::default();
        for crash in 1..=CRASHES {
            let server = ServerProcess::start(&database, &[]);
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| tokio::spawn(client(server.url.clone(), TARGETS[i % 2], acknowledged.clone())))
                .collect();
            tokio::time::sleep(Duration::from_millis(fastrand::u64(200..2000))).await;
            server.kill();
            for client in clients {
                client.await.unwrap();
            }
            let pool = checks::open(&database).await;
            let acknowledged = acknowledged.lock().unwrap().clone();
            verify(&pool, &acknowledged, &expected, crash).await;
            pool.close().await;
            assert!(!acknowledged.is_empty(), "round {round}, crash {crash}: no copy was acknowledged at all");
        }
    }
}

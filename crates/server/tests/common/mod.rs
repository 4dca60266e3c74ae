//! A server on a real database (a SQLite file, or a PostgreSQL database made for the test),
//! serving real HTTP on 127.0.0.1, for end-to-end tests.
#![allow(dead_code, missing_docs)]

pub mod backend;
#[path = "../binary/mod.rs"]
pub mod binary;
pub mod checks;
pub mod process;

use std::sync::Arc;

pub use backend::{Backend, TestDatabase};
use rainbond_client::Client;
use rainbond_client::types::{AppCopyCRes, ErrorBody};
use rainbond_server::fixture::{DEMO, Fixture};
use rainbond_server::limits::Limits;
use rainbond_server::service::CopyService;
use rainbond_server::store::{Repository, Store, StoreOptions};
use sqlx::AnyPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod raw_http;

/// The tables of a component's attached rows: the six copied with every component
/// ([`checks::CHILD_TABLES`]), then build-source credentials (copied) and health probes (never
/// copied).
pub const ATTACHED_TABLES: [&str; 8] = [
    "service_ports",
    "service_envs",
    "service_volumes",
    "service_config_files",
    "service_labels",
    "service_dependencies",
    "service_source_auth",
    "service_probes",
];

pub const ADMIN: &str = "rbd-demo-admin";
pub const GUEST: &str = "rbd-demo-guest";
pub const EXPIRED: &str = "rbd-demo-expired";
pub const SHOP_TEAM: &str = "o19p6wen";
pub const SHOP_TEAM_ID: &str = "3b8f6a2c9d4e4f1a8b7c6d5e4f3a2b1c";
pub const BLOG_TEAM: &str = "k2x9qa7d";
pub const WEB: &str = "0a1b2c3d4e5f40718293a4b5c6d7e8f1";
pub const API: &str = "1b2c3d4e5f60418293a4b5c6d7e8f902";
pub const DB: &str = "2c3d4e5f60718293a4b5c6d7e8f90a13";
pub const WORDPRESS: &str = "3d4e5f60718293a4b5c6d7e8f90a1b24";
pub const UPLOADER: &str = "4e5f60718293a4b5c6d7e8f90a1b2c35";
pub const WORKER: &str = "5f60718293a4b5c6d7e8f90a1b2c3d46";

/// A running server and the database under it.
pub struct TestServer {
    pub url: String,
    /// Where its database is (a file path or a `postgres://` URL).
    pub database: String,
    pub store: Store,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// A server on `database` (new and empty), loaded with the demo fixture.
    pub async fn demo(database: &TestDatabase) -> TestServer {
        let server = TestServer::on(database).await;
        let data = Fixture::parse(DEMO).unwrap().to_dataset(DEMO).unwrap();
        assert!(server.store.load_dataset(&data, true).await.unwrap(), "the demo fixture loads into a new database");
        server
    }

    /// A server on `database` (as it is).
    pub async fn on(database: &TestDatabase) -> TestServer {
        let store = Store::open(&database.location, StoreOptions::default()).await.unwrap();
        let router = rainbond_server::http::router(Arc::new(CopyService::new(store.clone())));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stopped) = oneshot::channel();
        let task = tokio::spawn(rainbond_server::http::serve(listener, router, Limits::default(), async move {
            let _ = stopped.await;
        }));
        TestServer { url, database: database.location.clone(), store, shutdown, task }
    }

    /// A client that sends `key` as the access key.
    pub fn client(&self, key: &str) -> Client {
        Client::with_access_key(&self.url, key).unwrap()
    }

    /// A client that sends no access key.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.url)
    }

    /// Stops serving and closes the database.
    pub async fn stop(self) {
        self.shutdown.send(()).unwrap();
        self.task.await.unwrap().unwrap();
        self.store.close().await;
    }

    /// A separate connection to the database, to look at rows the API does not expose.
    pub async fn inspect(&self) -> Inspector {
        Inspector::connect(&self.database).await
    }
}

/// Reads rows of the database directly. Queries use `$1`-style parameters, which both backends
/// understand.
pub struct Inspector(pub AnyPool);

impl Inspector {
    pub async fn connect(location: &str) -> Inspector {
        sqlx::any::install_default_drivers();
        let url = if Backend::of(location) == Backend::Postgres || location.starts_with("sqlite:") {
            location.to_owned()
        } else {
            format!("sqlite:{location}")
        };
        Inspector(sqlx::pool::PoolOptions::new().max_connections(2).connect(&url).await.unwrap())
    }
}

impl Inspector {
    pub async fn count(&self, table: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.0)
            .await
            .unwrap();
        n
    }

    /// Row counts of every table that a copy writes.
    pub async fn counts(&self) -> Vec<(&'static str, i64)> {
        let mut counts = Vec::new();
        for table in std::iter::once("tenant_services").chain(ATTACHED_TABLES) {
            counts.push((table, self.count(table).await));
        }
        counts
    }

    /// `(attr_name, attr_value)` of a component's variables, in insertion order.
    pub async fn envs(&self, service_id: &str) -> Vec<(String, String)> {
        sqlx::query_as("SELECT attr_name, attr_value FROM service_envs WHERE service_id = $1 ORDER BY id")
            .bind(service_id)
            .fetch_all(&self.0)
            .await
            .unwrap()
    }

    pub async fn env(&self, service_id: &str, name: &str) -> String {
        self.envs(service_id)
            .await
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{service_id} has no {name}"))
            .1
    }

    /// `(container_port, k8s_service_name)` of a component's ports.
    pub async fn ports(&self, service_id: &str) -> Vec<(i64, String)> {
        sqlx::query_as(
            "SELECT container_port, k8s_service_name FROM service_ports WHERE service_id = $1 ORDER BY container_port",
        )
        .bind(service_id)
        .fetch_all(&self.0)
        .await
        .unwrap()
    }

    /// The components a component depends on.
    pub async fn dependencies(&self, service_id: &str) -> Vec<String> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT dep_service_id FROM service_dependencies WHERE service_id = $1 ORDER BY dep_order")
                .bind(service_id)
                .fetch_all(&self.0)
                .await
                .unwrap();
        rows.into_iter().map(|(id,)| id).collect()
    }

    /// `(service_id, k8s_component_name)` of an app's components.
    pub async fn app_components(&self, app_id: i32) -> Vec<(String, String)> {
        sqlx::query_as("SELECT service_id, k8s_component_name FROM tenant_services WHERE app_id = $1 ORDER BY create_time, service_id")
            .bind(app_id)
            .fetch_all(&self.0)
            .await
            .unwrap()
    }

    pub async fn close(self) {
        self.0.close().await;
    }
}

/// A copy request body.
pub fn copy_body(team: &str, region: &str, app_id: i32, services: &[&str]) -> rainbond_client::types::AppCopyC {
    rainbond_client::types::AppCopyC {
        services: services
            .iter()
            .map(|id| rainbond_client::types::AppCopyModify { service_id: (*id).to_owned(), change: None })
            .collect(),
        target_team_name: team.to_owned(),
        target_region_name: region.to_owned(),
        target_app_id: app_id,
    }
}

/// A copy's body on success, else its status and error body.
pub fn copy_outcome(
    result: Result<rainbond_client::ResponseValue<AppCopyCRes>, rainbond_client::Error<ErrorBody>>,
) -> Result<AppCopyCRes, (u16, ErrorBody)> {
    match result {
        Ok(response) => Ok(response.into_inner()),
        Err(rainbond_client::Error::ErrorResponse(response)) => {
            Err((response.status().as_u16(), response.into_inner()))
        }
        Err(other) => panic!("unexpected client error: {other}"),
    }
}

//! The `rainbond-server` binary as a child process, for tests that look at the process itself
//! (its open files, a `kill -9`) or at the raw connection.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{ADMIN, SHOP_TEAM};

/// The copy path of app 1 (shop).
pub const COPY_SHOP: &str = "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy";

/// `rainbond-server serve --demo` on a free port.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    pub address: String,
}

impl ServerProcess {
    /// Starts the server on `database` with `flags` added to `serve --demo`, and waits until it
    /// prints its address.
    pub fn start(database: &Path, flags: &[&str]) -> ServerProcess {
        let (child, url) = super::binary::serve_demo_with(database, flags);
        let address = url.trim_start_matches("http://").to_owned();
        ServerProcess { child, url, address }
    }

    /// The server's open files (sockets included), as their link targets, sorted.
    pub fn open_files(&self) -> Vec<String> {
        let dir = format!("/proc/{}/fd", self.child.id());
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("/proc/PID/fd is readable")
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .map(|target| target.display().to_string())
            .collect();
        names.sort();
        names
    }

    /// The open files other than the database's own (whose connection pool grows and shrinks
    /// by itself, up to its documented size).
    pub fn open_files_besides(&self, database: &Path) -> Vec<String> {
        let database = database.display().to_string();
        self.open_files().into_iter().filter(|name| !name.starts_with(&database)).collect()
    }

    /// Waits until the server has at most `baseline` files open besides the database's; the
    /// files it settled on.
    pub async fn settle_open_files(&self, database: &Path, baseline: usize, within: Duration) -> Vec<String> {
        let started = Instant::now();
        loop {
            let open = self.open_files_besides(database);
            if open.len() <= baseline || started.elapsed() > within {
                return open;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `kill -9`, then waits for the process to be gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM.
    pub fn signal_terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits at most `within` for a clean exit; how long it took.
    pub fn wait_for_exit(mut self, within: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(exit) = self.child.try_wait().unwrap() {
                assert!(exit.success(), "a graceful stop exits 0, got {exit}");
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server did not stop within {within:?} of SIGTERM");
    }

    /// SIGTERM; waits at most `within` for a clean exit and returns how long it took.
    pub fn terminate(self, within: Duration) -> Duration {
        self.signal_terminate();
        self.wait_for_exit(within)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reqwest client that opens a new connection per request (none stays open afterwards).
pub fn one_shot_http() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
}

/// The body of a copy of every component of app 1 into `target_app_id` (team o19p6wen, rainbond).
pub fn copy_all_into(target_app_id: i32) -> Value {
    json!({"services": [], "target_team_name": SHOP_TEAM, "target_region_name": "rainbond", "target_app_id": target_app_id})
}

/// Headers of a POST copy of app 1 announcing `content_length` body bytes.
pub fn copy_headers(content_length: usize) -> String {
    format!(
        "POST {COPY_SHOP} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {ADMIN}\r\n\
         Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    )
}

/// Reads until the server closes the connection (EOF or reset) and returns what it sent.
pub async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received).await;
    received
}

/// Opens a connection and sends `bytes`.
pub async fn connect_and_send(address: &str, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("the server accepts");
    stream.write_all(bytes).await.unwrap();
    stream
}

/// The status code of a raw HTTP/1.1 response.
pub fn status_of(response: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(response).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Raises this process's soft open-file limit to at least `wanted` (up to the hard limit).
pub fn raise_open_file_limit(wanted: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|current| current >= wanted) {
        return;
    }
    let raised = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
    setrlimit(Resource::Nofile, rustix::process::Rlimit { current: Some(raised), maximum: limit.maximum })
        .expect("raising the soft open-file limit");
    assert!(raised >= wanted, "the hard open-file limit ({raised}) is below the {wanted} this test needs");
}

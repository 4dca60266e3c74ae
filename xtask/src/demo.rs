//! `cargo xtask demo`: the main job. Builds the workspace, starts `rainbond-server` on a free
//! port with a fresh SQLite database and the demo fixture, copies app 1 ("shop") into app 2
//! ("shop-staging") with the generated client (the `copy_app` example), prints what was created,
//! sends the same copy again with its `Idempotency-Key` (checking that it answers the same
//! components), and stops the server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::workspace;

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run() -> anyhow::Result<ExitCode> {
    run_with(&["--bins", "--examples"])
}

/// The demo, building with `build_args` (which must include the binaries and examples).
pub fn run_with(build_args: &[&str]) -> anyhow::Result<ExitCode> {
    workspace::build(build_args)?;
    let dir = std::env::temp_dir().join(format!("rainbond-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = run_in(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path) -> anyhow::Result<ExitCode> {
    let database = dir.join("demo.db");
    let mut server = DemoServer::start(&database)?;
    println!("rainbond-server is serving the demo data at {} (database {})\n", server.url, database.display());
    let copies = copy_twice(&server.url);
    let stopped = server.stop();
    let (first, again) = copies?;
    stopped?;
    if copied_rows(&first) != copied_rows(&again) {
        bail!("the copy sent again with its Idempotency-Key made other components:\n{first}\n{again}");
    }
    println!("\nthe same components: the server answered the first copy again and copied nothing twice");
    println!("\nserver stopped; demo database removed");
    Ok(ExitCode::SUCCESS)
}

/// Runs the `copy_app` example twice with one `Idempotency-Key`, as a client does that lost the
/// first answer and tries again; prints and returns what each run printed.
fn copy_twice(url: &str) -> anyhow::Result<(String, String)> {
    let key = format!("demo-copy-{}", std::process::id());
    let first = copy_with_key(url, &key)?;
    println!("\nthe same copy again, with the same Idempotency-Key (a client whose answer was lost retries):\n");
    let again = copy_with_key(url, &key)?;
    Ok((first, again))
}

/// One run of the `copy_app` example with `key`: what it printed (also printed here).
fn copy_with_key(url: &str, key: &str) -> anyhow::Result<String> {
    let output = Command::new(example("copy_app")?)
        .args(["--url", url, "--idempotency-key", key])
        .current_dir(workspace::root()?)
        .stderr(Stdio::inherit())
        .output()
        .context("running the copy_app example")?;
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{printed}");
    if !output.status.success() {
        bail!("the copy failed ({})", output.status);
    }
    Ok(printed)
}

/// The lines of the example's report from its copy table on (the new components).
fn copied_rows(printed: &str) -> Vec<&str> {
    printed.lines().skip_while(|line| !line.starts_with("copied ")).collect()
}

fn example(name: &str) -> anyhow::Result<PathBuf> {
    Ok(workspace::target_dir()?.join("debug").join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// `rainbond-server serve --demo` on a free port of 127.0.0.1, with its database at a given path.
pub(crate) struct DemoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

impl DemoServer {
    /// Starts the server (`RUST_LOG` or warnings only) and waits for its address.
    pub(crate) fn start(database: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(workspace::binary("rainbond-server")?)
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--database"])
            .arg(database)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()))
            .stdout(Stdio::piped())
            .spawn()
            .context("starting rainbond-server")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let line = match line_rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                bail!("rainbond-server did not print its address within {START_TIMEOUT:?}");
            }
        };
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            bail!("rainbond-server did not start (it printed {line:?})");
        };
        Ok(DemoServer { url: url.to_owned(), child })
    }

    /// Asks the server to stop (SIGTERM; it finishes requests in flight) and waits for it.
    pub(crate) fn stop(&mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        let asked =
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().is_ok_and(|s| s.success());
        #[cfg(not(unix))]
        let asked = false;
        if !asked {
            self.child.kill().context("stopping rainbond-server")?;
        }
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return if status.success() || !asked { Ok(()) } else { bail!("rainbond-server exited with {status}") };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().context("killing rainbond-server")?;
        bail!("rainbond-server did not stop within {STOP_TIMEOUT:?}")
    }
}

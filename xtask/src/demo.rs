//! `cargo xtask demo`: the main job. Builds the workspace, starts `rainbond-server` on a free
//! port with a fresh SQLite database and the demo fixture, copies app 1 ("shop") into app 2
//! ("shop-staging") with the generated client (the `copy_app` example), prints what was created,
//! and stops the server.

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
    let status = Command::new(example("copy_app")?)
        .args(["--url", &server.url])
        .current_dir(workspace::root()?)
        .status()
        .context("running the copy_app example");
    let stopped = server.stop();
    let status = status?;
    stopped?;
    if !status.success() {
        bail!("the copy failed ({status})");
    }
    println!("\nserver stopped; demo database removed");
    Ok(ExitCode::SUCCESS)
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

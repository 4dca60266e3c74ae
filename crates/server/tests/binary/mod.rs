//! The `rainbond-server` binary, started as a user starts it: `serve --demo` on a free port.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod address;

/// Starts `rainbond-server serve --listen 127.0.0.1:0 --demo --database DATABASE` and returns the
/// process and its base URL (`http://127.0.0.1:PORT`), read from its first line of output.
pub fn serve_demo(database: impl AsRef<std::ffi::OsStr>) -> (Child, String) {
    serve_demo_with(database, &[])
}

/// [`serve_demo`] with `flags` added to the command line. Warnings and errors go to the test's
/// stderr.
pub fn serve_demo_with(database: impl AsRef<std::ffi::OsStr>, flags: &[&str]) -> (Child, String) {
    serve_demo_logging(database, flags, "warn", Stdio::inherit())
}

/// [`serve_demo_with`] logging at `rust_log` (`RUST_LOG`) to `stderr`.
pub fn serve_demo_logging(
    database: impl AsRef<std::ffi::OsStr>,
    flags: &[&str],
    rust_log: &str,
    stderr: impl Into<Stdio>,
) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rainbond-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--database"])
        .arg(database)
        .args(flags)
        .env("RUST_LOG", rust_log)
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the server starts");
    let url = address::read_address(&mut child);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

/// Sends SIGTERM to `child`.
pub fn terminate(child: &Child) {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
}

/// Waits up to 30 s for `child` to exit, and checks that it exited 0.
pub fn wait_for_clean_exit(child: &mut Child) {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the server exits 0 after SIGTERM, got {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not stop within 30 s");
}

/// The Python of the pinned tools' venv (`target/tools-venv`, `cargo xtask tools`), when `module`
/// can be imported there.
pub fn tools_python(module: &str) -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools-venv/bin/python");
    let importable = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    importable.then_some(python)
}

/// A demo server that is killed when dropped, with its database in a temporary folder.
pub struct DemoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _folder: tempfile::TempDir,
}

impl DemoServer {
    /// Starts `serve --demo` on a fresh database.
    pub fn start() -> DemoServer {
        let folder = tempfile::tempdir().unwrap();
        let (child, url) = serve_demo(folder.path().join("demo.db"));
        DemoServer { child, url, _folder: folder }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

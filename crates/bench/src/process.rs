//! The server under test as a child process, and the peak memory of commands.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the peak RSS of a running command is sampled.
const RSS_SAMPLE_INTERVAL: Duration = Duration::from_millis(2);

/// A running `rainbond-server serve`.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Starts `binary serve` on a free port of 127.0.0.1 with `database`.
    pub fn start(binary: &Path, database: &str) -> anyhow::Result<Server> {
        Server::start_with(binary, database, &[])
    }

    /// [`Server::start`] with more `serve` flags.
    pub fn start_with(binary: &Path, database: &str, flags: &[&str]) -> anyhow::Result<Server> {
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .args(flags)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let line = line_rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            bail!("the server did not start within {START_TIMEOUT:?} (it printed {line:?})");
        };
        Ok(Server { url: url.to_owned(), child })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's peak resident set so far, in MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        peak_rss_mib(self.child.id())?.context("the server's memory figures are unreadable")
    }

    /// Asks the server to stop (SIGTERM) and waits for it.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let asked = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if !asked {
            self.child.kill().context("stopping the server")?;
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return if status.success() || !asked { Ok(()) } else { bail!("the server exited with {status}") };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill().context("killing the server")?;
        bail!("the server did not stop within {STOP_TIMEOUT:?}")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `VmHWM` of a process (its peak resident set), in MiB; `None` once it has exited.
fn peak_rss_mib(pid: u32) -> anyhow::Result<Option<f64>> {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return Ok(None) };
    let Some(line) = status.lines().find(|line| line.starts_with("VmHWM:")) else { return Ok(None) };
    let kib: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("reading {line:?}"))?;
    Ok(Some(kib / 1024.0))
}

/// What a command cost: wall time and peak RSS (sampled every [`RSS_SAMPLE_INTERVAL`]).
pub struct Measured {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// The largest `VmHWM` sampled, in MiB.
    pub peak_rss_mib: f64,
}

/// Runs `command` (output discarded) and measures it; fails when it exits with a code not in
/// `ok_codes`.
pub fn measure(command: &mut Command, ok_codes: &[i32]) -> anyhow::Result<Measured> {
    let shown = format!("{command:?}");
    let started = Instant::now();
    let mut child =
        command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().with_context(|| format!("running {shown}"))?;
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        text
    });
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Some(rss) = peak_rss_mib(child.id())? {
            peak = peak.max(rss);
        }
        std::thread::sleep(RSS_SAMPLE_INTERVAL);
    };
    let wall = started.elapsed();
    if !status.code().is_some_and(|code| ok_codes.contains(&code)) {
        let stderr = stderr.join().unwrap_or_default();
        bail!("{shown} exited with {status}: {}", stderr.trim());
    }
    Ok(Measured { wall, peak_rss_mib: peak })
}

//! A CPU profile of the machine while the server is under load: `perf record` of every CPU, then
//! a summary by process (the server, the database, the load generator) and by the hottest
//! symbols, written next to the report.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;

/// Samples per second and CPU.
pub const FREQUENCY: &str = "499";
/// Symbols below this share of all samples are left out of the summary.
const SYMBOL_PERCENT_LIMIT: &str = "0.7";

/// A running `perf record -a`.
pub struct Profiler {
    child: Child,
    data: PathBuf,
}

impl Profiler {
    /// Starts recording into `data`; `None`, after saying why, when perf cannot run here.
    pub fn start(data: &Path) -> Option<Profiler> {
        let spawned = Command::new("perf")
            .args(["record", "-a", "-F", FREQUENCY, "--quiet", "-o"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => {
                // perf needs a moment before it samples.
                std::thread::sleep(std::time::Duration::from_millis(500));
                Some(Profiler { child, data: data.to_owned() })
            }
            Err(error) => {
                println!("(no CPU profile: perf did not start: {error})");
                None
            }
        }
    }

    /// Stops recording and writes the summary to `summary`: `title`, the shares of every process
    /// of the machine (other work on a shared machine shows there too), then the hottest symbols
    /// of the server (process `server_pid`), as shares of its own samples.
    pub fn finish(mut self, summary: &Path, title: &str, server_pid: u32) -> anyhow::Result<()> {
        let stopped = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        if !stopped.is_ok_and(|status| status.success()) {
            self.child.kill().context("stopping perf")?;
        }
        self.child.wait().context("waiting for perf")?;
        if !self.data.exists() {
            println!("(no CPU profile: perf recorded nothing; is perf_event_paranoid too strict?)");
            return Ok(());
        }
        let by_process = self.report(&["--sort", "comm", "--percent-limit", "0.5"])?;
        let pid = server_pid.to_string();
        let server = ["--pid", &pid, "--percentage", "relative"];
        let by_thread = self.report(&[&server[..], &["--sort", "pid"]].concat())?;
        let by_symbol =
            self.report(&[&server[..], &["--sort", "comm,dso,sym", "--percent-limit", SYMBOL_PERCENT_LIMIT]].concat())?;
        let text = format!(
            "{title}\n\n## CPU samples by process (the whole machine)\n\n{by_process}\n## The server's samples by \
             thread\n\n{by_thread}\n## The server's hottest symbols (at least {SYMBOL_PERCENT_LIMIT} % of its \
             samples)\n\n{by_symbol}"
        );
        std::fs::write(summary, text).with_context(|| format!("writing {}", summary.display()))?;
        let _ = std::fs::remove_file(&self.data);
        Ok(())
    }

    /// `perf report --stdio` of the recording, comment lines left out.
    fn report(&self, sort: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("perf")
            .args(["report", "--stdio", "--no-children", "-i"])
            .arg(&self.data)
            .args(sort)
            .stderr(Stdio::null())
            .output()
            .context("running perf report")?;
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| format!("{line}\n"))
            .collect())
    }
}

//! Progress of a command made of steps (`cargo xtask ci`, `tools`, ...): which step runs, how far
//! along the command is and the time spent.
//!
//! On a terminal it is an indicatif bar on stderr, redrawn while a step runs; elsewhere (CI, a
//! pipe, `CI` set) it is one plain line per step start and end, so logs stay readable.
//!
//! ```ignore
//! let mut progress = Progress::new("tools", 2);
//! progress.start("npm");
//! // ... the step's work ...
//! progress.finish_step("ok");
//! ```

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often the bar redraws its elapsed time.
const TICK: Duration = Duration::from_millis(200);

/// The progress of one command with a known number of steps.
pub struct Progress {
    command: &'static str,
    total: usize,
    done: usize,
    step: Option<(String, Instant)>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress for `command` (e.g. `ci`) with `total` steps: a bar on a terminal, lines otherwise.
    pub fn new(command: &'static str, total: usize) -> Progress {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = interactive.then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{prefix} [{bar:20}] {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(command);
            bar.enable_steady_tick(TICK);
            bar
        });
        Progress { command, total, done: 0, step: None, bar }
    }

    /// Announces the next step.
    pub fn start(&mut self, step: &str) {
        self.step = Some((step.to_owned(), Instant::now()));
        let position = self.done + 1;
        match &self.bar {
            Some(bar) => {
                bar.reset_elapsed();
                bar.set_message(step.to_owned());
            }
            None => println!("\n==> {} [{position}/{}] {step}", self.command, self.total),
        }
    }

    /// Ends the current step with `outcome` (e.g. `ok`, `FAILED: why`) and returns its duration.
    pub fn finish_step(&mut self, outcome: &str) -> Duration {
        let Some((step, started)) = self.step.take() else { return Duration::ZERO };
        let elapsed = started.elapsed();
        self.done += 1;
        let line = format!("<== {} {step}: {outcome} in {:.1} s", self.command, elapsed.as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.set_position(self.done as u64);
            }
            None => println!("{line}"),
        }
        elapsed
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

//! The address a started server prints: its first line of output, `listening on URL`. Shared with
//! the CLI crate's tests (`#[path]`), which start the same binary.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

/// How long the binary may take to print its address.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads the base URL from `child`'s first line of output (its stdout must be piped).
pub fn read_address(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("the server's stdout is piped");
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = line_tx.send(line);
    });
    let line = line_rx.recv_timeout(START_TIMEOUT).expect("the server prints its address");
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    url.to_owned()
}

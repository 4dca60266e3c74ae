//! `/docs` of `rainbond-server serve --demo` in headless Chromium, used as a new user would:
//! the page renders with nothing fetched beyond 127.0.0.1, lists both operations, "Try it out"
//! on the listing (authorized with the demo key) gets 200 from the server that served the page
//! and shows the components, and the console logs no errors (tests/browser/docs.py).
//!
//! Needs Debian's `chromium` (`$CHROMIUM_BIN`, else /usr/bin/chromium) and Playwright for Python
//! in `target/tools-venv` (`cargo xtask tools`). Without them the test prints a notice and passes,
//! unless `RAINBOND_REQUIRE_TOOLS=1` (set in CI), where it fails.

mod binary;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use binary::DemoServer;

/// The whole browser session takes a few seconds; longer than this means it hung.
const TIMEOUT: Duration = Duration::from_secs(180);

fn chromium() -> Option<PathBuf> {
    let path =
        std::env::var_os("CHROMIUM_BIN").filter(|p| !p.is_empty()).map_or("/usr/bin/chromium".into(), PathBuf::from);
    path.is_file().then_some(path)
}

#[test]
fn docs_work_in_a_real_browser_without_the_internet() {
    let (Some(chromium), Some(python)) = (chromium(), binary::tools_python("playwright.sync_api")) else {
        let message = "chromium (/usr/bin/chromium or CHROMIUM_BIN) or Playwright (`cargo xtask tools`) is \
                       missing: the browser test of /docs did not run";
        if std::env::var("RAINBOND_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{message}, and RAINBOND_REQUIRE_TOOLS=1 requires it");
        }
        eprintln!("notice: {message}");
        return;
    };
    let server = DemoServer::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/docs.py");
    let mut child = Command::new(python)
        .arg(script)
        .args([server.url.as_str(), chromium.to_str().unwrap(), "rbd-demo-admin"])
        .stdin(Stdio::null())
        .spawn()
        .expect("python runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("the browser session took longer than {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the browser test failed ({status}); its output above says why");
}

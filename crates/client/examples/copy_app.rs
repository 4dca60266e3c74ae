//! Copies the copyable components of a Rainbond app into another app and prints a table of
//! what was created.
//!
//! ```text
//! cargo run -p rainbond-client --example copy_app -- --url http://127.0.0.1:8080
//! ```
//!
//! It lists the source app's components (`list_copy_services`), copies the ones marked
//! `copyable` in listing order (`copy_app`) and prints one row per copied component. On an
//! error it prints the HTTP status and the error body to stderr and exits with status 1. Both
//! requests run under the default `RetryPolicy`, which retries transient failures (a busy
//! server, a lost answer): the copy carries an `Idempotency-Key` (`--idempotency-key`, else a
//! random one the policy makes), so a retried copy is made once. Run it twice with the same
//! `--idempotency-key` and the second run answers the components of the first.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use rainbond_client::{Client, Error, RetryPolicy, types};

/// Copy the copyable components of a Rainbond app into another app.
#[derive(Debug, Parser)]
#[command(name = "copy_app")]
pub struct Args {
    /// Base URL of the server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: String,
    /// Access key, sent verbatim in the Authorization header.
    #[arg(long, env = "RAINBOND_ACCESS_KEY", hide_env_values = true, default_value = "rbd-demo-admin")]
    pub key: String,
    /// Source team (tenant name or id).
    #[arg(long, default_value = "o19p6wen")]
    pub team: String,
    /// Source region.
    #[arg(long, default_value = "rainbond")]
    pub region: String,
    /// Source app id.
    #[arg(long, default_value = "1")]
    pub app: String,
    /// Target team's tenant name [default: --team].
    #[arg(long)]
    pub target_team: Option<String>,
    /// Target region [default: --region].
    #[arg(long)]
    pub target_region: Option<String>,
    /// Target app id.
    #[arg(long, default_value_t = 2)]
    pub target_app: i32,
    /// The copy's `Idempotency-Key` (1 to 255 of `A-Z a-z 0-9 - _ . :`) [default: a random UUID].
    /// The same key within its lifetime on the server answers the first copy again.
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut stdout = io::stdout().lock();
    match run(&args, &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = stdout.flush();
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Lists, copies and writes the report to `out`. The error is a complete message for a person.
pub async fn run(args: &Args, out: &mut impl Write) -> Result<(), String> {
    let client = Client::with_access_key(&args.url, &args.key).map_err(|e| chain(&e))?;
    let target_team = args.target_team.as_deref().unwrap_or(&args.team);
    let target_region = args.target_region.as_deref().unwrap_or(&args.region);
    let source = format!("app {} (team {}, region {})", args.app, args.team, args.region);
    let target = format!("app {} (team {target_team}, region {target_region})", args.target_app);

    // Transient failures (a busy server, a lost answer) are retried; the copy too, since the
    // policy sends it with an idempotency key (the caller's, or a random one).
    let retry = RetryPolicy::default();
    let listing = client.list_copy_services().team_id(&args.team).region_name(&args.region).app_id(&args.app).send();
    let listed = match retry.run(listing).await {
        Ok(listed) => listed.into_inner(),
        Err(e) => return Err(describe("list_copy_services", e).await),
    };
    let (copyable, skipped): (Vec<_>, Vec<_>) = listed.iter().partition(|c| c.copyable);

    let mut report = format!("{source}: {}, {} copyable\n", components(listed.len()), copyable.len());
    for c in &skipped {
        let reason = c.not_copyable_reason.as_deref().unwrap_or("no reason given");
        let _ = writeln!(report, "  skipped {} ({}): {reason}", c.service_alias, c.service_cname);
    }
    write_out(out, &report)?;
    if copyable.is_empty() {
        // An empty `services` list would copy every complete component: never send one.
        return Err(format!("nothing to copy: {source} has no copyable component"));
    }

    let body = types::AppCopyC {
        services: copyable
            .iter()
            .map(|c| types::AppCopyModify { service_id: c.service_id.clone(), change: None })
            .collect(),
        target_team_name: target_team.to_owned(),
        target_region_name: target_region.to_owned(),
        target_app_id: args.target_app,
    };
    let mut copy = client.copy_app().team_id(&args.team).region_name(&args.region).app_id(&args.app).body(body);
    if let Some(key) = &args.idempotency_key {
        write_out(out, &format!("Idempotency-Key: {key}\n"))?;
        copy = copy.idempotency_key(key.as_str());
    }
    let copy = copy.send();
    let copied = match retry.run(copy).await {
        Ok(copied) => copied.into_inner().services,
        Err(e) => return Err(describe("copy_app", e).await),
    };
    if copied.len() != copyable.len() {
        return Err(format!(
            "copy_app answered with {} components for the {} requested; cannot pair them",
            copied.len(),
            copyable.len()
        ));
    }

    let mut rows =
        vec![row(["SOURCE SERVICE_ID", "ALIAS", "NAME", "", "COPY SERVICE_ID", "ALIAS", "NAME", "K8S_COMPONENT_NAME"])];
    for (from, to) in copyable.iter().zip(&copied) {
        rows.push(row([
            &from.service_id,
            &from.service_alias,
            &from.service_cname,
            "→",
            &to.service_id,
            &to.service_alias,
            to.service_cname.as_deref().unwrap_or("-"),
            &to.k8s_component_name,
        ]));
    }
    write_out(out, &format!("copied {} into {target}:\n{}", components(copied.len()), table(&rows)))
}

fn components(n: usize) -> String {
    if n == 1 { "1 component".to_owned() } else { format!("{n} components") }
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn write_out(out: &mut impl Write, text: &str) -> Result<(), String> {
    out.write_all(text.as_bytes()).map_err(|e| format!("cannot write the report: {e}"))
}

/// Lays `rows` out in columns two spaces apart, without trailing spaces.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..columns).map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| width(c)).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - width(cell) + 2));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Terminal columns taken by `s`: two for East Asian wide characters (component names are
/// often Chinese), one otherwise.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF => 2,
            0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 => 2,
            0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// The failure of `operation` for a person: the HTTP status and the error body when there is one.
async fn describe(operation: &str, error: Error<types::ErrorBody>) -> String {
    match error {
        Error::ErrorResponse(response) => {
            let status = response.status();
            let body = serde_json::to_string(&response.into_inner()).unwrap_or_default();
            format!("{operation} failed with HTTP {status}\n{body}")
        }
        Error::UnexpectedResponse(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_else(|e| format!("<unreadable body: {e}>"));
            format!("{operation} failed with HTTP {status} (not documented by the spec)\n{body}")
        }
        Error::InvalidResponsePayload(body, e) => {
            format!("{operation}: the response body does not match the spec: {e}\n{}", String::from_utf8_lossy(&body))
        }
        // The alternate form appends the underlying causes (connection refused, timeout, ...).
        other => format!("{operation} failed: {other:#}"),
    }
}

/// `error` and its sources, joined with `: `.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let _ = write!(text, ": {e}");
        source = e.source();
    }
    text
}

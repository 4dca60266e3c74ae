//! `rainbond-server`: serve the copy-app API, or load fixtures into its database.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rainbond_server::fixture::{DEMO, Fixture};
use rainbond_server::limits::Limits;
use rainbond_server::service::CopyService;
use rainbond_server::store::{
    DEFAULT_BUSY_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, LoadError, Repository, Store, StoreOptions,
};

/// The database used when neither `--database` nor `DATABASE_URL` is given.
const DEFAULT_DATABASE: &str = "rainbond.db";

#[derive(Parser)]
#[command(name = "rainbond-server", version, about = "Reference server of the Rainbond copy-app API")]
struct Cli {
    /// How log lines (on stderr) are written: `text` for people, `json` (one object per line,
    /// with the request's span and its `request_id`) for log shippers.
    #[arg(long, global = true, value_enum, env = "RAINBOND_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The `--log-format` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr in `format`, filtered by `RUST_LOG` (default: INFO for the server).
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "rainbond_server=info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
}

#[derive(clap::Args)]
struct DatabaseArg {
    /// `postgres://user@host:port/db` selects PostgreSQL (several instances may share it);
    /// a `sqlite:` URL or a file path selects SQLite (the file is created if missing).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE)]
    database: String,
    /// PostgreSQL: the most connections this instance opens.
    #[arg(long, env = "RAINBOND_POOL_SIZE", default_value_t = StoreOptions::DEFAULT_POOL_SIZE,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pool_size: u32,
    /// SQLite: seconds a statement waits for a lock held by another connection or process
    /// (503 with Retry-After after it).
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds(DEFAULT_BUSY_TIMEOUT))]
    busy_timeout: Seconds,
    /// PostgreSQL: seconds a statement may run, waiting for a lock included (503 with code 10402
    /// after it; nothing is written).
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds(DEFAULT_STATEMENT_TIMEOUT))]
    statement_timeout: Seconds,
}

impl DatabaseArg {
    async fn open(&self) -> anyhow::Result<Store> {
        let options = StoreOptions {
            pool_size: self.pool_size,
            busy_timeout: self.busy_timeout.0,
            statement_timeout: self.statement_timeout.0,
        };
        Store::open(&self.database, options).await.with_context(|| format!("database {}", self.redacted()))
    }

    /// The location without a password, for messages.
    fn redacted(&self) -> String {
        match url_password_span(&self.database) {
            Some((start, end)) => format!("{}***{}", &self.database[..start], &self.database[end..]),
            None => self.database.clone(),
        }
    }
}

/// The byte range of the password in `scheme://user:password@host…`, if there is one.
fn url_password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let at = authority_start + url[authority_start..].find('@')?;
    let colon = authority_start + url[authority_start..at].find(':')?;
    Some((colon + 1, at))
}

/// The limits against slow and greedy clients (README, "Limits").
#[derive(clap::Args)]
struct LimitArgs {
    /// Seconds to receive a request's headers; also how long an idle connection stays open.
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds(Limits::default().header_read_timeout))]
    header_read_timeout: Seconds,
    /// Seconds to receive a request's body once its headers are in (408 after it).
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds(Limits::default().body_read_timeout))]
    body_read_timeout: Seconds,
    /// Seconds to answer a request once its headers are in (503 after it).
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds(Limits::default().request_timeout))]
    request_timeout: Seconds,
    /// Open connections at most; more clients wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections, value_parser = positive)]
    max_connections: usize,
    /// Requests handled at once at most; more are answered 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_in_flight, value_parser = positive)]
    max_in_flight: usize,
    /// Seconds the server goes on serving after Ctrl-C or SIGTERM while /readyz answers 503 (0: stop
    /// accepting at once).
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds(Limits::default().drain_period),
          value_parser = non_negative_seconds)]
    drain_period: Seconds,
    /// Seconds given to requests in flight after the drain period before connections are dropped.
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds(Limits::default().shutdown_deadline))]
    shutdown_deadline: Seconds,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: self.header_read_timeout.0,
            body_read_timeout: self.body_read_timeout.0,
            request_timeout: self.request_timeout.0,
            max_connections: self.max_connections,
            max_in_flight: self.max_in_flight,
            drain_period: self.drain_period.0,
            shutdown_deadline: self.shutdown_deadline.0,
        }
    }
}

/// A duration written as a positive number of seconds (fractions allowed).
#[derive(Debug, Clone, Copy)]
struct Seconds(Duration);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

impl std::str::FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.parse::<f64>() {
            Ok(seconds) if seconds > 0.0 => {
                Duration::try_from_secs_f64(seconds).map(Seconds).map_err(|error| error.to_string())
            }
            _ => Err(format!("`{text}` is not a positive number of seconds")),
        }
    }
}

/// A duration of zero or more seconds.
fn non_negative_seconds(text: &str) -> Result<Seconds, String> {
    match text.parse::<f64>() {
        Ok(0.0) => Ok(Seconds(Duration::ZERO)),
        _ => text.parse(),
    }
}

/// A count of at least 1.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a positive whole number")),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API over HTTP.
    Serve {
        /// Address to listen on; port 0 picks a free port (the bound address is printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        database: DatabaseArg,
        /// Load the demo fixture first (into an empty database; once).
        #[arg(long)]
        demo: bool,
        /// Record no metrics and serve no `/metrics` (the benchmark measures what recording costs).
        #[arg(long)]
        no_metrics: bool,
        #[command(flatten)]
        limits: LimitArgs,
        /// Seconds the answer of a copy sent with an `Idempotency-Key` is remembered (whole
        /// seconds, at least 1; default 24 hours).
        #[arg(long, value_name = "SECONDS", default_value_t = Seconds(rainbond_server::idempotency::DEFAULT_TTL))]
        idempotency_ttl: Seconds,
    },
    /// Load a fixture file into the database, in one transaction.
    Seed {
        /// The fixture (YAML; see fixtures/demo.yaml).
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, database, demo, no_metrics, limits, idempotency_ttl } => {
            if no_metrics {
                rainbond_server::metrics::stop_recording();
            }
            let store = database.open().await?;
            if demo {
                let data = Fixture::parse(DEMO)?.to_dataset(DEMO)?;
                match store.load_dataset(&data, true).await {
                    Ok(true) => tracing::info!("loaded the demo fixture"),
                    Ok(false) => tracing::info!("the demo fixture is already loaded"),
                    Err(LoadError::NotEmpty(name)) => {
                        anyhow::bail!(
                            "--demo: the database holds other data; `{name}` is only loaded into an empty database"
                        )
                    }
                    Err(error) => return Err(error).context("loading the demo fixture"),
                }
            }
            let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("binding {listen}"))?;
            let address = listener.local_addr()?;
            // Scripts and tests read this line to find the port.
            println!("listening on http://{address}");
            let service = CopyService::new(store.clone()).with_idempotency_ttl(idempotency_ttl.0);
            let router = rainbond_server::http::router(Arc::new(service));
            rainbond_server::http::serve(listener, router, limits.limits(), shutdown_signal())
                .await
                .context("serving HTTP")?;
            store.close().await;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Seed { file, database } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let data = Fixture::parse(&text)
                .and_then(|fixture| fixture.to_dataset(&text))
                .with_context(|| format!("{}", file.display()))?;
            let store = database.open().await?;
            let loaded =
                store.load_dataset(&data, false).await.with_context(|| format!("loading {}", file.display()))?;
            store.close().await;
            if loaded {
                println!("loaded fixture `{}` into {}", data.name, database.redacted());
            } else {
                println!("fixture `{}` is already loaded in {}; nothing to do", data.name, database.redacted());
            }
            Ok(())
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(database: &str) -> String {
        DatabaseArg {
            database: database.to_owned(),
            pool_size: 1,
            busy_timeout: Seconds(DEFAULT_BUSY_TIMEOUT),
            statement_timeout: Seconds(DEFAULT_STATEMENT_TIMEOUT),
        }
        .redacted()
    }

    #[test]
    fn messages_never_show_a_database_password() {
        assert_eq!(redacted("postgres://app:s3cret@db:5432/rainbond"), "postgres://app:***@db:5432/rainbond");
        assert_eq!(redacted("postgres://app@db/rainbond"), "postgres://app@db/rainbond");
        assert_eq!(redacted("/var/lib/rainbond.db"), "/var/lib/rainbond.db");
    }

    #[test]
    fn the_pool_size_is_bounded() {
        for refused in ["0", "1001", "-1"] {
            assert!(Cli::try_parse_from(["rainbond-server", "serve", "--pool-size", refused]).is_err(), "{refused}");
        }
        assert!(Cli::try_parse_from(["rainbond-server", "serve", "--pool-size", "4"]).is_ok());
    }

    #[test]
    fn the_drain_period_may_be_zero_but_no_other_limit() {
        assert!(Cli::try_parse_from(["rainbond-server", "serve", "--drain-period", "0"]).is_ok());
        assert!(Cli::try_parse_from(["rainbond-server", "serve", "--drain-period", "2.5"]).is_ok());
        for refused in [["--drain-period", "-1"], ["--shutdown-deadline", "0"], ["--statement-timeout", "0"]] {
            let args = ["rainbond-server", "serve", refused[0], refused[1]];
            assert!(Cli::try_parse_from(args).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        let cli = Cli::try_parse_from(["rainbond-server", "serve", "--log-format", "json"]).unwrap();
        assert_eq!(cli.log_format, LogFormat::Json);
        assert_eq!(Cli::try_parse_from(["rainbond-server", "serve"]).unwrap().log_format, LogFormat::Text);
        assert!(Cli::try_parse_from(["rainbond-server", "serve", "--log-format", "yaml"]).is_err());
    }
}

//! The load generator: a fixed number of HTTP requests at a fixed concurrency, each timed from
//! send to the last byte of the answer. Also the generated client against raw reqwest.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::json;

use crate::data::{ADMIN_KEY, REGION, SHOP_APP, TEAM};
use crate::stats::percentile_ms;

/// One request to send, prepared once.
#[derive(Clone)]
pub struct Prepared {
    method: reqwest::Method,
    url: String,
    body: Option<bytes::Bytes>,
}

impl Prepared {
    /// `POST …/apps/{source}/copy` copying every component of `source` into `target`.
    pub fn copy(base: &str, source: i32, target: i32) -> Prepared {
        Prepared::copy_into(base, source, TEAM, target)
    }

    /// [`Prepared::copy`] into the app `target` of the team named `team`.
    pub fn copy_into(base: &str, source: i32, team: &str, target: i32) -> Prepared {
        let body =
            json!({"services": [], "target_team_name": team, "target_region_name": REGION, "target_app_id": target});
        Prepared {
            method: reqwest::Method::POST,
            url: copy_url(base, source),
            body: Some(serde_json::to_vec(&body).expect("JSON values serialize").into()),
        }
    }

    /// `GET /healthz`.
    pub fn health(base: &str) -> Prepared {
        Prepared { method: reqwest::Method::GET, url: format!("{base}/healthz"), body: None }
    }

    /// `GET …/apps/1/copy`: the listing of the shop app.
    pub fn list(base: &str) -> Prepared {
        Prepared { method: reqwest::Method::GET, url: copy_url(base, SHOP_APP), body: None }
    }

    fn request(&self, http: &reqwest::Client) -> reqwest::RequestBuilder {
        let request =
            http.request(self.method.clone(), &self.url).header(AUTHORIZATION, HeaderValue::from_static(ADMIN_KEY));
        match &self.body {
            Some(body) => request.header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(body.clone()),
            None => request,
        }
    }
}

fn copy_url(base: &str, app: i32) -> String {
    format!("{base}/openapi/v1/teams/{TEAM}/regions/{REGION}/apps/{app}/copy")
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Run {
    /// Requests sent.
    pub requests: usize,
    /// Requests that failed or did not answer 2xx.
    pub errors: usize,
    /// The first failure, as a sample.
    pub first_error: Option<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Every latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Run {
    /// Completed requests per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// A latency percentile, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }
}

/// A reqwest client with a connection per concurrent worker.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder().pool_max_idle_per_host(256).build().context("building the HTTP client")
}

/// Sends `count` requests with `concurrency` workers; request `i` is `requests[i % len]`.
pub async fn drive(http: &reqwest::Client, requests: &[Prepared], count: usize, concurrency: usize) -> Run {
    let requests: Arc<Vec<Prepared>> = Arc::new(requests.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, requests, next) = (http.clone(), requests.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        break;
                    }
                    let sent = Instant::now();
                    let outcome = send(&http, &requests[index % requests.len()]).await;
                    latencies.push(sent.elapsed());
                    if let Err(error) = outcome {
                        errors.push(error);
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(count);
    let mut errors = Vec::new();
    for worker in workers {
        let (worker_latencies, worker_errors) = worker.await.expect("a load worker panicked");
        latencies.extend(worker_latencies);
        errors.extend(worker_errors);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Run { requests: count, errors: errors.len(), first_error: errors.into_iter().next(), elapsed, latencies }
}

/// Sends one request and reads the whole answer; an error unless it is 2xx.
async fn send(http: &reqwest::Client, request: &Prepared) -> Result<(), String> {
    let response = request.request(http).send().await.map_err(|e| format!("{e:#}"))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| format!("{e:#}"))?;
    if status.is_success() { Ok(()) } else { Err(format!("{status}: {}", String::from_utf8_lossy(&body))) }
}

/// Median time per request of the generated client and of raw reqwest sending the same request
/// (the shop app's listing), `count` requests each, in interleaved blocks; in milliseconds.
pub async fn client_and_raw_ms(base: &str, count: usize) -> anyhow::Result<(f64, f64)> {
    const BLOCK: usize = 50;
    let http = http_client()?;
    let client = rainbond_client::Client::builder(base)
        .access_key(ADMIN_KEY)
        .http_client(reqwest::Client::builder())
        .build()
        .context("building the generated client")?;
    let raw = Prepared::list(base);
    let (mut generated, mut plain) = (Vec::with_capacity(count), Vec::with_capacity(count));
    while generated.len() < count {
        for _ in 0..BLOCK {
            let sent = Instant::now();
            let request = client.list_copy_services().team_id(TEAM).region_name(REGION).app_id(SHOP_APP.to_string());
            request.send().await.context("listing with the generated client")?;
            generated.push(sent.elapsed());
        }
        for _ in 0..BLOCK {
            let sent = Instant::now();
            send(&http, &raw).await.map_err(anyhow::Error::msg).context("listing with reqwest")?;
            plain.push(sent.elapsed());
        }
    }
    Ok((crate::stats::median_ms(&generated), crate::stats::median_ms(&plain)))
}

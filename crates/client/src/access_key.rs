//! Building a [`Client`] that authenticates with a Rainbond access key.
//!
//! The spec's `access_key` security scheme generates no code, so the key is installed here as a
//! default `Authorization` header of the underlying `reqwest::Client`.

use std::fmt;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::Client;

/// Connect and request timeout used when the caller supplies no `reqwest::ClientBuilder`
/// (the same as [`Client::new`]).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a [`Client`] could not be built. Messages never contain the access key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL is not an absolute `http` or `https` URL that paths can be appended to.
    #[error("invalid base URL `{url}`: {reason}")]
    InvalidBaseUrl {
        /// The base URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The access key cannot be sent verbatim in an HTTP header.
    #[error("invalid access key: {reason}")]
    InvalidAccessKey {
        /// What is wrong with it (the key itself is not repeated).
        reason: String,
    },
    /// `reqwest` refused the HTTP client configuration (e.g. a TLS backend failed to initialise).
    #[error("cannot build the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// Builds a [`Client`] with an access key and, optionally, a caller-configured
/// `reqwest::ClientBuilder`. Create one with [`Client::builder`].
///
/// ```
/// use std::time::Duration;
///
/// let client = rainbond_client::Client::builder("http://127.0.0.1:8080")
///     .access_key("rbd-demo-admin")
///     .http_client(rainbond_client::reqwest::ClientBuilder::new().timeout(Duration::from_secs(60)))
///     .build()?;
/// # let _ = client;
/// # Ok::<(), rainbond_client::BuildError>(())
/// ```
pub struct ClientBuilder {
    base_url: String,
    access_key: Option<String>,
    http: Option<reqwest::ClientBuilder>,
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    root_certificates: Vec<reqwest::Certificate>,
}

impl Client {
    /// Creates a client for `base_url` (e.g. `http://127.0.0.1:8080`) that sends `access_key`
    /// verbatim in the `Authorization` header of every request, with 15 s connect and request
    /// timeouts.
    ///
    /// The key is sent as given: pass `Bearer <key>` to send a bearer token. The header value
    /// is marked sensitive, so it is left out of `Debug` output.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if the base URL is not an absolute `http(s)` URL, if the key is empty,
    /// not ASCII, contains control characters or has leading or trailing whitespace, or if the
    /// HTTP client cannot be built.
    pub fn with_access_key(base_url: &str, access_key: &str) -> Result<Self, BuildError> {
        Self::builder(base_url).access_key(access_key).build()
    }

    /// Starts a [`ClientBuilder`] for `base_url`, for when the access key is optional or the
    /// HTTP client needs its own configuration (timeouts, TLS, proxies).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            access_key: None,
            http: None,
            #[cfg(any(feature = "rustls", feature = "native-tls"))]
            root_certificates: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// Sends `key` verbatim in the `Authorization` header of every request. It replaces any
    /// `Authorization` default header of the `reqwest::ClientBuilder`.
    #[must_use]
    pub fn access_key(mut self, key: impl Into<String>) -> Self {
        self.access_key = Some(key.into());
        self
    }

    /// Uses `builder` for the underlying `reqwest::Client` instead of the default (15 s connect
    /// and request timeouts). Its settings, including its default headers, are kept.
    #[must_use]
    pub fn http_client(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(builder);
        self
    }

    /// Trusts `certificate` as a root for `https` URLs, in addition to the platform's roots: for a
    /// console behind a private certificate authority or with a self-signed certificate. It is
    /// applied to the `reqwest::ClientBuilder` given to [`http_client`](Self::http_client) too.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let pem = rcgen::generate_simple_self_signed(["localhost".to_owned()])?.cert.pem();
    /// let certificate = rainbond_client::reqwest::Certificate::from_pem(pem.as_bytes())?;
    /// let client = rainbond_client::Client::builder("https://localhost:8443")
    ///     .access_key("rbd-demo-admin")
    ///     .tls_root_certificate(certificate)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[must_use]
    pub fn tls_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// Validates the base URL and the access key and builds the [`Client`].
    ///
    /// A trailing `/` on the base URL is removed, since the operation paths start with one.
    ///
    /// # Errors
    ///
    /// See [`Client::with_access_key`].
    pub fn build(self) -> Result<Client, BuildError> {
        let base_url = normalize_base_url(&self.base_url)?;
        let mut http = self
            .http
            .unwrap_or_else(|| reqwest::ClientBuilder::new().connect_timeout(DEFAULT_TIMEOUT).timeout(DEFAULT_TIMEOUT));
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        if !self.root_certificates.is_empty() {
            http = http.tls_certs_merge(self.root_certificates);
        }
        if let Some(key) = &self.access_key {
            let mut headers = HeaderMap::with_capacity(1);
            headers.insert(AUTHORIZATION, access_key_header(key)?);
            http = http.default_headers(headers);
        }
        let http = http.build().map_err(BuildError::Http)?;
        Ok(Client::new_with_client(base_url, http))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("access_key", &self.access_key.as_ref().map(|_| "<redacted>"))
            .field("http_client", &self.http.as_ref().map(|_| "<caller-supplied>"))
            .finish()
    }
}

/// Checks that `url` is an absolute `http(s)` URL without query or fragment and returns it
/// without trailing slashes.
fn normalize_base_url(url: &str) -> Result<&str, BuildError> {
    let invalid = |reason: String| BuildError::InvalidBaseUrl { url: url.to_owned(), reason };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!("the scheme must be http or https, not `{}`", parsed.scheme())));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it must not have a query or a fragment".to_owned()));
    }
    Ok(url.trim_end_matches('/'))
}

/// The `Authorization` header value for `key`, sent verbatim and marked sensitive.
fn access_key_header(key: &str) -> Result<HeaderValue, BuildError> {
    let invalid = |reason: String| BuildError::InvalidAccessKey { reason };
    if key.is_empty() {
        return Err(invalid("it is empty".to_owned()));
    }
    if key.starts_with([' ', '\t']) || key.ends_with([' ', '\t']) {
        return Err(invalid("it starts or ends with whitespace, which HTTP does not transmit".to_owned()));
    }
    if let Some((at, c)) = key.char_indices().find(|&(_, c)| !(c == ' ' || c == '\t' || c.is_ascii_graphic())) {
        let what = if c.is_ascii() { "a control character" } else { "a non-ASCII character" };
        return Err(invalid(format!("it contains {what} at byte {at}")));
    }
    let mut value = HeaderValue::from_str(key).map_err(|e| invalid(e.to_string()))?;
    value.set_sensitive(true);
    Ok(value)
}

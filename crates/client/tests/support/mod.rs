//! Shared by the integration tests: a local HTTP server that records every request and answers
//! with canned responses, and readers for `openapi.yaml`.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio_rustls::rustls;

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    /// The value of header `name`, which must be valid ASCII if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("header is ASCII"))
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// What the server answers to one request.
pub struct Reply {
    status: StatusCode,
    body: String,
    delay: Duration,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// `body` as `application/json` with `status`.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("valid status"),
            body: body.to_string(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    /// The same reply with one more header.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// The same reply, sent after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// An HTTP server on 127.0.0.1 with an OS-assigned port, running until the test's runtime stops.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    /// Starts a server that records every request and answers with `respond(request)`.
    pub async fn start(respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        Self::serve(listener, url, respond)
    }

    /// Like [`TestServer::start`], over HTTPS with a certificate for `127.0.0.1` and `localhost`
    /// made for this server; also returns that certificate (PEM), which no system trusts.
    pub async fn start_https(respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> (Self, String) {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).expect("self-signed certificate");
        let certificate_pem = certified.cert.pem();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("server TLS configuration");
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let url = format!("https://{}", tcp.local_addr().expect("local address"));
        let listener = TlsListener { tcp, acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) };
        (Self::serve(listener, url, respond), certificate_pem)
    }

    fn serve<L>(listener: L, url: String, respond: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self
    where
        L: axum::serve::Listener,
        L::Addr: std::fmt::Debug,
    {
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let log = Arc::clone(&recorded);
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let request = Recorded { method, uri, headers, body };
            let reply = respond(&request);
            log.lock().expect("request log").push(request);
            async move {
                tokio::time::sleep(reply.delay).await;
                let mut response: Response =
                    (reply.status, [(header::CONTENT_TYPE, "application/json")], reply.body).into_response();
                for (name, value) in reply.headers {
                    response.headers_mut().insert(name, value.parse().expect("a header value"));
                }
                response
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.expect("test server") });
        Self { url, recorded }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().expect("request log").clone()
    }

    /// The only request received so far.
    pub fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:#?}");
        requests.into_iter().next().expect("one request")
    }
}

/// Accepts TCP connections and completes the TLS handshake; connections whose handshake fails
/// (a client that does not trust the certificate) are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else { continue };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// `openapi.yaml` as JSON.
pub fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {path}: {e}"))
}

/// The method (upper case), path template and object of the operation `operation_id`.
pub fn operation(spec: &Value, operation_id: &str) -> (Method, String, Value) {
    let paths = spec["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            if op.get("operationId").and_then(Value::as_str) == Some(operation_id) {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                return (method, path.clone(), op.clone());
            }
        }
    }
    panic!("no operation `{operation_id}` in openapi.yaml")
}

/// `value` with a `$ref` (e.g. `#/components/responses/NotFound`) followed.
pub fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("local $ref");
            spec.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"))
        }
        None => value,
    }
}

/// The `application/json` example of response `status` of `op`.
pub fn response_example(spec: &Value, op: &Value, status: &str) -> Value {
    let response = resolve(spec, &op["responses"][status]);
    let example = &response["content"]["application/json"]["example"];
    assert!(!example.is_null(), "response {status} has no application/json example");
    example.clone()
}

/// `template` with every `{name}` replaced by its value in `params`.
pub fn fill_path(template: &str, params: &[(&str, &str)]) -> String {
    let path =
        params.iter().fold(template.to_owned(), |path, (name, value)| path.replace(&format!("{{{name}}}"), value));
    assert!(!path.contains('{'), "unfilled parameter in {path}");
    path
}

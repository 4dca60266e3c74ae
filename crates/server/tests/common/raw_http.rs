//! HTTP/1.1 written by hand: requests that no well-behaved client sends (raw path bytes, repeated
//! headers, bodies that are not UTF-8), and the answer as it came.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one exchange may take before the test fails.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer: status, headers (lower-case names, in order) and body.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// Every value of a header.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("the body is not JSON ({err}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A request: method, raw target (sent as is), headers, body. `Host`, `Content-Length` and
/// `Connection: close` are added.
pub struct RawRequest<'a> {
    pub method: &'a str,
    pub target: String,
    pub headers: Vec<(&'a str, String)>,
    pub body: Vec<u8>,
}

impl RawRequest<'_> {
    /// The bytes on the wire.
    pub fn to_bytes(&self, host: &str) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n", self.method, self.target);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", self.body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Sends `request` to `url` (`http://IP:PORT`) on a new connection and reads the whole answer. The
/// body is written while the answer is read, so a server that answers early (413) is still heard.
pub async fn send(url: &str, request: &RawRequest<'_>) -> RawResponse {
    let host = url.strip_prefix("http://").expect("an http:// URL");
    let exchange = async {
        let stream = TcpStream::connect(host).await.expect("the server accepts connections");
        let (mut reader, mut writer) = stream.into_split();
        let bytes = request.to_bytes(host);
        let write = tokio::spawn(async move {
            // The server may stop reading once it has answered; that is not an error here.
            let _ = writer.write_all(&bytes).await;
            let _ = writer.flush().await;
            writer
        });
        let mut answer = Vec::new();
        let mut buffer = [0u8; 64 * 1024];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(err) if !answer.is_empty() => {
                    // A reset after the whole answer arrived (the server closed with unread body).
                    let _ = err;
                    break;
                }
                Err(err) => panic!("reading the answer: {err}"),
            }
        }
        drop(write.await);
        parse(&answer)
    };
    tokio::time::timeout(EXCHANGE_TIMEOUT, exchange).await.expect("the server answers in time")
}

fn parse(answer: &[u8]) -> RawResponse {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(answer)));
    let head = std::str::from_utf8(&answer[..split]).expect("the response head is text");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = answer[split + 4..].to_vec();
    if let Some((_, length)) = headers.iter().find(|(n, _)| n == "content-length") {
        body.truncate(length.parse().expect("a numeric content-length"));
    }
    RawResponse { status, headers, body }
}

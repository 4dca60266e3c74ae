//! The default `rustls` feature: the client talks to an HTTPS server on 127.0.0.1 whose
//! self-signed certificate is made by the test and trusted through
//! `ClientBuilder::tls_root_certificate`, and refuses it when it is not trusted.

mod support;

use rainbond_client::reqwest::Certificate;
use rainbond_client::{Client, Error};
use support::{Reply, TestServer, operation, response_example, spec};

const KEY: &str = "rbd-demo-admin";

#[tokio::test]
async fn lists_and_copies_over_https_with_a_trusted_self_signed_certificate() {
    let spec = spec();
    let listing = serde_json::json!([]);
    let copied = response_example(&spec, &operation(&spec, "copy_app").2, "200");
    let (server, certificate_pem) = TestServer::start_https(move |request| {
        Reply::json(200, if request.method == "GET" { &listing } else { &copied })
    })
    .await;
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let certificate = Certificate::from_pem(certificate_pem.as_bytes()).expect("PEM certificate");
    let client = Client::builder(&server.url).access_key(KEY).tls_root_certificate(certificate).build().unwrap();

    let components =
        client.list_copy_services().team_id("o19p6wen").region_name("rainbond").app_id("1").send().await.unwrap();
    assert!(components.is_empty(), "the server answered an empty listing");
    let body = rainbond_client::types::AppCopyC {
        services: vec![],
        target_team_name: "o19p6wen".into(),
        target_region_name: "rainbond".into(),
        target_app_id: 2,
    };
    let result =
        client.copy_app().team_id("o19p6wen").region_name("rainbond").app_id("1").body(body).send().await.unwrap();
    assert!(!result.services.is_empty(), "the copy example has components");

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(requests.iter().all(|r| r.header("authorization") == Some(KEY)), "the key is sent over TLS");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_before_any_request_is_sent() {
    let (server, _) = TestServer::start_https(|_| Reply::json(200, &serde_json::json!([]))).await;
    let client = Client::with_access_key(&server.url, KEY).unwrap();

    let error =
        client.list_copy_services().team_id("o19p6wen").region_name("rainbond").app_id("1").send().await.unwrap_err();

    let Error::CommunicationError(cause) = &error else { panic!("expected a communication error, got {error:?}") };
    assert!(cause.is_connect(), "the TLS handshake fails while connecting: {cause:?}");
    let chain = format!("{:?}", anyhow::Error::from(error));
    assert!(chain.to_lowercase().contains("certificate"), "the error names the certificate: {chain}");
    assert!(server.requests().is_empty(), "no request reached the server");
}

//! The `copy_app` example (run by `cargo xtask demo`) against a local server: what it sends,
//! what it prints, and how it reports errors.

#[path = "../examples/copy_app.rs"]
#[allow(dead_code)]
mod copy_app_example;
mod support;

use clap::Parser;
use copy_app_example::{Args, run};
use serde_json::{Value, json};
use support::{Recorded, Reply, TestServer};

fn component(id: &str, alias: &str, name: &str, reason: Option<&str>) -> Value {
    json!({
        "build_source": {"service_source": "docker_image", "version": "8.0", "language": null, "code_from": "image_manual"},
        "update_time": "2026-11-20 09:30:00",
        "deploy_version": null,
        "create_status": "complete",
        "service_alias": alias,
        "service_cname": name,
        "version": "8.0",
        "service_type": "application",
        "service_id": id,
        "app_name": "shop",
        "min_memory": "512",
        "copyable": reason.is_none(),
        "not_copyable_reason": reason,
    })
}

fn copied(id: &str, alias: &str, name: &str, k8s: &str) -> Value {
    json!({
        "service_id": id, "tenant_id": "t1", "service_key": "application", "service_alias": alias,
        "service_cname": name, "service_region": "rainbond", "category": "application", "version": "8.0",
        "image": "mysql:8.0", "k8s_component_name": k8s,
    })
}

/// Lists `db`, an uncopyable `upload` and `前端` (copyable); the copy answers with two new components.
fn shop_server(recorded: &Recorded) -> Reply {
    match recorded.method.as_str() {
        "GET" => Reply::json(
            200,
            &json!([
                component("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "gr000001", "db", None),
                component(
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2",
                    "gr000002",
                    "upload",
                    Some("built from an uploaded package")
                ),
                component("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3", "gr000003", "前端", None),
            ]),
        ),
        _ => Reply::json(
            200,
            &json!({"services": [
                copied("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1", "gr100001", "db", "db-copy"),
                copied("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb3", "gr100003", "前端", "web-copy"),
            ]}),
        ),
    }
}

fn args(url: &str, extra: &[&str]) -> Args {
    Args::try_parse_from(["copy_app", "--url", url].iter().chain(extra)).expect("valid arguments")
}

#[tokio::test]
async fn copies_the_copyable_components_in_listing_order_and_prints_a_table() {
    let server = TestServer::start(shop_server).await;
    let mut out = Vec::new();

    run(&args(&server.url, &[]), &mut out).await.expect("the copy succeeds");

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one listing, one copy");
    let key = std::env::var("RAINBOND_ACCESS_KEY").unwrap_or_else(|_| "rbd-demo-admin".to_owned());
    for request in &requests {
        assert_eq!(request.uri.path(), "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy");
        assert_eq!(request.header("authorization"), Some(key.as_str()));
    }
    assert_eq!((requests[0].method.as_str(), requests[1].method.as_str()), ("GET", "POST"));
    assert_eq!(
        requests[1].json(),
        json!({
            "services": [
                {"service_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"},
                {"service_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3"}
            ],
            "target_team_name": "o19p6wen",
            "target_region_name": "rainbond",
            "target_app_id": 2
        })
    );
    let expected = "\
app 1 (team o19p6wen, region rainbond): 3 components, 2 copyable
  skipped gr000002 (upload): built from an uploaded package
copied 2 components into app 2 (team o19p6wen, region rainbond):
SOURCE SERVICE_ID                 ALIAS     NAME     COPY SERVICE_ID                   ALIAS     NAME  K8S_COMPONENT_NAME
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1  gr000001  db    →  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1  gr100001  db    db-copy
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3  gr000003  前端  →  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb3  gr100003  前端  web-copy
";
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[tokio::test]
async fn the_target_options_and_key_reach_the_request() {
    let server = TestServer::start(shop_server).await;
    let extra = ["--key", "k2", "--team", "src", "--region", "r1", "--app", "9"];
    let targets = ["--target-team", "dst", "--target-region", "r2", "--target-app", "5"];
    let all: Vec<&str> = extra.iter().chain(&targets).copied().collect();

    run(&args(&server.url, &all), &mut Vec::new()).await.expect("the copy succeeds");

    let copy = &server.requests()[1];
    assert_eq!(copy.uri.path(), "/openapi/v1/teams/src/regions/r1/apps/9/copy");
    assert_eq!(copy.header("authorization"), Some("k2"));
    let body = copy.json();
    assert_eq!(
        (&body["target_team_name"], &body["target_region_name"], &body["target_app_id"]),
        (&json!("dst"), &json!("r2"), &json!(5))
    );
}

#[tokio::test]
async fn an_error_response_is_reported_with_its_status_and_body() {
    let server = TestServer::start(|recorded| match recorded.method.as_str() {
        "GET" => shop_server(recorded),
        _ => Reply::json(404, &json!({"code": 4000, "msg": "the app is not found", "msg_show": "应用不存在"})),
    })
    .await;

    let error = run(&args(&server.url, &[]), &mut Vec::new()).await.unwrap_err();

    assert_eq!(
        error,
        "copy_app failed with HTTP 404 Not Found\n{\"code\":4000,\"msg\":\"the app is not found\",\"msg_show\":\"应用不存在\"}"
    );
}

#[tokio::test]
async fn an_undocumented_status_is_reported_with_its_raw_body() {
    let server = TestServer::start(|_| Reply::json(412, &json!({"detail": "resource not enough"}))).await;

    let error = run(&args(&server.url, &[]), &mut Vec::new()).await.unwrap_err();

    assert_eq!(
        error,
        "list_copy_services failed with HTTP 412 Precondition Failed (not documented by the spec)\n\
         {\"detail\":\"resource not enough\"}"
    );
}

#[tokio::test]
async fn nothing_is_copied_when_no_component_is_copyable() {
    // An empty `services` list would ask the server to copy every component.
    let server = TestServer::start(|_| {
        Reply::json(
            200,
            &json!([component("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", "gr000002", "upload", Some("uploaded"))]),
        )
    })
    .await;
    let mut out = Vec::new();

    let error = run(&args(&server.url, &[]), &mut out).await.unwrap_err();

    assert_eq!(error, "nothing to copy: app 1 (team o19p6wen, region rainbond) has no copyable component");
    assert_eq!(server.requests().len(), 1, "no copy request is sent");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "app 1 (team o19p6wen, region rainbond): 1 component, 0 copyable\n  skipped gr000002 (upload): uploaded\n"
    );
}

#[tokio::test]
async fn a_busy_listing_and_a_busy_copy_are_retried_the_copy_with_one_key() {
    let busy = json!({"code": 10402, "msg": "busy", "msg_show": "稍后重试"});
    let first_get = std::sync::atomic::AtomicBool::new(true);
    let server = TestServer::start(move |recorded| match recorded.method.as_str() {
        "GET" if first_get.swap(false, std::sync::atomic::Ordering::SeqCst) => {
            Reply::json(503, &busy).header("retry-after", "0")
        }
        "GET" => shop_server(recorded),
        _ => Reply::json(503, &busy).header("retry-after", "0"),
    })
    .await;

    let error = run(&args(&server.url, &[]), &mut Vec::new()).await.expect_err("the copy is refused");
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.to_string()).collect();
    assert_eq!(methods, ["GET", "GET", "POST", "POST", "POST", "POST"], "sent again up to the policy's 4 attempts");
    assert!(error.contains("503"), "{error}");
    let keys: std::collections::HashSet<Option<String>> =
        server.requests()[2..].iter().map(|r| r.header("idempotency-key").map(str::to_owned)).collect();
    assert_eq!(keys.len(), 1, "every send of the copy carries the same key: {keys:?}");
    assert!(keys.iter().all(Option::is_some), "the copy carries a key");
}

#[tokio::test]
async fn the_copy_carries_the_given_idempotency_key() {
    let server = TestServer::start(shop_server).await;
    let mut out = Vec::new();
    run(&args(&server.url, &["--idempotency-key", "job-42"]), &mut out).await.expect("the copy succeeds");
    let copy = server.requests().into_iter().find(|r| r.method == "POST").expect("a copy is sent");
    assert_eq!(copy.header("idempotency-key"), Some("job-42"));
    assert!(String::from_utf8(out).unwrap().contains("Idempotency-Key: job-42\n"));
}

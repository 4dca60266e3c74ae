//! The whole HTTP surface (`rainbond_server::http::router`) in process, with tower's `oneshot`,
//! over the demo data on a real SQLite file: what a caller sees, including the bodies of requests
//! the router rejects. Nothing here needs a socket; serve_demo.rs runs the binary.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use rainbond_server::fixture::{DEMO, Fixture};
use rainbond_server::service::CopyService;
use rainbond_server::store::{Repository, SqliteStore};
use serde_json::{Value, json};
use tower::ServiceExt;

const COPY: &str = "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy";
const LEGACY_COPY: &str = "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/5/copy";
const ADMIN: &str = "rbd-demo-admin";

/// The router over a new database loaded with the demo fixture (the folder lives as long as it).
struct Demo {
    router: Router,
    _dir: tempfile::TempDir,
}

impl Demo {
    async fn new() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("copy.db").to_str().unwrap()).await.unwrap();
        let data = Fixture::parse(DEMO).unwrap().to_dataset(DEMO).unwrap();
        assert!(store.load_dataset(&data, true).await.unwrap());
        Demo { router: rainbond_server::http::router(Arc::new(CopyService::new(store))), _dir: dir }
    }

    /// Sends a request and returns the status, the headers and the body (JSON, or a string when it
    /// is not JSON), checking that errors carry exactly the spec's error body as `application/json`.
    async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        if !status.is_success() {
            assert_eq!(headers.get(header::CONTENT_TYPE).unwrap(), "application/json", "{status}: {body}");
            let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["code", "msg", "msg_show"], "{status}: {body}");
            assert!(body["code"].is_i64() && body["msg"].is_string() && body["msg_show"].is_string(), "{body}");
        }
        (status, headers, body)
    }

    /// The status and body of a request.
    async fn answer(&self, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, body) = self.send(request).await;
        (status, body)
    }
}

/// A request with the admin's key.
fn admin(method: Method, path: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(path).header(header::AUTHORIZATION, ADMIN)
}

fn get(path: &str) -> Request<Body> {
    admin(Method::GET, path).body(Body::empty()).unwrap()
}

/// A POST on `path` with `body` as JSON.
fn post_to(path: &str, body: &Value) -> Request<Body> {
    admin(Method::POST, path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A POST of the copy with `body` sent as is, with `content_type`.
fn post_raw(content_type: &str, body: impl Into<Body>) -> Request<Body> {
    admin(Method::POST, COPY).header(header::CONTENT_TYPE, content_type).body(body.into()).unwrap()
}

fn copy_body(services: Value) -> Value {
    json!({"services": services, "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": 2})
}

#[tokio::test]
async fn the_listing_shows_build_sources_and_copyability_but_never_credentials() {
    let demo = Demo::new().await;
    let (status, listed) = demo.answer(get(COPY)).await;
    assert_eq!(status, StatusCode::OK);
    let text = listed.to_string();
    assert!(!text.contains("registry-secret") && !text.contains("password"), "credentials leak: {text}");
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let api = listed.iter().find(|c| c["service_cname"] == "api").unwrap();
    assert_eq!(api["build_source"]["image"], "images.example.com/shop/api:2.4.1");
    assert_eq!(api["min_memory"], "512");
    assert_eq!((&api["copyable"], &api["not_copyable_reason"]), (&json!(true), &Value::Null));

    let (status, legacy) = demo.answer(get(LEGACY_COPY)).await;
    assert_eq!(status, StatusCode::OK);
    for component in legacy.as_array().unwrap() {
        assert_eq!(component["copyable"], false, "{component}");
        let reason = component["not_copyable_reason"].as_str().unwrap();
        let expected = if component["service_cname"] == "worker" { "not complete" } else { "uploaded package" };
        assert!(reason.contains(expected), "{reason}");
    }
}

#[tokio::test]
async fn a_copy_ignores_the_read_only_change_field_whatever_its_shape() {
    let demo = Demo::new().await;
    let change = json!({"build_source": {"version": "v2"}, "envs": {"A": "B"}});
    let body = copy_body(json!([{"service_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f1", "change": change}]));
    let (status, copied) = demo.answer(post_to(COPY, &body)).await;
    assert_eq!(status, StatusCode::OK, "{copied}");
    let web = &copied["services"][0];
    assert_eq!(web["service_cname"], "web-copy");
    assert_eq!(web["version"], "3.11", "change is ignored");
    assert_eq!(web["access_infos"], json!([]));
    assert_eq!(web["desc"], "Storefront");
}

#[tokio::test]
async fn bodies_the_router_rejects_get_400_or_415_with_the_error_body() {
    let demo = Demo::new().await;
    let without = |field: &str| {
        let mut body = copy_body(json!([]));
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let with = |field: &str, value: Value| {
        let mut body = copy_body(json!([]));
        body[field] = value;
        body
    };
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        ("malformed JSON", post_raw("application/json", "{\"services\": ["), StatusCode::BAD_REQUEST, "EOF"),
        (
            "trailing data",
            post_raw("application/json", copy_body(json!([])).to_string() + " x"),
            StatusCode::BAD_REQUEST,
            "trailing",
        ),
        ("null body", post_raw("application/json", "null"), StatusCode::BAD_REQUEST, "invalid request body"),
        ("empty body", post_raw("application/json", ""), StatusCode::BAD_REQUEST, "required"),
        ("missing field", post_to(COPY, &without("target_app_id")), StatusCode::BAD_REQUEST, "target_app_id"),
        (
            "string for an integer",
            post_to(COPY, &with("target_app_id", json!("2"))),
            StatusCode::BAD_REQUEST,
            "target_app_id",
        ),
        (
            "int32 overflow",
            post_to(COPY, &with("target_app_id", json!(2147483648u64))),
            StatusCode::BAD_REQUEST,
            "target_app_id",
        ),
        ("services not a list", post_to(COPY, &copy_body(json!("web"))), StatusCode::BAD_REQUEST, "services"),
        ("item without service_id", post_to(COPY, &copy_body(json!([{}]))), StatusCode::BAD_REQUEST, "service_id"),
        (
            "wrong media type",
            post_raw("text/plain", copy_body(json!([])).to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
    ];
    for (case, request, expected, mentions) in cases {
        let (status, body) = demo.answer(request).await;
        assert_eq!(status, expected, "{case}: {body}");
        assert!(body["msg"].as_str().unwrap().contains(mentions), "{case}: {body}");
    }
}

#[tokio::test]
async fn callers_without_a_usable_key_get_401_and_outsiders_403() {
    let demo = Demo::new().await;
    for (key, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some("Token rbd-demo-admin"), StatusCode::UNAUTHORIZED),
        (Some("rbd-demo-expired"), StatusCode::UNAUTHORIZED),
        (Some("rbd-demo-guest"), StatusCode::FORBIDDEN),
        (Some("Bearer rbd-demo-admin"), StatusCode::OK),
    ] {
        let mut request = Request::builder().uri(COPY);
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, key);
        }
        let (status, body) = demo.answer(request.body(Body::empty()).unwrap()).await;
        assert_eq!(status, expected, "{key:?}: {body}");
    }
}

#[tokio::test]
async fn unknown_regions_and_apps_are_404_and_a_team_outside_the_region_409_with_rainbond_codes() {
    let demo = Demo::new().await;
    for (path, expected, code) in [
        ("/openapi/v1/teams/o19p6wen/regions/nowhere/apps/1/copy", 404, 3000),
        ("/openapi/v1/teams/k2x9qa7d/regions/rainbond-east/apps/4/copy", 409, 2001),
        ("/openapi/v1/teams/o19p6wen/regions/rainbond/apps/abc/copy", 404, 4000),
        ("/openapi/v1/teams/o19p6wen/regions/rainbond-east/apps/1/copy", 404, 4000),
    ] {
        let (status, body) = demo.answer(get(path)).await;
        assert_eq!((status.as_u16(), body["code"].as_i64()), (expected, Some(code)), "{path}: {body}");
    }
}

#[tokio::test]
async fn copies_that_break_a_rule_are_404_or_400_and_name_the_problem() {
    let demo = Demo::new().await;
    let (status, body) = demo.answer(post_to(COPY, &copy_body(json!([{"service_id": "deadbeef"}])))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("deadbeef"), "{body}");
    let package_build = copy_body(json!([{"service_id": "4e5f60718293a4b5c6d7e8f90a1b2c35"}]));
    let (status, body) = demo.answer(post_to(LEGACY_COPY, &package_build)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("package_build"), "{body}");
    let other_team =
        json!({"services": [], "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": 4});
    let (status, body) = demo.answer(post_to(COPY, &other_team)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn paths_and_methods_the_spec_does_not_have_are_404_and_405() {
    let demo = Demo::new().await;
    let (status, _) = demo.answer(get("/openapi/v1/nothing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, _) = demo.send(admin(Method::PUT, COPY).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(headers[header::ALLOW].to_str().unwrap().contains("POST"), "{headers:?}");
}

#[tokio::test]
async fn the_document_the_docs_page_and_the_health_check_are_served() {
    let demo = Demo::new().await;
    let (status, document) = demo.answer(get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let operations: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    assert_eq!(operations, ["list_copy_services", "copy_app"]);
    let (status, docs) = demo.answer(get("/docs/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(docs.as_str().unwrap().contains("swagger"), "{docs}");
    let (status, health) = demo.answer(get("/healthz")).await;
    assert_eq!((status, health), (StatusCode::OK, json!("ok")));
}

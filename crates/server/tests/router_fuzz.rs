//! The router's request-body parsing under arbitrary bytes, in process (tower's `oneshot` on the
//! full router over a demo database): it never panics and always answers a status the copy
//! operation documents, with the spec's error body (or the copy's body on 200).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use rainbond_server::fixture::{DEMO, Fixture};
use rainbond_server::service::CopyService;
use rainbond_server::store::{Repository, SqliteStore};
use serde_json::Value;
use tower::ServiceExt;

const COPY: &str = "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy";
/// The statuses openapi.yaml documents for the copy, less 500: no body may make the server fail.
const DOCUMENTED: [u16; 8] = [200, 400, 401, 403, 404, 409, 413, 415];
/// A body that copies; the mutations below start from it so that they get past the first byte.
const VALID: &str = r#"{"services":[{"service_id":"0a1b2c3d4e5f40718293a4b5c6d7e8f1"}],"target_team_name":"o19p6wen","target_region_name":"rainbond","target_app_id":2}"#;

/// Arbitrary bytes, or the valid body with bytes replaced, inserted or cut off.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(edits, cut)| {
            let mut bytes = VALID.as_bytes().to_vec();
            for (at, byte, kind) in edits {
                let at = at.index(bytes.len());
                match kind {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            if cut.index(4) == 0 {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        });
    prop_oneof![prop::collection::vec(any::<u8>(), 0..2048), mutated]
}

fn content_types() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("application/merge-patch+json"),
        Some("text/plain"),
        Some("application/jsonx"),
        None,
    ])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn demo_router(dir: &std::path::Path) -> Router {
    let store = SqliteStore::open(dir.join("fuzz.db").to_str().unwrap()).await.unwrap();
    let data = Fixture::parse(DEMO).unwrap().to_dataset(DEMO).unwrap();
    assert!(store.load_dataset(&data, true).await.unwrap());
    rainbond_server::http::router(Arc::new(CopyService::new(store)))
}

/// Sends one body; returns what is wrong with the answer, if anything.
async fn check(router: &Router, body: Vec<u8>, content_type: Option<&str>) -> Result<(), String> {
    let mut request = Request::post(COPY).header("authorization", "rbd-demo-admin");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let media = response.headers().get("content-type").map(|v| v.to_str().unwrap_or("?").to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes);
    if !DOCUMENTED.contains(&status.as_u16()) {
        return Err(format!("undocumented status {status}: {text}"));
    }
    if media.as_deref() != Some("application/json") {
        return Err(format!("{status} with content-type {media:?}"));
    }
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{status}, body not JSON ({e}): {text}"))?;
    let keys: Vec<&str> = json.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    let expected: &[&str] = if status == StatusCode::OK { &["services"] } else { &["code", "msg", "msg_show"] };
    if keys != expected {
        return Err(format!("{status} with body keys {keys:?}: {text}"));
    }
    Ok(())
}

#[test]
fn arbitrary_bodies_get_a_documented_answer() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let router = runtime.block_on(demo_router(dir.path()));
    let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(512) };
    proptest!(config, |(body in bodies(), content_type in content_types())| {
        let outcome = runtime.block_on(check(&router, body, content_type));
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    });
}

#[test]
fn the_unmutated_body_copies() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let router = runtime.block_on(demo_router(dir.path()));
    let response = runtime.block_on(
        router.oneshot(
            Request::post(COPY)
                .header("authorization", "rbd-demo-admin")
                .header("content-type", "application/json")
                .body(Body::from(VALID))
                .unwrap(),
        ),
    );
    assert_eq!(response.unwrap().status(), StatusCode::OK);
}

//! Bad input, one table: every row is a request no well-behaved client sends. Each answer must have
//! the documented status and the spec's error body `{code, msg, msg_show}`, and nothing may change:
//! every table keeps its row count and the target app keeps its row and its components.
//!
//! Decisions these rows pin down (README, "Limits and bad input"):
//! - unknown fields are ignored (the request goes on, here to the target lookup); a missing
//!   required field is 400;
//! - a body over `MAX_BODY_BYTES` is 413; `services` over `MAX_COPY_COMPONENTS` items is 400;
//! - a repeated `Content-Type` or `Authorization` header is ambiguous, so it counts as absent
//!   (415, 401);
//! - path parameters are taken as the text they decode to: `..`, NUL, `/` and 10 KB values name
//!   no team, region or app (404).

mod common;

use common::raw_http::{RawRequest, RawResponse, send};
use common::{ADMIN, GUEST, TestDatabase, TestServer};
use rainbond_server::copy::MAX_COPY_COMPONENTS;
use rainbond_server::http::MAX_BODY_BYTES;
use serde_json::{Value, json};
use sqlx::AnyPool;

const COPY: &str = "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy";
/// App 2, `shop-staging`: the target of every copy below.
const TARGET_APP: i32 = 2;
const MIB: usize = 1024 * 1024;

const BAD_REQUEST: &str = "请求参数错误";
const NO_TEAM: &str = "团队不存在";
const NO_APP: &str = "应用不存在";
const NO_TARGET_TEAM: &str = "目标团队不存在，或团队未加入该数据中心";
const NO_TARGET_APP: &str = "目标应用不存在";

/// One request and the answer it must get.
struct Row {
    name: &'static str,
    request: RawRequest<'static>,
    status: u16,
    code: i64,
    /// Text the `msg` must contain.
    msg: &'static str,
    /// The start of `msg_show`.
    msg_show: &'static str,
}

/// A valid body that copies `shop`'s `web` into the target app.
fn valid_body() -> Value {
    json!({
        "services": [{"service_id": common::WEB}],
        "target_team_name": "o19p6wen",
        "target_region_name": "rainbond",
        "target_app_id": TARGET_APP,
    })
}

/// `valid_body` with `field` set to `value`, or removed when `value` is `None`.
fn body_with(field: &str, value: Option<Value>) -> Vec<u8> {
    let mut body = valid_body();
    match value {
        Some(value) => body[field] = value,
        None => {
            body.as_object_mut().unwrap().remove(field);
        }
    }
    body.to_string().into_bytes()
}

fn post(target: &str, content_type: &str, body: impl Into<Vec<u8>>) -> RawRequest<'static> {
    RawRequest {
        method: "POST",
        target: target.to_owned(),
        headers: vec![("authorization", ADMIN.to_owned()), ("content-type", content_type.to_owned())],
        body: body.into(),
    }
}

fn post_json(body: impl Into<Vec<u8>>) -> RawRequest<'static> {
    post(COPY, "application/json", body)
}

/// A POST of the valid body to `target`.
fn post_to(target: String) -> RawRequest<'static> {
    post(&target, "application/json", valid_body().to_string())
}

fn copy_path(team: &str, region: &str, app: &str) -> String {
    format!("/openapi/v1/teams/{team}/regions/{region}/apps/{app}/copy")
}

fn row(
    name: &'static str,
    request: RawRequest<'static>,
    status: u16,
    code: i64,
    msg: &'static str,
    msg_show: &'static str,
) -> Row {
    Row { name, request, status, code, msg, msg_show }
}

fn malformed_bodies() -> Vec<Row> {
    vec![
        row("malformed JSON", post_json(r#"{"services": ["#), 400, 20400, "invalid request body", BAD_REQUEST),
        row("a JSON array", post_json("[]"), 400, 20400, "expected a JSON object", BAD_REQUEST),
        row(
            "the fields' values as an array",
            post_json(r#"[[], "o19p6wen", "rainbond", 2]"#),
            400,
            20400,
            "expected a JSON object",
            BAD_REQUEST,
        ),
        row(
            "a selected component's values as an array",
            post_json(body_with("services", Some(json!([[common::WEB, null]])))),
            400,
            20400,
            "invalid request body at `services[0]`: expected an object, found an array",
            BAD_REQUEST,
        ),
        row("a JSON string", post_json(r#""copy""#), 400, 20400, "expected a JSON object", BAD_REQUEST),
        row("JSON null", post_json("null"), 400, 20400, "expected a JSON object", BAD_REQUEST),
        row(
            "two JSON values",
            post_json(format!("{} {{}}", valid_body())),
            400,
            20400,
            "trailing characters",
            BAD_REQUEST,
        ),
        row(
            "target_app_id as a string",
            post_json(body_with("target_app_id", Some(json!("2")))),
            400,
            20400,
            "target_app_id",
            BAD_REQUEST,
        ),
        row(
            "services as an object",
            post_json(body_with("services", Some(json!({"service_id": common::WEB})))),
            400,
            20400,
            "services",
            BAD_REQUEST,
        ),
        row(
            "service_id as a number",
            post_json(body_with("services", Some(json!([{"service_id": 7}])))),
            400,
            20400,
            "services[0].service_id",
            BAD_REQUEST,
        ),
        row(
            "target_team_name null",
            post_json(body_with("target_team_name", Some(Value::Null))),
            400,
            20400,
            "target_team_name",
            BAD_REQUEST,
        ),
        row(
            "missing target_app_id",
            post_json(body_with("target_app_id", None)),
            400,
            20400,
            "missing field `target_app_id`",
            BAD_REQUEST,
        ),
        row(
            "missing services",
            post_json(body_with("services", None)),
            400,
            20400,
            "missing field `services`",
            BAD_REQUEST,
        ),
        row(
            "unknown fields are ignored (the request reaches the target lookup)",
            post_json(
                json!({
                    "services": [{"service_id": common::WEB, "colour": "red"}],
                    "target_team_name": "o19p6wen",
                    "target_region_name": "rainbond",
                    "target_app_id": 9999,
                    "dry_run": true,
                })
                .to_string(),
            ),
            404,
            404,
            "the target app is not found",
            NO_TARGET_APP,
        ),
        row("an empty body", post_json(""), 400, 20400, "a request body is required", BAD_REQUEST),
        row(
            "non-UTF-8 bytes in a string",
            post_json(
                [
                    &br#"{"services": [], "target_team_name": "o19p6"#[..],
                    b"\xff\xfe",
                    br#"", "target_region_name": "rainbond", "target_app_id": 2}"#,
                ]
                .concat(),
            ),
            400,
            20400,
            "invalid request body",
            BAD_REQUEST,
        ),
        row(
            "target_app_id above int32",
            post_json(body_with("target_app_id", Some(json!(2_147_483_648_i64)))),
            400,
            20400,
            "target_app_id",
            BAD_REQUEST,
        ),
        row(
            "target_app_id below int32",
            post_json(body_with("target_app_id", Some(json!(-2_147_483_649_i64)))),
            400,
            20400,
            "target_app_id",
            BAD_REQUEST,
        ),
        row(
            "target_app_id as a float",
            post_json(body_with("target_app_id", Some(json!(2.5)))),
            400,
            20400,
            "target_app_id",
            BAD_REQUEST,
        ),
    ]
}

fn media_types_and_limits() -> Vec<Row> {
    let over_limit = {
        let padding = "x".repeat(MAX_BODY_BYTES);
        body_with("target_team_name", Some(json!(padding)))
    };
    let too_many: Vec<Value> = (0..=MAX_COPY_COMPONENTS).map(|n| json!({"service_id": format!("{n:032x}")})).collect();
    vec![
        row(
            "text/plain",
            post(COPY, "text/plain", valid_body().to_string()),
            415,
            415,
            "application/json",
            "请求体必须是 JSON",
        ),
        row(
            "form data",
            post(COPY, "application/x-www-form-urlencoded", "target_app_id=2"),
            415,
            415,
            "application/json",
            "请求体必须是 JSON",
        ),
        row(
            "no Content-Type",
            RawRequest {
                method: "POST",
                target: COPY.to_owned(),
                headers: vec![("authorization", ADMIN.to_owned())],
                body: valid_body().to_string().into_bytes(),
            },
            415,
            415,
            "application/json",
            "请求体必须是 JSON",
        ),
        row("a body over the limit", post_json(over_limit), 413, 413, "", "请求体过大"),
        row(
            "services over the cap",
            post_json(body_with("services", Some(Value::Array(too_many)))),
            400,
            20400,
            "services: must have at most 1000 items",
            BAD_REQUEST,
        ),
    ]
}

/// A 1 MiB string in each string field in turn (the body stays under the limit).
fn huge_strings() -> Vec<Row> {
    let huge = || json!("a".repeat(MIB));
    let with_target = |app: i32, services: Value| json!({"services": services, "target_team_name": "o19p6wen", "target_region_name": "rainbond", "target_app_id": app});
    vec![
        row(
            "1 MiB target_team_name",
            post_json(body_with("target_team_name", Some(huge()))),
            404,
            404,
            "the target team is not found",
            NO_TARGET_TEAM,
        ),
        row(
            "1 MiB target_region_name",
            post_json(body_with("target_region_name", Some(huge()))),
            404,
            404,
            "the target team is not found",
            NO_TARGET_TEAM,
        ),
        row(
            "1 MiB service_id",
            post_json(with_target(TARGET_APP, json!([{"service_id": huge()}])).to_string()),
            404,
            404,
            "components not found in the source app",
            "组件不存在或尚未创建完成",
        ),
        row(
            "1 MiB change (read-only, ignored)",
            post_json(with_target(9999, json!([{"service_id": common::WEB, "change": huge()}])).to_string()),
            404,
            404,
            "the target app is not found",
            NO_TARGET_APP,
        ),
    ]
}

fn path_parameters() -> Vec<Row> {
    let ten_kb = "a".repeat(10 * 1024);
    vec![
        row("team `..`", post_to(copy_path("..", "rainbond", "1")), 404, 404, "the team is not found", NO_TEAM),
        row("app `..`", post_to(copy_path("o19p6wen", "rainbond", "..")), 404, 4000, "the app is not found", NO_APP),
        row(
            "`..` as an extra segment",
            post_to("/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/../1/copy".to_owned()),
            404,
            404,
            "no operation has this path",
            "资源不存在",
        ),
        row(
            "team with %00",
            post_to(copy_path("o19p6wen%00", "rainbond", "1")),
            404,
            404,
            "the team is not found",
            NO_TEAM,
        ),
        row(
            "app with %00",
            post_to(copy_path("o19p6wen", "rainbond", "1%00")),
            404,
            4000,
            "the app is not found",
            NO_APP,
        ),
        row(
            "team with %2F",
            post_to(copy_path("o19p6wen%2Fregions%2Frainbond", "rainbond", "1")),
            404,
            404,
            "the team is not found",
            NO_TEAM,
        ),
        row(
            "region with %2F",
            post_to(copy_path("o19p6wen", "rain%2Fbond", "1")),
            404,
            3000,
            "the region is not found",
            "集群不存在",
        ),
        row("10 KB team", post_to(copy_path(&ten_kb, "rainbond", "1")), 404, 404, "the team is not found", NO_TEAM),
        row(
            "10 KB region",
            post_to(copy_path("o19p6wen", &ten_kb, "1")),
            404,
            3000,
            "the region is not found",
            "集群不存在",
        ),
        row(
            "10 KB app",
            post_to(copy_path("o19p6wen", "rainbond", &ten_kb)),
            404,
            4000,
            "the app is not found",
            NO_APP,
        ),
        row(
            "an unknown path",
            post_to("/openapi/v1/teams/o19p6wen/copy".to_owned()),
            404,
            404,
            "no operation has this path",
            "资源不存在",
        ),
    ]
}

fn methods_and_headers() -> Vec<Row> {
    let method = |method: &'static str| RawRequest { method, ..post_json(valid_body().to_string()) };
    let with_headers = |headers: Vec<(&'static str, String)>| RawRequest {
        method: "POST",
        target: COPY.to_owned(),
        headers,
        body: valid_body().to_string().into_bytes(),
    };
    let json_type = || ("content-type", "application/json".to_owned());
    vec![
        row("PUT", method("PUT"), 405, 405, "does not support this method", "不支持该请求方法"),
        row("DELETE", method("DELETE"), 405, 405, "does not support this method", "不支持该请求方法"),
        row("PATCH", method("PATCH"), 405, 405, "does not support this method", "不支持该请求方法"),
        row(
            "two Content-Type headers (JSON first)",
            with_headers(vec![
                ("authorization", ADMIN.to_owned()),
                json_type(),
                ("content-type", "text/plain".to_owned()),
            ]),
            415,
            415,
            "application/json",
            "请求体必须是 JSON",
        ),
        row(
            "two identical Content-Type headers",
            with_headers(vec![("authorization", ADMIN.to_owned()), json_type(), json_type()]),
            415,
            415,
            "application/json",
            "请求体必须是 JSON",
        ),
        row(
            "two Authorization headers (admin first)",
            with_headers(vec![("authorization", ADMIN.to_owned()), ("authorization", GUEST.to_owned()), json_type()]),
            401,
            401,
            "No token",
            "未提供访问令牌",
        ),
        row(
            "two identical Authorization headers",
            with_headers(vec![("authorization", ADMIN.to_owned()), ("authorization", ADMIN.to_owned()), json_type()]),
            401,
            401,
            "No token",
            "未提供访问令牌",
        ),
        row("no Authorization header", with_headers(vec![json_type()]), 401, 401, "No token", "未提供访问令牌"),
        row(
            "an unknown key",
            with_headers(vec![("authorization", "rbd-demo-nobody".to_owned()), json_type()]),
            401,
            401,
            "unknown or expired",
            "访问令牌无效或已过期",
        ),
    ]
}

/// What must not change: every table's row count, the target app's row and its components.
#[derive(Debug, PartialEq)]
struct Snapshot {
    counts: Vec<(String, i64)>,
    target_app: String,
    target_components: Vec<String>,
}

async fn snapshot(pool: &AnyPool) -> Snapshot {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut counts = Vec::new();
    for (table,) in tables {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\"")))
            .fetch_one(pool)
            .await
            .unwrap();
        counts.push((table, n));
    }
    let columns: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM pragma_table_info('apps') ORDER BY cid").fetch_all(pool).await.unwrap();
    let row_text = columns.iter().map(|(c,)| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || '|' || ");
    let (target_app,): (String,) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {row_text} FROM apps WHERE app_id = ?")))
            .bind(TARGET_APP)
            .fetch_one(pool)
            .await
            .unwrap();
    let components: Vec<(String,)> =
        sqlx::query_as("SELECT service_id FROM tenant_services WHERE app_id = ? ORDER BY service_id")
            .bind(TARGET_APP)
            .fetch_all(pool)
            .await
            .unwrap();
    Snapshot { counts, target_app, target_components: components.into_iter().map(|(id,)| id).collect() }
}

/// Checks one answer against its row; returns what is wrong.
fn mismatches(row: &Row, response: &RawResponse) -> Vec<String> {
    let mut wrong = Vec::new();
    if response.status != row.status {
        wrong.push(format!("status {} (expected {})", response.status, row.status));
    }
    if response.header_values("content-type") != ["application/json"] {
        wrong.push(format!("content-type {:?}", response.header_values("content-type")));
    }
    let body = response.json();
    let keys: Vec<&str> = body.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    if keys != ["code", "msg", "msg_show"] {
        wrong.push(format!("body keys {keys:?}, expected code, msg, msg_show"));
    }
    if body["code"] != row.code {
        wrong.push(format!("code {} (expected {})", body["code"], row.code));
    }
    let msg = body["msg"].as_str().unwrap_or_default();
    if !msg.contains(row.msg) || msg.is_empty() {
        wrong.push(format!("msg {msg:?} does not contain {:?}", row.msg));
    }
    if msg.len() > 1024 {
        wrong.push(format!("msg is {} bytes long: input must not be echoed whole", msg.len()));
    }
    let msg_show = body["msg_show"].as_str().unwrap_or_default();
    if !msg_show.starts_with(row.msg_show) {
        wrong.push(format!("msg_show {msg_show:?} does not start with {:?}", row.msg_show));
    }
    if row.status == 405 {
        let allow = response.header_values("allow").join(",");
        if !(allow.contains("GET") && allow.contains("POST")) {
            wrong.push(format!("Allow {allow:?} does not list GET and POST"));
        }
    }
    wrong
}

#[tokio::test]
async fn bad_input_gets_a_documented_error_and_changes_nothing() {
    let database = TestDatabase::sqlite();
    let server = TestServer::demo(&database).await;
    let inspector = server.inspect().await;
    let rows: Vec<Row> =
        [malformed_bodies(), media_types_and_limits(), huge_strings(), path_parameters(), methods_and_headers()]
            .into_iter()
            .flatten()
            .collect();
    let before = snapshot(&inspector.0).await;
    assert!(before.counts.iter().any(|(table, n)| table == "tenant_services" && *n > 0), "the demo data is loaded");
    let mut failures = Vec::new();
    for row in &rows {
        let response = send(&server.url, &row.request).await;
        let mut wrong = mismatches(row, &response);
        let after = snapshot(&inspector.0).await;
        if after != before {
            wrong.push(format!("the data changed: {before:?} -> {after:?}"));
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", row.name, wrong.join("; ")));
        }
    }
    inspector.close().await;
    server.stop().await;
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

/// The valid body itself is accepted: the rows above fail for what they change, not by accident.
#[tokio::test]
async fn the_valid_body_of_the_table_copies() {
    let database = TestDatabase::sqlite();
    let server = TestServer::demo(&database).await;
    let response = send(&server.url, &post_json(valid_body().to_string())).await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(response.json()["services"].as_array().map(Vec::len), Some(1));
    server.stop().await;
}

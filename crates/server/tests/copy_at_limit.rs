//! Copies and fixtures at the documented size limit, and database errors that are not outages,
//! on both backends: a fixture holding an app of `MAX_COPY_COMPONENTS` components (a port and 9
//! variables each) loads, the whole app copies in one request, and a copy the database refuses is
//! answered 500 (not 503) without holding up the next copy into the same team. Text with the
//! characters each backend's row encoding quotes is written and copied as it was sent.

mod common;

use common::*;
use rainbond_client::types::{AppCopyCRes, ErrorBody};
use rainbond_server::copy::MAX_COPY_COMPONENTS;
use rainbond_server::fixture::{DEMO, Fixture};
use rainbond_server::store::Repository;
use serde_json::{Value, json};

/// The generated source app and the empty app it is copied into (both in the demo's shop team).
const LARGE_APP: i32 = 100;
const LARGE_TARGET: i32 = 101;
/// Variables of each generated component.
const VARIABLES: usize = 9;

/// The demo fixture plus an app of `MAX_COPY_COMPONENTS` components with one port and
/// [`VARIABLES`] variables each, and an empty target app.
fn fixture_at_the_limit() -> String {
    let mut fixture: Value = yaml_serde::from_str(DEMO).unwrap();
    fixture["name"] = json!("at-the-limit");
    let components: Vec<Value> = (0..MAX_COPY_COMPONENTS)
        .map(|index| {
            let envs: Vec<Value> = (0..VARIABLES)
                .map(|n| json!({"attr_name": format!("VAR_{n}"), "attr_value": format!("c{index}-value-{n}")}))
                .collect();
            json!({
                "service_id": format!("{:032x}", 0xa000_0000_u64 + index as u64),
                "service_cname": format!("c{index}"),
                "k8s_component_name": format!("c{index}"),
                "service_source": "docker_image",
                "ports": [{"container_port": 8080, "protocol": "http", "port_alias": format!("P{index}"),
                           "inner": true, "k8s_service_name": format!("c{index}-8080")}],
                "envs": envs,
            })
        })
        .collect();
    let apps = fixture["apps"].as_array_mut().unwrap();
    let app =
        |app_id: i32, name: &str| json!({"app_id": app_id, "app_name": name, "team": SHOP_TEAM, "region": "rainbond"});
    let mut large = app(LARGE_APP, "large");
    large["components"] = Value::Array(components);
    apps.push(large);
    apps.push(app(LARGE_TARGET, "large-copy"));
    serde_json::to_string(&fixture).unwrap()
}

/// A server on `database` loaded with [`fixture_at_the_limit`].
async fn server_at_the_limit(database: &TestDatabase) -> TestServer {
    let server = TestServer::on(database).await;
    let text = fixture_at_the_limit();
    let data = Fixture::parse(&text).unwrap().to_dataset(&text).unwrap();
    assert!(server.store.load_dataset(&data, true).await.expect("a fixture at the limit loads"));
    server
}

async fn copy_app(server: &TestServer, app_id: i32, target_app: i32) -> Result<AppCopyCRes, (u16, ErrorBody)> {
    let result = server
        .client(ADMIN)
        .copy_app()
        .team_id(SHOP_TEAM)
        .region_name("rainbond")
        .app_id(app_id.to_string())
        .body(copy_body(SHOP_TEAM, "rainbond", target_app, &[]))
        .send()
        .await;
    copy_outcome(result)
}

/// Rows of `table` that belong to components of `app_id`.
async fn rows_of_app(db: &Inspector, table: &str, app_id: i32) -> i64 {
    let sql = format!(
        "SELECT count(*) FROM {table} WHERE service_id IN (SELECT service_id FROM tenant_services WHERE app_id = $1)"
    );
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(app_id).fetch_one(&db.0).await.unwrap();
    n
}

async fn a_fixture_and_a_copy_at_the_documented_limit_are_written_in_full(database: TestDatabase) {
    let server = server_at_the_limit(&database).await;
    let db = server.inspect().await;
    assert_eq!(db.app_components(LARGE_APP).await.len(), MAX_COPY_COMPONENTS);
    assert_eq!(rows_of_app(&db, "service_envs", LARGE_APP).await, (MAX_COPY_COMPONENTS * VARIABLES) as i64);

    let copies = copy_app(&server, LARGE_APP, LARGE_TARGET).await.expect("a copy at the limit is made").services;
    assert_eq!(copies.len(), MAX_COPY_COMPONENTS);
    assert_eq!(db.app_components(LARGE_TARGET).await.len(), MAX_COPY_COMPONENTS);
    assert_eq!(rows_of_app(&db, "service_ports", LARGE_TARGET).await, MAX_COPY_COMPONENTS as i64);
    assert_eq!(rows_of_app(&db, "service_envs", LARGE_TARGET).await, (MAX_COPY_COMPONENTS * VARIABLES) as i64);
    // Each copy keeps its own variables, in order.
    let first = copies.iter().find(|c| c.service_cname.as_deref() == Some("c0-copy")).unwrap();
    let values: Vec<String> = db.envs(&first.service_id).await.into_iter().map(|(_, value)| value).collect();
    assert_eq!(values, (0..VARIABLES).map(|n| format!("c0-value-{n}")).collect::<Vec<_>>());

    // Again into the same app: every name the first copy took is found taken (however the lookup
    // is split), and the second copy draws others.
    let again = copy_app(&server, LARGE_APP, LARGE_TARGET).await.expect("a second copy at the limit is made").services;
    assert_eq!(again.len(), MAX_COPY_COMPONENTS);
    let names: std::collections::HashSet<String> =
        db.app_components(LARGE_TARGET).await.into_iter().map(|(_, name)| name).collect();
    assert_eq!(names.len(), 2 * MAX_COPY_COMPONENTS, "component names are unique in the app");
    db.close().await;
    server.stop().await;
}

/// Makes the database refuse every variable of the generated app's copies (not an outage: the
/// statement is refused, the database is fine). Returns the statement that lifts the refusal.
async fn refuse_copied_variables(db: &Inspector, backend: Backend) -> &'static str {
    let (create, lift): (&[&str], &str) = match backend {
        Backend::Sqlite => (
            &["CREATE TRIGGER refuse_variables BEFORE INSERT ON service_envs \
               WHEN NEW.attr_value LIKE 'c%-value-%' BEGIN SELECT RAISE(ABORT, 'refused'); END"],
            "DROP TRIGGER refuse_variables",
        ),
        Backend::Postgres => (
            &[
                "CREATE FUNCTION refuse_variables() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.attr_value LIKE 'c%-value-%' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_variables BEFORE INSERT ON service_envs \
                 FOR EACH ROW EXECUTE FUNCTION refuse_variables()",
            ],
            "DROP TRIGGER refuse_variables ON service_envs",
        ),
    };
    for statement in create {
        sqlx::query(*statement).execute(&db.0).await.unwrap();
    }
    lift
}

async fn a_refused_copy_is_no_outage_and_does_not_hold_up_its_team(database: TestDatabase) {
    let server = server_at_the_limit(&database).await;
    let db = server.inspect().await;
    let lift = refuse_copied_variables(&db, database.backend).await;
    let before = db.counts().await;

    let (status, body) = copy_app(&server, LARGE_APP, LARGE_TARGET).await.expect_err("the database refuses the copy");
    assert_eq!(
        (status, body.code),
        (500, rainbond_server::error::code::SERVER_ERROR.code),
        "a refused statement is not an outage: {}",
        body.msg
    );
    assert_eq!(db.counts().await, before, "nothing was written");

    // At once, another copy into the same team goes through.
    let shop = copy_app(&server, 1, 2).await.expect("the next copy into the team is made");
    assert_eq!(shop.services.len(), 3);

    sqlx::query(lift).execute(&db.0).await.unwrap();
    assert_eq!(copy_app(&server, LARGE_APP, LARGE_TARGET).await.unwrap().services.len(), MAX_COPY_COMPONENTS);
    db.close().await;
    server.stop().await;
}

/// Texts with the characters that JSON and PostgreSQL's array and record text forms quote or
/// escape, and the values they are easily mistaken for (empty, NULL, hex).
const AWKWARD_TEXTS: [&str; 8] = [
    r#"say "hi", (a\b) {c}"#,
    "",
    "  spaces around  ",
    "NULL",
    r"\x41",
    "tab\there\nnew line",
    "'single' \"double\" \\ \\\\",
    "中文 ✓ \u{1F600}",
];
const AWKWARD_APP: i32 = 102;

/// `desc`, `cmd` and the variables' values of a component.
async fn stored_texts(db: &Inspector, service_id: &str) -> (Option<String>, Option<String>, Vec<String>) {
    let (desc, cmd): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT \"desc\", cmd FROM tenant_services WHERE service_id = $1")
            .bind(service_id)
            .fetch_one(&db.0)
            .await
            .unwrap();
    (desc, cmd, db.envs(service_id).await.into_iter().map(|(_, value)| value).collect())
}

async fn awkward_text_is_written_and_copied_as_sent(database: TestDatabase) {
    let mut fixture: Value = yaml_serde::from_str(DEMO).unwrap();
    fixture["name"] = json!("awkward-text");
    let envs: Vec<Value> = AWKWARD_TEXTS
        .iter()
        .enumerate()
        .map(|(n, text)| json!({"attr_name": format!("VAR_{n}"), "attr_value": text}))
        .collect();
    let source_id = format!("{:032x}", 0xb000_0000_u64);
    let component = json!({"service_id": source_id, "service_cname": "awkward", "k8s_component_name": "awkward",
        "service_source": "docker_image", "desc": AWKWARD_TEXTS[0], "cmd": AWKWARD_TEXTS[6], "envs": envs});
    fixture["apps"].as_array_mut().unwrap().push(json!({"app_id": AWKWARD_APP, "app_name": "awkward",
        "team": SHOP_TEAM, "region": "rainbond", "components": [component]}));
    let text = serde_json::to_string(&fixture).unwrap();
    let server = TestServer::on(&database).await;
    let data = Fixture::parse(&text).unwrap().to_dataset(&text).unwrap();
    assert!(server.store.load_dataset(&data, true).await.expect("the fixture loads"));
    let db = server.inspect().await;

    let sent = (
        Some(AWKWARD_TEXTS[0].to_owned()),
        Some(AWKWARD_TEXTS[6].to_owned()),
        AWKWARD_TEXTS.map(str::to_owned).to_vec(),
    );
    assert_eq!(stored_texts(&db, &source_id).await, sent, "the fixture's text");
    let copies = copy_app(&server, AWKWARD_APP, 2).await.expect("the copy is made").services;
    assert_eq!(stored_texts(&db, &copies[0].service_id).await, sent, "the copy's text");
    db.close().await;
    server.stop().await;
}

on_both_backends!(
    a_fixture_and_a_copy_at_the_documented_limit_are_written_in_full,
    a_refused_copy_is_no_outage_and_does_not_hold_up_its_team,
    awkward_text_is_written_and_copied_as_sent,
);

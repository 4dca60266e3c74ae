//! The copy semantics end to end: the generated client against the real server over HTTP, on a
//! real database loaded with the demo fixture; every test runs on SQLite and on PostgreSQL.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use rainbond_client::types::{AppCopyCRes, ErrorBody, ServiceBaseInfo};

/// `(team, region, app_id)` of the source app, as in the URL.
type Source<'a> = (&'a str, &'a str, &'a str);
/// `(target_team_name, target_region_name, target_app_id)`.
type Destination<'a> = (&'a str, &'a str, i32);

/// Copies `services` of app 1 (o19p6wen, rainbond) as `key` into the target; the body on success.
async fn copy(
    server: &TestServer,
    key: &str,
    target: (&str, &str, i32),
    services: &[&str],
) -> Result<AppCopyCRes, (u16, ErrorBody)> {
    copy_from(server, key, (SHOP_TEAM, "rainbond", "1"), target, services).await
}

async fn copy_from(
    server: &TestServer,
    key: &str,
    source: Source<'_>,
    target: Destination<'_>,
    services: &[&str],
) -> Result<AppCopyCRes, (u16, ErrorBody)> {
    let result = server
        .client(key)
        .copy_app()
        .team_id(source.0)
        .region_name(source.1)
        .app_id(source.2)
        .body(copy_body(target.0, target.1, target.2, services))
        .send()
        .await;
    copy_outcome(result)
}

/// The listing of app 2 (o19p6wen, rainbond), where the tests copy to.
async fn list_staging(server: &TestServer) -> Vec<rainbond_client::types::AppCopyL> {
    let client = server.client(ADMIN);
    let request = client.list_copy_services().team_id(SHOP_TEAM).region_name("rainbond").app_id("2");
    request.send().await.unwrap().into_inner()
}

fn error_status(result: Result<AppCopyCRes, (u16, ErrorBody)>) -> (u16, ErrorBody) {
    result.expect_err("the copy must be refused")
}

fn by_cname(copies: &[ServiceBaseInfo]) -> HashMap<&str, &ServiceBaseInfo> {
    copies.iter().map(|c| (c.service_cname.as_deref().unwrap(), c)).collect()
}

async fn a_copy_gets_new_identities_and_keeps_everything_else(database: TestDatabase) {
    let server = TestServer::demo(&database).await;

    let copies = copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[]).await.unwrap().services;
    // An empty list copies every complete component, in the app's order.
    let names: Vec<_> = copies.iter().map(|c| c.service_cname.as_deref().unwrap()).collect();
    assert_eq!(names, ["web-copy", "api-copy", "db-copy"]);

    let mut ids = HashSet::new();
    for copy in &copies {
        assert_eq!(copy.service_id.len(), 32);
        assert!(copy.service_id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert!(![WEB, API, DB].contains(&copy.service_id.as_str()));
        assert!(ids.insert(copy.service_id.clone()));
        assert_eq!(copy.service_alias, format!("gr{}", &copy.service_id[26..]));
        assert_eq!(copy.tenant_id, SHOP_TEAM_ID);
        assert_eq!(copy.service_region, "rainbond");
        assert_eq!(copy.creater, Some(1), "the caller (admin) is the creator");
        assert_eq!(copy.create_status, Some("complete".to_owned()));
        assert_eq!(copy.status.as_deref(), Some(""));
    }
    let copies = by_cname(&copies);
    let web = copies["web-copy"];
    assert_eq!(web.k8s_component_name, "web", "the target app has no `web`: the name is kept");
    assert_eq!(web.extend_method.as_deref(), Some("stateless_multiple"));
    assert_eq!(copies["db-copy"].extend_method.as_deref(), Some("state_multiple"));
    // Every other column is kept.
    assert_eq!(web.desc.as_deref(), Some("Storefront"));
    assert_eq!(web.image, "runner:latest");
    assert_eq!(web.version, "3.11");
    assert_eq!(web.git_url.as_deref(), Some("https://git.example.com/shop/web.git"));
    assert_eq!(web.code_version.as_deref(), Some("main"));
    assert_eq!(web.min_memory, Some(256));
    assert_eq!(web.min_node, Some(2));
    assert_eq!(copies["api-copy"].image, "images.example.com/shop/api:2.4.1");

    // The listing of the target app shows the copies.
    let listed = list_staging(&server).await;
    let listed: HashSet<_> = listed.iter().map(|c| c.service_id.clone()).collect();
    assert_eq!(listed, ids);
    server.stop().await;
}

async fn names_that_clash_in_the_target_are_made_unique(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;

    // Into the same app: every component name is taken, so each gets its new alias appended.
    let copies = copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 1), &[WEB, DB]).await.unwrap().services;
    for copy in &copies {
        let source = if copy.service_cname.as_deref() == Some("web-copy") { "web" } else { "db" };
        assert_eq!(copy.k8s_component_name, format!("{source}-{}", copy.service_alias));
    }
    // Port service names are unique within the team: the copy's get a `-xxxx` suffix.
    let web_copy = &copies[0];
    let ports = db.ports(&web_copy.service_id).await;
    assert_eq!(ports.len(), 1);
    let (port, name) = &ports[0];
    assert_eq!(*port, 5000);
    assert!(name.starts_with("web-5000-") && name.len() == "web-5000-".len() + 4, "{name}");

    // Into another team, nothing clashes: port names are kept.
    let copies = copy(&server, ADMIN, (BLOG_TEAM, "rainbond", 4), &[DB]).await.unwrap().services;
    assert_eq!(db.ports(&copies[0].service_id).await, [(3306, "db-mysql".to_owned())]);
    db.close().await;
    server.stop().await;
}

async fn dependencies_follow_the_copy_rules(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;

    // Whole app, same team and region: dependencies point at the new components.
    let copies = copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[]).await.unwrap().services;
    let ids: HashMap<_, _> = copies.iter().map(|c| (c.k8s_component_name.as_str(), c.service_id.clone())).collect();
    assert_eq!(db.dependencies(&ids["web"]).await, [ids["api"].clone()]);
    assert_eq!(db.dependencies(&ids["api"]).await, [ids["db"].clone()]);
    assert!(db.dependencies(&ids["db"]).await.is_empty());

    // A subset in the same team and region: a dependency outside the copy stays on the original.
    let web = copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[WEB]).await.unwrap().services.remove(0);
    assert_eq!(db.dependencies(&web.service_id).await, [API]);

    // Into another region: only dependencies inside the copy survive.
    let copies = copy(&server, ADMIN, (SHOP_TEAM, "rainbond-east", 3), &[WEB, API]).await.unwrap().services;
    assert_eq!(db.dependencies(&copies[0].service_id).await, [copies[1].service_id.clone()]);
    assert!(db.dependencies(&copies[1].service_id).await.is_empty(), "api's dependency on db is dropped");

    // Into another team: the same.
    let web = copy(&server, ADMIN, (BLOG_TEAM, "rainbond", 4), &[WEB]).await.unwrap().services.remove(0);
    assert!(db.dependencies(&web.service_id).await.is_empty());
    db.close().await;
    server.stop().await;
}

async fn variables_follow_renamed_port_services(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;

    let copies = copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[]).await.unwrap().services;
    let ids: HashMap<_, _> = copies.iter().map(|c| (c.k8s_component_name.as_str(), c.service_id.clone())).collect();
    let db_port = db.ports(&ids["db"]).await.remove(0).1;
    let api_port = db.ports(&ids["api"]).await.remove(0).1;
    assert_ne!(db_port, "db-mysql", "same team: the port service name is taken and renamed");

    // A host variable naming the renamed service, and a DSN with it, are rewritten.
    assert_eq!(db.env(&ids["api"], "MYSQL_HOST").await, db_port);
    assert_eq!(db.env(&ids["api"], "DATABASE_URL").await, format!("mysql://shop:shop@{db_port}:3306/shop"));
    // The component's own port connection variable names its new service.
    assert_eq!(db.env(&ids["api"], "API_8080_HOST").await, api_port);
    assert_eq!(db.env(&ids["db"], "MYSQL_HOST").await, db_port);
    assert_eq!(db.env(&ids["db"], "MYSQL_PORT").await, "3306");
    assert_eq!(db.env(&ids["db"], "MYSQL_ROOT_PASSWORD").await, "shop-root");
    // URLs with a port: `://old:` is rewritten.
    assert_eq!(db.env(&ids["web"], "API_URL").await, format!("http://{api_port}:8080/v1"));
    // The originals are untouched.
    assert_eq!(db.env(API, "MYSQL_HOST").await, "db-mysql");

    // Into another team nothing is renamed, so nothing is rewritten.
    let api = copy(&server, ADMIN, (BLOG_TEAM, "rainbond", 4), &[API]).await.unwrap().services.remove(0);
    assert_eq!(db.env(&api.service_id, "DATABASE_URL").await, "mysql://shop:shop@db-mysql:3306/shop");
    db.close().await;
    server.stop().await;
}

async fn volumes_config_files_labels_and_credentials_are_copied_but_probes_are_not(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;

    let copies = copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[WEB, API, DB]).await.unwrap().services;
    let ids: Vec<&str> = copies.iter().map(|c| c.service_id.as_str()).collect();
    let (web, api, dbc) = (ids[0], ids[1], ids[2]);

    let volumes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT volume_name, volume_path, host_path FROM service_volumes WHERE service_id = $1 ORDER BY id",
    )
    .bind(dbc)
    .fetch_all(&db.0)
    .await
    .unwrap();
    assert_eq!(volumes.len(), 2);
    assert_eq!(volumes[0].0, "data");
    assert_eq!(volumes[0].2, format!("/grdata/tenant/{SHOP_TEAM_ID}/service/{dbc}/var/lib/mysql"));
    let (content, linked): (String, String) = sqlx::query_as(
        "SELECT f.file_content, v.volume_name FROM service_config_files f JOIN service_volumes v ON v.id = f.volume_id \
         WHERE f.service_id = $1",
    )
    .bind(dbc)
    .fetch_one(&db.0)
    .await
    .unwrap();
    assert_eq!(linked, "config", "the file is linked to the copy's own volume");
    assert!(content.contains("max_connections = 200"));

    let labels: Vec<(String, String)> =
        sqlx::query_as("SELECT label_name, label_value FROM service_labels WHERE service_id = $1")
            .bind(web)
            .fetch_all(&db.0)
            .await
            .unwrap();
    assert_eq!(labels, [("tier".to_owned(), "frontend".to_owned())]);
    let auth: (String, String) =
        sqlx::query_as("SELECT user_name, password FROM service_source_auth WHERE service_id = $1")
            .bind(api)
            .fetch_one(&db.0)
            .await
            .unwrap();
    assert_eq!(auth, ("deploy".to_owned(), "registry-secret".to_owned()));

    let probes: (i64,) = sqlx::query_as("SELECT count(*) FROM service_probes WHERE service_id = $1")
        .bind(web)
        .fetch_one(&db.0)
        .await
        .unwrap();
    assert_eq!(probes.0, 0, "probes are not copied");
    assert_eq!(db.count("service_probes").await, 1, "the original keeps its probe");
    db.close().await;
    server.stop().await;
}

async fn authentication_failures_are_401(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    for client in [server.anonymous(), server.client("rbd-unknown-key"), server.client(EXPIRED)] {
        let err = client
            .copy_app()
            .team_id(SHOP_TEAM)
            .region_name("rainbond")
            .app_id("1")
            .body(copy_body(SHOP_TEAM, "rainbond", 2, &[]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
        let rainbond_client::Error::ErrorResponse(body) = err else { panic!("a typed error body") };
        assert_eq!(body.into_inner().code, 401);
    }
    // `Bearer <key>` works as well as the bare key.
    assert!(copy(&server, "Bearer rbd-demo-admin", (SHOP_TEAM, "rainbond", 2), &[WEB]).await.is_ok());
    server.stop().await;
}

async fn source_checks_answer_403_404_and_409(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let target = (SHOP_TEAM, "rainbond", 2);
    let cases: &[(&str, Source, u16, i32)] = &[
        (ADMIN, ("no-such-team", "rainbond", "1"), 404, 404),
        (GUEST, (SHOP_TEAM, "rainbond", "1"), 403, 403),
        (ADMIN, (SHOP_TEAM, "no-such-region", "1"), 404, 3000),
        (ADMIN, (BLOG_TEAM, "rainbond-east", "4"), 409, 2001),
        (ADMIN, (SHOP_TEAM, "rainbond", "abc"), 404, 4000),
        (ADMIN, (SHOP_TEAM, "rainbond", "1-2"), 404, 4000),
        (ADMIN, (SHOP_TEAM, "rainbond", "999"), 404, 4000),
        (ADMIN, (SHOP_TEAM, "rainbond", "4"), 404, 4000),
        (ADMIN, (SHOP_TEAM, "rainbond", "3"), 404, 4000),
    ];
    for (key, source, status, code) in cases {
        let (got_status, body) = error_status(copy_from(&server, key, *source, target, &[]).await);
        assert_eq!((got_status, body.code), (*status, *code), "{key} copying from {source:?}: {body:?}");
    }
    // The team can be named by its tenant id too.
    assert!(copy_from(&server, ADMIN, (SHOP_TEAM_ID, "rainbond", "1"), target, &[WEB]).await.is_ok());
    server.stop().await;
}

async fn target_checks_answer_400_and_404(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let cases: &[(&str, Source, Destination, u16, &str)] = &[
        (ADMIN, (SHOP_TEAM, "rainbond", "1"), ("no-such-team", "rainbond", 2), 404, "target team"),
        (GUEST, (BLOG_TEAM, "rainbond", "4"), (SHOP_TEAM, "rainbond", 2), 404, "target team"),
        (ADMIN, (SHOP_TEAM, "rainbond", "1"), (BLOG_TEAM, "rainbond-east", 4), 404, "target team"),
        (ADMIN, (SHOP_TEAM, "rainbond", "1"), (SHOP_TEAM, "nowhere", 2), 404, "target team"),
        (ADMIN, (SHOP_TEAM, "rainbond", "1"), (SHOP_TEAM, "rainbond", 999), 404, "target app"),
        (ADMIN, (SHOP_TEAM, "rainbond", "1"), (SHOP_TEAM, "rainbond", 4), 400, "target team"),
        (ADMIN, (SHOP_TEAM, "rainbond", "1"), (SHOP_TEAM, "rainbond", 3), 400, "target region"),
    ];
    for (key, source, target, status, mentions) in cases {
        let (got, body) = error_status(copy_from(&server, key, *source, *target, &[]).await);
        assert_eq!(got, *status, "{target:?}: {body:?}");
        assert!(body.msg.contains(mentions), "{target:?}: {}", body.msg);
    }
    server.stop().await;
}

async fn requested_components_must_be_complete_components_of_the_source_app(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let target = (SHOP_TEAM, "rainbond", 2);
    // Unknown, of another app, still creating: 404 naming them all.
    let (status, body) = error_status(copy(&server, ADMIN, target, &[WEB, "f".repeat(32).as_str(), WORDPRESS]).await);
    assert_eq!(status, 404);
    assert!(
        body.msg.contains(&"f".repeat(32)) && body.msg.contains(WORDPRESS) && !body.msg.contains(WEB),
        "{}",
        body.msg
    );
    let legacy = (SHOP_TEAM, "rainbond", "5");
    let (status, body) = error_status(copy_from(&server, ADMIN, legacy, target, &[WORKER]).await);
    assert_eq!(status, 404);
    assert!(body.msg.contains(WORKER));
    // Built from an uploaded package: 400, whether named or implied by an empty list.
    for services in [&[UPLOADER][..], &[][..]] {
        let (status, body) = error_status(copy_from(&server, ADMIN, legacy, target, services).await);
        assert_eq!(status, 400);
        assert!(body.msg_show.contains("uploader"), "{}", body.msg_show);
    }
    // A repeated id is copied once, in the order requested.
    let copies = copy(&server, ADMIN, target, &[DB, WEB, DB]).await.unwrap().services;
    let names: Vec<_> = copies.iter().map(|c| c.k8s_component_name.as_str()).collect();
    assert_eq!(names, ["db", "web"]);
    server.stop().await;
}

async fn a_copy_that_fails_part_way_leaves_nothing_behind(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let db = server.inspect().await;
    // Make the database refuse the label of web's copy: every component row is already written
    // by then, so only a rollback can leave the target untouched.
    let (create, drop): (&[&str], &str) = match database.backend {
        Backend::Sqlite => (
            &["CREATE TRIGGER refuse_copied_label BEFORE INSERT ON service_labels \
               WHEN NEW.label_value = 'frontend' AND NEW.service_id != '0a1b2c3d4e5f40718293a4b5c6d7e8f1' \
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END"],
            "DROP TRIGGER refuse_copied_label",
        ),
        Backend::Postgres => (
            &[
                "CREATE FUNCTION refuse_copied_label() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.label_value = 'frontend' AND NEW.service_id <> '0a1b2c3d4e5f40718293a4b5c6d7e8f1' THEN \
                 RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_copied_label BEFORE INSERT ON service_labels \
                 FOR EACH ROW EXECUTE FUNCTION refuse_copied_label()",
            ],
            "DROP TRIGGER refuse_copied_label ON service_labels",
        ),
    };
    for statement in create {
        sqlx::query(*statement).execute(&db.0).await.unwrap();
    }
    let before = db.counts().await;

    let (status, body) = error_status(copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[]).await);
    assert_eq!(status, 500);
    assert!(!body.msg.contains("injected"), "internal causes are logged, not sent: {}", body.msg);
    assert!(db.app_components(2).await.is_empty(), "the target app is untouched");
    assert_eq!(db.counts().await, before, "no row of any table was left behind");

    // Without the failure the same copy goes through.
    sqlx::query(drop).execute(&db.0).await.unwrap();
    assert_eq!(copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[]).await.unwrap().services.len(), 3);
    db.close().await;
    server.stop().await;
}

async fn copies_survive_a_restart(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let copies = copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[]).await.unwrap().services;
    server.stop().await;

    let server = TestServer::on(&database).await;
    let listed = list_staging(&server).await;
    let mut listed: Vec<_> = listed.into_iter().map(|c| (c.service_id, c.service_alias, c.service_cname)).collect();
    let mut copied: Vec<_> =
        copies.into_iter().map(|c| (c.service_id, c.service_alias, c.service_cname.unwrap())).collect();
    listed.sort();
    copied.sort();
    assert_eq!(listed, copied);
    server.stop().await;
}

async fn sixteen_concurrent_copies_into_one_app_do_not_clash(database: TestDatabase) {
    let server = TestServer::demo(&database).await;
    let copies =
        futures::future::join_all((0..16).map(|_| copy(&server, ADMIN, (SHOP_TEAM, "rainbond", 2), &[]))).await;
    let copies: Vec<ServiceBaseInfo> =
        copies.into_iter().flat_map(|c| c.expect("every concurrent copy succeeds").services).collect();
    assert_eq!(copies.len(), 48);

    let db = server.inspect().await;
    let in_app = db.app_components(2).await;
    assert_eq!(in_app.len(), 48);
    let names: HashSet<_> = in_app.iter().map(|(_, name)| name.clone()).collect();
    assert_eq!(names.len(), 48, "component names are unique in the app");
    let aliases: HashSet<_> = copies.iter().map(|c| c.service_alias.clone()).collect();
    assert_eq!(aliases.len(), 48);
    let port_names: Vec<(String, String)> =
        sqlx::query_as("SELECT DISTINCT k8s_service_name, service_id FROM service_ports WHERE tenant_id = $1")
            .bind(SHOP_TEAM_ID)
            .fetch_all(&db.0)
            .await
            .unwrap();
    let mut owners: HashMap<String, HashSet<String>> = HashMap::new();
    for (name, owner) in port_names {
        owners.entry(name).or_default().insert(owner);
    }
    assert!(owners.values().all(|o| o.len() == 1), "no two components of the team share a port service name");
    db.close().await;
    server.stop().await;
}

on_both_backends!(
    a_copy_gets_new_identities_and_keeps_everything_else,
    names_that_clash_in_the_target_are_made_unique,
    dependencies_follow_the_copy_rules,
    variables_follow_renamed_port_services,
    volumes_config_files_labels_and_credentials_are_copied_but_probes_are_not,
    authentication_failures_are_401,
    source_checks_answer_403_404_and_409,
    target_checks_answer_400_and_404,
    requested_components_must_be_complete_components_of_the_source_app,
    a_copy_that_fails_part_way_leaves_nothing_behind,
    copies_survive_a_restart,
    sixteen_concurrent_copies_into_one_app_do_not_clash,
);

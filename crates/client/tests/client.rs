//! The generated client and the access-key constructors against a local HTTP server: the
//! requests match openapi.yaml, and the spec's examples decode into the generated types.

mod support;

use std::time::Duration;

use rainbond_client::types::{AppCopyC, AppCopyCRes, AppCopyL, AppCopyModify, ComponentBuildSource, ServiceBaseInfo};
use rainbond_client::{BuildError, Client, Error};
use serde_json::{Value, json};
use support::{Reply, TestServer, fill_path, operation, response_example, spec};

/// A key in the console's format (40 hex characters).
const KEY: &str = "4f2d9c1be07a35d86e1f0c2b9a7d4e3f5a6b8c0d";
const PATH_PARAMS: [(&str, &str); 3] = [("team_id", "o19p6wen"), ("region_name", "rainbond"), ("app_id", "1")];

fn copy_body() -> AppCopyC {
    AppCopyC {
        services: vec![
            AppCopyModify { service_id: "0c1f5b2a9e7d4c3b8a6f1e2d3c3a9c1d".into(), change: None },
            AppCopyModify { service_id: "7e5d3c1b9a8f4e2d6c0b1a2f3e4d5c6b".into(), change: None },
        ],
        target_team_name: "team2".into(),
        target_region_name: "region2".into(),
        target_app_id: 7,
    }
}

#[tokio::test]
async fn copy_app_sends_the_request_the_spec_describes() {
    let spec = spec();
    let (method, template, _) = operation(&spec, "copy_app");
    let example = response_example(&spec, &operation(&spec, "copy_app").2, "200");
    let server = TestServer::start(move |_| Reply::json(200, &example)).await;
    let client = Client::with_access_key(&server.url, KEY).unwrap();

    client
        .copy_app()
        .team_id("o19p6wen")
        .region_name("rainbond")
        .app_id("1")
        .body(copy_body())
        .send()
        .await
        .expect("copy_app succeeds");

    let request = server.only_request();
    assert_eq!(request.method, method);
    assert_eq!(request.uri.path(), fill_path(&template, &PATH_PARAMS));
    assert_eq!(request.uri.query(), None);
    assert_eq!(request.header("authorization"), Some(KEY), "the key goes verbatim in Authorization");
    assert_eq!(request.header("content-type"), Some("application/json"));
    // `change` is absent when not set: the console fills in its own default.
    assert_eq!(
        request.json(),
        json!({
            "services": [
                {"service_id": "0c1f5b2a9e7d4c3b8a6f1e2d3c3a9c1d"},
                {"service_id": "7e5d3c1b9a8f4e2d6c0b1a2f3e4d5c6b"}
            ],
            "target_team_name": "team2",
            "target_region_name": "region2",
            "target_app_id": 7
        })
    );
}

#[tokio::test]
async fn list_copy_services_sends_the_request_the_spec_describes() {
    let spec = spec();
    let (method, template, _) = operation(&spec, "list_copy_services");
    let server = TestServer::start(|_| Reply::json(200, &json!([]))).await;
    // A `Bearer ` prefix is part of the key as far as the client is concerned.
    let key = format!("Bearer {KEY}");
    let client = Client::with_access_key(&server.url, &key).unwrap();

    let listed = client.list_copy_services().team_id("o19p6wen").region_name("rainbond").app_id("1").send().await;

    assert_eq!(listed.expect("list_copy_services succeeds").into_inner(), Vec::<AppCopyL>::new());
    let request = server.only_request();
    assert_eq!(request.method, method);
    assert_eq!(request.uri.path(), fill_path(&template, &PATH_PARAMS));
    assert_eq!(request.header("authorization"), Some(key.as_str()));
    assert!(request.body.is_empty(), "a GET sends no body");
}

#[tokio::test]
async fn client_new_sends_no_authorization_header() {
    let server = TestServer::start(|_| Reply::json(200, &json!([]))).await;

    Client::new(&server.url).list_copy_services().team_id("t").region_name("r").app_id("1").send().await.unwrap();

    assert_eq!(server.only_request().header("authorization"), None);
}

#[tokio::test]
async fn copy_app_decodes_the_spec_200_example() {
    let spec = spec();
    let example = response_example(&spec, &operation(&spec, "copy_app").2, "200");
    let served = example.clone();
    let server = TestServer::start(move |_| Reply::json(200, &served)).await;

    let response =
        Client::new(&server.url).copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send().await;

    let response = response.expect("the example decodes");
    assert_eq!(response.status(), 200);
    let decoded: AppCopyCRes = response.into_inner();
    let s = || "string".to_owned();
    let expected = ServiceBaseInfo {
        status: Some(String::new()),
        access_infos: vec![s()],
        service_id: s(),
        tenant_id: s(),
        service_key: s(),
        service_alias: s(),
        service_cname: Some(s()),
        service_region: s(),
        desc: Some(s()),
        category: s(),
        version: s(),
        update_version: Some(3),
        image: s(),
        cmd: Some(s()),
        min_node: Some(3),
        min_cpu: Some(3),
        container_gpu: Some(3),
        min_memory: Some(3),
        extend_method: Some(s()),
        code_from: Some(s()),
        git_url: Some(s()),
        git_project_id: Some(3),
        code_version: Some(s()),
        service_type: Some(s()),
        creater: Some(3),
        language: Some(s()),
        total_memory: Some(3),
        is_service: Some(true),
        service_origin: Some(s()),
        tenant_service_group_id: Some(3),
        open_webhooks: Some(true),
        service_source: Some(s()),
        create_status: Some(s()),
        check_uuid: Some(s()),
        check_event_id: Some(s()),
        docker_cmd: Some(s()),
        server_type: Some(s()),
        is_upgrate: Some(true),
        build_upgrade: Some(true),
        oauth_service_id: Some(3),
        k8s_component_name: s(),
    };
    assert_eq!(decoded, AppCopyCRes { services: vec![expected] });
    // No key of the example is dropped on the way (it would be if the type lacked the field).
    assert_eq!(serde_json::to_value(&decoded).unwrap(), example);
}

#[tokio::test]
async fn list_copy_services_decodes_the_spec_example_and_nulls() {
    let spec = spec();
    let example = spec["components"]["schemas"]["AppCopyL"]["example"].clone();
    assert!(example.is_object(), "AppCopyL has an example");
    // A component the copy rejects, with every nullable field null.
    let mut rejected = example.clone();
    for key in ["deploy_version", "create_status", "version", "service_type", "app_name"] {
        rejected[key] = Value::Null;
    }
    for key in ["version", "language", "code_from", "image", "docker_cmd"] {
        rejected["build_source"][key] = Value::Null;
    }
    rejected["build_source"]["service_source"] = json!("package_build");
    rejected["copyable"] = json!(false);
    rejected["not_copyable_reason"] = json!("the component was built from an uploaded package");
    let served = json!([example, rejected]);
    let server = TestServer::start(move |_| Reply::json(200, &served)).await;

    let listed = Client::new(&server.url).list_copy_services().team_id("t").region_name("r").app_id("1").send().await;

    let listed = listed.expect("the listing decodes").into_inner();
    let some = |s: &str| Some(s.to_owned());
    let from_example = AppCopyL {
        build_source: ComponentBuildSource {
            service_source: "docker_image".into(),
            version: some("8.0"),
            language: None,
            code_from: some("image_manual"),
            image: some("mysql:8.0"),
            docker_cmd: None,
            code_version: None,
            git_url: None,
            full_name: None,
            oauth_service_id: None,
            rain_app_name: None,
        },
        update_time: "2026-11-20 09:30:00".into(),
        deploy_version: some("20261120093000"),
        create_status: some("complete"),
        service_alias: "gr3a9c1d".into(),
        service_cname: "db".into(),
        version: some("8.0"),
        service_type: some("application"),
        service_id: "0c1f5b2a9e7d4c3b8a6f1e2d3c3a9c1d".into(),
        app_name: some("shop"),
        min_memory: "512".into(),
        copyable: true,
        not_copyable_reason: None,
    };
    let with_nulls = AppCopyL {
        build_source: ComponentBuildSource {
            service_source: "package_build".into(),
            version: None,
            code_from: None,
            image: None,
            ..from_example.build_source.clone()
        },
        deploy_version: None,
        create_status: None,
        version: None,
        service_type: None,
        app_name: None,
        copyable: false,
        not_copyable_reason: some("the component was built from an uploaded package"),
        ..from_example.clone()
    };
    assert_eq!(listed, vec![from_example, with_nulls]);
}

#[tokio::test]
async fn every_documented_error_status_decodes_into_error_body() {
    let spec = spec();
    for operation_id in ["copy_app", "list_copy_services"] {
        let (_, _, op) = operation(&spec, operation_id);
        let statuses: Vec<String> =
            op["responses"].as_object().unwrap().keys().filter(|s| *s != "200").cloned().collect();
        assert!(statuses.iter().any(|s| s == "404"), "{operation_id} documents its errors");
        for status in statuses {
            let example = response_example(&spec, &op, &status);
            let served = example.clone();
            let code: u16 = status.parse().unwrap();
            let server = TestServer::start(move |_| Reply::json(code, &served)).await;
            let client = Client::new(&server.url);

            let error = if operation_id == "copy_app" {
                client.copy_app().team_id("t").region_name("r").app_id("1").body(copy_body()).send().await.unwrap_err()
            } else {
                client.list_copy_services().team_id("t").region_name("r").app_id("1").send().await.unwrap_err()
            };

            let Error::ErrorResponse(response) = error else {
                panic!("{operation_id} {status}: expected Error::ErrorResponse, got {error:?}");
            };
            assert_eq!(response.status(), code, "{operation_id} {status}");
            let body = response.into_inner();
            assert_eq!(i64::from(body.code), example["code"].as_i64().unwrap(), "{operation_id} {status}");
            assert_eq!(body.msg, example["msg"].as_str().unwrap(), "{operation_id} {status}");
            assert_eq!(body.msg_show, example["msg_show"].as_str().unwrap(), "{operation_id} {status}");
        }
    }
}

#[tokio::test]
async fn an_undocumented_status_is_an_unexpected_response() {
    // The console answers 412 when the region lacks resources; the spec does not list it.
    let body = json!({"code": 10406, "msg": "resource not enough", "msg_show": "资源不足"});
    let served = body.clone();
    let server = TestServer::start(move |_| Reply::json(412, &served)).await;

    let error = Client::new(&server.url)
        .copy_app()
        .team_id("t")
        .region_name("r")
        .app_id("1")
        .body(copy_body())
        .send()
        .await
        .unwrap_err();

    let Error::UnexpectedResponse(response) = error else {
        panic!("expected Error::UnexpectedResponse, got {error:?}");
    };
    assert_eq!(response.status(), 412);
    let text = response.text().await.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), body, "the raw body is still readable");
}

#[tokio::test]
async fn a_trailing_slash_on_the_base_url_does_not_double_the_slash() {
    let server = TestServer::start(|_| Reply::json(200, &json!([]))).await;

    for base in [format!("{}/", server.url), format!("{}/prefix/", server.url)] {
        let client = Client::with_access_key(&base, KEY).unwrap();
        client.list_copy_services().team_id("t").region_name("r").app_id("1").send().await.unwrap();
    }

    let paths: Vec<String> = server.requests().iter().map(|r| r.uri.path().to_owned()).collect();
    assert_eq!(
        paths,
        ["/openapi/v1/teams/t/regions/r/apps/1/copy", "/prefix/openapi/v1/teams/t/regions/r/apps/1/copy"]
    );
}

#[tokio::test]
async fn a_caller_supplied_reqwest_builder_keeps_its_settings() {
    let server = TestServer::start(|request| {
        let reply = Reply::json(200, &json!([]));
        if request.uri.path().contains("/apps/slow/") { reply.after(Duration::from_secs(10)) } else { reply }
    })
    .await;
    let mut headers = rainbond_client::reqwest::header::HeaderMap::new();
    headers.insert("authorization", "replaced-by-the-key".parse().unwrap());
    headers.insert("x-request-source", "tests".parse().unwrap());
    let http = rainbond_client::reqwest::ClientBuilder::new()
        .user_agent("copy-tests/1")
        .default_headers(headers)
        .timeout(Duration::from_millis(300));
    let client = Client::builder(&server.url).access_key(KEY).http_client(http).build().unwrap();

    client.list_copy_services().team_id("t").region_name("r").app_id("1").send().await.unwrap();
    let slow = client.list_copy_services().team_id("t").region_name("r").app_id("slow").send().await;

    let request = &server.requests()[0];
    assert_eq!(request.header("user-agent"), Some("copy-tests/1"));
    assert_eq!(request.header("x-request-source"), Some("tests"));
    assert_eq!(request.header("authorization"), Some(KEY), "the access key wins over the builder's header");
    match slow {
        Err(Error::CommunicationError(e)) => assert!(e.is_timeout(), "expected a timeout, got {e:?}"),
        other => panic!("expected the builder's 300 ms timeout to fire, got {other:?}"),
    }
}

#[test]
fn the_access_key_stays_out_of_debug_output_and_errors() {
    let client = Client::with_access_key("http://127.0.0.1:1", KEY).unwrap();
    assert!(!format!("{client:?}").contains(KEY), "{client:?}");
    let builder = Client::builder("http://127.0.0.1:1").access_key(KEY);
    assert!(!format!("{builder:?}").contains(KEY), "{builder:?}");

    let bad = format!("{KEY}\n");
    let message = Client::with_access_key("http://127.0.0.1:1", &bad).unwrap_err().to_string();
    assert!(!message.contains(KEY), "{message}");
}

#[test]
fn keys_that_cannot_be_sent_verbatim_are_rejected() {
    let cases = [
        ("", "invalid access key: it is empty"),
        (" abc", "invalid access key: it starts or ends with whitespace, which HTTP does not transmit"),
        ("abc\t", "invalid access key: it starts or ends with whitespace, which HTTP does not transmit"),
        ("ab\ncd", "invalid access key: it contains a control character at byte 2"),
        ("ab\u{7f}", "invalid access key: it contains a control character at byte 2"),
        ("abcé", "invalid access key: it contains a non-ASCII character at byte 3"),
    ];
    for (key, message) in cases {
        let error = Client::with_access_key("http://127.0.0.1:1", key).unwrap_err();
        assert!(matches!(error, BuildError::InvalidAccessKey { .. }), "{key:?}: {error:?}");
        assert_eq!(error.to_string(), message, "{key:?}");
    }
}

#[test]
fn base_urls_that_cannot_take_a_path_are_rejected() {
    let cases = [
        ("127.0.0.1:8080", "invalid base URL `127.0.0.1:8080`: relative URL without a base"),
        ("ftp://127.0.0.1", "invalid base URL `ftp://127.0.0.1`: the scheme must be http or https, not `ftp`"),
        ("http://h/?a=1", "invalid base URL `http://h/?a=1`: it must not have a query or a fragment"),
    ];
    for (url, message) in cases {
        let error = Client::with_access_key(url, KEY).unwrap_err();
        assert!(matches!(error, BuildError::InvalidBaseUrl { .. }), "{url}: {error:?}");
        assert_eq!(error.to_string(), message, "{url}");
    }
}

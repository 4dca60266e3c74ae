//! A mutation of the code side: a test build of `ServiceBaseInfo` with one field changed,
//! substituted into the [`CodeView`], is caught by `check` with the right kind, pointer, line
//! and sources; the same build without the change is clean, so the fixture encodes the spec
//! faithfully and only the changed field can be the finding.

use rainbond_check::{CheckOptions, CodeView, FindingKind, Source, Spec};

/// `ServiceBaseInfo` as the server models encode it (see crates/api/src/generated/models.rs),
/// with the type of `image` given by the caller.
macro_rules! service_base_info {
    ($name:ident, $image:ty) => {
        #[allow(dead_code)]
        #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, utoipa::ToSchema)]
        struct $name {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "String")]
            status: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "Vec<String>")]
            access_infos: Option<Vec<String>>,
            service_id: String,
            tenant_id: String,
            service_key: String,
            service_alias: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "String")]
            service_cname: Option<String>,
            service_region: String,
            #[serde(default)]
            desc: Option<String>,
            category: String,
            version: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            update_version: Option<i32>,
            image: $image,
            #[serde(default)]
            cmd: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            min_node: Option<i32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            min_cpu: Option<i32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            container_gpu: Option<i32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            min_memory: Option<i32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "String")]
            extend_method: Option<String>,
            #[serde(default)]
            code_from: Option<String>,
            #[serde(default)]
            git_url: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            git_project_id: Option<i32>,
            #[serde(default)]
            code_version: Option<String>,
            #[serde(default)]
            service_type: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            creater: Option<i32>,
            #[serde(default)]
            language: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            total_memory: Option<i32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "bool")]
            is_service: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "String")]
            service_origin: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "i32")]
            tenant_service_group_id: Option<i32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "bool")]
            open_webhooks: Option<bool>,
            #[serde(default)]
            service_source: Option<String>,
            #[serde(default)]
            create_status: Option<String>,
            #[serde(default)]
            check_uuid: Option<String>,
            #[serde(default)]
            check_event_id: Option<String>,
            #[serde(default)]
            docker_cmd: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "String")]
            server_type: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "bool")]
            is_upgrate: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(nullable = false)]
            #[schemars(with = "bool")]
            build_upgrade: Option<bool>,
            #[serde(default)]
            oauth_service_id: Option<i32>,
            k8s_component_name: String,
        }
    };
}

service_base_info!(ServiceBaseInfoAsSpecified, String);
service_base_info!(ServiceBaseInfoWithIntegerImage, i32);

/// The code view of this workspace with `T` in place of `ServiceBaseInfo` in every source.
fn view_with<T: schemars::JsonSchema + utoipa::PartialSchema>() -> CodeView {
    let mut code = CodeView::current().unwrap();
    code.set_openapi_schema("ServiceBaseInfo", serde_json::to_value(T::schema()).unwrap());
    for source in [Source::ServerSchemars, Source::ClientSchemars] {
        code.set_schemars(source, "ServiceBaseInfo", schemars::schema_for!(T)).unwrap();
    }
    code
}

fn spec() -> Spec {
    Spec::load(rainbond_codegen::workspace_root().expect("run by cargo in the workspace").join("openapi.yaml")).unwrap()
}

#[test]
fn the_fixture_as_specified_is_clean() {
    let report = rainbond_check::check(&spec(), &view_with::<ServiceBaseInfoAsSpecified>(), &CheckOptions::default());
    assert!(report.is_clean(), "{:#?}", report.findings);
}

#[test]
fn a_changed_field_type_is_caught_at_the_property() {
    let spec = spec();
    let report =
        rainbond_check::check(&spec, &view_with::<ServiceBaseInfoWithIntegerImage>(), &CheckOptions::default());
    // The line of `image:` in ServiceBaseInfo, found in the text itself.
    let text = std::fs::read_to_string(&spec.path).unwrap();
    let offset =
        text.find("        image:\n          type: string\n          title: Image\n").expect("ServiceBaseInfo.image");
    let line = text[..offset].lines().count() + 1;

    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let finding = &report.findings[0];
    assert_eq!(finding.kind, FindingKind::TypeMismatch);
    assert_eq!(finding.pointer, "/components/schemas/ServiceBaseInfo/properties/image");
    assert_eq!(finding.line, Some(line));
    assert_eq!((finding.spec.as_str(), finding.code.as_str()), ("string", "integer"));
    assert_eq!(finding.sources, [Source::ServerOpenapi, Source::ServerSchemars, Source::ClientSchemars]);
}

//! The stored data: one struct per table, shared by every storage backend.

use serde::{Deserialize, Serialize};

/// A console user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct User {
    /// `users.user_id`.
    pub user_id: i32,
    /// The login name.
    pub nick_name: String,
    /// The enterprise the user belongs to; teams and regions are looked up within it.
    pub enterprise_id: String,
}

/// A team (tenant).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct Team {
    /// 32-hex-char id.
    pub tenant_id: String,
    /// The unique name, e.g. `o19p6wen`.
    pub tenant_name: String,
    /// The display name.
    pub tenant_alias: String,
    /// Owning enterprise.
    pub enterprise_id: String,
}

/// A region (cluster).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct Region {
    /// The unique name, e.g. `rainbond`.
    pub region_name: String,
    /// The display name.
    pub region_alias: String,
    /// Owning enterprise.
    pub enterprise_id: String,
    /// `"1"` when usable.
    pub status: String,
}

impl Region {
    /// Whether the region accepts work (`status == "1"`, as in the console).
    pub fn is_usable(&self) -> bool {
        self.status == "1"
    }
}

/// An application: a group of components of one team in one region.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct App {
    /// `apps.app_id`.
    pub app_id: i32,
    /// Owning team.
    pub tenant_id: String,
    /// The region the app lives in.
    pub region_name: String,
    /// The display name.
    pub app_name: String,
    /// `KUBERNETES_NATIVE_SERVICE` or `BUILD_IN_SERVICE_MESH`.
    pub governance_mode: String,
}

/// The governance mode whose components reach each other through a local proxy.
pub const SERVICE_MESH_GOVERNANCE: &str = "BUILD_IN_SERVICE_MESH";

/// A component (`tenant_services` row). Field names are the console's.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Component {
    pub service_id: String,
    pub service_alias: String,
    pub tenant_id: String,
    pub service_region: String,
    pub app_id: i32,
    pub service_key: String,
    pub service_cname: String,
    pub desc: Option<String>,
    pub category: String,
    pub version: String,
    pub update_version: i32,
    pub image: String,
    pub cmd: Option<String>,
    pub min_node: i32,
    pub min_cpu: i32,
    pub container_gpu: i32,
    pub min_memory: i32,
    pub extend_method: String,
    pub code_from: Option<String>,
    pub git_url: Option<String>,
    pub git_project_id: i32,
    pub git_full_name: Option<String>,
    pub code_version: Option<String>,
    pub service_type: Option<String>,
    pub creater: i32,
    pub language: Option<String>,
    pub total_memory: i32,
    #[serde(deserialize_with = "bool_or_integer")]
    pub is_service: bool,
    pub service_origin: String,
    pub tenant_service_group_id: i32,
    #[serde(deserialize_with = "bool_or_integer")]
    pub open_webhooks: bool,
    pub service_source: Option<String>,
    pub create_status: Option<String>,
    pub check_uuid: Option<String>,
    pub check_event_id: Option<String>,
    pub docker_cmd: Option<String>,
    pub server_type: String,
    #[serde(deserialize_with = "bool_or_integer")]
    pub is_upgrate: bool,
    #[serde(deserialize_with = "bool_or_integer")]
    pub build_upgrade: bool,
    pub oauth_service_id: Option<i32>,
    pub k8s_component_name: String,
    pub deploy_version: Option<String>,
    pub create_time: String,
    pub update_time: String,
}

/// A boolean column as SQLite gives it (an integer, 0 or not) or as JSON does.
pub(crate) fn bool_or_integer<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Integer(i64),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(flag) => flag,
        Flag::Integer(n) => n != 0,
    })
}

/// The build source that cannot be copied (`service_source`).
pub const PACKAGE_BUILD_SOURCE: &str = "package_build";
/// `create_status` of a component that is ready.
pub const COMPLETE: &str = "complete";

impl Component {
    /// Whether the component finished being created.
    pub fn is_complete(&self) -> bool {
        self.create_status.as_deref() == Some(COMPLETE)
    }

    /// Whether it was built from an uploaded package.
    pub fn is_package_build(&self) -> bool {
        self.service_source.as_deref() == Some(PACKAGE_BUILD_SOURCE)
    }

    /// The name used in messages: the display name, else the component name, else the id.
    pub fn display_name(&self) -> &str {
        [&self.service_cname, &self.k8s_component_name, &self.service_id]
            .into_iter()
            .find(|name| !name.is_empty())
            .map_or("", String::as_str)
    }
}

/// A port of a component.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Port {
    pub service_id: String,
    pub tenant_id: String,
    pub container_port: i64,
    pub protocol: String,
    pub port_alias: String,
    pub is_inner_service: bool,
    pub is_outer_service: bool,
    /// The Kubernetes service name; unique within a team across components.
    pub k8s_service_name: String,
}

/// An environment variable of a component.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct EnvVar {
    pub service_id: String,
    pub tenant_id: String,
    /// The port it describes, or 0.
    pub container_port: i64,
    pub name: String,
    pub attr_name: String,
    pub attr_value: String,
    pub is_change: bool,
    /// `inner`, `outer` or `build`.
    pub scope: String,
}

/// The alias Rainbond derives from a component id: `gr` + the id's last 6 characters.
pub fn service_alias(service_id: &str) -> String {
    let start = service_id.char_indices().rev().nth(5).map_or(0, |(index, _)| index);
    format!("gr{}", &service_id[start..])
}

/// Where a component's volume lives on the node: `/grdata/tenant/{tenant}/service/{id}{path}`.
pub fn volume_host_path(tenant_id: &str, service_id: &str, volume_path: &str) -> String {
    format!("/grdata/tenant/{tenant_id}/service/{service_id}{volume_path}")
}

/// A volume definition (data is never copied).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Volume {
    pub service_id: String,
    pub volume_name: String,
    pub volume_path: String,
    pub volume_type: String,
    pub volume_capacity: i64,
    pub access_mode: String,
    pub host_path: String,
}

/// The content of a configuration-file volume, linked by volume name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ConfigFile {
    pub service_id: String,
    pub volume_name: String,
    pub file_content: String,
}

/// A scheduling label of a component.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Label {
    pub service_id: String,
    pub tenant_id: String,
    pub region: String,
    pub label_name: String,
    pub label_value: String,
}

/// "`service_id` depends on `dep_service_id`".
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Dependency {
    pub service_id: String,
    pub dep_service_id: String,
    pub tenant_id: String,
    pub dep_order: i64,
}

/// Credentials of a component's build source (never returned by the API).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SourceAuth {
    pub service_id: String,
    pub user_name: String,
    pub password: String,
}

/// A health probe (never copied).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
#[allow(missing_docs)]
pub struct Probe {
    pub service_id: String,
    pub mode: String,
    pub scheme: String,
    pub port: i64,
    pub path: String,
}

/// A component with everything that is copied along with it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ComponentGraph {
    pub component: Component,
    pub ports: Vec<Port>,
    pub envs: Vec<EnvVar>,
    pub volumes: Vec<Volume>,
    pub config_files: Vec<ConfigFile>,
    pub labels: Vec<Label>,
    /// Outgoing dependencies only.
    pub dependencies: Vec<Dependency>,
    pub source_auth: Option<SourceAuth>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alias_is_gr_and_the_ids_last_six_characters() {
        assert_eq!(service_alias("0a1b2c3d4e5f40718293a4b5c6d7e8f1"), "grd7e8f1");
        assert_eq!(service_alias("abc"), "grabc");
    }

    #[test]
    fn volume_host_paths_are_under_the_tenant_and_the_component() {
        assert_eq!(volume_host_path("t1", "c1", "/data"), "/grdata/tenant/t1/service/c1/data");
    }
}

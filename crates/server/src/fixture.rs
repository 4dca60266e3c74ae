//! Fixture files: users, keys, regions, teams, apps and their components, in YAML.
//!
//! `rainbond-server seed FILE` loads one; `serve --demo` loads `fixtures/demo.yaml`. A fixture is
//! checked as a whole (unknown fields, dangling references, duplicate names) before anything is
//! written, and then written in one transaction.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::access_key;
use crate::model::{
    self, App, Component, ComponentGraph, ConfigFile, Dependency, EnvVar, Label, Port, Probe, Region, SourceAuth, Team,
    User, Volume,
};

/// The demo fixture, compiled in.
pub const DEMO: &str = include_str!("../../../fixtures/demo.yaml");

/// Why a fixture cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// Not valid YAML for the fixture format.
    #[error("invalid fixture: {0}")]
    Syntax(#[from] yaml_serde::Error),
    /// Valid YAML, but inconsistent.
    #[error("invalid fixture: {0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> FixtureError {
    FixtureError::Invalid(message.into())
}

/// A fixture file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// Recorded in the database so the same fixture is not loaded twice.
    pub name: String,
    /// The enterprise of every user, team and region.
    pub enterprise_id: String,
    /// Users and their access keys.
    #[serde(default)]
    pub users: Vec<UserFixture>,
    /// Regions.
    #[serde(default)]
    pub regions: Vec<RegionFixture>,
    /// Teams, their members and regions.
    #[serde(default)]
    pub teams: Vec<TeamFixture>,
    /// Apps and their components.
    #[serde(default)]
    pub apps: Vec<AppFixture>,
}

/// A user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct UserFixture {
    pub user_id: i32,
    pub nick_name: String,
    #[serde(default)]
    pub access_keys: Vec<AccessKeyFixture>,
}

/// An access key, given in clear; only its SHA-256 digest is stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct AccessKeyFixture {
    pub key: String,
    /// Unix seconds after which the key is refused.
    #[serde(default)]
    pub expire_time: Option<i64>,
}

/// A region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RegionFixture {
    pub region_name: String,
    #[serde(default)]
    pub region_alias: Option<String>,
    /// `"1"` (usable, the default) or anything else.
    #[serde(default)]
    pub status: Option<String>,
}

/// A team.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct TeamFixture {
    pub tenant_id: String,
    pub tenant_name: String,
    #[serde(default)]
    pub tenant_alias: Option<String>,
    /// Member nick names.
    #[serde(default)]
    pub members: Vec<String>,
    /// Regions the team is initialised in.
    #[serde(default)]
    pub regions: Vec<String>,
}

/// An app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct AppFixture {
    pub app_id: i32,
    pub app_name: String,
    /// Tenant name of the owning team.
    pub team: String,
    pub region: String,
    #[serde(default)]
    pub governance_mode: Option<String>,
    #[serde(default)]
    pub components: Vec<ComponentFixture>,
}

/// A component; unset columns take the console's defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ComponentFixture {
    pub service_id: String,
    pub service_cname: String,
    pub k8s_component_name: String,
    pub service_source: String,
    #[serde(default)]
    pub service_alias: Option<String>,
    #[serde(default)]
    pub service_key: Option<String>,
    #[serde(default)]
    pub desc: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub update_version: Option<i32>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub cmd: Option<String>,
    #[serde(default)]
    pub min_node: Option<i32>,
    #[serde(default)]
    pub min_cpu: Option<i32>,
    #[serde(default)]
    pub container_gpu: Option<i32>,
    #[serde(default)]
    pub min_memory: Option<i32>,
    #[serde(default)]
    pub extend_method: Option<String>,
    #[serde(default)]
    pub code_from: Option<String>,
    #[serde(default)]
    pub git_url: Option<String>,
    #[serde(default)]
    pub git_project_id: Option<i32>,
    #[serde(default)]
    pub git_full_name: Option<String>,
    #[serde(default)]
    pub code_version: Option<String>,
    #[serde(default)]
    pub service_type: Option<String>,
    /// Nick name of the creator (default: the first member of the team).
    #[serde(default)]
    pub creater: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub create_status: Option<String>,
    #[serde(default)]
    pub check_uuid: Option<String>,
    #[serde(default)]
    pub deploy_version: Option<String>,
    #[serde(default)]
    pub docker_cmd: Option<String>,
    #[serde(default)]
    pub oauth_service_id: Option<i32>,
    #[serde(default)]
    pub tenant_service_group_id: Option<i32>,
    #[serde(default)]
    pub update_time: Option<String>,
    #[serde(default)]
    pub ports: Vec<PortFixture>,
    #[serde(default)]
    pub envs: Vec<EnvFixture>,
    #[serde(default)]
    pub volumes: Vec<VolumeFixture>,
    #[serde(default)]
    pub labels: Vec<LabelFixture>,
    /// `k8s_component_name`s of components this one depends on (in any app of the fixture).
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub probes: Vec<ProbeFixture>,
    #[serde(default)]
    pub source_auth: Option<SourceAuthFixture>,
}

/// A port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PortFixture {
    pub container_port: i64,
    pub protocol: String,
    pub port_alias: String,
    #[serde(default)]
    pub inner: bool,
    #[serde(default)]
    pub outer: bool,
    pub k8s_service_name: String,
}

/// An environment variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct EnvFixture {
    pub attr_name: String,
    pub attr_value: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub container_port: Option<i64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// A volume, optionally a configuration file with its content.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct VolumeFixture {
    pub volume_name: String,
    pub volume_path: String,
    #[serde(default)]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub volume_capacity: Option<i64>,
    #[serde(default)]
    pub access_mode: Option<String>,
    /// Makes the volume a configuration file (`volume_type: config-file`).
    #[serde(default)]
    pub file_content: Option<String>,
}

/// A label.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct LabelFixture {
    pub label_name: String,
    pub label_value: String,
}

/// A health probe.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ProbeFixture {
    pub mode: String,
    pub scheme: String,
    pub port: i64,
    #[serde(default)]
    pub path: Option<String>,
}

/// Build-source credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SourceAuthFixture {
    pub user_name: String,
    pub password: String,
}

/// An access key row: the owner, the key's SHA-256 digest, its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct AccessKeyRow {
    pub user_id: i32,
    pub key_sha256: [u8; 32],
    pub expire_time: Option<i64>,
}

/// Everything a fixture writes, as rows.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct Dataset {
    pub name: String,
    /// SHA-256 of the fixture text, hex.
    pub sha256: String,
    pub users: Vec<User>,
    pub access_keys: Vec<AccessKeyRow>,
    pub regions: Vec<Region>,
    pub teams: Vec<Team>,
    /// (tenant_id, user_id).
    pub members: Vec<(String, i32)>,
    /// (tenant_id, region_name), initialised.
    pub team_regions: Vec<(String, String)>,
    pub apps: Vec<App>,
    pub components: Vec<ComponentGraph>,
    pub probes: Vec<Probe>,
}

/// When fixture components were created, unless they say otherwise (then one second apart).
const FIXTURE_EPOCH: (u32, u32, u32) = (9, 0, 0);
const FIXTURE_DATE: &str = "2026-11-20";

impl Fixture {
    /// Parses fixture YAML.
    pub fn parse(text: &str) -> Result<Fixture, FixtureError> {
        Ok(yaml_serde::from_str(text)?)
    }

    /// Checks the fixture and turns it into rows. `text` is the source, for the recorded digest.
    pub fn to_dataset(&self, text: &str) -> Result<Dataset, FixtureError> {
        let enterprise_id = self.enterprise_id.clone();
        let mut data =
            Dataset { name: self.name.clone(), sha256: hex(&Sha256::digest(text.as_bytes())), ..Dataset::default() };

        let mut user_ids = HashMap::new();
        for user in &self.users {
            if user_ids.insert(user.nick_name.as_str(), user.user_id).is_some() {
                return Err(invalid(format!("user `{}` is defined twice", user.nick_name)));
            }
            data.users.push(User {
                user_id: user.user_id,
                nick_name: user.nick_name.clone(),
                enterprise_id: enterprise_id.clone(),
            });
            for key in &user.access_keys {
                if key.key.trim().is_empty() {
                    return Err(invalid(format!("user `{}` has an empty access key", user.nick_name)));
                }
                data.access_keys.push(AccessKeyRow {
                    user_id: user.user_id,
                    key_sha256: access_key::digest(&key.key),
                    expire_time: key.expire_time,
                });
            }
        }
        let user_id = |name: &str| user_ids.get(name).copied().ok_or_else(|| invalid(format!("unknown user `{name}`")));

        let mut region_names = HashSet::new();
        for region in &self.regions {
            if !region_names.insert(region.region_name.as_str()) {
                return Err(invalid(format!("region `{}` is defined twice", region.region_name)));
            }
            data.regions.push(Region {
                region_name: region.region_name.clone(),
                region_alias: region.region_alias.clone().unwrap_or_else(|| region.region_name.clone()),
                enterprise_id: enterprise_id.clone(),
                status: region.status.clone().unwrap_or_else(|| "1".to_owned()),
            });
        }
        let check_region = |name: &str| {
            if region_names.contains(name) { Ok(()) } else { Err(invalid(format!("unknown region `{name}`"))) }
        };

        let mut teams: HashMap<&str, &TeamFixture> = HashMap::new();
        for team in &self.teams {
            if teams.insert(team.tenant_name.as_str(), team).is_some() {
                return Err(invalid(format!("team `{}` is defined twice", team.tenant_name)));
            }
            data.teams.push(Team {
                tenant_id: team.tenant_id.clone(),
                tenant_name: team.tenant_name.clone(),
                tenant_alias: team.tenant_alias.clone().unwrap_or_else(|| team.tenant_name.clone()),
                enterprise_id: enterprise_id.clone(),
            });
            for member in &team.members {
                data.members.push((team.tenant_id.clone(), user_id(member)?));
            }
            for region in &team.regions {
                check_region(region)?;
                data.team_regions.push((team.tenant_id.clone(), region.clone()));
            }
        }

        // Components first, so that dependencies can name any component of the fixture.
        let mut by_name: HashMap<(&str, &str), String> = HashMap::new();
        for app in &self.apps {
            let team = teams
                .get(app.team.as_str())
                .ok_or_else(|| invalid(format!("app {} names unknown team `{}`", app.app_id, app.team)))?;
            check_region(&app.region)?;
            for component in &app.components {
                if by_name
                    .insert((&team.tenant_id, &component.k8s_component_name), component.service_id.clone())
                    .is_some()
                {
                    return Err(invalid(format!(
                        "component `{}` is defined twice in team `{}`",
                        component.k8s_component_name, app.team
                    )));
                }
            }
        }

        let mut index = 0u32;
        for app in &self.apps {
            let team = teams[app.team.as_str()];
            data.apps.push(App {
                app_id: app.app_id,
                tenant_id: team.tenant_id.clone(),
                region_name: app.region.clone(),
                app_name: app.app_name.clone(),
                governance_mode: app.governance_mode.clone().unwrap_or_else(|| "KUBERNETES_NATIVE_SERVICE".to_owned()),
            });
            for fixture in &app.components {
                index += 1;
                let creater = match &fixture.creater {
                    Some(name) => user_id(name)?,
                    None => team.members.first().map(|m| user_id(m)).transpose()?.unwrap_or(0),
                };
                let graph = component_graph(fixture, app, team, creater, index, &by_name)?;
                data.probes.extend(fixture.probes.iter().map(|p| Probe {
                    service_id: fixture.service_id.clone(),
                    mode: p.mode.clone(),
                    scheme: p.scheme.clone(),
                    port: p.port,
                    path: p.path.clone().unwrap_or_default(),
                }));
                data.components.push(graph);
            }
        }
        Ok(data)
    }
}

fn component_graph(
    fixture: &ComponentFixture,
    app: &AppFixture,
    team: &TeamFixture,
    creater: i32,
    index: u32,
    by_name: &HashMap<(&str, &str), String>,
) -> Result<ComponentGraph, FixtureError> {
    let id = &fixture.service_id;
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "component `{}`: service_id must be 32 hex characters",
            fixture.k8s_component_name
        )));
    }
    let (h, m, s) = FIXTURE_EPOCH;
    let created = format!("{FIXTURE_DATE} {:02}:{:02}:{:02}", h + index / 3600, m + (index / 60) % 60, s + index % 60);
    let component = Component {
        service_id: id.clone(),
        service_alias: fixture.service_alias.clone().unwrap_or_else(|| model::service_alias(id)),
        tenant_id: team.tenant_id.clone(),
        service_region: app.region.clone(),
        app_id: app.app_id,
        service_key: fixture.service_key.clone().unwrap_or_else(|| "application".to_owned()),
        service_cname: fixture.service_cname.clone(),
        desc: fixture.desc.clone(),
        category: fixture.category.clone().unwrap_or_else(|| "application".to_owned()),
        version: fixture.version.clone().unwrap_or_else(|| "latest".to_owned()),
        update_version: fixture.update_version.unwrap_or(1),
        image: fixture.image.clone().unwrap_or_default(),
        cmd: fixture.cmd.clone(),
        min_node: fixture.min_node.unwrap_or(1),
        min_cpu: fixture.min_cpu.unwrap_or(250),
        container_gpu: fixture.container_gpu.unwrap_or(0),
        min_memory: fixture.min_memory.unwrap_or(512),
        extend_method: fixture.extend_method.clone().unwrap_or_else(|| "stateless_multiple".to_owned()),
        code_from: fixture.code_from.clone(),
        git_url: fixture.git_url.clone(),
        git_project_id: fixture.git_project_id.unwrap_or(0),
        git_full_name: fixture.git_full_name.clone(),
        code_version: fixture.code_version.clone(),
        service_type: fixture.service_type.clone().or_else(|| Some("application".to_owned())),
        creater,
        language: fixture.language.clone(),
        total_memory: 0,
        is_service: false,
        service_origin: "assistant".to_owned(),
        tenant_service_group_id: fixture.tenant_service_group_id.unwrap_or(0),
        open_webhooks: false,
        service_source: Some(fixture.service_source.clone()),
        create_status: Some(fixture.create_status.clone().unwrap_or_else(|| crate::model::COMPLETE.to_owned())),
        check_uuid: fixture.check_uuid.clone(),
        check_event_id: None,
        docker_cmd: fixture.docker_cmd.clone(),
        server_type: "git".to_owned(),
        is_upgrate: false,
        build_upgrade: true,
        oauth_service_id: fixture.oauth_service_id,
        k8s_component_name: fixture.k8s_component_name.clone(),
        deploy_version: fixture.deploy_version.clone(),
        create_time: created.clone(),
        update_time: fixture.update_time.clone().unwrap_or(created),
    };
    let ports = fixture
        .ports
        .iter()
        .map(|p| Port {
            service_id: id.clone(),
            tenant_id: team.tenant_id.clone(),
            container_port: p.container_port,
            protocol: p.protocol.clone(),
            port_alias: p.port_alias.clone(),
            is_inner_service: p.inner,
            is_outer_service: p.outer,
            k8s_service_name: p.k8s_service_name.clone(),
        })
        .collect();
    let envs = fixture
        .envs
        .iter()
        .map(|e| EnvVar {
            service_id: id.clone(),
            tenant_id: team.tenant_id.clone(),
            container_port: e.container_port.unwrap_or(0),
            name: e.name.clone().unwrap_or_default(),
            attr_name: e.attr_name.clone(),
            attr_value: e.attr_value.clone(),
            is_change: true,
            scope: e.scope.clone().unwrap_or_else(|| "inner".to_owned()),
        })
        .collect();
    let volumes = fixture
        .volumes
        .iter()
        .map(|v| Volume {
            service_id: id.clone(),
            volume_name: v.volume_name.clone(),
            volume_path: v.volume_path.clone(),
            volume_type: v
                .volume_type
                .clone()
                .unwrap_or_else(|| if v.file_content.is_some() { "config-file" } else { "share-file" }.to_owned()),
            volume_capacity: v.volume_capacity.unwrap_or(0),
            access_mode: v.access_mode.clone().unwrap_or_else(|| "RWO".to_owned()),
            host_path: model::volume_host_path(&team.tenant_id, id, &v.volume_path),
        })
        .collect();
    let config_files = fixture
        .volumes
        .iter()
        .filter_map(|v| {
            Some(ConfigFile {
                service_id: id.clone(),
                volume_name: v.volume_name.clone(),
                file_content: v.file_content.clone()?,
            })
        })
        .collect();
    let labels = fixture
        .labels
        .iter()
        .map(|l| Label {
            service_id: id.clone(),
            tenant_id: team.tenant_id.clone(),
            region: app.region.clone(),
            label_name: l.label_name.clone(),
            label_value: l.label_value.clone(),
        })
        .collect();
    let dependencies = fixture
        .depends_on
        .iter()
        .enumerate()
        .map(|(order, name)| {
            let dep = by_name.get(&(team.tenant_id.as_str(), name.as_str())).ok_or_else(|| {
                invalid(format!("component `{}` depends on unknown component `{name}`", fixture.k8s_component_name))
            })?;
            Ok(Dependency {
                service_id: id.clone(),
                dep_service_id: dep.clone(),
                tenant_id: team.tenant_id.clone(),
                dep_order: order as i64,
            })
        })
        .collect::<Result<_, FixtureError>>()?;
    let source_auth = fixture.source_auth.as_ref().map(|a| SourceAuth {
        service_id: id.clone(),
        user_name: a.user_name.clone(),
        password: a.password.clone(),
    });
    Ok(ComponentGraph { component, ports, envs, volumes, config_files, labels, dependencies, source_auth })
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_fixture_is_consistent() {
        let fixture = Fixture::parse(DEMO).unwrap();
        let data = fixture.to_dataset(DEMO).unwrap();
        assert_eq!(data.name, "demo");
        let admin = data.users.iter().find(|u| u.nick_name == "admin").unwrap();
        let key_owner = |key: &str| {
            let digest = access_key::digest(key);
            data.access_keys.iter().find(|k| k.key_sha256 == digest).map(|k| k.user_id)
        };
        assert_eq!(key_owner("rbd-demo-admin"), Some(admin.user_id), "keys are stored as their digest");
        assert_eq!(key_owner("rbd-demo-unknown"), None);
        let shop: Vec<_> = data
            .components
            .iter()
            .filter(|c| c.component.app_id == 1)
            .map(|c| c.component.k8s_component_name.as_str())
            .collect();
        assert_eq!(shop, ["web", "api", "db"]);
    }

    #[test]
    fn dangling_references_are_refused_by_name() {
        let text = DEMO.replace("depends_on: [api]", "depends_on: [nowhere]");
        let err = Fixture::parse(&text).unwrap().to_dataset(&text).unwrap_err().to_string();
        assert!(err.contains("unknown component `nowhere`"), "{err}");
        let err = Fixture::parse("name: x\nenterprise_id: e\nusers: []\ncolour: blue\n").unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }
}

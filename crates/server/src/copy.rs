//! The copy semantics, independent of storage: which components a request selects, the new
//! identities and names, and the rows that are written for each copy.
//!
//! A storage backend runs these steps inside one transaction: [`select`] on the source app's
//! components, [`Identity::fresh`] until no alias clashes, [`plan`] on the loaded
//! [`ComponentGraph`]s, then it writes the planned graphs.

use std::collections::{HashMap, HashSet};

use crate::model::{
    App, COMPLETE, Component, ComponentGraph, ConfigFile, Dependency, EnvVar, Label, Port, SERVICE_MESH_GOVERNANCE,
    SourceAuth, Team, Volume,
};

/// Longest display or component name the console stores.
pub const MAX_NAME_LEN: usize = 100;
/// Longest Kubernetes service name (an RFC 1035 label).
pub const MAX_K8S_SERVICE_NAME_LEN: usize = 63;
/// How many times a clashing generated name or alias is drawn again before giving up.
pub const MAX_ATTEMPTS: usize = 32;

/// Why a copy cannot be made from the request. Each maps to a documented status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// Requested ids that are not complete components of the source app.
    #[error("components not found in the source app: {}", .0.join(", "))]
    UnknownComponents(Vec<String>),
    /// Selected components built from an uploaded package (display names).
    #[error("package_build components do not support quick copy: {}", .0.join(", "))]
    PackageBuild(Vec<String>),
}

/// Picks the components a request copies, in the order they are copied.
///
/// An empty request selects every complete component of the app (in the order given). Otherwise
/// each id must name a complete component of the app; a repeated id is copied once. Components
/// built from an uploaded package cannot be copied.
pub fn select<'a>(app_components: &'a [Component], requested: &[String]) -> Result<Vec<&'a Component>, SelectionError> {
    let selected: Vec<&Component> = if requested.is_empty() {
        app_components.iter().filter(|c| c.is_complete()).collect()
    } else {
        let mut seen = HashSet::new();
        let mut selected = Vec::new();
        let mut unknown = Vec::new();
        for id in requested {
            if !seen.insert(id.as_str()) {
                continue;
            }
            match app_components.iter().find(|c| &c.service_id == id && c.is_complete()) {
                Some(component) => selected.push(component),
                None => unknown.push(id.clone()),
            }
        }
        if !unknown.is_empty() {
            return Err(SelectionError::UnknownComponents(unknown));
        }
        selected
    };
    let package_builds: Vec<String> =
        selected.iter().filter(|c| c.is_package_build()).map(|c| c.display_name().to_owned()).collect();
    if !package_builds.is_empty() {
        return Err(SelectionError::PackageBuild(package_builds));
    }
    Ok(selected)
}

/// Where random identifiers come from (fixed in tests).
pub trait Randomness: Send {
    /// A fresh component id: 32 lowercase hex characters.
    fn service_id(&mut self) -> String;
    /// Four lowercase hex characters for a name suffix.
    fn suffix(&mut self) -> String;
}

/// Identifiers from random (v4) UUIDs, as the console's `make_uuid`.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidRandomness;

impl Randomness for UuidRandomness {
    fn service_id(&mut self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    fn suffix(&mut self) -> String {
        uuid::Uuid::new_v4().simple().to_string()[..4].to_owned()
    }
}

/// The id and alias of a new component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// 32 hex characters.
    pub service_id: String,
    /// `"gr"` + the id's last 6 characters.
    pub service_alias: String,
}

impl Identity {
    /// A fresh id and the alias derived from it.
    pub fn fresh(random: &mut dyn Randomness) -> Self {
        let service_id = random.service_id();
        let service_alias = format!("gr{}", &service_id[service_id.len().saturating_sub(6)..]);
        Identity { service_id, service_alias }
    }
}

/// The positions of identities whose alias is `taken` or repeats an earlier one in the batch.
pub fn clashing_identities(identities: &[Identity], taken: &HashSet<String>) -> Vec<usize> {
    let mut seen = HashSet::new();
    identities
        .iter()
        .enumerate()
        .filter(|(_, identity)| {
            taken.contains(&identity.service_alias) || !seen.insert(identity.service_alias.as_str())
        })
        .map(|(index, _)| index)
        .collect()
}

/// Where the copies go, and who makes them.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The target team.
    pub team: &'a Team,
    /// The target region.
    pub region: &'a str,
    /// The target app (in that team and region).
    pub app: &'a App,
    /// The caller, recorded as `creater`.
    pub creater: i32,
    /// `create_time`/`update_time` of the copies.
    pub now: &'a str,
    /// The source team is the target team.
    pub same_team: bool,
    /// The source region is the target region.
    pub same_region: bool,
}

/// Names already used where the copies go.
#[derive(Debug, Clone, Default)]
pub struct TakenNames {
    /// `k8s_component_name`s of the target app's components.
    pub component_names: HashSet<String>,
    /// `k8s_service_name` → ids of the components whose ports use it, across the target team.
    pub port_names: HashMap<String, HashSet<String>>,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Every generated candidate for a name clashed.
    #[error("no free {what} for `{base}` after {MAX_ATTEMPTS} attempts")]
    NamesExhausted {
        /// Which kind of name.
        what: &'static str,
        /// The name it started from.
        base: String,
    },
}

/// Plans the copies of `sources` (in order) with the given `identities` (one each): the new
/// components and everything copied with them. Nothing is written.
pub fn plan(
    sources: &[ComponentGraph],
    identities: &[Identity],
    target: &Target<'_>,
    taken: &TakenNames,
    random: &mut dyn Randomness,
) -> Result<Vec<ComponentGraph>, PlanError> {
    assert_eq!(sources.len(), identities.len(), "one identity per copied component");
    let new_ids: HashMap<&str, &str> =
        sources.iter().zip(identities).map(|(s, i)| (s.component.service_id.as_str(), i.service_id.as_str())).collect();

    // Pass 1: names of components and ports for the whole batch, so the host-name remap is
    // complete before any value is rewritten.
    let mut component_names = taken.component_names.clone();
    let mut batch_ports: HashMap<String, String> = HashMap::new();
    let mut remap = HostnameRemap::default();
    let mut planned = Vec::with_capacity(sources.len());
    for (source, identity) in sources.iter().zip(identities) {
        let k8s_component_name = component_name(&source.component.k8s_component_name, identity, &component_names)?;
        component_names.insert(k8s_component_name.clone());
        let mut ports = Vec::with_capacity(source.ports.len());
        for port in &source.ports {
            let name = port_name(port, identity, taken, &batch_ports, random)?;
            if !port.k8s_service_name.is_empty()
                && name != port.k8s_service_name
                && is_valid_k8s_service_name(&port.k8s_service_name)
            {
                remap.insert(&port.k8s_service_name, &name);
            }
            batch_ports.insert(name.clone(), identity.service_id.clone());
            ports.push(Port {
                service_id: identity.service_id.clone(),
                tenant_id: target.team.tenant_id.clone(),
                k8s_service_name: name,
                ..port.clone()
            });
        }
        planned.push((k8s_component_name, ports));
    }

    // Pass 2: the rows of each copy.
    let mut copies = Vec::with_capacity(sources.len());
    for ((source, identity), (k8s_component_name, ports)) in sources.iter().zip(identities).zip(planned) {
        let component = copy_component(&source.component, identity, k8s_component_name, target);
        let envs = copy_envs(source, identity, &ports, target, &remap);
        let volumes = source
            .volumes
            .iter()
            .map(|v| Volume {
                service_id: identity.service_id.clone(),
                host_path: format!(
                    "/grdata/tenant/{}/service/{}{}",
                    target.team.tenant_id, identity.service_id, v.volume_path
                ),
                ..v.clone()
            })
            .collect();
        let config_files = source
            .config_files
            .iter()
            .map(|f| ConfigFile {
                service_id: identity.service_id.clone(),
                volume_name: f.volume_name.clone(),
                file_content: remap.apply(None, &f.file_content),
            })
            .collect();
        let labels = source
            .labels
            .iter()
            .map(|l| Label {
                service_id: identity.service_id.clone(),
                tenant_id: target.team.tenant_id.clone(),
                region: target.region.to_owned(),
                ..l.clone()
            })
            .collect();
        let dependencies = source
            .dependencies
            .iter()
            .filter_map(|d| {
                let dep_service_id = match new_ids.get(d.dep_service_id.as_str()) {
                    Some(new_id) => (*new_id).to_owned(),
                    None if target.same_team && target.same_region => d.dep_service_id.clone(),
                    None => return None,
                };
                Some(Dependency {
                    service_id: identity.service_id.clone(),
                    dep_service_id,
                    tenant_id: target.team.tenant_id.clone(),
                    dep_order: d.dep_order,
                })
            })
            .collect();
        let source_auth =
            source.source_auth.as_ref().map(|a| SourceAuth { service_id: identity.service_id.clone(), ..a.clone() });
        copies.push(ComponentGraph {
            component,
            ports,
            envs,
            volumes,
            config_files,
            labels,
            dependencies,
            source_auth,
        });
    }
    Ok(copies)
}

fn copy_component(
    source: &Component,
    identity: &Identity,
    k8s_component_name: String,
    target: &Target<'_>,
) -> Component {
    let extend_method = match source.extend_method.as_str() {
        "state" => "state_multiple".to_owned(),
        "stateless" => "stateless_multiple".to_owned(),
        other => other.to_owned(),
    };
    Component {
        service_id: identity.service_id.clone(),
        service_alias: identity.service_alias.clone(),
        service_cname: format!("{}-copy", truncate(&source.service_cname, MAX_NAME_LEN - "-copy".len())),
        k8s_component_name,
        tenant_id: target.team.tenant_id.clone(),
        service_region: target.region.to_owned(),
        app_id: target.app.app_id,
        creater: target.creater,
        create_status: Some(COMPLETE.to_owned()),
        extend_method,
        create_time: target.now.to_owned(),
        update_time: target.now.to_owned(),
        ..source.clone()
    }
}

/// The copy's `k8s_component_name`: the source's, or `<name>-<alias>` when the target app (or an
/// earlier copy of the batch) already uses it.
fn component_name(source_name: &str, identity: &Identity, taken: &HashSet<String>) -> Result<String, PlanError> {
    let base = if source_name.is_empty() { identity.service_alias.as_str() } else { source_name };
    if !taken.contains(base) {
        return Ok(base.to_owned());
    }
    let suffix = format!("-{}", identity.service_alias);
    let candidate = format!("{}{suffix}", truncate(base, MAX_NAME_LEN - suffix.len()));
    if !taken.contains(&candidate) {
        return Ok(candidate);
    }
    (2..MAX_ATTEMPTS)
        .map(|n| {
            let suffix = format!("-{}-{n}", identity.service_alias);
            format!("{}{suffix}", truncate(base, MAX_NAME_LEN - suffix.len()))
        })
        .find(|candidate| !taken.contains(candidate))
        .ok_or_else(|| PlanError::NamesExhausted { what: "component name", base: base.to_owned() })
}

/// The copy's `k8s_service_name` for `port`: the source's unless it is invalid (then the new alias)
/// or used by another component of the target team or of the batch (then `-xxxx` is appended).
fn port_name(
    port: &Port,
    identity: &Identity,
    taken: &TakenNames,
    batch: &HashMap<String, String>,
    random: &mut dyn Randomness,
) -> Result<String, PlanError> {
    let owner = identity.service_id.as_str();
    let clashes = |name: &str| {
        taken.port_names.get(name).is_some_and(|owners| owners.iter().any(|o| o != owner))
            || batch.get(name).is_some_and(|o| o != owner)
    };
    let base = if is_valid_k8s_service_name(&port.k8s_service_name) {
        port.k8s_service_name.as_str()
    } else {
        identity.service_alias.as_str()
    };
    if !clashes(base) {
        return Ok(base.to_owned());
    }
    for _ in 0..MAX_ATTEMPTS {
        let suffix = format!("-{}", random.suffix());
        let candidate =
            format!("{}{suffix}", truncate(base, MAX_K8S_SERVICE_NAME_LEN - suffix.len()).trim_end_matches('-'));
        if !clashes(&candidate) {
            return Ok(candidate);
        }
    }
    Err(PlanError::NamesExhausted { what: "port service name", base: base.to_owned() })
}

/// An RFC 1035 label: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_valid_k8s_service_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_K8S_SERVICE_NAME_LEN
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// The copy's environment variables: port connection `_HOST` variables point at the port's new
/// service name (or 127.0.0.1 under the service mesh), then every value goes through the
/// host-name remap.
fn copy_envs(
    source: &ComponentGraph,
    identity: &Identity,
    ports: &[Port],
    target: &Target<'_>,
    remap: &HostnameRemap,
) -> Vec<EnvVar> {
    let mesh = target.app.governance_mode == SERVICE_MESH_GOVERNANCE;
    source
        .envs
        .iter()
        .map(|env| {
            let mut value = env.attr_value.clone();
            if env.attr_name.ends_with("_HOST")
                && let Some(port) =
                    ports.iter().find(|p| env.container_port != 0 && p.container_port == env.container_port)
            {
                value = if mesh { "127.0.0.1".to_owned() } else { port.k8s_service_name.clone() };
            }
            EnvVar {
                service_id: identity.service_id.clone(),
                tenant_id: target.team.tenant_id.clone(),
                attr_value: remap.apply(Some(&env.attr_name), &value),
                ..env.clone()
            }
        })
        .collect()
}

/// Renamed port service names (`old → new`, in the order they were decided) and the textual rules
/// that carry a rename into configuration values, as the console's `hostname_remap`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostnameRemap {
    renames: Vec<(String, String)>,
}

impl HostnameRemap {
    /// Records `old → new` (the first rename of a name wins).
    pub fn insert(&mut self, old: &str, new: &str) {
        if !self.renames.iter().any(|(o, _)| o == old) {
            self.renames.push((old.to_owned(), new.to_owned()));
        }
    }

    /// Rewrites `value` (of the variable `env_name`, when it is one). For each rename, in order:
    /// a whole-value match when the variable is `HOST`, `*_HOST` or `*_HOSTNAME`; `://old:`,
    /// `://old/`, `@old:` and `@old/` anywhere; a trailing `@old` in a URL; a leading `old:` in
    /// a value without `://`.
    pub fn apply(&self, env_name: Option<&str>, value: &str) -> String {
        let host_variable = env_name.is_some_and(|n| n == "HOST" || n.ends_with("_HOST") || n.ends_with("_HOSTNAME"));
        let mut value = value.to_owned();
        for (old, new) in &self.renames {
            if host_variable && value == *old {
                value = new.clone();
                continue;
            }
            for (before, after) in [("://", ':'), ("://", '/'), ("@", ':'), ("@", '/')] {
                value = value.replace(&format!("{before}{old}{after}"), &format!("{before}{new}{after}"));
            }
            let tail = format!("@{old}");
            if value.contains("://") && value.ends_with(&tail) {
                value = format!("{}@{new}", &value[..value.len() - tail.len()]);
            }
            let head = format!("{old}:");
            if !value.contains("://") && value.starts_with(&head) {
                value = format!("{new}:{}", &value[head.len()..]);
            }
        }
        value
    }
}

/// The first `max` characters of `text`.
fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u64);

    impl Randomness for Counter {
        fn service_id(&mut self) -> String {
            self.0 += 1;
            format!("{:032x}", 0xabc000 + self.0)
        }

        fn suffix(&mut self) -> String {
            self.0 += 1;
            format!("{:04x}", self.0)
        }
    }

    fn component(id: &str, name: &str) -> Component {
        Component {
            service_id: id.into(),
            service_alias: format!("gr{}", &id[id.len() - 6..]),
            tenant_id: "t1".into(),
            service_region: "rainbond".into(),
            app_id: 1,
            service_key: "key".into(),
            service_cname: name.into(),
            desc: None,
            category: "application".into(),
            version: "1.0".into(),
            update_version: 3,
            image: "nginx:1.0".into(),
            cmd: None,
            min_node: 2,
            min_cpu: 250,
            container_gpu: 0,
            min_memory: 256,
            extend_method: "stateless".into(),
            code_from: None,
            git_url: None,
            git_project_id: 0,
            git_full_name: None,
            code_version: None,
            service_type: Some("application".into()),
            creater: 1,
            language: None,
            total_memory: 0,
            is_service: false,
            service_origin: "assistant".into(),
            tenant_service_group_id: 0,
            open_webhooks: false,
            service_source: Some("docker_image".into()),
            create_status: Some("complete".into()),
            check_uuid: None,
            check_event_id: None,
            docker_cmd: None,
            server_type: "git".into(),
            is_upgrate: false,
            build_upgrade: true,
            oauth_service_id: None,
            k8s_component_name: name.into(),
            deploy_version: None,
            create_time: "2026-01-01 00:00:00".into(),
            update_time: "2026-01-01 00:00:00".into(),
        }
    }

    fn ids(components: &[&Component]) -> Vec<String> {
        components.iter().map(|c| c.service_id.clone()).collect()
    }

    #[test]
    fn empty_selection_takes_complete_components_and_repeats_collapse() {
        let mut creating = component("00000000000000000000000000000003", "c");
        creating.create_status = Some("creating".into());
        let app = [
            component("00000000000000000000000000000001", "a"),
            component("00000000000000000000000000000002", "b"),
            creating,
        ];
        assert_eq!(ids(&select(&app, &[]).unwrap()), vec![app[0].service_id.clone(), app[1].service_id.clone()]);
        let requested = vec![app[1].service_id.clone(), app[0].service_id.clone(), app[1].service_id.clone()];
        assert_eq!(ids(&select(&app, &requested).unwrap()), vec![app[1].service_id.clone(), app[0].service_id.clone()]);
        let unknown = vec!["nope".to_owned(), app[2].service_id.clone()];
        assert_eq!(select(&app, &unknown).unwrap_err(), SelectionError::UnknownComponents(unknown));
    }

    #[test]
    fn package_build_components_are_refused_by_name() {
        let mut package = component("00000000000000000000000000000001", "uploaded");
        package.service_source = Some("package_build".into());
        let app = [package];
        assert_eq!(select(&app, &[]).unwrap_err(), SelectionError::PackageBuild(vec!["uploaded".into()]));
    }

    #[test]
    fn aliases_follow_the_id_and_clashes_are_found() {
        let identity = Identity::fresh(&mut Counter(0));
        assert_eq!(identity.service_id.len(), 32);
        assert_eq!(identity.service_alias, format!("gr{}", &identity.service_id[26..]));
        let twins = vec![identity.clone(), identity.clone()];
        assert_eq!(clashing_identities(&twins, &HashSet::new()), vec![1]);
        assert_eq!(clashing_identities(&twins, &HashSet::from([identity.service_alias.clone()])), vec![0, 1]);
    }

    #[test]
    fn port_names_are_only_suffixed_on_a_clash_and_invalid_ones_take_the_alias() {
        let identity = Identity { service_id: "f".repeat(26) + "123456", service_alias: "gr123456".into() };
        let port = |name: &str| Port {
            service_id: "src".into(),
            tenant_id: "t1".into(),
            container_port: 80,
            protocol: "http".into(),
            port_alias: "WEB".into(),
            is_inner_service: true,
            is_outer_service: false,
            k8s_service_name: name.into(),
        };
        let mut taken = TakenNames::default();
        let batch = HashMap::new();
        assert_eq!(port_name(&port("web"), &identity, &taken, &batch, &mut Counter(0)).unwrap(), "web");
        assert_eq!(port_name(&port("Not_Valid"), &identity, &taken, &batch, &mut Counter(0)).unwrap(), "gr123456");
        taken.port_names.insert("web".into(), HashSet::from(["src".to_owned()]));
        assert_eq!(port_name(&port("web"), &identity, &taken, &batch, &mut Counter(0)).unwrap(), "web-0001");
        let long = "a".repeat(63);
        taken.port_names.insert(long.clone(), HashSet::from(["src".to_owned()]));
        let renamed = port_name(&port(&long), &identity, &taken, &batch, &mut Counter(0)).unwrap();
        assert_eq!(renamed.len(), 63);
        assert!(renamed.ends_with("-0001"));
    }

    #[test]
    fn hostname_remap_follows_the_console_rules() {
        let mut remap = HostnameRemap::default();
        remap.insert("db", "db-1a2b");
        assert_eq!(remap.apply(Some("MYSQL_HOST"), "db"), "db-1a2b");
        assert_eq!(remap.apply(Some("MYSQL_NAME"), "db"), "db", "whole values only for host variables");
        assert_eq!(remap.apply(Some("URL"), "mysql://root@db:3306/shop"), "mysql://root@db-1a2b:3306/shop");
        assert_eq!(remap.apply(Some("URL"), "http://db/health"), "http://db-1a2b/health");
        assert_eq!(remap.apply(Some("URL"), "redis://user@db"), "redis://user@db-1a2b");
        assert_eq!(remap.apply(Some("ADDR"), "db:3306"), "db-1a2b:3306");
        assert_eq!(remap.apply(Some("URL"), "http://db"), "http://db", "bare scheme://host is left alone");
        assert_eq!(remap.apply(Some("URL"), "http://dbx:80/"), "http://dbx:80/", "other hosts are left alone");
        assert_eq!(remap.apply(None, "host=db"), "host=db", "key=value DSNs are left alone");
    }

    #[test]
    fn component_names_are_kept_unless_the_target_app_has_them() {
        let identity = Identity { service_id: "f".repeat(26) + "123456", service_alias: "gr123456".into() };
        assert_eq!(component_name("web", &identity, &HashSet::new()).unwrap(), "web");
        assert_eq!(component_name("web", &identity, &HashSet::from(["web".to_owned()])).unwrap(), "web-gr123456");
        let both = HashSet::from(["web".to_owned(), "web-gr123456".to_owned()]);
        assert_eq!(component_name("web", &identity, &both).unwrap(), "web-gr123456-2");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("组件名称", 2), "组件");
        assert_eq!(truncate("ab", 5), "ab");
    }
}

//! The copy semantics, independent of storage: which components a request selects, the new
//! identities and names, and the rows that are written for each copy.
//!
//! A storage backend runs these steps inside one transaction: [`select`] on the source app's
//! components, [`Identity::fresh`] and [`NameCandidates::draw`] for each, a lookup of which
//! candidates are taken (only those: indexed lookups whose cost does not grow with the target app
//! or team), a new identity and [`NameCandidates::redraw`] for each copy whose alias clashed (then
//! a lookup of theirs alone) until none does, [`plan`] on the loaded [`ComponentGraph`]s, then it
//! writes the planned graphs.

use std::collections::{HashMap, HashSet};

use crate::model::{
    self, App, COMPLETE, Component, ComponentGraph, ConfigFile, Dependency, EnvVar, Label, Port,
    SERVICE_MESH_GOVERNANCE, SourceAuth, Team, Volume,
};

/// Longest display or component name the console stores.
pub const MAX_NAME_LEN: usize = 100;
/// Longest Kubernetes service name (an RFC 1035 label).
pub const MAX_K8S_SERVICE_NAME_LEN: usize = 63;
/// Most components one copy creates: the spec's `maxItems` of `services`, which also bounds an
/// empty `services` list (every complete component of the app).
pub const MAX_COPY_COMPONENTS: usize = 1000;
/// How many times a clashing generated alias is drawn again before giving up.
pub const MAX_ATTEMPTS: usize = 32;
/// How many random `-xxxx` suffixes a clashing port service name is offered before it falls back
/// to `-<alias>` (unique across the store, since aliases are).
pub const PORT_SUFFIX_DRAWS: usize = 2;

/// Why a copy cannot be made from the request. Each maps to a documented status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// Requested ids that are not complete components of the source app.
    #[error("components not found in the source app: {}", .0.join(", "))]
    UnknownComponents(Vec<String>),
    /// Selected components built from an uploaded package (display names).
    #[error("package_build components do not support quick copy: {}", .0.join(", "))]
    PackageBuild(Vec<String>),
    /// The selection is larger than [`MAX_COPY_COMPONENTS`].
    #[error("a copy creates at most {MAX_COPY_COMPONENTS} components; {0} were selected")]
    TooMany(usize),
}

/// Picks the components a request copies, in the order they are copied.
///
/// An empty request selects every complete component of the app (in the order given). Otherwise
/// each id must name a complete component of the app; a repeated id is copied once. Components
/// built from an uploaded package cannot be copied, and at most [`MAX_COPY_COMPONENTS`] are copied.
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
    if selected.len() > MAX_COPY_COMPONENTS {
        return Err(SelectionError::TooMany(selected.len()));
    }
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

/// Identifiers from UUIDs. A component id has the console's form (`make_uuid`: 32 lowercase hex
/// characters) but is a time-ordered (version 7) UUID rather than a random one: each new id sorts
/// after the ones before it, so a copy's rows go in at the right edge of every index keyed by
/// `service_id` (the components', ports', variables', volumes', files', labels', dependencies' and
/// credentials') instead of into random leaf pages: on SQLite a copy writes about 40 % fewer bytes
/// (WAL and checkpoints; README, Performance). Its last 6 characters, from which the alias is made,
/// are random.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidRandomness;

impl Randomness for UuidRandomness {
    fn service_id(&mut self) -> String {
        uuid::Uuid::now_v7().simple().to_string()
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
        let service_alias = model::service_alias(&service_id);
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

/// Candidate names already used where the copies go. A backend fills it with the candidates of
/// [`NameCandidates`] that are taken; other names may be left out.
#[derive(Debug, Clone, Default)]
pub struct TakenNames {
    /// `k8s_component_name`s of the target app's components.
    pub component_names: HashSet<String>,
    /// `k8s_service_name` → ids of the components whose ports use it, across the target team.
    pub port_names: HashMap<String, HashSet<String>>,
}

impl TakenNames {
    /// Adds the names `other` found taken.
    pub fn extend(&mut self, other: TakenNames) {
        self.component_names.extend(other.component_names);
        for (name, owners) in other.port_names {
            self.port_names.entry(name).or_default().extend(owners);
        }
    }
}

/// Every name a copy may take, in order of preference, drawn before the plan so that a backend
/// only looks these up. A component keeps its `k8s_component_name`, else takes `<name>-<alias>`,
/// else `<name>-<alias>-2`. A port keeps its service name (the alias when invalid), else takes
/// one of [`PORT_SUFFIX_DRAWS`] random `-xxxx` suffixes, else `-<alias>`. No candidate list
/// grows with the target, and no name is probed one by one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameCandidates {
    /// Per copied component.
    components: Vec<Vec<String>>,
    /// Per copied component, per port.
    ports: Vec<Vec<Vec<String>>>,
}

impl NameCandidates {
    /// The candidates of the copies of `sources` with `identities` (one each).
    pub fn draw(sources: &[ComponentGraph], identities: &[Identity], random: &mut dyn Randomness) -> Self {
        assert_eq!(sources.len(), identities.len(), "one identity per copied component");
        let (components, ports) = sources.iter().zip(identities).map(|(s, i)| Self::of_one(s, i, random)).unzip();
        NameCandidates { components, ports }
    }

    /// Draws again the candidates of the copies at `indices`, whose identities were drawn again.
    pub fn redraw(
        &mut self,
        sources: &[ComponentGraph],
        identities: &[Identity],
        indices: &[usize],
        random: &mut dyn Randomness,
    ) {
        for &index in indices {
            (self.components[index], self.ports[index]) = Self::of_one(&sources[index], &identities[index], random);
        }
    }

    /// The candidates of one copy: its component's, and its ports'.
    fn of_one(
        source: &ComponentGraph,
        identity: &Identity,
        random: &mut dyn Randomness,
    ) -> (Vec<String>, Vec<Vec<String>>) {
        let component = component_name_candidates(&source.component.k8s_component_name, identity);
        let ports = source.ports.iter().map(|port| port_name_candidates(port, identity, random)).collect();
        (component, ports)
    }

    /// The component-name candidates of the copy at `index`.
    pub fn component_names_of(&self, index: usize) -> impl Iterator<Item = &str> {
        self.components[index].iter().map(String::as_str)
    }

    /// The port-service-name candidates of the copy at `index`.
    pub fn port_names_of(&self, index: usize) -> impl Iterator<Item = &str> {
        self.ports[index].iter().flatten().map(String::as_str)
    }
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Every candidate for a name clashed.
    #[error("no free {what} for `{base}`")]
    NamesExhausted {
        /// Which kind of name.
        what: &'static str,
        /// The name it started from.
        base: String,
    },
}

/// Plans the copies of `sources` (in order) with the given `identities` (one each) and the
/// `candidates` drawn for them: the new components and everything copied with them. `taken` holds
/// which candidates are used in the target. Nothing is written.
pub fn plan(
    sources: &[ComponentGraph],
    identities: &[Identity],
    candidates: &NameCandidates,
    target: &Target<'_>,
    taken: &TakenNames,
) -> Result<Vec<ComponentGraph>, PlanError> {
    assert_eq!(sources.len(), identities.len(), "one identity per copied component");
    assert_eq!(sources.len(), candidates.components.len(), "candidates drawn for these sources");
    let new_ids: HashMap<&str, &str> =
        sources.iter().zip(identities).map(|(s, i)| (s.component.service_id.as_str(), i.service_id.as_str())).collect();

    // Pass 1: names of components and ports for the whole batch, so the host-name remap is
    // complete before any value is rewritten.
    let mut batch_components: HashSet<&str> = HashSet::new();
    let mut batch_ports: HashMap<String, String> = HashMap::new();
    let mut remap = HostnameRemap::default();
    let source_names: HashSet<&str> =
        sources.iter().flat_map(|s| &s.ports).map(|p| p.k8s_service_name.as_str()).collect();
    let mut planned = Vec::with_capacity(sources.len());
    for (index, (source, identity)) in sources.iter().zip(identities).enumerate() {
        let k8s_component_name =
            component_name(&candidates.components[index], &taken.component_names, &batch_components)?;
        batch_components.insert(k8s_component_name);
        let k8s_component_name = k8s_component_name.to_owned();
        let mut ports = Vec::with_capacity(source.ports.len());
        for (port, port_candidates) in source.ports.iter().zip(&candidates.ports[index]) {
            let name = port_name(port_candidates, identity, taken, &batch_ports, &source_names)?;
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
                host_path: model::volume_host_path(&target.team.tenant_id, &identity.service_id, &v.volume_path),
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

/// The candidates for a copy's `k8s_component_name`: the source's (the alias when empty), then
/// `<name>-<alias>`, then `<name>-<alias>-2`.
fn component_name_candidates(source_name: &str, identity: &Identity) -> Vec<String> {
    let base = if source_name.is_empty() { identity.service_alias.as_str() } else { source_name };
    let suffixed = |suffix: String| format!("{}{suffix}", truncate(base, MAX_NAME_LEN - suffix.len()));
    vec![
        base.to_owned(),
        suffixed(format!("-{}", identity.service_alias)),
        suffixed(format!("-{}-2", identity.service_alias)),
    ]
}

/// The first candidate the target app and the batch do not use.
fn component_name<'a>(
    candidates: &'a [String],
    taken: &HashSet<String>,
    batch: &HashSet<&str>,
) -> Result<&'a str, PlanError> {
    candidates.iter().map(String::as_str).find(|name| !taken.contains(*name) && !batch.contains(name)).ok_or_else(
        || PlanError::NamesExhausted { what: "component name", base: candidates.first().cloned().unwrap_or_default() },
    )
}

/// The candidates for a copy's `k8s_service_name` of `port`: the source's unless it is invalid
/// (then the new alias), then that name with [`PORT_SUFFIX_DRAWS`] random `-xxxx` suffixes, then
/// with `-<alias>`.
fn port_name_candidates(port: &Port, identity: &Identity, random: &mut dyn Randomness) -> Vec<String> {
    let base = if is_valid_k8s_service_name(&port.k8s_service_name) {
        port.k8s_service_name.as_str()
    } else {
        identity.service_alias.as_str()
    };
    let suffixed = |suffix: String| {
        format!("{}{suffix}", truncate(base, MAX_K8S_SERVICE_NAME_LEN - suffix.len()).trim_end_matches('-'))
    };
    let mut candidates = Vec::with_capacity(PORT_SUFFIX_DRAWS + 2);
    candidates.push(base.to_owned());
    candidates.extend((0..PORT_SUFFIX_DRAWS).map(|_| suffixed(format!("-{}", random.suffix()))));
    candidates.push(suffixed(format!("-{}", identity.service_alias)));
    candidates
}

/// The first candidate that no other component of the target team or of the batch uses (ports of
/// one component may share a name). A new name (any candidate but the first) is never one of
/// `source_names`, the port names of the copied components: a rename then never lands on a name
/// that is itself renamed, so the host-name remap stays idempotent.
fn port_name(
    candidates: &[String],
    identity: &Identity,
    taken: &TakenNames,
    batch: &HashMap<String, String>,
    source_names: &HashSet<&str>,
) -> Result<String, PlanError> {
    let owner = identity.service_id.as_str();
    let clashes = |name: &str| {
        taken.port_names.get(name).is_some_and(|owners| owners.iter().any(|o| o != owner))
            || batch.get(name).is_some_and(|o| o != owner)
    };
    let usable =
        |(index, name): &(usize, &String)| !clashes(name) && (*index == 0 || !source_names.contains(name.as_str()));
    candidates.iter().enumerate().find(usable).map(|(_, name)| name.clone()).ok_or_else(|| PlanError::NamesExhausted {
        what: "port service name",
        base: candidates.first().cloned().unwrap_or_default(),
    })
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

/// Renamed port service names (`old → new`) and the textual rules that carry a rename into
/// configuration values, as the console's `hostname_remap`.
///
/// A value is rewritten in one pass with one map lookup per host position, so the cost of a
/// value does not grow with the number of renames. Unlike the console, which applies the renames
/// one after the other, a host that was renamed is never renamed again by a later rename.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostnameRemap {
    renames: HashMap<String, String>,
}

impl HostnameRemap {
    /// Records `old → new` (the first rename of a name wins).
    pub fn insert(&mut self, old: &str, new: &str) {
        self.renames.entry(old.to_owned()).or_insert_with(|| new.to_owned());
    }

    /// Rewrites `value` (of the variable `env_name`, when it is one): the whole value when the
    /// variable is `HOST`, `*_HOST` or `*_HOSTNAME`; else each host in `://old:`, `://old/`,
    /// `@old:` and `@old/`, a trailing `@old` in a URL, and a leading `old:` in a value without
    /// `://`.
    pub fn apply(&self, env_name: Option<&str>, value: &str) -> String {
        let host_variable = env_name.is_some_and(|n| n == "HOST" || n.ends_with("_HOST") || n.ends_with("_HOSTNAME"));
        if host_variable && let Some(new) = self.renames.get(value) {
            return new.clone();
        }
        if self.renames.is_empty() {
            return value.to_owned();
        }
        let url = value.contains("://");
        let bytes = value.as_bytes();
        let leading = (!url).then_some(0);
        let after_delimiters = (0..bytes.len()).filter_map(|i| match bytes[i] {
            b'@' => Some(i + 1),
            b':' if bytes[i..].starts_with(b"://") => Some(i + 3),
            _ => None,
        });
        let mut out = String::with_capacity(value.len());
        let mut copied = 0;
        for host_start in leading.into_iter().chain(after_delimiters) {
            let host_len = bytes[host_start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'-').count();
            let host_end = host_start + host_len;
            let renamable = match bytes.get(host_end) {
                Some(b':') => true,
                Some(b'/') => host_start > 0,
                None => url && host_start > 0 && bytes[host_start - 1] == b'@',
                Some(_) => false,
            };
            if let Some(new) = self.renames.get(&value[host_start..host_end]).filter(|_| renamable) {
                out.push_str(&value[copied..host_start]);
                out.push_str(new);
                copied = host_end;
            }
        }
        out.push_str(&value[copied..]);
        out
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
pub(crate) mod tests {
    use super::*;

    #[test]
    fn new_component_ids_are_hex_ordered_and_keep_random_alias_tails() {
        let ids: Vec<String> = (0..64).map(|_| UuidRandomness.service_id()).collect();
        for id in &ids {
            assert!(id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{id}");
        }
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "each id sorts after the previous one: {ids:?}");
        let tails: HashSet<&str> = ids.iter().map(|id| &id[26..]).collect();
        assert!(tails.len() > ids.len() - 4, "the alias tails stay random: {ids:?}");
    }

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

    /// A graph of `component` alone, with no attached rows.
    pub(crate) fn graph(component: Component) -> ComponentGraph {
        ComponentGraph {
            component,
            ports: vec![],
            envs: vec![],
            volumes: vec![],
            config_files: vec![],
            labels: vec![],
            dependencies: vec![],
            source_auth: None,
        }
    }

    pub(crate) fn component(id: &str, name: &str) -> Component {
        Component {
            service_id: id.into(),
            service_alias: model::service_alias(id),
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
    fn an_empty_selection_copies_at_most_the_cap() {
        let app: Vec<Component> =
            (0..=MAX_COPY_COMPONENTS).map(|n| component(&format!("{n:032x}"), &format!("c{n}"))).collect();
        assert_eq!(select(&app, &[]).unwrap_err(), SelectionError::TooMany(MAX_COPY_COMPONENTS + 1));
        assert_eq!(select(&app[1..], &[]).unwrap().len(), MAX_COPY_COMPONENTS);
    }

    #[test]
    fn the_cap_is_the_spec_limit_of_services() {
        let spec: serde_json::Value = yaml_serde::from_str(include_str!("../../../openapi.yaml")).unwrap();
        let max_items = &spec["components"]["schemas"]["AppCopyC"]["properties"]["services"]["maxItems"];
        assert_eq!(max_items.as_u64(), Some(MAX_COPY_COMPONENTS as u64));
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

    fn port(name: &str) -> Port {
        Port {
            service_id: "src".into(),
            tenant_id: "t1".into(),
            container_port: 80,
            protocol: "http".into(),
            port_alias: "WEB".into(),
            is_inner_service: true,
            is_outer_service: false,
            k8s_service_name: name.into(),
        }
    }

    fn taken_ports(names: &[&str]) -> TakenNames {
        let port_names = names.iter().map(|n| (n.to_string(), HashSet::from(["src".to_owned()]))).collect();
        TakenNames { port_names, ..TakenNames::default() }
    }

    #[test]
    fn port_names_are_only_suffixed_on_a_clash_and_invalid_ones_take_the_alias() {
        let identity = Identity { service_id: "f".repeat(26) + "123456", service_alias: "gr123456".into() };
        let name = |source: &str, taken: &TakenNames| {
            let candidates = port_name_candidates(&port(source), &identity, &mut Counter(0));
            port_name(&candidates, &identity, taken, &HashMap::new(), &HashSet::new()).unwrap()
        };
        assert_eq!(name("web", &TakenNames::default()), "web");
        assert_eq!(name("Not_Valid", &TakenNames::default()), "gr123456");
        assert_eq!(name("web", &taken_ports(&["web"])), "web-0001");
        let long = "a".repeat(63);
        let renamed = name(&long, &taken_ports(&[&long]));
        assert_eq!(renamed.len(), 63);
        assert!(renamed.ends_with("-0001"));
    }

    #[test]
    fn a_port_name_whose_random_suffixes_all_clash_takes_the_alias() {
        let identity = Identity { service_id: "f".repeat(26) + "123456", service_alias: "gr123456".into() };
        let candidates = port_name_candidates(&port("web"), &identity, &mut Counter(0));
        assert_eq!(candidates.len(), PORT_SUFFIX_DRAWS + 2);
        assert_eq!(candidates.last().unwrap(), "web-gr123456");
        let all_random: Vec<&str> = candidates[..=PORT_SUFFIX_DRAWS].iter().map(String::as_str).collect();
        let taken = taken_ports(&all_random);
        assert_eq!(
            port_name(&candidates, &identity, &taken, &HashMap::new(), &HashSet::new()).unwrap(),
            "web-gr123456"
        );
        // A name another copy of the batch took clashes too.
        let batch = HashMap::from([("web-gr123456".to_owned(), "other".to_owned())]);
        assert_eq!(
            port_name(&candidates, &identity, &taken, &batch, &HashSet::new()).unwrap_err(),
            PlanError::NamesExhausted { what: "port service name", base: "web".into() }
        );
    }

    #[test]
    fn candidates_are_bounded_whatever_the_target_holds() {
        let sources = [ComponentGraph {
            ports: vec![port("web"), port("web")],
            ..graph(component("00000000000000000000000000000001", "web"))
        }];
        let identities = [Identity::fresh(&mut Counter(0))];
        let candidates = NameCandidates::draw(&sources, &identities, &mut Counter(100));
        assert_eq!(candidates.component_names_of(0).count(), 3);
        assert_eq!(candidates.port_names_of(0).count(), 2 * (PORT_SUFFIX_DRAWS + 2));
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
        assert_eq!(remap.apply(Some("ADDR"), "x:db/db:1"), "x:db/db:1", "only a leading host without a scheme");
        assert_eq!(
            remap.apply(Some("URLS"), "http://db:80/,mysql://u@db/x,u@db:1"),
            "http://db-1a2b:80/,mysql://u@db-1a2b/x,u@db-1a2b:1"
        );
    }

    #[test]
    fn a_renamed_host_is_not_renamed_again() {
        let mut remap = HostnameRemap::default();
        remap.insert("db", "db-1a2b");
        remap.insert("db-1a2b", "db-1a2b-9f9f");
        remap.insert("db", "ignored");
        assert_eq!(remap.apply(Some("URL"), "mysql://root@db:3306"), "mysql://root@db-1a2b:3306");
        assert_eq!(remap.apply(Some("DB_HOST"), "db"), "db-1a2b");
        assert_eq!(remap.apply(Some("URL"), "mysql://root@db-1a2b:3306"), "mysql://root@db-1a2b-9f9f:3306");
    }

    #[test]
    fn component_names_are_kept_unless_the_target_app_has_them() {
        let identity = Identity { service_id: "f".repeat(26) + "123456", service_alias: "gr123456".into() };
        let candidates = component_name_candidates("web", &identity);
        let name = |taken: &[&str], batch: &[&str]| {
            let taken = taken.iter().map(|n| n.to_string()).collect();
            component_name(&candidates, &taken, &batch.iter().copied().collect()).map(str::to_owned)
        };
        assert_eq!(name(&[], &[]).unwrap(), "web");
        assert_eq!(name(&["web"], &[]).unwrap(), "web-gr123456");
        assert_eq!(name(&["web"], &["web-gr123456"]).unwrap(), "web-gr123456-2");
        assert!(name(&["web", "web-gr123456"], &["web-gr123456-2"]).is_err());
        assert_eq!(component_name_candidates("", &identity)[0], "gr123456", "an empty name takes the alias");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("组件名称", 2), "组件");
        assert_eq!(truncate("ab", 5), "ab");
    }
}

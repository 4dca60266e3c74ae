//! Property tests of the copy rules (`rainbond_server::copy`) on random component graphs:
//! dependencies (cycles and dangling ones included), ports whose names clash, variables and
//! configuration files that name hosts, volumes.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use rainbond_server::copy::{self, Identity, Randomness, TakenNames, Target, is_valid_k8s_service_name};
use rainbond_server::fixture::{DEMO, Fixture};
use rainbond_server::model::{App, ComponentGraph, ConfigFile, Dependency, EnvVar, Port, Team, Volume};

/// Port service names to draw from: valid ones that clash with each other and with suffixed
/// forms (`-0001` is the first suffix [`Sequence`] hands out), and invalid ones.
const PORT_NAMES: [&str; 7] = ["web", "db", "db-0001", "db-0002", "api-8080", "Not_Valid", ""];
/// How a value can mention a host (`{}` is the host).
const VALUE_SHAPES: [&str; 7] =
    ["{}", "http://{}:8080/v1", "mysql://u:p@{}:3306/x", "redis://u@{}", "{}:3306", "host={}", "no host here"];
const VARIABLE_NAMES: [&str; 4] = ["HOST", "DB_HOST", "DATABASE_URL", "NAME"];

/// Deterministic identifiers; name suffixes count up from `0001`, so that renamed ports clash
/// with the names of [`PORT_NAMES`].
#[derive(Default)]
struct Sequence {
    ids: u64,
    suffixes: u64,
}

impl Randomness for Sequence {
    fn service_id(&mut self) -> String {
        self.ids += 1;
        format!("{:032x}", 0xc0de_0000 + self.ids)
    }

    fn suffix(&mut self) -> String {
        self.suffixes += 1;
        format!("{:04x}", self.suffixes % 0x40)
    }
}

/// A component drawn at random: port names, variables (shape, host, name, port link),
/// dependencies (indices; past the app's end they dangle), volumes with or without a file.
#[derive(Debug, Clone)]
struct ComponentSpec {
    ports: Vec<usize>,
    envs: Vec<(usize, usize, usize, bool)>,
    dependencies: Vec<usize>,
    volumes: Vec<Option<(usize, usize)>>,
}

fn component_spec() -> impl Strategy<Value = ComponentSpec> {
    let name = 0..PORT_NAMES.len();
    (
        prop::collection::vec(name.clone(), 0..3),
        prop::collection::vec((0..VALUE_SHAPES.len(), name.clone(), 0..VARIABLE_NAMES.len(), any::<bool>()), 0..4),
        prop::collection::vec(0usize..8, 0..3),
        prop::collection::vec(prop::option::of((0..VALUE_SHAPES.len(), name)), 0..2),
    )
        .prop_map(|(ports, envs, dependencies, volumes)| ComponentSpec { ports, envs, dependencies, volumes })
}

/// The id of the `index`th component of a built app.
fn component_id(index: usize) -> String {
    format!("{:032x}", 0x5000 + index)
}

/// The index of a built component, from its id.
fn spec_index(service_id: &str) -> usize {
    usize::from_str_radix(service_id, 16).unwrap() - 0x5000
}

/// The app's components built from specs, on the demo's `api` component as a template.
fn build_app(specs: &[ComponentSpec]) -> Vec<ComponentGraph> {
    let template = Fixture::parse(DEMO).unwrap().to_dataset(DEMO).unwrap().components.remove(1).component;
    let id = component_id;
    specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let service_id = id(index);
            let port_number = |p: usize| 8000 + p as i64;
            ComponentGraph {
                component: rainbond_server::model::Component {
                    service_id: service_id.clone(),
                    service_alias: format!("gr{}", &service_id[26..]),
                    service_cname: format!("c{index}"),
                    k8s_component_name: ["web", "api", "c", ""][index % 4].to_owned(),
                    ..template.clone()
                },
                ports: spec
                    .ports
                    .iter()
                    .enumerate()
                    .map(|(p, &name)| Port {
                        service_id: service_id.clone(),
                        tenant_id: template.tenant_id.clone(),
                        container_port: port_number(p),
                        protocol: "http".into(),
                        port_alias: format!("P{p}"),
                        is_inner_service: true,
                        is_outer_service: false,
                        k8s_service_name: PORT_NAMES[name].to_owned(),
                    })
                    .collect(),
                envs: spec
                    .envs
                    .iter()
                    .enumerate()
                    .map(|(e, &(shape, host, name, linked))| EnvVar {
                        service_id: service_id.clone(),
                        tenant_id: template.tenant_id.clone(),
                        container_port: if linked { port_number(e % 3) } else { 0 },
                        name: String::new(),
                        attr_name: VARIABLE_NAMES[name].to_owned(),
                        attr_value: VALUE_SHAPES[shape].replace("{}", PORT_NAMES[host]),
                        is_change: true,
                        scope: "inner".into(),
                    })
                    .collect(),
                volumes: spec
                    .volumes
                    .iter()
                    .enumerate()
                    .map(|(v, _)| Volume {
                        service_id: service_id.clone(),
                        volume_name: format!("v{v}"),
                        volume_path: format!("/data/{v}"),
                        volume_type: "share-file".into(),
                        volume_capacity: 1,
                        access_mode: "RWO".into(),
                        host_path: String::new(),
                    })
                    .collect(),
                config_files: spec
                    .volumes
                    .iter()
                    .enumerate()
                    .filter_map(|(v, file)| {
                        let (shape, host) = (*file)?;
                        Some(ConfigFile {
                            service_id: service_id.clone(),
                            volume_name: format!("v{v}"),
                            file_content: VALUE_SHAPES[shape].replace("{}", PORT_NAMES[host]),
                        })
                    })
                    .collect(),
                labels: Vec::new(),
                dependencies: spec
                    .dependencies
                    .iter()
                    .enumerate()
                    .map(|(d, &target)| Dependency {
                        service_id: service_id.clone(),
                        dep_service_id: id(target),
                        tenant_id: template.tenant_id.clone(),
                        dep_order: d as i64,
                    })
                    .collect(),
                source_auth: None,
            }
        })
        .collect()
}

/// What the target already holds: some component names in the app, some port names in the
/// team (owned by a component that is not copied).
fn taken_names(component_names: &[usize], port_names: &[usize]) -> TakenNames {
    let mut taken = TakenNames::default();
    taken.component_names.extend(component_names.iter().map(|&n| ["web", "api", "c"][n % 3].to_owned()));
    for &name in port_names {
        taken.port_names.entry(PORT_NAMES[name].to_owned()).or_default().insert("f".repeat(32));
    }
    taken
}

/// The renames the copy made: `old → new` for each valid port name that changed, first one wins.
fn renames(sources: &[ComponentGraph], copies: &[ComponentGraph]) -> Vec<(String, String)> {
    let mut renames: Vec<(String, String)> = Vec::new();
    for (source, copy) in sources.iter().zip(copies) {
        for (old, new) in source.ports.iter().zip(&copy.ports) {
            let (old, new) = (&old.k8s_service_name, &new.k8s_service_name);
            if is_valid_k8s_service_name(old) && old != new && !renames.iter().any(|(o, _)| o == old) {
                renames.push((old.clone(), new.clone()));
            }
        }
    }
    renames
}

/// Whether a variable is set from its port's new name rather than remapped.
fn follows_its_port(env: &EnvVar, ports: &[Port]) -> bool {
    env.attr_name.ends_with("_HOST")
        && env.container_port != 0
        && ports.iter().any(|p| p.container_port == env.container_port)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn copies_keep_the_documented_rules(
        specs in prop::collection::vec(component_spec(), 1..6),
        chosen in prop::collection::vec(any::<bool>(), 6),
        taken_components in prop::collection::vec(0usize..3, 0..3),
        taken_ports in prop::collection::vec(0..PORT_NAMES.len(), 0..4),
        same_place in any::<bool>(),
    ) {
        let app_components = build_app(&specs);
        let listed: Vec<_> = app_components.iter().map(|g| g.component.clone()).collect();
        let requested: Vec<String> =
            listed.iter().zip(&chosen).filter(|(_, chosen)| **chosen).map(|(c, _)| c.service_id.clone()).collect();
        let selected = copy::select(&listed, &requested).unwrap();
        let expected_count = if requested.is_empty() { listed.len() } else { requested.len() };
        let sources: Vec<ComponentGraph> = selected
            .iter()
            .map(|c| app_components.iter().find(|g| g.component.service_id == c.service_id).unwrap().clone())
            .collect();
        let before = sources.clone();

        let team = Team { tenant_id: "t".repeat(32), tenant_name: "target".into(), tenant_alias: "T".into(), enterprise_id: "e".into() };
        let app = App { app_id: 9, tenant_id: team.tenant_id.clone(), region_name: "rainbond".into(), app_name: "a".into(), governance_mode: "KUBERNETES_NATIVE_SERVICE".into() };
        let target = Target { team: &team, region: "rainbond", app: &app, creater: 1, now: "2026-01-01 00:00:00", same_team: same_place, same_region: same_place };
        let taken = taken_names(&taken_components, &taken_ports);
        let mut random = Sequence::default();
        let identities: Vec<Identity> = (0..sources.len()).map(|_| Identity::fresh(&mut random)).collect();
        prop_assert!(copy::clashing_identities(&identities, &HashSet::new()).is_empty());
        let candidates = copy::NameCandidates::draw(&sources, &identities, &mut random);
        let copies = copy::plan(&sources, &identities, &candidates, &target, &taken).unwrap();

        // As many copies as components selected; nothing of the source changed.
        prop_assert_eq!(copies.len(), expected_count);
        prop_assert_eq!(&sources, &before);

        // Dependencies: on a copied component, the copy; on another, kept only in the same
        // team and region; none is lost otherwise.
        let new_ids: HashMap<&str, &str> = sources.iter().zip(&copies)
            .map(|(s, c)| (s.component.service_id.as_str(), c.component.service_id.as_str())).collect();
        for (source, copy) in sources.iter().zip(&copies) {
            let expected: Vec<String> = source.dependencies.iter().filter_map(|d| match new_ids.get(d.dep_service_id.as_str()) {
                Some(new) => Some((*new).to_owned()),
                None if same_place => Some(d.dep_service_id.clone()),
                None => None,
            }).collect();
            let actual: Vec<String> = copy.dependencies.iter().map(|d| d.dep_service_id.clone()).collect();
            prop_assert_eq!(actual, expected);
        }

        // Uniqueness: component names in the app, port names in the team (across components).
        let mut names = taken.component_names.clone();
        for copy in &copies {
            prop_assert!(names.insert(copy.component.k8s_component_name.clone()), "component name {} repeats", copy.component.k8s_component_name);
        }
        let mut port_owner: HashMap<&str, &str> = HashMap::new();
        for copy in &copies {
            for port in &copy.ports {
                prop_assert!(is_valid_k8s_service_name(&port.k8s_service_name), "{}", port.k8s_service_name);
                prop_assert!(!taken.port_names.contains_key(&port.k8s_service_name), "{} is taken in the team", port.k8s_service_name);
                let owner = port_owner.entry(port.k8s_service_name.as_str()).or_insert(copy.component.service_id.as_str());
                prop_assert_eq!(*owner, copy.component.service_id.as_str(), "{} is used by two copies", port.k8s_service_name);
            }
        }

        // Host names: a value that names a renamed port (in a form the console rewrites) names
        // its new name, in one step; every other value is untouched; remapping the copied
        // values again changes nothing.
        let renames = renames(&sources, &copies);
        let renamed = |host: &str| renames.iter().find(|(old, _)| old == host).map_or(host.to_owned(), |(_, new)| new.clone());
        let expected = |shape: usize, host: usize, host_variable: bool| {
            let rewritten = (1..=4).contains(&shape) || (shape == 0 && host_variable);
            let host = PORT_NAMES[host];
            VALUE_SHAPES[shape].replace("{}", &if rewritten { renamed(host) } else { host.to_owned() })
        };
        let mut remap = copy::HostnameRemap::default();
        for (old, new) in &renames {
            remap.insert(old, new);
        }
        for (source, copy) in sources.iter().zip(&copies) {
            let spec = &specs[spec_index(&source.component.service_id)];
            for ((before, after), &(shape, host, _, _)) in source.envs.iter().zip(&copy.envs).zip(&spec.envs) {
                if follows_its_port(before, &copy.ports) {
                    continue;
                }
                let host_variable = before.attr_name == "HOST" || before.attr_name.ends_with("_HOST");
                prop_assert_eq!(&after.attr_value, &expected(shape, host, host_variable), "{} = {}", before.attr_name, before.attr_value);
                prop_assert_eq!(remap.apply(Some(&after.attr_name), &after.attr_value), after.attr_value.clone(), "remapping twice");
            }
            let files = spec.volumes.iter().flatten();
            for ((before, after), &(shape, host)) in source.config_files.iter().zip(&copy.config_files).zip(files) {
                prop_assert_eq!(&after.file_content, &expected(shape, host, false), "file {}", before.file_content);
                prop_assert_eq!(remap.apply(None, &after.file_content), after.file_content.clone(), "remapping twice");
            }
        }
    }

    #[test]
    fn clashing_identities_are_exactly_the_taken_or_repeated_aliases(
        aliases in prop::collection::vec(0u8..6, 0..8),
        taken in prop::collection::hash_set(0u8..6, 0..4),
    ) {
        let identities: Vec<Identity> = aliases.iter().map(|a| Identity { service_id: format!("{a:032}"), service_alias: format!("gr{a:06}") }).collect();
        let taken: HashSet<String> = taken.iter().map(|a| format!("gr{a:06}")).collect();
        let clashes = copy::clashing_identities(&identities, &taken);
        let mut seen = HashSet::new();
        let expected: Vec<usize> = identities.iter().enumerate()
            .filter(|(_, i)| { let first = seen.insert(i.service_alias.clone()); taken.contains(&i.service_alias) || !first })
            .map(|(index, _)| index).collect();
        prop_assert_eq!(clashes, expected);
    }
}

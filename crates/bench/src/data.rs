//! The benchmark's data set: the demo fixture plus empty target apps and generated source apps,
//! written as a fixture file and loaded with `rainbond-server seed` (so any backend can take it).

use std::path::Path;

use anyhow::Context;
use rainbond_server::fixture::DEMO;
use serde_json::{Value, json};

/// The demo's admin access key.
pub const ADMIN_KEY: &str = "rbd-demo-admin";
/// The demo team everything is copied within.
pub const TEAM: &str = "o19p6wen";
/// The demo region.
pub const REGION: &str = "rainbond";
/// The demo's "shop" app: 3 components.
pub const SHOP_APP: i32 = 1;

/// First id of the target apps of the throughput runs.
const THROUGHPUT_TARGETS_FROM: i32 = 1000;
/// The app that receives every copy of the growth run.
pub const GROWTH_TARGET: i32 = 2000;
/// First id of the generated source apps (one per size).
const SOURCES_FROM: i32 = 3000;
/// First id of the target apps of the size runs.
const SIZE_TARGETS_FROM: i32 = 4000;
/// First id of the target apps in the [`SPREAD_TEAMS`] extra teams.
const SPREAD_TARGETS_FROM: i32 = 5000;
/// Extra teams (the demo admin a member of each) that the spread runs copy into, round robin.
pub const SPREAD_TEAMS: usize = 8;

/// Where the benchmark copies from and to.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Empty apps the throughput runs copy into, round robin.
    pub throughput_targets: Vec<i32>,
    /// `(components, source app, one empty target app per repetition)`.
    pub sizes: Vec<(usize, i32, Vec<i32>)>,
    /// `(team name, empty app)` the spread runs copy into: as many as `throughput_targets`,
    /// round robin over [`SPREAD_TEAMS`] teams.
    pub spread_targets: Vec<(String, i32)>,
}

impl Layout {
    /// `targets` throughput target apps; one source app per size with `reps` target apps each.
    pub fn new(targets: usize, sizes: &[usize], reps: usize) -> Layout {
        let mut next_target = SIZE_TARGETS_FROM;
        let sizes = sizes
            .iter()
            .enumerate()
            .map(|(index, &size)| {
                let targets: Vec<i32> = (next_target..).take(reps).collect();
                next_target += reps as i32;
                (size, SOURCES_FROM + index as i32, targets)
            })
            .collect();
        let spread_targets =
            (0..targets).map(|index| (spread_team(index % SPREAD_TEAMS), SPREAD_TARGETS_FROM + index as i32)).collect();
        Layout { throughput_targets: (THROUGHPUT_TARGETS_FROM..).take(targets).collect(), sizes, spread_targets }
    }

    /// The fixture: the demo data plus this layout's apps.
    pub fn fixture(&self) -> anyhow::Result<Value> {
        let mut fixture: Value = yaml_serde::from_str(DEMO).context("reading the demo fixture")?;
        fixture["name"] = json!("bench");
        let teams = fixture["teams"].as_array_mut().context("the demo fixture has no teams")?;
        for index in 0..SPREAD_TEAMS {
            teams.push(json!({
                "tenant_id": format!("be7ea{index:027x}"),
                "tenant_name": spread_team(index),
                "tenant_alias": format!("bench team {index}"),
                "members": ["admin"],
                "regions": [REGION],
            }));
        }
        let apps = fixture["apps"].as_array_mut().context("the demo fixture has no apps")?;
        let empty =
            |app_id: i32, name: String| json!({"app_id": app_id, "app_name": name, "team": TEAM, "region": REGION});
        for &app_id in &self.throughput_targets {
            apps.push(empty(app_id, format!("bench-target-{app_id}")));
        }
        apps.push(empty(GROWTH_TARGET, "bench-growth".to_owned()));
        for (team, app_id) in &self.spread_targets {
            apps.push(
                json!({"app_id": app_id, "app_name": format!("bench-spread-{app_id}"), "team": team, "region": REGION}),
            );
        }
        for (size, source, targets) in &self.sizes {
            let mut app = empty(*source, format!("bench-source-{size}"));
            app["components"] = Value::Array((0..*size).map(|index| component(*size, index)).collect());
            apps.push(app);
            for &target in targets {
                apps.push(empty(target, format!("bench-size-{size}-target-{target}")));
            }
        }
        Ok(fixture)
    }

    /// Writes the fixture to `path` (JSON, which is YAML).
    pub fn write_fixture(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string(&self.fixture()?).expect("JSON values serialize");
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// The name of extra team `index`.
fn spread_team(index: usize) -> String {
    format!("benchteam{index}")
}

/// Component `index` of the generated app of `size` components: a port, variables naming the
/// previous component's port service (a host variable, a URL, a port variable), a data volume, a
/// configuration file naming the previous component, and a dependency on it.
fn component(size: usize, index: usize) -> Value {
    let name = |index: usize| format!("s{size}-c{index}");
    let previous = name(index.saturating_sub(1));
    let mut component = json!({
        // The alias is `gr` + the id's last 6 hex digits: `size + index` keeps them apart across sizes.
        "service_id": format!("be{size:06x}{:024x}", size + index),
        "service_cname": name(index),
        "k8s_component_name": name(index),
        "service_source": "docker_image",
        "image": "images.example.com/bench/component:1.0",
        "version": "1.0",
        "code_from": "image_manual",
        "extend_method": "stateless",
        "ports": [{
            "container_port": 8080,
            "protocol": "http",
            "port_alias": format!("P{index}"),
            "inner": true,
            "k8s_service_name": format!("{}-8080", name(index)),
        }],
        "envs": [
            {"attr_name": "UPSTREAM_HOST", "attr_value": format!("{previous}-8080")},
            {"attr_name": "UPSTREAM_URL", "attr_value": format!("http://{previous}-8080:8080/v1")},
            {"attr_name": "PORT_8080_HOST", "attr_value": format!("{}-8080", name(index)),
             "container_port": 8080, "scope": "outer"},
        ],
        "volumes": [
            {"volume_name": "data", "volume_path": "/data", "volume_type": "share-file", "volume_capacity": 1},
            {"volume_name": "config", "volume_path": "/etc/app/app.conf",
             "file_content": format!("upstream = http://{previous}-8080:8080\n")},
        ],
    });
    if index > 0 {
        component["depends_on"] = json!([previous]);
    }
    component
}

#[cfg(test)]
mod tests {
    use rainbond_server::fixture::Fixture;

    use super::*;

    #[test]
    fn the_fixture_is_a_valid_fixture_with_every_app() {
        let layout = Layout::new(4, &[1, 10], 3);
        let text = serde_json::to_string(&layout.fixture().unwrap()).unwrap();
        let data = Fixture::parse(&text).unwrap().to_dataset(&text).unwrap();
        // The demo's 5 apps, 4 throughput targets, the growth target, 2 sources with 3 targets each,
        // 4 spread targets.
        assert_eq!(data.apps.len(), 5 + 4 + 1 + 2 * 4 + 4);
        assert_eq!(data.teams.len(), 2 + SPREAD_TEAMS);
        let spread_teams: std::collections::HashSet<_> = layout.spread_targets.iter().map(|(team, _)| team).collect();
        assert_eq!(spread_teams.len(), 4, "the targets go round robin over the teams");
        let generated: Vec<_> = data.components.iter().filter(|c| c.component.app_id == layout.sizes[1].1).collect();
        assert_eq!(generated.len(), 10);
        assert!(generated.iter().all(|c| c.ports.len() == 1 && c.envs.len() == 3 && c.config_files.len() == 1));
        assert_eq!(generated.iter().map(|c| c.dependencies.len()).sum::<usize>(), 9);
    }
}

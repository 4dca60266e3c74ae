//! Figures, their ratios and targets, the stdout table and `report.json`.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::stats::Spread;

/// A figure over repetitions, with what it is compared to.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Which part of the benchmark.
    pub section: &'static str,
    /// What was measured.
    pub name: String,
    /// The unit of the median and spread.
    pub unit: &'static str,
    /// Median and spread of the repetitions.
    #[serde(flatten)]
    pub value: Spread,
    /// The median divided by the medians of ceilings or baselines measured in the same run.
    pub ratios: Vec<Ratio>,
    /// The goal and whether the median meets it.
    pub target: Option<Goal>,
}

/// A ratio to a ceiling or baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// What the figure is divided by.
    pub to: String,
    /// The ratio of the medians.
    pub value: f64,
}

/// A goal, written out, and whether it is met.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    /// The goal, e.g. `≥ 0.60 of the storage ceiling`.
    pub text: String,
    /// Whether the median meets it.
    pub met: bool,
}

impl Figure {
    /// A figure with no ratio and no target.
    pub fn new(section: &'static str, name: impl Into<String>, unit: &'static str, value: Spread) -> Figure {
        Figure { section, name: name.into(), unit, value, ratios: Vec::new(), target: None }
    }

    /// Adds the ratio of this figure's median to `baseline`'s.
    pub fn ratio_to(mut self, to: impl Into<String>, baseline: Spread) -> Figure {
        self.ratios.push(Ratio { to: to.into(), value: self.value.median / baseline.median });
        self
    }

    /// Adds the ratio of this figure's median to a fixed budget (for figures without a ceiling).
    pub fn share_of(mut self, budget: f64) -> Figure {
        let to = format!("{} {} budget", number(budget), self.unit);
        self.ratios.push(Ratio { to, value: self.value.median / budget });
        self
    }

    /// Adds a goal on the median: at most `limit`.
    pub fn at_most(mut self, limit: f64) -> Figure {
        self.target =
            Some(Goal { text: format!("≤ {} {}", number(limit), self.unit), met: self.value.median <= limit });
        self
    }

    /// Adds a goal on the last ratio: at least `limit`.
    pub fn ratio_at_least(mut self, limit: f64) -> Figure {
        let ratio = self.ratios.last().expect("a ratio goal needs a ratio");
        let text = format!("≥ {limit:.2} of {}", ratio.to);
        self.target = Some(Goal { text, met: ratio.value >= limit });
        self
    }

    /// Adds a goal on the last ratio: at most `limit`.
    pub fn ratio_at_most(mut self, limit: f64) -> Figure {
        let ratio = self.ratios.last().expect("a ratio goal needs a ratio");
        let text = format!("≤ {limit:.2} of {}", ratio.to);
        self.target = Some(Goal { text, met: ratio.value <= limit });
        self
    }
}

/// The machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs available.
    pub cores: usize,
    /// The CPU model (`/proc/cpuinfo`).
    pub model: String,
    /// The operating system.
    pub os: &'static str,
}

impl Machine {
    /// This machine.
    pub fn this() -> Machine {
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
        Machine { cores, model, os: std::env::consts::OS }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `git rev-parse HEAD` (with `-dirty` when the tree has changes).
    pub commit: String,
    /// Where it ran.
    pub machine: Machine,
    /// The database the server used (`sqlite` or `postgres`).
    pub backend: String,
    /// The numbers of server instances the throughput figures were measured with (on one database).
    pub instances: Vec<usize>,
    /// Whether this was `--quick` (a harness check: figures are not comparable).
    pub quick: bool,
    /// The build profile of the server.
    pub profile: String,
    /// Every figure.
    pub figures: Vec<Figure>,
}

impl Report {
    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("the report serializes");
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    /// The table printed on stdout.
    pub fn table(&self) -> String {
        let header = ["section", "figure", "median", "min–max", "ratio", "target"];
        let rows: Vec<[String; 6]> = self.figures.iter().map(row).collect();
        let mut widths = header.map(|h| h.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 6]| {
            let padded: Vec<String> = cells.iter().zip(widths).map(|(cell, width)| pad(cell, width)).collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        };
        let mut table = line(header);
        for row in &rows {
            table += &line(row.each_ref().map(String::as_str));
        }
        table
    }
}

fn row(figure: &Figure) -> [String; 6] {
    let unit = figure.unit;
    let ratio: Vec<String> = figure.ratios.iter().map(|r| format!("{:.2} of {}", r.value, r.to)).collect();
    let ratio = ratio.join("; ");
    let target = figure
        .target
        .as_ref()
        .map(|goal| format!("{}: {}", goal.text, if goal.met { "met" } else { "MISSED" }))
        .unwrap_or_default();
    [
        figure.section.to_owned(),
        figure.name.clone(),
        format!("{} {unit}", number(figure.value.median)),
        format!("{}–{}", number(figure.value.min), number(figure.value.max)),
        ratio,
        target,
    ]
}

/// A number with three significant digits (no exponent).
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

fn pad(cell: &str, width: usize) -> String {
    format!("{cell}{}", " ".repeat(width.saturating_sub(cell.chars().count())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_compare_the_median_or_the_ratio() {
        let ceiling = Spread::of(&[1000.0, 900.0, 1100.0]);
        let rate = Figure::new("copy", "copies/s", "/s", Spread::of(&[500.0, 700.0, 650.0]));
        let rate = rate.ratio_to("storage", ceiling).ratio_at_least(0.6);
        assert_eq!(rate.ratios[0].value, 0.65);
        assert!(rate.target.as_ref().unwrap().met);
        let p99 = Figure::new("copy", "p99", "ms", Spread::of(&[25.0, 19.0, 30.0])).at_most(20.0);
        assert!(!p99.target.as_ref().unwrap().met);
        let report = Report {
            commit: "abc".into(),
            machine: Machine { cores: 2, model: "cpu".into(), os: "linux" },
            backend: "sqlite".into(),
            instances: vec![1],
            quick: true,
            profile: "release".into(),
            figures: vec![rate, p99],
        };
        let table = report.table();
        assert!(table.contains("0.65 of storage"), "{table}");
        assert!(table.contains("≤ 20.0 ms: MISSED"), "{table}");
    }
}

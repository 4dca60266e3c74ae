//! What a team pays on every spec change: the wall time (and peak memory) of codegen and the
//! contract checks once built, and the incremental rebuild of the client and of the crate holding
//! the generated API after a one-property spec edit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::process::{Measured, measure};

/// The spec, relative to the workspace root.
const SPEC: &str = "openapi.yaml";
/// The schema the edit adds a property to, and the property.
const EDITED_SCHEMA: &str = "    AppCopyC:\n";
const ADDED_PROPERTY: &str =
    "        bench_note:\n          type: string\n          description: Added and removed again by the benchmark.\n";

/// The programs the tooling figures run.
pub struct Tools {
    /// The workspace root.
    pub root: PathBuf,
    /// The built xtask binary (`cargo xtask` without cargo's own start-up).
    pub xtask: PathBuf,
    /// The built `rainbond-check`.
    pub check: PathBuf,
    /// The cargo to rebuild with.
    pub cargo: PathBuf,
}

/// One command of the tooling figures.
pub struct ToolCommand {
    /// How the report names it.
    pub name: &'static str,
    program: fn(&Tools) -> &Path,
    args: &'static [&'static str],
}

/// The commands timed, in order.
pub const COMMANDS: [ToolCommand; 4] = [
    ToolCommand { name: "codegen", program: |t| &t.xtask, args: &["codegen"] },
    ToolCommand { name: "codegen --check", program: |t| &t.xtask, args: &["codegen", "--check"] },
    ToolCommand { name: "check", program: |t| &t.check, args: &["check"] },
    ToolCommand { name: "diff --base HEAD", program: |t| &t.check, args: &["diff", "--base", "HEAD"] },
];

impl Tools {
    /// Runs one command from the workspace root and measures it.
    pub fn measure(&self, command: &ToolCommand) -> anyhow::Result<Measured> {
        let mut process = Command::new((command.program)(self));
        process.args(command.args).current_dir(&self.root);
        measure(&mut process, &[0]).with_context(|| format!("timing `{}`", command.name))
    }

    /// The package that holds the generated server half.
    pub fn api_package(&self) -> &'static str {
        if self.root.join("crates/api/Cargo.toml").exists() { "rainbond-api" } else { "rainbond-server" }
    }

    /// Incremental rebuild times, in seconds, of the client and of [`Tools::api_package`] after
    /// each of `reps` one-property spec edits (adding the property, then removing it, and so on).
    /// The spec and the generated files are restored, and rebuilt, before returning (also on failure).
    pub fn rebuild_seconds(&self, reps: usize) -> anyhow::Result<Vec<(f64, f64)>> {
        let spec_path = self.root.join(SPEC);
        let original = std::fs::read_to_string(&spec_path).with_context(|| format!("reading {SPEC}"))?;
        let edited = with_added_property(&original)?;
        let packages = ["rainbond-client", self.api_package()];
        for package in packages {
            self.cargo_build(package)?;
        }
        let measured = (0..reps)
            .map(|rep| {
                let text = if rep % 2 == 0 { &edited } else { &original };
                std::fs::write(&spec_path, text).with_context(|| format!("writing {SPEC}"))?;
                self.codegen()?;
                Ok((self.cargo_build(packages[0])?, self.cargo_build(packages[1])?))
            })
            .collect::<anyhow::Result<Vec<_>>>();
        std::fs::write(&spec_path, &original).with_context(|| format!("restoring {SPEC}"))?;
        self.codegen()?;
        for package in packages {
            self.cargo_build(package)?;
        }
        measured
    }

    /// The scale test's two timings, in seconds: generating a spec of 200 operations and 401
    /// schemas, and building the API crate generated from it (its dependencies already built).
    /// The test prints them (`scale: … generated in X s`, `scale: the API crate built in Y s`).
    pub fn scale_seconds(&self) -> anyhow::Result<(f64, f64)> {
        let output = Command::new(&self.cargo)
            .args(["test", "--quiet", "-p", "rainbond-codegen", "--test", "scale", "--", "--nocapture"])
            .current_dir(&self.root)
            .output()
            .context("running the codegen scale test")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("the codegen scale test failed:\n{text}{}", String::from_utf8_lossy(&output.stderr));
        }
        let seconds = |marker: &str| -> anyhow::Result<f64> {
            let line = text
                .lines()
                .find(|line| line.contains(marker))
                .with_context(|| format!("no `{marker}` in:\n{text}"))?;
            let number =
                line[line.find(marker).expect("found") + marker.len()..].split_whitespace().next().unwrap_or("");
            number.parse().with_context(|| format!("reading the seconds in `{line}`"))
        };
        Ok((seconds("generated in ")?, seconds("built in ")?))
    }

    fn codegen(&self) -> anyhow::Result<()> {
        self.measure(&COMMANDS[0]).map(|_| ())
    }

    /// `cargo build -p PACKAGE` (dev profile); its wall time in seconds.
    fn cargo_build(&self, package: &str) -> anyhow::Result<f64> {
        let started = Instant::now();
        let status = Command::new(&self.cargo)
            .args(["build", "--quiet", "-p", package])
            .current_dir(&self.root)
            .status()
            .with_context(|| format!("running cargo build -p {package}"))?;
        if !status.success() {
            bail!("`cargo build -p {package}` failed ({status})");
        }
        Ok(started.elapsed().as_secs_f64())
    }
}

/// The spec with [`ADDED_PROPERTY`] as the first property of [`EDITED_SCHEMA`].
fn with_added_property(spec: &str) -> anyhow::Result<String> {
    let schema = spec.find(EDITED_SCHEMA).with_context(|| format!("{SPEC} has no {}", EDITED_SCHEMA.trim()))?;
    let properties = "      properties:\n";
    let at =
        spec[schema..].find(properties).context("the edited schema has no properties")? + schema + properties.len();
    Ok(format!("{}{ADDED_PROPERTY}{}", &spec[..at], &spec[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edit_adds_one_property_to_the_schema() {
        let spec = "    Other:\n      properties:\n        a: {}\n    AppCopyC:\n      type: object\n      properties:\n        services: {}\n";
        let edited = with_added_property(spec).unwrap();
        assert_eq!(edited.replace(ADDED_PROPERTY, ""), spec);
        assert!(edited.contains(&format!("    AppCopyC:\n      type: object\n      properties:\n{ADDED_PROPERTY}")));
        assert!(with_added_property("    Other:\n").is_err());
    }
}

//! Running the xtask built from this checkout.
//!
//! `cargo xtask` runs the xtask binary cargo finds fresh in the target directory. Checkouts that
//! share one target directory share that binary too (cargo gives their crates one identity and
//! judges freshness by file times), so the binary running may have been built from another
//! checkout's sources. Before anything else, xtask compares the digest of the sources it was
//! built from (baked in by `build.rs`) with this checkout's: where they differ, it builds this
//! checkout's xtask in a folder of the checkout's own and runs that one with the same arguments.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::sources::sources_digest;

/// The digest of the sources this binary was built from.
const BUILT_FROM: &str = env!("XTASK_SOURCES_DIGEST");

/// Set on the xtask run in place of another checkout's, so that it never hands over again.
const HANDED_OVER: &str = "RAINBOND_XTASK_OWN_BUILD";

/// `None` when this binary was built from this checkout's sources; else runs this checkout's own
/// build with the same arguments and gives its exit code.
pub fn run_own_build_if_foreign() -> anyhow::Result<Option<ExitCode>> {
    let root = crate::workspace::root()?;
    let digest = sources_digest(&root).map(|digest| format!("{digest:016x}"));
    if std::env::var_os(HANDED_OVER).is_some() || digest.as_deref() == Some(BUILT_FROM) {
        return Ok(None);
    }
    let target = crate::workspace::target_dir()?.join("xtask-own");
    eprintln!(
        "xtask: this binary was built from other sources (another checkout sharing the target directory); \
         building this checkout's xtask in {}",
        target.display()
    );
    let status = crate::workspace::cargo()?
        .args(["build", "--quiet", "--package", "xtask", "--target-dir"])
        .arg(&target)
        .status()
        .context("running cargo build --package xtask")?;
    if !status.success() {
        bail!("building this checkout's xtask failed");
    }
    let binary = target.join("debug").join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
    let arguments: Vec<OsString> = std::env::args_os().skip(1).collect();
    let status = Command::new(&binary)
        .args(arguments)
        .env(HANDED_OVER, "1")
        .status()
        .with_context(|| format!("running {}", binary.display()))?;
    Ok(Some(ExitCode::from(status.code().and_then(|code| u8::try_from(code).ok()).unwrap_or(crate::EXIT_FAILURE))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const TREE: &[(&str, &str)] = &[
        ("xtask/src/main.rs", "fn main() {}"),
        ("crates/codegen/src/lib.rs", "//! codegen"),
        ("Cargo.toml", "[workspace]"),
        ("Cargo.lock", "version = 4"),
        ("openapi.yaml", "openapi: 3.0.3"),
    ];

    #[test]
    fn the_digest_follows_the_xtask_sources_and_nothing_else() {
        let (base, same) = (tree(TREE), tree(TREE));
        let digest = sources_digest(base.path()).expect("readable");
        assert_eq!(sources_digest(same.path()), Some(digest), "another checkout of the same sources");
        // The spec and build output are read at run time, not built in.
        std::fs::write(same.path().join("openapi.yaml"), "openapi: 3.0.0").unwrap();
        std::fs::create_dir_all(same.path().join("xtask/target")).unwrap();
        std::fs::write(same.path().join("xtask/target/x"), "").unwrap();
        assert_eq!(sources_digest(same.path()), Some(digest));

        let edited = tree(TREE);
        std::fs::write(edited.path().join("crates/codegen/src/lib.rs"), "//! edited").unwrap();
        assert_ne!(sources_digest(edited.path()), Some(digest));
        let grown = tree(TREE);
        std::fs::write(grown.path().join("xtask/src/extra.rs"), "").unwrap();
        assert_ne!(sources_digest(grown.path()), Some(digest));
        assert_eq!(sources_digest(&base.path().join("gone")), None);
    }

    #[test]
    fn this_binary_is_this_checkouts_own_build() {
        let root = crate::workspace::root().unwrap();
        assert_eq!(sources_digest(&root).map(|d| format!("{d:016x}")).as_deref(), Some(BUILT_FROM));
    }
}

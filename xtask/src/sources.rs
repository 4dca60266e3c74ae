//! A stable digest of the sources the xtask binary is built from, shared with `build.rs` (which
//! bakes the digest of the tree it builds into the binary, see `own_build.rs`).

use std::path::{Path, PathBuf};

/// What the xtask binary is built from, relative to the workspace root.
pub const SOURCES: &[&str] = &["xtask", "crates/codegen", "Cargo.toml", "Cargo.lock"];

/// The start of a 64-bit FNV-1a digest.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// `hash` (a 64-bit FNV-1a digest so far) extended with `bytes`: stable across builds and
/// platforms.
pub fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The digest of [`SOURCES`] under `root`: every file's path and bytes, in path order (build
/// output aside). `None` when one cannot be read.
pub fn sources_digest(root: &Path) -> Option<u64> {
    let mut hash = FNV_START;
    for source in SOURCES {
        let base = root.join(source);
        for relative in files_below(&base)? {
            let file = if relative.as_os_str().is_empty() { base.clone() } else { base.join(&relative) };
            let bytes = std::fs::read(file).ok()?;
            hash = fnv1a(hash, source.as_bytes());
            hash = fnv1a(hash, relative.to_string_lossy().as_bytes());
            hash = fnv1a(hash, &(bytes.len() as u64).to_le_bytes());
            hash = fnv1a(hash, &bytes);
        }
    }
    Some(hash)
}

/// The files below `path` (itself, when it is a file), relative to it and sorted; `target`
/// folders are skipped.
fn files_below(path: &Path) -> Option<Vec<PathBuf>> {
    if std::fs::metadata(path).ok()?.is_file() {
        return Some(vec![PathBuf::new()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in std::fs::read_dir(path.join(&relative)).ok()? {
            let entry = entry.ok()?;
            if entry.file_name() == "target" {
                continue;
            }
            let name = relative.join(entry.file_name());
            if entry.file_type().ok()?.is_dir() {
                pending.push(name);
            } else {
                files.push(name);
            }
        }
    }
    files.sort();
    Some(files)
}

//! Reading the spec at a git revision.

use std::path::Path;
use std::process::Command;

use crate::Error;

/// The contents of `file` at `revision` (`git show REV:./file`, run in the file's folder).
///
/// A revision this clone does not have, as in a shallow CI clone without history, is
/// [`Error::MissingRevision`], which says so and how to fetch it.
pub fn file_at_revision(revision: &str, file: &Path) -> Result<String, Error> {
    let directory = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let commit = format!("{revision}^{{commit}}");
    if git(directory, &["rev-parse", "--verify", "--quiet", &commit]).is_err() {
        // Distinguish "not a repository" from "no such revision here".
        git(directory, &["rev-parse", "--git-dir"])?;
        let shallow = git(directory, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|out| out.trim() == "true");
        return Err(Error::MissingRevision { revision: revision.to_owned(), shallow });
    }
    git(directory, &["show", &format!("{revision}:./{name}")])
}

fn git(directory: &Path, args: &[&str]) -> Result<String, Error> {
    let failed = |message: String| Error::Git { command: args.join(" "), message };
    let output = Command::new("git")
        .args(args)
        .current_dir(directory)
        .output()
        .map_err(|e| failed(format!("cannot run git: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        return Err(failed(if stderr.is_empty() { format!("exited with {}", output.status) } else { stderr }));
    }
    String::from_utf8(output.stdout).map_err(|e| failed(format!("output is not UTF-8: {e}")))
}

//! `--delete-leftover-dirs`: base-directory entries that no builder of this worker uses.

use std::collections::HashSet;
use std::path::Path;

/// Directories of the base directory that are neither `info` nor a builder directory the
/// master named: removed when `delete` is set, otherwise logged for the administrator.
pub(super) fn handle(basedir: &Path, builder_dirs: &[String], delete: bool) {
    let keep: HashSet<&str> = builder_dirs
        .iter()
        .filter_map(|d| d.split('/').find(|part| !part.is_empty()))
        .chain(["info"])
        .collect();
    let entries = match std::fs::read_dir(basedir) {
        Ok(entries) => entries,
        Err(error) => {
            tracing::warn!(basedir = %basedir.display(), %error, "cannot list the base directory");
            return;
        }
    };
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_dir || keep.contains(name) {
            continue;
        }
        let path = entry.path();
        if !delete {
            tracing::warn!(dir = %path.display(), "leftover directory no builder of this worker uses; remove it, or start the worker with --delete-leftover-dirs");
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => tracing::info!(dir = %path.display(), "removed leftover directory"),
            Err(error) => {
                tracing::warn!(dir = %path.display(), %error, "cannot remove leftover directory")
            }
        }
    }
}

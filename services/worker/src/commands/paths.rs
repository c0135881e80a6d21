//! Paths the master sends, resolved inside the worker's base directory.

use std::path::{Component, Path, PathBuf};

/// Resolves `requested` (relative to `basedir`, or absolute inside it) without touching the
/// disk; `..` that would leave the base directory and absolute paths elsewhere are refused.
///
/// The check is lexical: a symlink inside the base directory that points elsewhere is followed,
/// as Buildbot follows it; what is refused is a master naming a path outside.
pub(crate) fn resolve(basedir: &Path, requested: &str) -> Result<PathBuf, String> {
    let base = normalize(basedir).ok_or_else(|| {
        format!(
            "the worker's base directory {} is not a plain path",
            basedir.display()
        )
    })?;
    let requested_path = Path::new(requested);
    let joined = if requested_path.is_absolute() {
        requested_path.to_path_buf()
    } else {
        base.join(requested_path)
    };
    match normalize(&joined) {
        Some(resolved) if resolved.starts_with(&base) => Ok(resolved),
        _ => Err(format!(
            "refusing path {requested:?}: it is outside the worker's base directory {}",
            base.display()
        )),
    }
}

/// Removes `.` and resolves `..` lexically; `None` when `..` climbs above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) => return None,
            Component::RootDir => out.push(Component::RootDir.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() || out.as_os_str().is_empty() {
                    return None;
                }
            }
            Component::Normal(part) => out.push(part),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/srv/worker";

    #[test]
    fn relative_paths_land_inside_the_base_directory() {
        let base = Path::new(BASE);
        assert_eq!(
            resolve(base, "build/src"),
            Ok(PathBuf::from("/srv/worker/build/src"))
        );
        assert_eq!(
            resolve(base, "./build/../other"),
            Ok(PathBuf::from("/srv/worker/other"))
        );
        assert_eq!(resolve(base, ""), Ok(PathBuf::from(BASE)));
        assert_eq!(
            resolve(base, "/srv/worker/b"),
            Ok(PathBuf::from("/srv/worker/b"))
        );
    }

    #[test]
    fn escapes_are_refused_with_the_path_named() {
        let base = Path::new(BASE);
        for bad in [
            "..",
            "../x",
            "build/../../x",
            "/etc/passwd",
            "/srv/workerx",
            "/srv/worker/../x",
        ] {
            let err = resolve(base, bad).expect_err(bad);
            assert!(err.contains("outside the worker's base directory"), "{err}");
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }
}

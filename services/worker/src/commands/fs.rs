//! The file-system commands: mkdir, rmdir, rmfile, stat, glob, listdir.
//!
//! As in Buildbot, a failing operation reports a header `<command>: <reason>: <path>` and a
//! non-zero rc, and still completes normally (the step decides what the rc means); a path the
//! worker refuses also sets the completion's error.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ferrobot_protocol::v1::{FileList, StatResult, command_update::Update};

use super::CommandContext;
use super::outbox::{Gone, Outbox};
use super::paths;

/// What a failing file-system operation reports as rc (the brief's "rc 1").
const FAILED_RC: i32 = 1;

type Outcome = Result<Option<String>, Gone>;

pub(crate) async fn mkdir(ctx: &CommandContext, requested: &[String], out: &mut Outbox) -> Outcome {
    let dirs = match resolve_all(ctx, "mkdir", requested) {
        Ok(dirs) => dirs,
        Err(refusal) => return refuse(out, refusal).await,
    };
    for dir in dirs {
        if let Err(e) = tokio::fs::create_dir_all(&dir).await {
            return fail(out, "mkdir", &e, &dir).await;
        }
    }
    out.push_update(Update::Rc(0));
    Ok(None)
}

pub(crate) async fn rmdir(ctx: &CommandContext, requested: &[String], out: &mut Outbox) -> Outcome {
    let dirs = match resolve_all(ctx, "rmdir", requested) {
        Ok(dirs) => dirs,
        Err(refusal) => return refuse(out, refusal).await,
    };
    let base = paths::resolve(&ctx.basedir, "").unwrap_or_else(|_| ctx.basedir.clone());
    if dirs.contains(&base) {
        return refuse(
            out,
            "rmdir: refusing to remove the worker's base directory".into(),
        )
        .await;
    }
    let mut rc = 0;
    // Like Buildbot, one failure does not stop the others; the last failure sets the rc.
    for dir in dirs {
        let target = dir.clone();
        let removed = tokio::task::spawn_blocking(move || remove_tree(&target))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        if let Err(e) = removed {
            out.header(&format!("rmdir: {}: {}\n", describe(&e), dir.display()))
                .await?;
            rc = FAILED_RC;
        }
    }
    out.push_update(Update::Rc(rc));
    Ok(None)
}

pub(crate) async fn stat(ctx: &CommandContext, requested: &str, out: &mut Outbox) -> Outcome {
    let path = match paths::resolve(&ctx.basedir, requested) {
        Ok(path) => path,
        Err(refusal) => return refuse(out, format!("stat: {refusal}")).await,
    };
    match tokio::fs::metadata(&path).await {
        Ok(meta) => {
            out.push_update(Update::Stat(StatResult {
                mode: u64::from(meta.mode()),
                ino: meta.ino(),
                dev: meta.dev(),
                nlink: meta.nlink(),
                uid: meta.uid(),
                gid: meta.gid(),
                size: meta.size(),
                atime: meta.atime(),
                mtime: meta.mtime(),
                ctime: meta.ctime(),
            }));
            out.push_update(Update::Rc(0));
            Ok(None)
        }
        Err(e) => fail(out, "stat", &e, &path).await,
    }
}

pub(crate) async fn listdir(ctx: &CommandContext, requested: &str, out: &mut Outbox) -> Outcome {
    let path = match paths::resolve(&ctx.basedir, requested) {
        Ok(path) => path,
        Err(refusal) => return refuse(out, format!("listdir: {refusal}")).await,
    };
    let mut entries = match tokio::fs::read_dir(&path).await {
        Ok(entries) => entries,
        Err(e) => return fail(out, "listdir", &e, &path).await,
    };
    let mut files = Vec::new();
    loop {
        match entries.next_entry().await {
            Ok(Some(entry)) => files.push(entry.file_name().to_string_lossy().into_owned()),
            Ok(None) => break,
            Err(e) => return fail(out, "listdir", &e, &path).await,
        }
    }
    // The OS order is arbitrary; a sorted list reads better in logs and compares in tests.
    files.sort();
    out.push_update(Update::Files(FileList { files }));
    out.push_update(Update::Rc(0));
    Ok(None)
}

pub(crate) async fn rmfile(ctx: &CommandContext, requested: &str, out: &mut Outbox) -> Outcome {
    let path = match paths::resolve(&ctx.basedir, requested) {
        Ok(path) => path,
        Err(refusal) => return refuse(out, format!("rmfile: {refusal}")).await,
    };
    // Buildbot's os.remove: a missing file or a directory is a failure, not a no-op.
    match tokio::fs::remove_file(&path).await {
        Ok(()) => {
            out.push_update(Update::Rc(0));
            Ok(None)
        }
        Err(e) => fail(out, "rmfile", &e, &path).await,
    }
}

/// Python's `glob.glob(pattern, recursive=True)`: `*` and `?` stay within one name and skip
/// names starting with `.`, `**` spans directories; unreadable directories are skipped.
pub(crate) async fn glob(ctx: &CommandContext, requested: &str, out: &mut Outbox) -> Outcome {
    // The lexical resolution also confines the pattern: what is left after `..` is resolved
    // must start with the base directory, and wildcards never climb.
    let pattern = match paths::resolve(&ctx.basedir, requested) {
        Ok(pattern) => pattern,
        Err(refusal) => return refuse(out, format!("glob: {refusal}")).await,
    };
    let Some(pattern) = pattern.to_str().map(str::to_owned) else {
        return refuse(out, format!("glob: pattern {requested:?} is not UTF-8")).await;
    };
    let options = ::glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let matched = tokio::task::spawn_blocking(move || {
        ::glob::glob_with(&pattern, options).map(|paths| {
            paths
                .filter_map(Result::ok)
                .map(|path| path.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        })
    })
    .await;
    match matched {
        Ok(Ok(mut files)) => {
            files.sort();
            out.push_update(Update::Files(FileList { files }));
            out.push_update(Update::Rc(0));
            Ok(None)
        }
        Ok(Err(bad)) => refuse(out, format!("glob: bad pattern {requested:?}: {bad}")).await,
        Err(e) => refuse(out, format!("glob: {e}")).await,
    }
}

fn resolve_all(
    ctx: &CommandContext,
    command: &str,
    requested: &[String],
) -> Result<Vec<PathBuf>, String> {
    if requested.is_empty() {
        return Err(format!("{command}: no paths given"));
    }
    requested
        .iter()
        .map(|path| paths::resolve(&ctx.basedir, path).map_err(|e| format!("{command}: {e}")))
        .collect()
}

/// A request the worker will not carry out: header, rc and the completion's error.
pub(crate) async fn refuse(out: &mut Outbox, message: String) -> Outcome {
    tracing::warn!(command_id = out.command_id(), reason = %message, "refused a command");
    out.header(&format!("{message}\n")).await?;
    out.push_update(Update::Rc(FAILED_RC));
    Ok(Some(message))
}

/// An operation that ran and failed: header and rc, as Buildbot reports it.
async fn fail(out: &mut Outbox, command: &str, error: &std::io::Error, path: &Path) -> Outcome {
    out.header(&format!(
        "{command}: {}: {}\n",
        describe(error),
        path.display()
    ))
    .await?;
    out.push_update(Update::Rc(FAILED_RC));
    Ok(None)
}

/// The C library's wording ("No such file or directory"), which Buildbot users know.
pub(crate) fn describe(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => error.to_string(),
    }
}

/// Removes a file or a tree; missing is fine. A tree with unwritable directories is made
/// writable and tried again, as Buildbot's `chmod -Rf u+rwx` retry does.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return std::fs::remove_file(path);
    }
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            make_owner_writable(path);
            match std::fs::remove_dir_all(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        }
    }
}

fn make_owner_writable(dir: &Path) {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let mode = meta.permissions().mode() | 0o700;
    // Failures here surface as the second removal's error, which is the one reported.
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            make_owner_writable(&entry.path());
        }
    }
}

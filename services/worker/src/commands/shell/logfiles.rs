//! Buildbot's `logfiles`: files a shell command writes, followed while it runs and streamed as
//! log updates under their own names.
//!
//! As Buildbot's `LogFileWatcher`, each file is stat'ed when the command starts, and nothing is
//! read until the file differs from that snapshot (created, grown, touched), so a stale file from
//! an earlier build is never sent. A `follow` file is read from the size it had at the start (only
//! what this command appended); any other file from its beginning. The command's end triggers a
//! last read to the end of each file.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrobot_protocol::v1::LogFileSpec;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::super::outbox::{Gone, Outbox};
use super::super::paths;

/// How often the files are looked at while the command runs (Buildbot polls every 2 s; a
/// shorter period keeps logs live and costs one stat per file).
pub(super) const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Largest single read from a logfile.
const READ_CHUNK: usize = 64 * 1024;

/// What identifies a version of a file, as Buildbot's `(ctime, mtime, size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    ctime: (i64, i64),
    mtime: (i64, i64),
    size: u64,
}

impl Snapshot {
    async fn of(path: &Path) -> Option<Snapshot> {
        let meta = tokio::fs::metadata(path).await.ok()?;
        Some(Snapshot {
            ctime: (meta.ctime(), meta.ctime_nsec()),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            size: meta.size(),
        })
    }
}

struct Watcher {
    name: String,
    filename: String,
    path: PathBuf,
    follow: bool,
    /// The file as it was when the command started.
    baseline: Option<Snapshot>,
    file: Option<tokio::fs::File>,
    /// A read failed: the file is no longer followed.
    broken: bool,
}

/// The logfiles of one command.
pub(super) struct LogFiles {
    watchers: Vec<Watcher>,
    buf: Vec<u8>,
}

impl LogFiles {
    /// Resolves each file against `workdir`; a name that leaves the base directory is refused.
    pub(super) fn prepare(
        basedir: &Path,
        workdir: &Path,
        specs: &HashMap<String, LogFileSpec>,
    ) -> Result<LogFiles, String> {
        let mut watchers = Vec::with_capacity(specs.len());
        for (name, spec) in specs {
            let joined = workdir.join(&spec.filename);
            let path = paths::resolve(basedir, &joined.to_string_lossy())
                .map_err(|e| format!("logfile {name:?}: {e}"))?;
            watchers.push(Watcher {
                name: name.clone(),
                filename: spec.filename.clone(),
                path,
                follow: spec.follow,
                baseline: None,
                file: None,
                broken: false,
            });
        }
        // Map order is random; a fixed order gives stable headers and read order.
        watchers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(LogFiles {
            watchers,
            buf: vec![0; READ_CHUNK],
        })
    }

    pub(super) fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }

    /// The header's ` watching logfiles {...}` text, as Python prints the dict.
    pub(super) fn describe(&self) -> String {
        let items: Vec<String> = self
            .watchers
            .iter()
            .map(|w| format!("'{}': '{}'", w.name, w.filename))
            .collect();
        format!("{{{}}}", items.join(", "))
    }

    /// Takes the snapshots the files are compared with; call before the command starts.
    pub(super) async fn start(&mut self) {
        for watcher in &mut self.watchers {
            watcher.baseline = Snapshot::of(&watcher.path).await;
        }
    }

    /// Sends what is new, no more than the outbox's pending batch can take.
    pub(super) async fn poll(&mut self, out: &mut Outbox) {
        for watcher in &mut self.watchers {
            let room = out.room().min(self.buf.len());
            if room == 0 {
                return;
            }
            if let Some(n) = watcher.read(&mut self.buf[..room]).await {
                out.push_log_partial(&watcher.name, &self.buf[..n]);
            }
        }
    }

    /// The command ended: sends every file to its end.
    pub(super) async fn drain(&mut self, out: &mut Outbox) -> Result<(), Gone> {
        for watcher in &mut self.watchers {
            while let Some(n) = watcher.read(&mut self.buf).await {
                out.log(&watcher.name, &self.buf[..n]).await?;
            }
        }
        Ok(())
    }
}

impl Watcher {
    /// Reads the next bytes; `None` when there is nothing (yet) to send.
    async fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.broken {
            return None;
        }
        if self.file.is_none() {
            self.open_if_changed().await;
        }
        let file = self.file.as_mut()?;
        match file.read(buf).await {
            Ok(0) => None,
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(logfile = %self.name, path = %self.path.display(), error = %e, "cannot read logfile, no longer following it");
                self.broken = true;
                None
            }
        }
    }

    async fn open_if_changed(&mut self) {
        let now = Snapshot::of(&self.path).await;
        let Some(now) = now else {
            // Deleted (or never there): a file created later is new, whatever it looks like.
            self.baseline = None;
            return;
        };
        if Some(now) == self.baseline {
            return;
        }
        let mut file = match tokio::fs::File::open(&self.path).await {
            Ok(file) => file,
            Err(e) => {
                tracing::debug!(logfile = %self.name, error = %e, "logfile not readable yet");
                return;
            }
        };
        let start = match self.baseline {
            Some(baseline) if self.follow && baseline.size <= now.size => baseline.size,
            _ => 0,
        };
        if start > 0
            && let Err(e) = file.seek(SeekFrom::Start(start)).await
        {
            tracing::warn!(logfile = %self.name, error = %e, "cannot seek in logfile");
            self.broken = true;
            return;
        }
        self.file = Some(file);
    }
}

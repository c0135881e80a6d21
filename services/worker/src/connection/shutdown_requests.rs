//! `--allow-shutdown file`: a change of `DIR/shutdown.stamp`'s mtime asks for a graceful
//! shutdown, as in Buildbot (the file need not exist when the worker starts).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

/// How often the stamp's mtime is looked at (Buildbot polls too; there is no portable
/// notification for a touched file).
const POLL: Duration = Duration::from_millis(500);

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Cancels `request` the first time the stamp's mtime differs from what it was at start.
pub(super) async fn watch_stamp(
    stamp: PathBuf,
    request: CancellationToken,
    stop: CancellationToken,
) {
    let initial = mtime(&stamp);
    tracing::info!(file = %stamp.display(), "touch this file to shut the worker down gracefully");
    let mut interval = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = request.cancelled() => return,
            _ = interval.tick() => {}
        }
        let now = mtime(&stamp);
        if now.is_some() && now != initial {
            tracing::info!(file = %stamp.display(), "shutdown stamp changed: asking the master for a graceful shutdown");
            request.cancel();
            return;
        }
    }
}

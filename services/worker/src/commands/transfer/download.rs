//! downloadFile: the worker pulls the file from the master one block at a time.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ferrobot_protocol::v1::{
    DownloadFileCommand, ReadFileClose, ReadFileRequest, command_update::Update,
};
use tokio::io::AsyncWriteExt;

use super::super::fs::{describe, refuse};
use super::super::outbox::{Gone, Outbox};
use super::super::{CommandContext, Inbox, paths};
use super::{Outcome, blocksize, failed, interrupted_message, truncated_message};

/// How the pull ended.
enum PullEnd {
    /// The master said end of file.
    Complete,
    /// `maxsize` bytes were written and the master had more.
    Truncated,
    /// The transfer failed; the partial file is removed.
    Failed(String),
}

pub(crate) async fn download_file(
    ctx: &CommandContext,
    download: DownloadFileCommand,
    out: &mut Outbox,
    inbox: &mut Inbox,
) -> Outcome {
    let path = match paths::resolve(&ctx.basedir, &download.path) {
        Ok(path) => path,
        Err(refusal) => return refuse(out, format!("downloadFile: {refusal}")).await,
    };
    if let Some(parent) = path.parent()
        && let Err(e) = tokio::fs::create_dir_all(parent).await
    {
        close_reader(out).await?;
        let message = format!(
            "Cannot create directory '{}' for download: {}",
            parent.display(),
            describe(&e)
        );
        return failed(out, &message).await;
    }
    let file = match tokio::fs::File::create(&path).await {
        Ok(file) => file,
        Err(e) => {
            close_reader(out).await?;
            let message = format!(
                "Cannot open file '{}' for download: {}",
                path.display(),
                describe(&e)
            );
            return failed(out, &message).await;
        }
    };
    let size = blocksize(download.blocksize);
    tracing::info!(command_id = out.command_id(), path = %path.display(), blocksize = size, maxsize = ?download.maxsize, "downloading a file");
    let end = match pull(file, &path, size, download.maxsize, out, inbox).await {
        Ok(end) => end,
        Err(Gone) => {
            remove_partial(&path).await;
            return Err(Gone);
        }
    };
    close_reader(out).await?;
    if let PullEnd::Failed(message) = end {
        remove_partial(&path).await;
        return failed(out, &message).await;
    }
    if let Some(mode) = download.mode {
        let permissions = std::fs::Permissions::from_mode(mode);
        if let Err(e) = tokio::fs::set_permissions(&path, permissions).await {
            let message = format!(
                "Cannot set mode {mode:o} on '{}': {}",
                path.display(),
                describe(&e)
            );
            return failed(out, &message).await;
        }
    }
    if matches!(end, PullEnd::Truncated) {
        return failed(out, &truncated_message(&path)).await;
    }
    out.push_update(Update::Rc(0));
    Ok(None)
}

/// Requests blocks until the master says end of file, writing them to `file`.
async fn pull(
    mut file: tokio::fs::File,
    path: &Path,
    size: usize,
    maxsize: Option<u64>,
    out: &mut Outbox,
    inbox: &mut Inbox,
) -> Result<PullEnd, Gone> {
    let mut remaining = maxsize;
    let mut interrupts_open = true;
    loop {
        // At the limit, asking for one byte more tells "exactly maxsize" from "more".
        let want = match remaining {
            Some(0) => 1,
            Some(left) => usize::try_from(left).map_or(size, |l| l.min(size)),
            None => size,
        };
        let length = u32::try_from(want).unwrap_or(u32::MAX);
        out.push_update(Update::ReadFile(ReadFileRequest { length }));
        // The master answers only what was asked, so the request must not wait for a batch.
        out.flush().await?;
        let reply = loop {
            tokio::select! {
                biased;
                () = out.lost().cancelled() => return Err(Gone),
                why = inbox.interrupts.recv(), if interrupts_open => match why {
                    Some(why) => {
                        return Ok(PullEnd::Failed(interrupted_message("download", &why)));
                    }
                    None => interrupts_open = false,
                },
                reply = inbox.data.recv() => match reply {
                    Some(reply) => break reply,
                    // The session no longer routes data to this command: it is going away.
                    None => return Err(Gone),
                },
            }
        };
        if !reply.error.is_empty() {
            let message = format!("the master could not read the source: {}", reply.error);
            return Ok(PullEnd::Failed(message));
        }
        if reply.data.is_empty() {
            return Ok(finish_file(file, path, PullEnd::Complete).await);
        }
        if remaining == Some(0) {
            return Ok(finish_file(file, path, PullEnd::Truncated).await);
        }
        // A master that sends more than was asked is cut at what maxsize allows.
        let mut data = &reply.data[..];
        let mut cut = false;
        if let Some(left) = remaining.as_mut() {
            let allowed = usize::try_from(*left).unwrap_or(usize::MAX);
            if data.len() > allowed {
                data = &data[..allowed];
                cut = true;
            }
            *left -= data.len() as u64;
        }
        if let Err(e) = file.write_all(data).await {
            let message = format!("Cannot write file '{}': {}", path.display(), describe(&e));
            return Ok(PullEnd::Failed(message));
        }
        if cut {
            return Ok(finish_file(file, path, PullEnd::Truncated).await);
        }
    }
}

/// Flushes what tokio's file still holds (its writes complete in the background); `end` unless
/// that fails.
async fn finish_file(mut file: tokio::fs::File, path: &Path, end: PullEnd) -> PullEnd {
    match file.flush().await {
        Ok(()) => end,
        Err(e) => PullEnd::Failed(format!(
            "Cannot write file '{}': {}",
            path.display(),
            describe(&e)
        )),
    }
}

/// Tells the master it can release its side of the transfer.
async fn close_reader(out: &mut Outbox) -> Result<(), Gone> {
    out.push_update(Update::ReadFileClose(ReadFileClose {}));
    out.flush().await
}

async fn remove_partial(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a partial download");
    }
}

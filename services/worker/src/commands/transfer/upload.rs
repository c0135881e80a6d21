//! uploadFile and uploadDirectory: the worker streams bytes to the master in blocks.

use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use ferrobot_protocol::v1::{
    FileTimes, UploadChunk, UploadClose, UploadDirectoryCommand, UploadFileCommand,
    command_update::Update,
};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use super::super::CommandContext;
use super::super::fs::{describe, refuse};
use super::super::outbox::{Gone, Outbox};
use super::super::paths;
use super::{Outcome, blocksize, failed, interrupted_message, truncated_message};

/// How a stream of blocks ended.
enum StreamEnd {
    /// Everything was sent.
    Complete,
    /// `maxsize` bytes were sent and there was more.
    Truncated,
    Interrupted(String),
    ReadFailed(std::io::Error),
}

pub(crate) async fn upload_file(
    ctx: &CommandContext,
    upload: UploadFileCommand,
    out: &mut Outbox,
    interrupts: &mut mpsc::Receiver<String>,
) -> Outcome {
    let path = match paths::resolve(&ctx.basedir, &upload.path) {
        Ok(path) => path,
        Err(refusal) => return refuse(out, format!("uploadFile: {refusal}")).await,
    };
    let file = match open_regular(&path).await {
        Ok(file) => file,
        Err(e) => {
            let message = format!(
                "Cannot open file '{}' for upload: {}",
                path.display(),
                describe(&e)
            );
            return failed(out, &message).await;
        }
    };
    // Taken before reading, which may move the access time.
    let times = match (upload.keepstamp, file.metadata().await) {
        (false, _) => None,
        (true, Ok(meta)) => Some(FileTimes {
            atime_s: seconds(meta.atime(), meta.atime_nsec()),
            mtime_s: seconds(meta.mtime(), meta.mtime_nsec()),
        }),
        (true, Err(e)) => {
            let message = format!("Cannot stat file '{}': {}", path.display(), describe(&e));
            return failed(out, &message).await;
        }
    };
    let blocks = Blocks {
        size: blocksize(upload.blocksize),
        maxsize: upload.maxsize,
    };
    tracing::info!(command_id = out.command_id(), path = %path.display(), blocksize = blocks.size, maxsize = ?upload.maxsize, "uploading a file");
    let end = blocks.send(file, out, interrupts).await?;
    finish(out, end, times, &path, "upload").await
}

pub(crate) async fn upload_directory(
    ctx: &CommandContext,
    upload: UploadDirectoryCommand,
    out: &mut Outbox,
    interrupts: &mut mpsc::Receiver<String>,
) -> Outcome {
    let path = match paths::resolve(&ctx.basedir, &upload.path) {
        Ok(path) => path,
        Err(refusal) => return refuse(out, format!("uploadDirectory: {refusal}")).await,
    };
    let compress = match upload.compress.as_str() {
        "" => Compress::None,
        "gz" => Compress::Gzip,
        "bz2" => Compress::Bzip2,
        other => {
            let message = format!(
                "uploadDirectory: unknown compress {other:?}: expected none, 'gz' or 'bz2'"
            );
            return refuse(out, message).await;
        }
    };
    match tokio::fs::metadata(&path).await {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            let message = format!("Cannot upload '{}': not a directory", path.display());
            return failed(out, &message).await;
        }
        Err(e) => {
            let message = format!("Cannot upload '{}': {}", path.display(), describe(&e));
            return failed(out, &message).await;
        }
    }
    // As Buildbot's worker, the tarball is made in an anonymous temporary file first, so that a
    // directory changing under the archiver cannot stall the stream half-way.
    let dir = path.clone();
    let built = tokio::task::spawn_blocking(move || build_tarball(&dir, compress))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    let tarball = match built {
        Ok(tarball) => tokio::fs::File::from_std(tarball),
        Err(e) => {
            let message = format!("Cannot archive '{}' for upload: {e}", path.display());
            return failed(out, &message).await;
        }
    };
    let blocks = Blocks {
        size: blocksize(upload.blocksize),
        maxsize: upload.maxsize,
    };
    tracing::info!(command_id = out.command_id(), path = %path.display(), compress = %upload.compress, blocksize = blocks.size, "uploading a directory");
    let end = blocks.send(tarball, out, interrupts).await?;
    finish(out, end, None, &path, "directory upload").await
}

/// Reports how the stream ended: upload_utime and upload_close when it was sent (whole or cut at
/// maxsize), then the rc.
async fn finish(
    out: &mut Outbox,
    end: StreamEnd,
    times: Option<FileTimes>,
    path: &Path,
    what: &str,
) -> Outcome {
    match end {
        StreamEnd::Complete | StreamEnd::Truncated => {
            if let Some(times) = times {
                out.push_update(Update::UploadUtime(times));
            }
            out.push_update(Update::UploadClose(UploadClose {}));
            if matches!(end, StreamEnd::Truncated) {
                return failed(out, &truncated_message(path)).await;
            }
            out.push_update(Update::Rc(0));
            Ok(None)
        }
        StreamEnd::Interrupted(why) => failed(out, &interrupted_message(what, &why)).await,
        StreamEnd::ReadFailed(e) => {
            let message = format!(
                "Cannot read '{}' for upload: {}",
                path.display(),
                describe(&e)
            );
            failed(out, &message).await
        }
    }
}

/// Opens a file for reading; a directory is refused here rather than failing on the first read.
async fn open_regular(path: &Path) -> std::io::Result<tokio::fs::File> {
    let file = tokio::fs::File::open(path).await?;
    if file.metadata().await?.is_dir() {
        return Err(std::io::Error::from_raw_os_error(
            nix::errno::Errno::EISDIR as i32,
        ));
    }
    Ok(file)
}

fn seconds(secs: i64, nanos: i64) -> f64 {
    // Precision beyond f64's (sub-microsecond for today's dates) is not needed for utime.
    secs as f64 + nanos as f64 / 1e9
}

/// Buildbot's `compress` values.
#[derive(Debug, Clone, Copy)]
enum Compress {
    None,
    Gzip,
    Bzip2,
}

/// The tar stream of `dir`'s contents (names relative to it, symlinks kept as links).
fn build_tarball(dir: &Path, compress: Compress) -> std::io::Result<std::fs::File> {
    let file = tempfile::tempfile()?;
    let mut file = match compress {
        Compress::None => append_tree(file, dir)?,
        Compress::Gzip => {
            let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
            append_tree(encoder, dir)?.finish()?
        }
        Compress::Bzip2 => {
            let encoder = bzip2::write::BzEncoder::new(file, bzip2::Compression::default());
            append_tree(encoder, dir)?.finish()?
        }
    };
    file.flush()?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

fn append_tree<W: Write>(writer: W, dir: &Path) -> std::io::Result<W> {
    let mut builder = tar::Builder::new(writer);
    builder.follow_symlinks(false);
    // An empty prefix: entries are `file`, `sub/file`, as Buildbot's `archive.add(path, '')`.
    builder.append_dir_all("", dir)?;
    builder.into_inner()
}

/// Cutting a stream into blocks.
struct Blocks {
    size: usize,
    maxsize: Option<u64>,
}

impl Blocks {
    /// Sends `source` as upload_chunk updates of `size` bytes (the last may be shorter).
    async fn send<R: AsyncRead + Unpin>(
        &self,
        mut source: R,
        out: &mut Outbox,
        interrupts: &mut mpsc::Receiver<String>,
    ) -> Result<StreamEnd, Gone> {
        let mut remaining = self.maxsize;
        let mut buf = vec![0u8; self.size];
        loop {
            if let Ok(why) = interrupts.try_recv() {
                return Ok(StreamEnd::Interrupted(why));
            }
            if out.lost().is_cancelled() {
                return Err(Gone);
            }
            // At the limit, one more byte tells "exactly maxsize" (fine) from "more" (cut).
            let want = match remaining {
                Some(0) => 1,
                Some(left) => usize::try_from(left).map_or(self.size, |l| l.min(self.size)),
                None => self.size,
            };
            let n = match read_full(&mut source, &mut buf[..want]).await {
                Ok(n) => n,
                Err(e) => return Ok(StreamEnd::ReadFailed(e)),
            };
            if n == 0 {
                return Ok(StreamEnd::Complete);
            }
            if remaining == Some(0) {
                return Ok(StreamEnd::Truncated);
            }
            if let Some(left) = remaining.as_mut() {
                *left -= n as u64;
            }
            let chunk = UploadChunk {
                data: buf[..n].to_vec(),
            };
            out.push_sized(Update::UploadChunk(chunk), n).await?;
        }
    }
}

/// Fills `buf` unless the end comes first, so that every block but the last is whole.
async fn read_full<R: AsyncRead + Unpin>(source: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

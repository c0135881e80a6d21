//! Reading the command's output pipes (or its pseudo-terminal).

use tokio::io::{AsyncRead, AsyncReadExt};

/// An output source of the command: a pipe, or the master side of its pseudo-terminal.
pub(super) type Pipe = Box<dyn AsyncRead + Send + Unpin>;

/// Reads from an open pipe (the caller only polls this while the pipe is open).
pub(super) async fn read_some<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    match pipe {
        Some(reader) => reader.read(buf).await,
        None => std::future::pending().await,
    }
}

/// The bytes read, or `None` after closing the pipe on end of file or error.
pub(super) fn take_read<'b, R>(
    pipe: &mut Option<R>,
    read: std::io::Result<usize>,
    buf: &'b [u8],
) -> Option<&'b [u8]> {
    match read {
        Ok(0) => {
            *pipe = None;
            None
        }
        Ok(n) => Some(&buf[..n]),
        Err(e) => {
            tracing::warn!(error = %e, "reading command output failed");
            *pipe = None;
            None
        }
    }
}

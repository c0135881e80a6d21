//! `usePTY`: the command's stdout and stderr are the slave side of a pseudo-terminal, read
//! through its master side.

use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use nix::sys::termios::{OutputFlags, SetArg, tcgetattr, tcsetattr};
use tokio::io::{AsyncRead, ReadBuf};

/// The master side, to read the command's output from.
pub(super) struct PtyReader {
    file: tokio::fs::File,
}

/// Opens a pseudo-terminal; returns the reader and the two `Stdio`s (stdout, stderr) for the
/// child. Output translation (`\n` → `\r\n`) is switched off so stored lines end as printed.
pub(super) fn open() -> io::Result<(PtyReader, Stdio, Stdio)> {
    let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
    let mut termios = tcgetattr(&pty.slave).map_err(io::Error::from)?;
    termios.output_flags.remove(OutputFlags::ONLCR);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).map_err(io::Error::from)?;
    let stderr: OwnedFd = pty.slave.try_clone()?;
    let reader = PtyReader {
        file: tokio::fs::File::from_std(std::fs::File::from(pty.master)),
    };
    Ok((reader, Stdio::from(pty.slave), Stdio::from(stderr)))
}

impl AsyncRead for PtyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.file).poll_read(cx, buf) {
            // Linux answers EIO once every slave descriptor is closed: that is the end of file.
            Poll::Ready(Err(e)) if e.raw_os_error() == Some(nix::libc::EIO) => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

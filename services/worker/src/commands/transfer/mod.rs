//! File transfers: uploadFile, uploadDirectory (worker → master) and downloadFile
//! (master → worker). The flows are described on the messages in `worker.proto`.
//!
//! As in Buildbot, a transfer that ran and failed reports the reason on stderr and rc 1 and
//! completes normally (the step decides); only a request the worker refuses outright (a path
//! outside the base directory, an unsupported compression) also sets the completion's error.

mod download;
mod upload;

use ferrobot_protocol::v1::{Stream, command_update::Update};

use super::outbox::{Gone, Outbox};

pub(crate) use download::download_file;
pub(crate) use upload::{upload_directory, upload_file};

type Outcome = Result<Option<String>, Gone>;

/// Buildbot's default `blocksize` for transfers.
const DEFAULT_BLOCKSIZE: usize = 16 * 1024;
/// Largest block: far below gRPC's 4 MiB message limit, whatever the master asks.
const MAX_BLOCKSIZE: usize = 1024 * 1024;
/// rc of a transfer that failed.
const FAILED_RC: i32 = 1;

/// The block size to use for a requested one (0 = the default).
fn blocksize(requested: u32) -> usize {
    match usize::try_from(requested) {
        Ok(0) | Err(_) => DEFAULT_BLOCKSIZE,
        Ok(size) => size.min(MAX_BLOCKSIZE),
    }
}

/// Buildbot's message when a transfer is cut at `maxsize`.
fn truncated_message(path: &std::path::Path) -> String {
    format!(
        "Maximum filesize reached, truncating file '{}'",
        path.display()
    )
}

/// A transfer that ran and failed: the reason on stderr and rc 1, as Buildbot's worker.
async fn failed(out: &mut Outbox, message: &str) -> Outcome {
    tracing::info!(command_id = out.command_id(), reason = %message, "transfer failed");
    out.output(Stream::Stderr, format!("{message}\n").as_bytes())
        .await?;
    out.push_update(Update::Rc(FAILED_RC));
    Ok(None)
}

/// The interrupt reason as it is reported.
fn interrupted_message(what: &str, why: &str) -> String {
    if why.is_empty() {
        format!("{what} interrupted")
    } else {
        format!("{what} interrupted ({why})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocksize_defaults_and_is_capped() {
        assert_eq!(blocksize(0), DEFAULT_BLOCKSIZE);
        assert_eq!(blocksize(100), 100);
        assert_eq!(blocksize(u32::MAX), MAX_BLOCKSIZE);
    }
}

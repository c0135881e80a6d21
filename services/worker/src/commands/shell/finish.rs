//! How a shell command ended: the rc and the closing header lines.

use std::process::ExitStatus;

use ferrobot_protocol::v1::command_update::Update;
use nix::sys::signal::Signal;
use tokio::time::Instant;

use super::Outcome;
use crate::commands::outbox::Outbox;

/// Why the supervision loop stopped.
pub(super) enum Ending {
    /// The process exited (or was killed) and its pipes closed.
    Exited(ExitStatus),
    /// Waiting for the process failed.
    WaitFailed(String),
    /// The process did not die after the interrupt signal.
    GaveUp,
}

/// Reports how the command ended: rc, the closing header lines and the elapsed time.
pub(super) async fn finish(
    out: &mut Outbox,
    ending: Ending,
    killed: bool,
    interrupt_signal: Signal,
    started: Instant,
) -> Outcome {
    let elapsed = started.elapsed().as_secs_f64();
    let (rc, error) = match ending {
        Ending::Exited(status) => match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            // A killed process that still exits 0 must not pass as a success.
            (Some(0), _) if killed => (-1, None),
            (Some(code), _) => (code, None),
            (None, signal) => {
                let signal = signal.map_or_else(|| "?".to_owned(), |s| s.to_string());
                out.header(&format!("process killed by signal {signal}\n"))
                    .await?;
                (-1, None)
            }
        },
        Ending::WaitFailed(e) => {
            let problem = format!("cannot wait for the command: {e}");
            out.header(&format!("{problem}\n")).await?;
            (-1, Some(problem))
        }
        Ending::GaveUp => {
            let problem = format!("{} failed to kill process", interrupt_signal.as_str());
            out.header(&format!("{problem}\nusing fake rc=-1\n"))
                .await?;
            (-1, Some(problem))
        }
    };
    tracing::info!(
        command_id = out.command_id(),
        rc,
        elapsed_s = elapsed,
        "command finished"
    );
    out.push_update(Update::Rc(rc));
    out.header(&format!("program finished with exit code {rc}\n"))
        .await?;
    out.push_update(Update::ElapsedS(elapsed));
    out.header(&format!("elapsedTime={elapsed:.6}\n")).await?;
    Ok(error)
}

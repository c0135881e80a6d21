//! Remote commands (Buildbot's shell, mkdir, rmdir, stat, listdir).
//!
//! Each command runs in a task of its own and reports through the session's bounded channel:
//! `CommandUpdates` batches, then exactly one `CommandComplete`, unless the session is lost
//! first (then nothing more can be delivered and the command is killed).

mod fs;
mod outbox;
mod paths;
mod shell;

use std::path::PathBuf;

use ferrobot_protocol::v1::{
    StartCommand, WorkerMessage, command_update::Update, start_command::Command,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use outbox::Batching;
use outbox::Outbox;

/// What every command of a session shares.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The worker's absolute base directory; command paths are resolved inside it.
    pub basedir: PathBuf,
    /// Output batching asked for by the master.
    pub batching: Batching,
}

/// The protocol name of a command, for logs.
pub fn command_name(start: &StartCommand) -> &'static str {
    match &start.command {
        Some(Command::Shell(_)) => "shell",
        Some(Command::Mkdir(_)) => "mkdir",
        Some(Command::Rmdir(_)) => "rmdir",
        Some(Command::Stat(_)) => "stat",
        Some(Command::Listdir(_)) => "listdir",
        None => "unknown",
    }
}

/// Runs one command to its end.
///
/// Updates and the completion go to `sender`; a message on `interrupts` (the reason) kills a
/// running shell command; cancelling `lost` says the session is gone, so the command is killed
/// and nothing more is sent.
pub async fn execute(
    ctx: &CommandContext,
    start: StartCommand,
    sender: mpsc::Sender<WorkerMessage>,
    mut interrupts: mpsc::Receiver<String>,
    lost: CancellationToken,
) {
    let name = command_name(&start);
    let mut out = Outbox::new(start.command_id.clone(), sender, lost, ctx.batching);
    tracing::debug!(command_id = %start.command_id, command = name, builder = %start.builder_name, "command received");
    let outcome = match start.command {
        Some(Command::Shell(shell)) => shell::run(ctx, shell, &mut out, &mut interrupts).await,
        Some(Command::Mkdir(paths)) => fs::mkdir(ctx, &paths.paths, &mut out).await,
        Some(Command::Rmdir(paths)) => fs::rmdir(ctx, &paths.paths, &mut out).await,
        Some(Command::Stat(path)) => fs::stat(ctx, &path.path, &mut out).await,
        Some(Command::Listdir(path)) => fs::listdir(ctx, &path.path, &mut out).await,
        None => {
            fail(
                &mut out,
                "unknown command: this worker does not implement it".into(),
            )
            .await
        }
    };
    let delivered = match outcome {
        Ok(error) => out.complete(error).await,
        Err(gone) => Err(gone),
    };
    if delivered.is_err() {
        tracing::debug!(command_id = %start.command_id, "session gone before the command completed");
    }
}

/// Answers a command the worker will not start (it is shutting down, or the id is taken).
pub async fn refuse(
    start: StartCommand,
    reason: String,
    sender: mpsc::Sender<WorkerMessage>,
    lost: CancellationToken,
    batching: Batching,
) {
    let mut out = Outbox::new(start.command_id.clone(), sender, lost, batching);
    if let Ok(error) = fail(&mut out, reason).await {
        let _ = out.complete(error).await;
    }
}

async fn fail(out: &mut Outbox, reason: String) -> Result<Option<String>, outbox::Gone> {
    tracing::warn!(command_id = out.command_id(), %reason, "command not run");
    out.header(&format!("{reason}\n")).await?;
    out.push_update(Update::Rc(1));
    Ok(Some(reason))
}

//! Remote commands (Buildbot's shell, mkdir, rmdir, cpdir, stat, glob, listdir, rmfile,
//! uploadFile, uploadDirectory, downloadFile).
//!
//! Each command runs in a task of its own and reports through the session's bounded channel:
//! `CommandUpdates` batches, then exactly one `CommandComplete`, unless the session is lost
//! first (then nothing more can be delivered and the command is killed).

mod fs;
mod outbox;
mod paths;
mod shell;
mod transfer;

use std::path::PathBuf;

use ferrobot_protocol::v1::{
    DownloadData, StartCommand, WorkerMessage, command_update::Update, start_command::Command,
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

/// What the session routes to one running command.
#[derive(Debug)]
pub struct Inbox {
    /// Interrupt requests (the reason); they kill a running shell or stop a transfer.
    pub interrupts: mpsc::Receiver<String>,
    /// The master's answers to a download's read requests.
    pub data: mpsc::Receiver<DownloadData>,
}

/// The session's side of an [`Inbox`].
#[derive(Debug, Clone)]
pub struct InboxSender {
    /// See [`Inbox::interrupts`].
    pub interrupts: mpsc::Sender<String>,
    /// See [`Inbox::data`].
    pub data: mpsc::Sender<DownloadData>,
}

impl Inbox {
    /// A connected pair. The channels are small: a download has one read outstanding at a time.
    pub fn channel() -> (InboxSender, Inbox) {
        let (interrupts_tx, interrupts) = mpsc::channel(4);
        let (data_tx, data) = mpsc::channel(4);
        let sender = InboxSender {
            interrupts: interrupts_tx,
            data: data_tx,
        };
        (sender, Inbox { interrupts, data })
    }
}

/// The protocol name of a command, for logs.
pub fn command_name(start: &StartCommand) -> &'static str {
    match &start.command {
        Some(Command::Shell(_)) => "shell",
        Some(Command::Mkdir(_)) => "mkdir",
        Some(Command::Rmdir(_)) => "rmdir",
        Some(Command::Stat(_)) => "stat",
        Some(Command::Listdir(_)) => "listdir",
        Some(Command::Cpdir(_)) => "cpdir",
        Some(Command::Rmfile(_)) => "rmfile",
        Some(Command::Glob(_)) => "glob",
        Some(Command::UploadFile(_)) => "uploadFile",
        Some(Command::UploadDirectory(_)) => "uploadDirectory",
        Some(Command::DownloadFile(_)) => "downloadFile",
        None => "unknown",
    }
}

/// Runs one command to its end.
///
/// Updates and the completion go to `sender`; a message on `inbox.interrupts` (the reason)
/// kills a running shell command or stops a transfer; `inbox.data` carries a download's bytes;
/// cancelling `lost` says the session is gone, so the command is killed and nothing more is sent.
pub async fn execute(
    ctx: &CommandContext,
    start: StartCommand,
    sender: mpsc::Sender<WorkerMessage>,
    mut inbox: Inbox,
    lost: CancellationToken,
) {
    let interrupts = &mut inbox.interrupts;
    let name = command_name(&start);
    let mut out = Outbox::new(start.command_id.clone(), sender, lost, ctx.batching);
    tracing::debug!(command_id = %start.command_id, command = name, builder = %start.builder_name, "command received");
    let outcome = match start.command {
        Some(Command::Shell(shell)) => shell::run(ctx, shell, &mut out, interrupts).await,
        Some(Command::Mkdir(paths)) => fs::mkdir(ctx, &paths.paths, &mut out).await,
        Some(Command::Rmdir(paths)) => fs::rmdir(ctx, &paths.paths, &mut out).await,
        Some(Command::Stat(path)) => fs::stat(ctx, &path.path, &mut out).await,
        Some(Command::Listdir(path)) => fs::listdir(ctx, &path.path, &mut out).await,
        Some(Command::Cpdir(copy)) => shell::cpdir(ctx, copy, &mut out, interrupts).await,
        Some(Command::Rmfile(path)) => fs::rmfile(ctx, &path.path, &mut out).await,
        Some(Command::Glob(pattern)) => fs::glob(ctx, &pattern.path, &mut out).await,
        Some(Command::UploadFile(upload)) => {
            transfer::upload_file(ctx, upload, &mut out, interrupts).await
        }
        Some(Command::UploadDirectory(upload)) => {
            transfer::upload_directory(ctx, upload, &mut out, interrupts).await
        }
        Some(Command::DownloadFile(download)) => {
            transfer::download_file(ctx, download, &mut out, &mut inbox).await
        }
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

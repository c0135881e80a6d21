//! Helpers shared by the worker's integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use ferrobot_protocol::v1::{
    CommandComplete, CommandUpdates, FileList, PathCommand, PathsCommand, ShellCommand,
    StartCommand, StatResult, Stream, WorkerMessage, command_update::Update,
    start_command::Command, worker_message::Body,
};
use ferrobot_worker::commands::{self, Batching, CommandContext, Inbox};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Upper bound for any wait in these tests; generous for a loaded 2-core machine.
pub const WAIT: Duration = Duration::from_secs(30);

pub fn shell(script: &str) -> ShellCommand {
    ShellCommand {
        workdir: "build".into(),
        shell: Some(script.into()),
        want_stdout: true,
        want_stderr: true,
        ..ShellCommand::default()
    }
}

pub fn exec(argv: &[&str]) -> ShellCommand {
    ShellCommand {
        workdir: "build".into(),
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        want_stdout: true,
        want_stderr: true,
        ..ShellCommand::default()
    }
}

pub fn start(command: Command) -> StartCommand {
    StartCommand {
        command_id: "c1".into(),
        builder_name: "b".into(),
        command: Some(command),
    }
}

pub fn mkdir(paths: &[&str]) -> StartCommand {
    start(Command::Mkdir(PathsCommand {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    }))
}

pub fn rmdir(paths: &[&str]) -> StartCommand {
    start(Command::Rmdir(PathsCommand {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    }))
}

pub fn stat(path: &str) -> StartCommand {
    start(Command::Stat(PathCommand { path: path.into() }))
}

pub fn listdir(path: &str) -> StartCommand {
    start(Command::Listdir(PathCommand { path: path.into() }))
}

/// A command running in the test, observed message by message as the master would.
pub struct Run {
    pub updates: Vec<CommandUpdates>,
    pub complete: Option<CommandComplete>,
    rx: mpsc::Receiver<WorkerMessage>,
    interrupts: mpsc::Sender<String>,
    /// Answers to a download's read requests, as the master sends them.
    pub data: mpsc::Sender<ferrobot_protocol::v1::DownloadData>,
    pub lost: CancellationToken,
}

impl Run {
    pub fn spawn(basedir: &Path, batching: Batching, start: StartCommand) -> Run {
        Self::spawn_with_capacity(basedir, batching, start, 16)
    }

    pub fn spawn_with_capacity(
        basedir: &Path,
        batching: Batching,
        start: StartCommand,
        capacity: usize,
    ) -> Run {
        let (tx, rx) = mpsc::channel(capacity);
        let (inbox_tx, inbox) = Inbox::channel();
        let lost = CancellationToken::new();
        let ctx = CommandContext {
            basedir: basedir.to_path_buf(),
            batching,
        };
        let token = lost.clone();
        tokio::spawn(async move { commands::execute(&ctx, start, tx, inbox, token).await });
        Run {
            updates: Vec::new(),
            complete: None,
            rx,
            interrupts: inbox_tx.interrupts,
            data: inbox_tx.data,
            lost,
        }
    }

    /// Receives one message; false once the command completed.
    async fn next(&mut self) -> bool {
        if self.complete.is_some() {
            return false;
        }
        let message = tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("the command sent nothing for too long")
            .expect("the command ended without a CommandComplete");
        match message.body {
            Some(Body::Updates(updates)) => {
                assert_eq!(updates.command_id, "c1");
                self.updates.push(updates);
            }
            Some(Body::Complete(complete)) => {
                assert_eq!(complete.command_id, "c1");
                self.complete = Some(complete);
            }
            other => panic!("unexpected message from a command: {other:?}"),
        }
        true
    }

    /// Waits until `needle` has appeared in the command's stdout.
    pub async fn wait_for_stdout(&mut self, needle: &str) {
        while !String::from_utf8_lossy(&self.output(Stream::Stdout)).contains(needle) {
            assert!(
                self.next().await,
                "the command completed before printing {needle:?}"
            );
        }
    }

    /// Waits until the logfile `name` has sent `needle`.
    pub async fn wait_for_log(&mut self, name: &str, needle: &str) {
        loop {
            let sent: Vec<u8> = self
                .updates
                .iter()
                .flat_map(|m| m.updates.iter())
                .filter_map(|u| match &u.update {
                    Some(Update::Log(log)) if log.name == name => Some(log.data.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            if String::from_utf8_lossy(&sent).contains(needle) {
                return;
            }
            assert!(
                self.next().await,
                "the command completed before its logfile {name:?} sent {needle:?}"
            );
        }
    }

    /// The next raw message, `None` once the command dropped its sender.
    pub async fn recv_raw(&mut self) -> Option<WorkerMessage> {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("the command neither sent nor ended")
    }

    pub async fn interrupt(&self, why: &str) {
        self.interrupts
            .send(why.into())
            .await
            .expect("the command stopped listening for interrupts");
    }

    /// Collects everything until the CommandComplete, and checks that nothing follows it.
    pub async fn finish(mut self) -> Finished {
        while self.next().await {}
        let complete = self.complete.take().expect("completed");
        // Exactly one CommandComplete: the command's sender is dropped right after it.
        let after = tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("channel not closed");
        assert!(
            after.is_none(),
            "a message followed CommandComplete: {after:?}"
        );
        Finished {
            updates: self.updates,
            complete,
        }
    }

    pub fn output(&self, stream: Stream) -> Vec<u8> {
        collect_output(&self.updates, stream)
    }
}

/// Runs `start` to completion.
pub async fn run(basedir: &Path, start: StartCommand) -> Finished {
    Run::spawn(basedir, Batching::default(), start)
        .finish()
        .await
}

pub struct Finished {
    pub updates: Vec<CommandUpdates>,
    pub complete: CommandComplete,
}

impl Finished {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&collect_output(&self.updates, Stream::Stdout)).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&collect_output(&self.updates, Stream::Stderr)).into_owned()
    }

    pub fn header(&self) -> String {
        String::from_utf8_lossy(&collect_output(&self.updates, Stream::Header)).into_owned()
    }

    pub fn stdout_bytes(&self) -> Vec<u8> {
        collect_output(&self.updates, Stream::Stdout)
    }

    /// Every update, in the order the master received them.
    pub fn all(&self) -> impl Iterator<Item = &Update> {
        self.updates
            .iter()
            .flat_map(|u| u.updates.iter())
            .filter_map(|u| u.update.as_ref())
    }

    /// The rc update; there must be exactly one.
    pub fn rc(&self) -> i32 {
        let rcs: Vec<i32> = self
            .all()
            .filter_map(|u| {
                if let Update::Rc(rc) = u {
                    Some(*rc)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(
            rcs.len(),
            1,
            "expected one rc update, got {rcs:?}; header: {}",
            self.header()
        );
        rcs[0]
    }

    pub fn failure_reasons(&self) -> Vec<String> {
        self.all()
            .filter_map(|u| {
                if let Update::FailureReason(r) = u {
                    Some(r.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn elapsed(&self) -> Option<f64> {
        self.all().find_map(|u| {
            if let Update::ElapsedS(e) = u {
                Some(*e)
            } else {
                None
            }
        })
    }

    pub fn stat(&self) -> Option<StatResult> {
        self.all().find_map(|u| {
            if let Update::Stat(s) = u {
                Some(*s)
            } else {
                None
            }
        })
    }

    pub fn files(&self) -> Option<FileList> {
        self.all().find_map(|u| {
            if let Update::Files(f) = u {
                Some(f.clone())
            } else {
                None
            }
        })
    }

    /// The data of each upload_chunk update, in order.
    pub fn upload_chunks(&self) -> Vec<Vec<u8>> {
        self.all()
            .filter_map(|u| match u {
                Update::UploadChunk(chunk) => Some(chunk.data.clone()),
                _ => None,
            })
            .collect()
    }

    /// Everything the logfile `name` sent.
    pub fn log(&self, name: &str) -> String {
        let bytes: Vec<u8> = self
            .all()
            .filter_map(|u| match u {
                Update::Log(log) if log.name == name => Some(log.data.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Output bytes per message.
    pub fn message_sizes(&self) -> Vec<usize> {
        self.updates
            .iter()
            .map(|m| {
                m.updates
                    .iter()
                    .map(|u| {
                        if let Some(Update::Output(o)) = &u.update {
                            o.data.len()
                        } else {
                            0
                        }
                    })
                    .sum()
            })
            .collect()
    }
}

fn collect_output(updates: &[CommandUpdates], stream: Stream) -> Vec<u8> {
    let mut bytes = Vec::new();
    for message in updates {
        for update in &message.updates {
            if let Some(Update::Output(output)) = &update.update
                && output.stream == stream as i32
            {
                bytes.extend_from_slice(&output.data);
            }
        }
    }
    bytes
}

pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Waits until `pid` is dead. Another process's death cannot be awaited, so this polls.
pub async fn wait_until_dead(pid: i32) -> bool {
    tokio::time::timeout(WAIT, async {
        while !process_dead(pid) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .is_ok()
}

/// True when `pid` is gone or a zombie (dead, not yet reaped by its new parent).
pub fn process_dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

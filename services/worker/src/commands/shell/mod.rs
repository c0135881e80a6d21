//! The `shell` command: one process (and its children) in a process group of its own.

mod cpdir;
mod finish;
mod logfiles;
mod pipes;
mod pty;
mod setup;
mod signals;

use std::process::Stdio;
use std::time::Duration;

use ferrobot_protocol::v1::{ShellCommand, Stream, command_update::Update};
use nix::sys::signal::Signal;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::CommandContext;
use super::outbox::{Gone, Outbox};
use super::paths;
pub(crate) use cpdir::cpdir;
use finish::{Ending, finish};
use logfiles::LogFiles;
use pipes::{Pipe, read_some, take_read};

/// How long a killed command may take to exit before the worker gives up on it, as Buildbot's
/// `BACKUP_TIMEOUT`.
const BACKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest single read from a pipe.
const READ_CHUNK: usize = 64 * 1024;
/// rc reported when the command could not be started at all.
const SETUP_FAILED_RC: i32 = 1;

type Outcome = Result<Option<String>, Gone>;

/// Runs `command` to its end, streaming its output through `out`; returns the completion error.
pub(crate) async fn run(
    ctx: &CommandContext,
    command: ShellCommand,
    out: &mut Outbox,
    interrupts: &mut mpsc::Receiver<String>,
) -> Outcome {
    let workdir = match paths::resolve(&ctx.basedir, &command.workdir) {
        Ok(workdir) => workdir,
        Err(refusal) => return setup_failed(out, refusal).await,
    };
    let argv = match setup::argv(&command) {
        Ok(argv) => argv,
        Err(problem) => return setup_failed(out, problem).await,
    };
    // Buildbot creates a missing workdir rather than failing the step.
    if let Err(e) = tokio::fs::create_dir_all(&workdir).await {
        let problem = format!("cannot create workdir {}: {e}", workdir.display());
        return setup_failed(out, problem).await;
    }
    let interrupt_signal = match signals::parse(&command.interrupt_signal) {
        Some(signal) => signal,
        None => {
            let name = &command.interrupt_signal;
            out.header(&format!("unknown interrupt signal {name:?}, using KILL\n"))
                .await?;
            Signal::SIGKILL
        }
    };
    let mut logfiles = match LogFiles::prepare(&ctx.basedir, &workdir, &command.logfiles) {
        Ok(logfiles) => logfiles,
        Err(refusal) => return setup_failed(out, refusal).await,
    };
    let env = setup::environment(
        std::env::vars_os(),
        &setup::requested_env(&command),
        &command.unset_env,
        &workdir,
    );
    let header = setup::header(&setup::HeaderInput {
        command: &command,
        argv: &argv,
        workdir: &workdir,
        env: &env,
        logfiles: &logfiles.describe(),
    });
    out.header(&header).await?;
    logfiles.start().await;

    let stdin = if command.initial_stdin.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    let (pty, stdout, stderr) = if command.use_pty {
        match pty::open() {
            Ok((reader, stdout, stderr)) => (Some(reader), stdout, stderr),
            Err(e) => {
                return setup_failed(out, format!("cannot open a pseudo-terminal: {e}")).await;
            }
        }
    } else {
        (None, Stdio::piped(), Stdio::piped())
    };
    // A temporary: the pseudo-terminal's slave side closes here once the child has its copy.
    let spawned = Command::new(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(&env)
        .current_dir(&workdir)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        // Its own process group, so that a kill reaches the children it started too.
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return setup_failed(out, format!("cannot run {:?}: {e}", argv[0])).await,
    };
    let started = Instant::now();
    let Some(pgid) = child.id().and_then(|pid| i32::try_from(pid).ok()) else {
        return setup_failed(out, "the command exited before it could be watched".into()).await;
    };
    tracing::info!(command_id = out.command_id(), pid = pgid, ?argv, workdir = %workdir.display(), "command started");
    let stdin_writer = child.stdin.take().map(|mut pipe| {
        let data = command.initial_stdin.clone();
        // A child that never reads its stdin must not stall the output loop, hence a task.
        tokio::spawn(async move {
            let _ = pipe.write_all(&data).await;
        })
    });

    let mut supervisor = Supervisor {
        stdout: match pty {
            Some(reader) => Some(Box::new(reader) as Pipe),
            None => child.stdout.take().map(|p| Box::new(p) as Pipe),
        },
        stderr: child.stderr.take().map(|p| Box::new(p) as Pipe),
        child,
        pgid,
        command: &command,
        argv: &argv,
        interrupt_signal,
        kill: Kill::NotYet,
        killed: false,
        logfiles,
    };
    let ending = supervisor.supervise(out, interrupts, started).await;
    if let Some(writer) = stdin_writer {
        writer.abort();
    }
    if ending.is_ok() {
        // What the command wrote last is read now, after it has ended, as Buildbot does.
        supervisor.logfiles.drain(out).await?;
    }
    finish(
        out,
        ending?,
        supervisor.killed,
        supervisor.interrupt_signal,
        started,
    )
    .await
}

async fn setup_failed(out: &mut Outbox, problem: String) -> Outcome {
    tracing::warn!(command_id = out.command_id(), %problem, "shell command could not start");
    out.header(&format!("{problem}\n")).await?;
    out.push_update(Update::Rc(SETUP_FAILED_RC));
    Ok(Some(problem))
}

enum Kill {
    NotYet,
    /// SIGTERM sent; the interrupt signal follows at `escalate_at`.
    Terminating {
        escalate_at: Instant,
    },
    /// The interrupt signal sent; the worker gives up waiting at `give_up_at`.
    Signalled {
        give_up_at: Instant,
    },
}

struct Supervisor<'a> {
    child: Child,
    pgid: i32,
    stdout: Option<Pipe>,
    stderr: Option<Pipe>,
    command: &'a ShellCommand,
    argv: &'a [String],
    interrupt_signal: Signal,
    kill: Kill,
    killed: bool,
    logfiles: LogFiles,
}

impl Supervisor<'_> {
    /// Pumps output until the process has exited and both pipes are closed (so output of
    /// children that outlive it is kept), enforcing timeouts and interrupts meanwhile.
    async fn supervise(
        &mut self,
        out: &mut Outbox,
        interrupts: &mut mpsc::Receiver<String>,
        started: Instant,
    ) -> Result<Ending, Gone> {
        let idle_limit = positive(self.command.timeout_s);
        let max_deadline = positive(self.command.max_time_s).map(|limit| started + limit);
        let mut last_output = Instant::now();
        let mut flush_due = false;
        let mut status = None;
        let mut interrupts_open = true;
        let mut stdout_buf = vec![0u8; READ_CHUNK];
        let mut stderr_buf = vec![0u8; READ_CHUNK];
        let mut poll_at =
            (!self.logfiles.is_empty()).then(|| Instant::now() + logfiles::POLL_INTERVAL);
        // Owned handles: a send permit borrows its sender while the batch is taken from `out`.
        let sender = out.sender().clone();
        let lost = out.lost().clone();
        loop {
            if let Some(status) = status
                && self.stdout.is_none()
                && self.stderr.is_none()
            {
                return Ok(Ending::Exited(status));
            }
            if !out.has_pending() {
                flush_due = false;
            }
            let killing = !matches!(self.kill, Kill::NotYet);
            let room = out.room().min(READ_CHUNK);
            let send_now = out.has_pending() && (out.is_full() || flush_due);
            let flush_at = if flush_due {
                None
            } else {
                out.flush_deadline()
            };
            let idle_at = idle_limit
                .filter(|_| !killing)
                .map(|limit| last_output + limit);
            let max_at = max_deadline.filter(|_| !killing);
            let kill_at = match self.kill {
                Kill::NotYet => None,
                Kill::Terminating { escalate_at } => Some(escalate_at),
                Kill::Signalled { give_up_at } => Some(give_up_at),
            };
            // Timers come before reads: a command that never stops printing must still meet
            // its maxTime.
            tokio::select! {
                biased;
                () = lost.cancelled() => {
                    self.kill_now().await;
                    return Err(Gone);
                }
                why = interrupts.recv(), if interrupts_open && !killing => match why {
                    Some(why) => {
                        let reason = if why.is_empty() {
                            "command interrupted".to_owned()
                        } else {
                            format!("command interrupted ({why})")
                        };
                        self.start_kill(out, &reason).await?;
                    }
                    None => interrupts_open = false,
                },
                () = at(kill_at) => match self.kill {
                    Kill::Terminating { .. } => {
                        signals::signal_group(self.pgid, self.interrupt_signal);
                        self.kill = Kill::Signalled { give_up_at: Instant::now() + BACKUP_TIMEOUT };
                    }
                    _ => return Ok(Ending::GaveUp),
                },
                () = at(max_at) => {
                    out.push_update(Update::FailureReason("timeout".into()));
                    let reason = format!(
                        "command timed out: {} seconds elapsed running {}",
                        setup::number(self.command.max_time_s),
                        setup::python_list(self.argv),
                    );
                    self.start_kill(out, &reason).await?;
                }
                () = at(idle_at) => {
                    out.push_update(Update::FailureReason("timeout_without_output".into()));
                    let reason = format!(
                        "command timed out: {} seconds without output running {}",
                        setup::number(self.command.timeout_s),
                        setup::python_list(self.argv),
                    );
                    self.start_kill(out, &reason).await?;
                }
                permit = sender.reserve(), if send_now => match permit {
                    Ok(permit) => {
                        if let Some(message) = out.take_message() {
                            permit.send(message);
                        }
                        flush_due = false;
                    }
                    Err(_) => {
                        self.kill_now().await;
                        return Err(Gone);
                    }
                },
                () = at(flush_at) => flush_due = true,
                () = at(poll_at), if room > 0 => {
                    self.logfiles.poll(out).await;
                    poll_at = Some(Instant::now() + logfiles::POLL_INTERVAL);
                }
                read = read_some(&mut self.stdout, &mut stdout_buf[..room]), if self.stdout.is_some() && room > 0 => {
                    if let Some(data) = take_read(&mut self.stdout, read, &stdout_buf) {
                        last_output = Instant::now();
                        if self.command.want_stdout {
                            out.push_output_partial(Stream::Stdout, data);
                        }
                    }
                }
                read = read_some(&mut self.stderr, &mut stderr_buf[..room]), if self.stderr.is_some() && room > 0 => {
                    if let Some(data) = take_read(&mut self.stderr, read, &stderr_buf) {
                        last_output = Instant::now();
                        if self.command.want_stderr {
                            out.push_output_partial(Stream::Stderr, data);
                        }
                    }
                }
                waited = self.child.wait(), if status.is_none() => match waited {
                    Ok(exit) => status = Some(exit),
                    Err(e) => return Ok(Ending::WaitFailed(e.to_string())),
                },
            }
        }
    }

    /// Nobody is listening any more: kill at once and reap, so no process outlives the session.
    async fn kill_now(&mut self) {
        signals::signal_group(self.pgid, Signal::SIGKILL);
        if tokio::time::timeout(BACKUP_TIMEOUT, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!(pgid = self.pgid, "killed command did not exit");
        }
    }

    async fn start_kill(&mut self, out: &mut Outbox, reason: &str) -> Result<(), Gone> {
        tracing::info!(
            command_id = out.command_id(),
            pgid = self.pgid,
            reason,
            "killing command"
        );
        out.header(&format!("\n{reason}, attempting to kill\n"))
            .await?;
        self.killed = true;
        let now = Instant::now();
        match positive(self.command.sigterm_time_s) {
            Some(grace) => {
                signals::signal_group(self.pgid, Signal::SIGTERM);
                self.kill = Kill::Terminating {
                    escalate_at: now + grace,
                };
            }
            None => {
                signals::signal_group(self.pgid, self.interrupt_signal);
                self.kill = Kill::Signalled {
                    give_up_at: now + BACKUP_TIMEOUT,
                };
            }
        }
        Ok(())
    }
}

async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Seconds from the protocol as a duration; zero, negative and NaN mean "none".
fn positive(seconds: f64) -> Option<Duration> {
    (seconds > 0.0)
        .then(|| Duration::try_from_secs_f64(seconds).ok())
        .flatten()
}

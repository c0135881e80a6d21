//! The steps a BuildFactory can hold, and the remote shell runner they share.

mod directory;
mod git;
mod master_shell;
mod set_property;
mod shell;
mod transfer;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use ferrobot_config::{Command, StepConfig};
use ferrobot_model::{BuildId, Properties, Results, StepId};
use ferrobot_protocol::v1::{ShellCommand, Stream, command_update, start_command};
use tokio_util::sync::CancellationToken;

use super::log_writer::LogWriter;
use crate::Result;
use crate::context::Context;
use crate::workers::{CommandEvent, WorkerConnection};

/// How long an interrupted command may take to report back before the worker counts as lost.
const INTERRUPT_GRACE: Duration = Duration::from_secs(30);

/// What a step sees of its build.
pub struct StepContext<'a> {
    /// The master.
    pub ctx: &'a Arc<Context>,
    /// The worker running the build.
    pub worker: &'a Arc<WorkerConnection>,
    /// The builder's name.
    pub builder_name: &'a str,
    /// The builder's directory on the worker, relative to its base directory.
    pub builddir: &'a str,
    /// The build.
    pub buildid: BuildId,
    /// This step.
    pub stepid: StepId,
    /// The build's properties; steps may set more (e.g. `got_revision`).
    pub properties: &'a mut Properties,
    /// Cancelled when a user stops the build.
    pub stop: &'a CancellationToken,
}

impl StepContext<'_> {
    /// A directory relative to the builder's directory (`build` by default, as Buildbot).
    pub fn workdir(&self, configured: Option<&str>) -> String {
        format!("{}/{}", self.builddir, configured.unwrap_or("build"))
    }

    /// A worker path relative to `base` unless it is absolute (the worker keeps it inside its
    /// base directory either way).
    pub fn worker_path(base: &str, path: &str) -> String {
        if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("{base}/{path}")
        }
    }

    /// A master path: relative to the master directory unless absolute, as Buildbot's.
    pub fn master_path(&self, path: &str) -> std::path::PathBuf {
        self.ctx.basedir.join(path)
    }

    /// Sets a build property, persisting it and announcing the change.
    pub async fn set_property(
        &mut self,
        name: &str,
        value: serde_json::Value,
        source: &str,
    ) -> Result<()> {
        self.ctx
            .store
            .set_build_property(self.buildid, name, &value, source, self.ctx.claimant())
            .await?;
        let mut changed = Properties::new();
        changed.insert(name.to_owned(), (value.clone(), source.to_owned()));
        self.properties
            .insert(name.to_owned(), (value, source.to_owned()));
        self.ctx
            .events
            .build_properties(self.buildid, &changed)
            .await;
        Ok(())
    }
}

/// How a remote shell command ended.
#[derive(Debug, Default)]
pub struct ShellOutcome {
    /// Exit code (-1 for a signal); None if none came.
    pub rc: Option<i32>,
    /// `timeout`, `timeout_without_output`, ...
    pub failure_reason: Option<String>,
    /// The worker went away.
    pub lost: bool,
    /// The build was stopped while it ran.
    pub interrupted: bool,
    /// The worker could not run it.
    pub error: Option<String>,
    /// Stdout, when capture was asked for.
    pub stdout: String,
}

impl ShellOutcome {
    /// Buildbot's result for the outcome with `decodeRC` `{0: SUCCESS}`.
    pub fn results(&self) -> Results {
        self.results_decoded(&ferrobot_config::default_decode_rc())
    }

    /// Buildbot's result for the outcome with this `decodeRC`: an exit code it does not list
    /// is FAILURE.
    pub fn results_decoded(&self, decode_rc: &std::collections::BTreeMap<i64, Results>) -> Results {
        if self.lost {
            Results::Retry
        } else if self.interrupted {
            Results::Cancelled
        } else if self.error.is_some() {
            Results::Exception
        } else {
            self.rc
                .and_then(|rc| decode_rc.get(&i64::from(rc)).copied())
                .unwrap_or(Results::Failure)
        }
    }
}

/// Runs one remote shell command, streaming its output into `log`.
pub async fn run_remote_shell(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    command: ShellCommand,
    capture_stdout: bool,
) -> Result<ShellOutcome> {
    run_remote(
        sc,
        log,
        start_command::Command::Shell(command),
        capture_stdout,
    )
    .await
}

/// What a step does with the updates of its command other than output and rc: transfer
/// updates (`upload_chunk`, `read_file`, ...) and the output of followed `logfiles`.
pub trait UpdateSink: Send {
    /// Takes one update; for a `read_file` request it returns the answer to send the worker:
    /// `Ok(bytes)` (empty = end of file) or `Err(why the master cannot read its side)`.
    fn on_update(&mut self, update: command_update::Update) -> Option<Result<Vec<u8>, String>>;

    /// Logs of its own, flushed with the step's log after each batch of updates.
    fn logs(&mut self) -> Vec<&mut LogWriter> {
        Vec::new()
    }
}

/// Runs one remote command of any kind, streaming its output into `log`.
pub async fn run_remote(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    command: start_command::Command,
    capture_stdout: bool,
) -> Result<ShellOutcome> {
    run_remote_with(sc, log, command, capture_stdout, None).await
}

/// Runs one remote command, streaming its output into `log` and its transfer updates into
/// `sink`.
pub async fn run_remote_with(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    command: start_command::Command,
    capture_stdout: bool,
    mut sink: Option<&mut dyn UpdateSink>,
) -> Result<ShellOutcome> {
    let mut outcome = ShellOutcome::default();
    let Some(mut remote) = sc.worker.start(sc.builder_name, command).await else {
        outcome.lost = true;
        return Ok(outcome);
    };
    let mut interrupt_deadline: Option<tokio::time::Instant> = None;
    loop {
        let event = tokio::select! {
            event = remote.next() => event,
            () = sc.stop.cancelled(), if interrupt_deadline.is_none() => {
                outcome.interrupted = true;
                log.header("interrupted: the build was stopped");
                remote.interrupt("the build was stopped").await;
                interrupt_deadline = Some(tokio::time::Instant::now() + INTERRUPT_GRACE);
                continue;
            }
            () = sleep_until(interrupt_deadline) => {
                outcome.lost = true;
                break;
            }
        };
        match event {
            CommandEvent::Updates(updates) => {
                for update in updates {
                    match update.update {
                        Some(command_update::Update::Output(output)) => {
                            let stream = Stream::try_from(output.stream).unwrap_or(Stream::Stdout);
                            if capture_stdout && stream == Stream::Stdout {
                                outcome
                                    .stdout
                                    .push_str(&String::from_utf8_lossy(&output.data));
                            }
                            log.push(stream, &output.data);
                        }
                        Some(command_update::Update::Rc(rc)) => outcome.rc = Some(rc),
                        Some(command_update::Update::FailureReason(reason)) => {
                            outcome.failure_reason = Some(reason)
                        }
                        Some(other) => {
                            let Some(sink) = sink.as_deref_mut() else {
                                continue;
                            };
                            if let Some(answer) = sink.on_update(other) {
                                let (data, error) = match answer {
                                    Ok(data) => (data, String::new()),
                                    Err(why) => (Vec::new(), why),
                                };
                                // A worker that is gone shows up as Lost on the next event.
                                sc.worker
                                    .send_download_data(&remote.command_id, data, error)
                                    .await;
                            }
                        }
                        None => {}
                    }
                }
                log.flush().await?;
                if let Some(sink) = sink.as_deref_mut() {
                    for extra in sink.logs() {
                        extra.flush().await?;
                    }
                }
            }
            CommandEvent::Complete(error) => {
                outcome.error = error;
                break;
            }
            CommandEvent::Lost => {
                outcome.lost = true;
                break;
            }
        }
    }
    if outcome.lost {
        log.header("worker lost while the command ran");
    }
    if let Some(error) = &outcome.error {
        log.header(&format!("the worker could not run the command: {error}"));
    }
    log.flush().await?;
    Ok(outcome)
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Builds the protocol message for a command in a working directory.
pub fn shell_command(
    workdir: String,
    command: &Command,
    env: &std::collections::BTreeMap<String, Option<String>>,
    timeout_s: Option<f64>,
    max_time_s: Option<f64>,
) -> ShellCommand {
    let (argv, shell) = match command {
        Command::Argv(argv) => (argv.clone(), None),
        Command::Shell(text) => (Vec::new(), Some(text.clone())),
    };
    ShellCommand {
        workdir,
        argv,
        shell,
        env: env
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect(),
        unset_env: env
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.clone())
            .collect(),
        want_stdout: true,
        want_stderr: true,
        timeout_s: timeout_s.unwrap_or(0.0),
        max_time_s: max_time_s.unwrap_or(0.0),
        sigterm_time_s: 0.0,
        interrupt_signal: "KILL".into(),
        initial_stdin: Vec::new(),
        log_environ: true,
        ..ShellCommand::default()
    }
}

/// Runs a configured step; returns its result and the state string to show.
pub async fn run_step(sc: &mut StepContext<'_>, step: &StepConfig) -> Result<(Results, String)> {
    match step {
        StepConfig::ShellCommand(config) => shell::run(sc, config).await,
        StepConfig::Git(config) => git::run(sc, config).await,
        StepConfig::RemoveDirectory(config) => directory::remove(sc, config).await,
        StepConfig::MakeDirectory(config) => directory::make(sc, config).await,
        StepConfig::SetPropertyFromCommand(config) => set_property::run(sc, config).await,
        StepConfig::MasterShellCommand(config) => master_shell::run(sc, config).await,
        StepConfig::StringDownload(config) => transfer::string_download(sc, config).await,
        StepConfig::FileDownload(config) => transfer::file_download(sc, config).await,
        StepConfig::FileUpload(config) => upload::file(sc, config).await,
        StepConfig::DirectoryUpload(config) => upload::directory(sc, config).await,
    }
}

/// The state string while a step runs.
pub fn running_description(step: &StepConfig) -> String {
    let common = step.common();
    if let Some(description) = &common.description {
        return description.clone();
    }
    match step {
        StepConfig::ShellCommand(config) => shell::describe(&config.command),
        StepConfig::Git(_) => "updating".into(),
        StepConfig::RemoveDirectory(config) => format!("Deleting {}", config.dir),
        StepConfig::MakeDirectory(config) => format!("Creating {}", config.dir),
        StepConfig::SetPropertyFromCommand(config) => shell::describe(&config.command),
        StepConfig::MasterShellCommand(_) => "Running".into(),
        StepConfig::StringDownload(_) | StepConfig::FileDownload(_) => "downloading".into(),
        StepConfig::FileUpload(_) | StepConfig::DirectoryUpload(_) => "uploading".into(),
    }
}

/// Buildbot's suffix for a finished step's state string.
pub fn result_suffix(results: Results) -> &'static str {
    match results {
        Results::Success => "",
        Results::Warnings => " (warnings)",
        Results::Failure => " (failure)",
        Results::Skipped => " (skipped)",
        Results::Exception => " (exception)",
        Results::Retry => " (retry)",
        Results::Cancelled => " (cancelled)",
    }
}

//! `steps.ShellCommand`.

use std::collections::BTreeMap;

use ferrobot_config::{Command, ShellCommandConfig};
use ferrobot_model::Results;
use ferrobot_protocol::v1::{LogFileSpec, Stream, command_update, start_command};

use super::{StepContext, UpdateSink, result_suffix, run_remote_with, shell_command};
use crate::Result;
use crate::building::log_writer::LogWriter;

/// Buildbot describes a shell step by its command, quoted, cut to a few words.
pub fn describe(command: &Command) -> String {
    let words: Vec<&str> = match command {
        Command::Argv(argv) => argv.iter().map(String::as_str).collect(),
        Command::Shell(text) => text.split_whitespace().collect(),
    };
    let mut text = words.iter().take(3).copied().collect::<Vec<_>>().join(" ");
    if words.len() > 3 {
        text.push_str(" ...");
    }
    format!("'{text}'")
}

/// Runs the command in the step's working directory with a `stdio` log, and one log per
/// `logfiles` entry (created up front, as Buildbot does without `lazylogfiles`).
pub async fn run(
    sc: &mut StepContext<'_>,
    config: &ShellCommandConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let mut logfiles = LogFiles::default();
    for name in config.logfiles.keys() {
        let writer = LogWriter::create(sc.ctx.clone(), sc.stepid, name).await?;
        logfiles.writers.insert(name.clone(), writer);
    }
    let mut command = shell_command(
        sc.workdir(config.common.workdir.as_deref()),
        &config.command,
        &config.env,
        config.timeout_s,
        config.max_time_s,
    );
    command.want_stdout = config.want_stdout;
    command.want_stderr = config.want_stderr;
    command.use_pty = config.use_pty;
    command.initial_stdin = config
        .initial_stdin
        .as_deref()
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    command.sigterm_time_s = config.sigterm_time_s.unwrap_or(0.0);
    command.interrupt_signal = config.interrupt_signal.clone();
    command.logfiles = config
        .logfiles
        .iter()
        .map(|(name, file)| {
            let spec = LogFileSpec {
                filename: file.filename.clone(),
                follow: file.follow,
            };
            (name.clone(), spec)
        })
        .collect();
    let outcome = run_remote_with(
        sc,
        &mut log,
        start_command::Command::Shell(command),
        false,
        Some(&mut logfiles),
    )
    .await?;
    log.finish().await?;
    for writer in logfiles.writers.into_values() {
        writer.finish().await?;
    }
    let results = outcome.results_decoded(&config.decode_rc);
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| describe(&config.command));
    Ok((results, format!("{done}{}", result_suffix(results))))
}

/// The logs of `logfiles`, fed by the worker's `log` updates.
#[derive(Default)]
struct LogFiles {
    writers: BTreeMap<String, LogWriter>,
}

impl UpdateSink for LogFiles {
    fn on_update(&mut self, update: command_update::Update) -> Option<Result<Vec<u8>, String>> {
        if let command_update::Update::Log(output) = update {
            match self.writers.get_mut(&output.name) {
                Some(writer) => writer.push(Stream::Stdout, &output.data),
                None => {
                    tracing::warn!(log = %output.name, "output for a log the step did not ask for")
                }
            }
        }
        None
    }

    fn logs(&mut self) -> Vec<&mut LogWriter> {
        self.writers.values_mut().collect()
    }
}

//! `steps.ShellCommand`.

use ferrobot_config::{Command, ShellCommandConfig};
use ferrobot_model::Results;

use super::{StepContext, result_suffix, run_remote_shell, shell_command};
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

/// Runs the command in the step's working directory with a `stdio` log.
pub async fn run(
    sc: &mut StepContext<'_>,
    config: &ShellCommandConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let mut command = shell_command(
        sc.workdir(config.common.workdir.as_deref()),
        &config.command,
        &config.env,
        config.timeout_s,
        config.max_time_s,
    );
    command.want_stdout = config.want_stdout;
    command.want_stderr = config.want_stderr;
    let outcome = run_remote_shell(sc, &mut log, command, false).await?;
    log.finish().await?;
    let results = outcome.results();
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| describe(&config.command));
    Ok((results, format!("{done}{}", result_suffix(results))))
}

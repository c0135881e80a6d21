//! `steps.RemoveDirectory` and `steps.MakeDirectory`: the worker's rmdir and mkdir commands.

use ferrobot_config::DirectoryStepConfig;
use ferrobot_model::Results;
use ferrobot_protocol::v1::{PathsCommand, start_command};

use super::{StepContext, result_suffix, run_remote};
use crate::Result;
use crate::building::log_writer::LogWriter;

/// Removes the directory (and everything in it); a missing directory is not an error.
pub async fn remove(
    sc: &mut StepContext<'_>,
    config: &DirectoryStepConfig,
) -> Result<(Results, String)> {
    let path = StepContext::worker_path(sc.builddir, &config.dir);
    let command = start_command::Command::Rmdir(PathsCommand { paths: vec![path] });
    let results = run(sc, command).await?;
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| format!("Deleted {}", config.dir));
    Ok((results, format!("{done}{}", result_suffix(results))))
}

/// Creates the directory and any missing parents.
pub async fn make(
    sc: &mut StepContext<'_>,
    config: &DirectoryStepConfig,
) -> Result<(Results, String)> {
    let path = StepContext::worker_path(sc.builddir, &config.dir);
    let command = start_command::Command::Mkdir(PathsCommand { paths: vec![path] });
    let results = run(sc, command).await?;
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| format!("Created {}", config.dir));
    Ok((results, format!("{done}{}", result_suffix(results))))
}

async fn run(sc: &StepContext<'_>, command: start_command::Command) -> Result<Results> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let outcome = run_remote(sc, &mut log, command, false).await?;
    log.finish().await?;
    Ok(outcome.results())
}

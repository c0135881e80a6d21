//! `steps.SetPropertyFromCommand`: runs a command on the worker and stores its stdout in a
//! build property.

use ferrobot_config::SetPropertyFromCommandConfig;
use ferrobot_model::Results;

use super::{StepContext, result_suffix, run_remote_shell, shell_command};
use crate::Result;
use crate::building::log_writer::LogWriter;

/// Buildbot's source for properties this step sets.
const SOURCE: &str = "SetPropertyFromCommand Step";

/// Runs the command; on success sets the property to its (stripped) stdout.
pub async fn run(
    sc: &mut StepContext<'_>,
    config: &SetPropertyFromCommandConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let command = shell_command(
        sc.workdir(config.common.workdir.as_deref()),
        &config.command,
        &config.env,
        config.timeout_s,
        config.max_time_s,
    );
    let outcome = run_remote_shell(sc, &mut log, command, true).await?;
    log.finish().await?;
    let results = outcome.results();
    // As Buildbot, a failed command sets nothing: its output is not the value asked for.
    if results == Results::Success {
        let value = if config.strip {
            outcome.stdout.trim().to_owned()
        } else {
            outcome.stdout.clone()
        };
        sc.set_property(&config.property, serde_json::Value::String(value), SOURCE)
            .await?;
    }
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| format!("property '{}' set", config.property));
    Ok((results, format!("{done}{}", result_suffix(results))))
}

//! Buildbot's `cpdir`: on POSIX its worker runs `cp -R -P -p -v FROM TO` as a process with the
//! command's timeout and maxTime, so this one does too, through the shell machinery (header,
//! streamed output, kill on timeout or interrupt, rc).

use ferrobot_protocol::v1::{CopyDirCommand, ShellCommand};
use tokio::sync::mpsc;

use super::super::CommandContext;
use super::super::outbox::Outbox;
use super::super::paths;
use super::{Outcome, run, setup_failed};

pub(crate) async fn cpdir(
    ctx: &CommandContext,
    copy: CopyDirCommand,
    out: &mut Outbox,
    interrupts: &mut mpsc::Receiver<String>,
) -> Outcome {
    let resolved = paths::resolve(&ctx.basedir, &copy.from_path)
        .and_then(|from| paths::resolve(&ctx.basedir, &copy.to_path).map(|to| (from, to)));
    let (from, to) = match resolved {
        Ok(pair) => pair,
        Err(refusal) => return setup_failed(out, format!("cpdir: {refusal}")).await,
    };
    if let Some(parent) = to.parent()
        && let Err(e) = tokio::fs::create_dir_all(parent).await
    {
        let problem = format!("cpdir: cannot create {}: {e}", parent.display());
        return setup_failed(out, problem).await;
    }
    if tokio::fs::symlink_metadata(&to).await.is_ok() {
        // Buildbot logs the same warning: cp then copies *into* the existing directory.
        tracing::warn!(to = %to.display(), "cpdir target already exists; cp will copy into it");
    }
    let command = ShellCommand {
        workdir: ctx.basedir.to_string_lossy().into_owned(),
        argv: vec![
            "cp".into(),
            "-R".into(),
            "-P".into(),
            "-p".into(),
            "-v".into(),
            from.to_string_lossy().into_owned(),
            to.to_string_lossy().into_owned(),
        ],
        want_stdout: true,
        want_stderr: true,
        timeout_s: copy.timeout_s,
        max_time_s: copy.max_time_s,
        interrupt_signal: "KILL".into(),
        log_environ: copy.log_environ,
        ..ShellCommand::default()
    };
    run(ctx, command, out, interrupts).await
}

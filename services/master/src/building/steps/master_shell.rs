//! `steps.MasterShellCommand`: a command run by the master itself, in the master directory,
//! with its output in the step's `stdio` log.

use std::process::Stdio;

use ferrobot_config::{Command, MasterShellCommandConfig};
use ferrobot_model::Results;
use ferrobot_protocol::v1::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{StepContext, result_suffix};
use crate::Result;
use crate::building::log_writer::LogWriter;

/// Runs the command; rc 0 is SUCCESS, anything else FAILURE, a stop kills it (CANCELLED).
pub async fn run(
    sc: &mut StepContext<'_>,
    config: &MasterShellCommandConfig,
) -> Result<(Results, String)> {
    let mut log = LogWriter::create(sc.ctx.clone(), sc.stepid, "stdio").await?;
    let results = execute(sc, &mut log, config).await?;
    log.finish().await?;
    let done = config
        .common
        .description_done
        .clone()
        .unwrap_or_else(|| "Ran".to_owned());
    Ok((results, format!("{done}{}", result_suffix(results))))
}

async fn execute(
    sc: &StepContext<'_>,
    log: &mut LogWriter,
    config: &MasterShellCommandConfig,
) -> Result<Results> {
    let workdir = match &config.common.workdir {
        Some(dir) => sc.master_path(dir),
        None => sc.ctx.basedir.clone(),
    };
    let mut command = match &config.command {
        Command::Shell(text) => {
            let mut c = tokio::process::Command::new("/bin/sh");
            c.arg("-c").arg(text);
            c
        }
        Command::Argv(argv) => {
            let Some((program, args)) = argv.split_first() else {
                log.header("the command is empty");
                return Ok(Results::Exception);
            };
            let mut c = tokio::process::Command::new(program);
            c.args(args);
            c
        }
    };
    for (name, value) in &config.env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    command
        .current_dir(&workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a stop kills what the shell started too.
        .process_group(0)
        .kill_on_drop(true);
    log.header(&format!(
        "running {} in {}",
        super::shell::describe(&config.command),
        workdir.display()
    ));
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            tracing::warn!(stepid = sc.stepid, %error, "master shell command could not start");
            log.header(&format!("could not run the command: {error}"));
            return Ok(Results::Exception);
        }
    };
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(crate::Error::Internal("child pipes missing".into()));
    };
    let mut out_buf = vec![0u8; 16 * 1024];
    let mut err_buf = vec![0u8; 16 * 1024];
    let (mut out_open, mut err_open) = (true, true);
    let mut stopped = false;
    while out_open || err_open {
        tokio::select! {
            n = read_some(&mut stdout, &mut out_buf), if out_open => match n {
                Some(n) => log.push(Stream::Stdout, &out_buf[..n]),
                None => out_open = false,
            },
            n = read_some(&mut stderr, &mut err_buf), if err_open => match n {
                Some(n) => log.push(Stream::Stderr, &err_buf[..n]),
                None => err_open = false,
            },
            () = sc.stop.cancelled(), if !stopped => {
                stopped = true;
                log.header("interrupted: the build was stopped");
                kill_group(&mut child);
                break;
            }
        }
        log.flush().await?;
    }
    let status = child.wait().await;
    if stopped {
        return Ok(Results::Cancelled);
    }
    match status {
        Ok(status) => {
            let rc = status.code().unwrap_or(-1);
            log.header(&format!("program finished with exit code {rc}"));
            Ok(if rc == 0 {
                Results::Success
            } else {
                Results::Failure
            })
        }
        Err(error) => {
            log.header(&format!("could not wait for the command: {error}"));
            Ok(Results::Exception)
        }
    }
}

/// Kills the command's whole process group (the shell and what it started).
fn kill_group(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        let group = nix::unistd::Pid::from_raw(pid);
        if let Err(error) = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL) {
            tracing::debug!(pid, %error, "could not kill the command's process group");
        }
    }
    let _ = child.start_kill();
}

/// Reads what is available; None at end of stream or on a read error.
async fn read_some(reader: &mut (impl AsyncRead + Unpin), buf: &mut [u8]) -> Option<usize> {
    match reader.read(buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(n),
    }
}

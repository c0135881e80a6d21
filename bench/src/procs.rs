//! Processes the harness starts (each in a process group of its own, so a stop reaches every
//! process it forked and Ctrl-C in the terminal reaches only the harness) and what `/proc` says
//! about them: resident memory and CPU time.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// How long a process gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// A running program with its output in a log file; dropped, it is stopped.
#[derive(Debug)]
pub struct Proc {
    label: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    /// Starts `program args` in `cwd`, stdout and stderr appended to `log`.
    pub fn spawn(
        label: &str,
        program: &Path,
        args: &[&str],
        cwd: &Path,
        log: &Path,
    ) -> Result<Proc> {
        use std::os::unix::process::CommandExt as _;
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env("RUST_BACKTRACE", "1")
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {label}: {}", program.display()))?;
        Ok(Proc {
            label: label.to_owned(),
            child: Some(child),
            log: log.to_owned(),
        })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> i32 {
        self.child
            .as_ref()
            .map_or(0, |c| i32::try_from(c.id()).unwrap_or(0))
    }

    /// Fails, naming the log file, if the process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            bail!(
                "{} exited with {status}; see {}",
                self.label,
                self.log.display()
            );
        }
        Ok(())
    }

    /// Sends SIGTERM to the process group (without waiting).
    pub fn terminate(&self) {
        if self.child.is_some() {
            let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGTERM);
        }
    }

    /// Waits for the process to exit after [`Proc::terminate`], killing its group after the grace
    /// period.
    pub fn wait_stopped(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                // Anything left in the group (a build command) goes too.
                let _ = killpg(
                    Pid::from_raw(i32::try_from(child.id()).unwrap_or(0)),
                    Signal::SIGKILL,
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "{} did not stop within {STOP_GRACE:?}; killing it",
            self.label
        );
        let _ = killpg(
            Pid::from_raw(i32::try_from(child.id()).unwrap_or(0)),
            Signal::SIGKILL,
        );
        let _ = child.wait();
    }

    /// Stops the process: SIGTERM, wait, SIGKILL after the grace period.
    pub fn stop(&mut self) {
        self.terminate();
        self.wait_stopped();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Stops many processes at once: all get SIGTERM first, then each is waited for.
pub fn stop_all(procs: &mut [Proc]) {
    for p in procs.iter() {
        p.terminate();
    }
    for p in procs.iter_mut() {
        p.wait_stopped();
    }
}

/// The ids of the processes in process group `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| stat_fields(*pid).and_then(|f| f.get(2)?.parse::<i32>().ok()) == Some(pgid))
        .collect()
}

/// The fields of `/proc/<pid>/stat` after the command name (field 3, the state, comes first).
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// A `/proc/<pid>/status` value in kB (`VmRSS`, `VmHWM`).
fn status_kb(pid: i32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Memory of one started program: the sum over its process group, which holds the program and
/// any helper it forked, but not build commands (both workers run those in groups of their own).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    /// Resident set now, in MB.
    pub rss_mb: f64,
    /// Peak resident set since start (`VmHWM`), in MB.
    pub peak_mb: f64,
}

/// Reads [`Memory`] of the process group of `pgid`.
pub fn memory(pgid: i32) -> Result<Memory> {
    let members = group_members(pgid);
    if members.is_empty() {
        bail!("process {pgid} is gone, so its memory cannot be read");
    }
    let sum = |key| {
        members
            .iter()
            .filter_map(|p| status_kb(*p, key))
            .sum::<u64>() as f64
            / 1024.0
    };
    Ok(Memory {
        rss_mb: sum("VmRSS"),
        peak_mb: sum("VmHWM"),
    })
}

/// CPU time (user + system) used so far by the process group of `pgid`, in seconds.
pub fn cpu_seconds(pgid: i32) -> Result<f64> {
    let ticks_per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?
        .context("the kernel reports no clock tick rate")? as f64;
    let members = group_members(pgid);
    if members.is_empty() {
        bail!("process {pgid} is gone, so its CPU time cannot be read");
    }
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the state.
    let ticks: u64 = members
        .iter()
        .filter_map(|p| {
            let f = stat_fields(*p)?;
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum();
    Ok(ticks as f64 / ticks_per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_harness_reads_its_own_memory_and_cpu_time() {
        let me = nix::unistd::getpgrp().as_raw();
        let m = memory(me).expect("memory");
        assert!(m.rss_mb > 0.0 && m.peak_mb >= m.rss_mb * 0.5, "{m:?}");
        assert!(cpu_seconds(me).expect("cpu") >= 0.0);
    }
}

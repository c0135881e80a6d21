//! Build steps: what every step takes, and the shell and source steps (the file steps are in
//! `file_steps`).

use std::collections::BTreeMap;

use ferrobot_model::Results;
use serde::{Deserialize, Serialize};

use super::file_steps::{
    DirectoryStepConfig, DirectoryUploadConfig, FileDownloadConfig, FileUploadConfig,
    MasterShellCommandConfig, SetPropertyFromCommandConfig, StringDownloadConfig,
};

/// What every step shares (reference/buildbot.md §6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonStepConfig {
    /// Name, unique within the build after numbering.
    pub name: String,
    /// Stop the build after a failure.
    pub halt_on_failure: bool,
    /// A failure fails the build (default true).
    pub flunk_on_failure: bool,
    /// Warnings fail the build.
    pub flunk_on_warnings: bool,
    /// A failure makes the build WARNINGS.
    pub warn_on_failure: bool,
    /// Warnings make the build WARNINGS.
    pub warn_on_warnings: bool,
    /// Runs even after the build was halted or stopped.
    pub always_run: bool,
    /// Description while running.
    pub description: Option<String>,
    /// Description when done.
    pub description_done: Option<String>,
    /// Working directory relative to the builder's directory (default `build`).
    pub workdir: Option<String>,
}

/// A step of a BuildFactory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StepConfig {
    /// `steps.ShellCommand`.
    ShellCommand(ShellCommandConfig),
    /// `steps.Git`.
    Git(GitStepConfig),
    /// `steps.RemoveDirectory`.
    RemoveDirectory(DirectoryStepConfig),
    /// `steps.MakeDirectory`.
    MakeDirectory(DirectoryStepConfig),
    /// `steps.SetPropertyFromCommand`.
    SetPropertyFromCommand(SetPropertyFromCommandConfig),
    /// `steps.MasterShellCommand`.
    MasterShellCommand(MasterShellCommandConfig),
    /// `steps.StringDownload`.
    StringDownload(StringDownloadConfig),
    /// `steps.FileDownload`.
    FileDownload(FileDownloadConfig),
    /// `steps.FileUpload`.
    FileUpload(FileUploadConfig),
    /// `steps.DirectoryUpload`.
    DirectoryUpload(DirectoryUploadConfig),
}

impl StepConfig {
    /// The parts every step has.
    pub fn common(&self) -> &CommonStepConfig {
        match self {
            StepConfig::ShellCommand(s) => &s.common,
            StepConfig::Git(s) => &s.common,
            StepConfig::RemoveDirectory(s) | StepConfig::MakeDirectory(s) => &s.common,
            StepConfig::SetPropertyFromCommand(s) => &s.common,
            StepConfig::MasterShellCommand(s) => &s.common,
            StepConfig::StringDownload(s) => &s.common,
            StepConfig::FileDownload(s) => &s.common,
            StepConfig::FileUpload(s) => &s.common,
            StepConfig::DirectoryUpload(s) => &s.common,
        }
    }
}

/// A command as Buildbot takes it: a list (exec) or a string (`/bin/sh -c`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Exec form.
    Argv(Vec<String>),
    /// Shell form.
    Shell(String),
}

/// `steps.ShellCommand(command, env, workdir, timeout, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShellCommandConfig {
    /// Name, flags, workdir.
    pub common: CommonStepConfig,
    /// What to run.
    pub command: Command,
    /// Environment; a `None` value unsets the variable.
    pub env: BTreeMap<String, Option<String>>,
    /// Seconds without output before the command is killed (default 1200; None = never).
    pub timeout_s: Option<f64>,
    /// Seconds of total run time before it is killed (default none).
    pub max_time_s: Option<f64>,
    /// Keep stdout.
    pub want_stdout: bool,
    /// Keep stderr.
    pub want_stderr: bool,
    /// `usePTY`: run on a pseudo-terminal (both streams arrive merged as stdout).
    #[serde(default)]
    pub use_pty: bool,
    /// `initialStdin`: written to the command's stdin, which is then closed.
    #[serde(default)]
    pub initial_stdin: Option<String>,
    /// `sigtermTime`: seconds between SIGTERM and `interruptSignal` when killing (None: the
    /// signal at once).
    #[serde(default)]
    pub sigterm_time_s: Option<f64>,
    /// `interruptSignal`: the signal that kills the command (default `KILL`).
    #[serde(default = "default_interrupt_signal")]
    pub interrupt_signal: String,
    /// `decodeRC`: exit code → result; a code not listed is FAILURE (default `{0: SUCCESS}`).
    #[serde(default = "default_decode_rc")]
    pub decode_rc: BTreeMap<i64, Results>,
    /// `logfiles`: log name → file (relative to the workdir) sent while the command runs.
    #[serde(default)]
    pub logfiles: BTreeMap<String, LogFileConfig>,
}

/// One entry of `logfiles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFileConfig {
    /// Relative to the command's workdir.
    pub filename: String,
    /// `follow=True`: only what is appended while the command runs (default: the whole file
    /// once the command has written it).
    pub follow: bool,
}

/// Buildbot's `interruptSignal` default.
pub fn default_interrupt_signal() -> String {
    "KILL".to_owned()
}

/// Buildbot's `decodeRC` default: 0 is SUCCESS, anything else FAILURE.
pub fn default_decode_rc() -> BTreeMap<i64, Results> {
    BTreeMap::from([(0, Results::Success)])
}

/// `steps.Git(repourl, branch, mode, method)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GitStepConfig {
    /// Name (default `git`), flags, workdir.
    pub common: CommonStepConfig,
    /// Repository URL or path.
    pub repourl: String,
    /// Branch to check out when the build's source stamp names none (default `HEAD`).
    pub branch: String,
    /// `incremental` (default) or `full`.
    pub mode: GitMode,
    /// With `full`: `fresh` (default), `clobber`, `clean` or `copy`.
    pub method: GitMethod,
    /// Seconds without output before a git command is killed (default 1200).
    pub timeout_s: Option<f64>,
}

/// `mode=` of a source step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitMode {
    /// Update the existing checkout.
    Incremental,
    /// Rebuild the checkout according to the method.
    Full,
}

/// `method=` of a source step in full mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitMethod {
    /// `git clean -f -f -d -x`, then update.
    Fresh,
    /// Remove the directory and clone again.
    Clobber,
    /// `git clean -f -f -d`, then update.
    Clean,
    /// Update a copy kept beside the build and copy it over.
    Copy,
}

//! The steps that work on files and directories: the worker's file commands, the transfers
//! between master and worker, and the two steps that are about commands rather than builds'
//! shells (`SetPropertyFromCommand`, `MasterShellCommand`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Command, CommonStepConfig};

/// `steps.RemoveDirectory(dir)` and `steps.MakeDirectory(dir)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryStepConfig {
    /// Name, flags.
    pub common: CommonStepConfig,
    /// The directory, relative to the builder's directory on the worker (as Buildbot's `dir`).
    pub dir: String,
}

/// `steps.SetPropertyFromCommand(command, property, strip=True, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetPropertyFromCommandConfig {
    /// Name (default `setproperty`), flags, workdir.
    pub common: CommonStepConfig,
    /// What to run on the worker.
    pub command: Command,
    /// The property that receives the command's stdout.
    pub property: String,
    /// Strip leading and trailing whitespace from the output (default true).
    pub strip: bool,
    /// Environment; a `None` value unsets the variable.
    pub env: BTreeMap<String, Option<String>>,
    /// Seconds without output before the command is killed (default 1200; None = never).
    pub timeout_s: Option<f64>,
    /// Seconds of total run time before it is killed (default none).
    pub max_time_s: Option<f64>,
}

/// `steps.MasterShellCommand(command, workdir, env)`: runs in the master's directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterShellCommandConfig {
    /// Name (default `MasterShellCommand`), flags; `workdir` is relative to the master directory.
    pub common: CommonStepConfig,
    /// What to run on the master.
    pub command: Command,
    /// Environment; a `None` value unsets the variable.
    pub env: BTreeMap<String, Option<String>>,
}

/// `steps.StringDownload(s, workerdest, mode=None, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StringDownloadConfig {
    /// Name (default `string_download`), flags, workdir.
    pub common: CommonStepConfig,
    /// The file's contents.
    pub s: String,
    /// Destination on the worker, relative to the step's workdir.
    pub workerdest: String,
    /// Permission bits of the written file (None = the worker's umask).
    pub mode: Option<u32>,
    /// Most bytes to write (None = no limit).
    pub maxsize: Option<u64>,
    /// Bytes per transfer block (Buildbot's 16 KiB by default).
    pub blocksize: u32,
}

/// `steps.FileDownload(mastersrc, workerdest, maxsize=None, blocksize=16384, mode=None)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDownloadConfig {
    /// Name (default `download`), flags, workdir.
    pub common: CommonStepConfig,
    /// Source on the master, relative to the master directory unless absolute.
    pub mastersrc: String,
    /// Destination on the worker, relative to the step's workdir.
    pub workerdest: String,
    /// Most bytes to write (None = no limit).
    pub maxsize: Option<u64>,
    /// Bytes per transfer block.
    pub blocksize: u32,
    /// Permission bits of the written file (None = the worker's umask).
    pub mode: Option<u32>,
}

/// `steps.FileUpload(workersrc, masterdest, maxsize, blocksize, mode, keepstamp)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileUploadConfig {
    /// Name (default `upload`), flags, workdir.
    pub common: CommonStepConfig,
    /// Source on the worker, relative to the step's workdir.
    pub workersrc: String,
    /// Destination on the master, relative to the master directory unless absolute.
    pub masterdest: String,
    /// Most bytes to accept (None = no limit); more fails the step.
    pub maxsize: Option<u64>,
    /// Bytes per transfer block.
    pub blocksize: u32,
    /// Permission bits of the written file (None = the master's umask).
    pub mode: Option<u32>,
    /// Keep the worker file's access and modification times.
    pub keepstamp: bool,
}

/// How a directory upload is compressed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// A plain tar stream (Buildbot's `compress=None`).
    None,
    /// gzip.
    Gz,
    /// bzip2.
    Bz2,
}

/// `steps.DirectoryUpload(workersrc, masterdest, compress=None, ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryUploadConfig {
    /// Name (default `upload`), flags, workdir.
    pub common: CommonStepConfig,
    /// Source directory on the worker, relative to the step's workdir.
    pub workersrc: String,
    /// Destination directory on the master, relative to the master directory unless absolute.
    pub masterdest: String,
    /// Compression of the stream.
    pub compress: Compression,
    /// Most bytes of the (compressed) stream to accept (None = no limit).
    pub maxsize: Option<u64>,
    /// Bytes per transfer block.
    pub blocksize: u32,
}

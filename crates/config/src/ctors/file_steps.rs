//! The file steps: `RemoveDirectory`, `MakeDirectory`, the transfers (`StringDownload`,
//! `FileDownload`, `FileUpload`, `DirectoryUpload`), `SetPropertyFromCommand` and
//! `MasterShellCommand`, with Buildbot's argument names and defaults.

use crate::args::{Args, Spec};
use crate::types::{
    Compression, DirectoryStepConfig, DirectoryUploadConfig, FileDownloadConfig, FileUploadConfig,
    MasterShellCommandConfig, SetPropertyFromCommandConfig, StepConfig, StringDownloadConfig,
};
use crate::values::Item;

use super::steps::{command, common, env, timeout};

/// Buildbot's transfer block size.
const DEFAULT_BLOCKSIZE: u32 = 16 * 1024;
/// Buildbot's FileUpload reads bigger blocks than its other transfers.
const DEFAULT_UPLOAD_BLOCKSIZE: u32 = 256 * 1024;
/// The worker caps blocks at 1 MiB; a larger request is a mistake worth naming.
const MAX_BLOCKSIZE: i64 = 1024 * 1024;

/// Declares a step's Spec: its own parameters, then the flags every step takes.
macro_rules! step_spec {
    ($ident:ident, $qualname:literal, $positional:literal, [$($param:literal),*],
     unsupported: [$($unsupported:literal),*], ignored: [$($ignored:literal),*]) => {
        #[doc = concat!("`", $qualname, "(...)`.")]
        pub(crate) static $ident: Spec = Spec {
            qualname: $qualname,
            params: &[
                $($param,)*
                "name",
                "workdir",
                "haltOnFailure",
                "flunkOnFailure",
                "flunkOnWarnings",
                "warnOnFailure",
                "warnOnWarnings",
                "alwaysRun",
                "description",
                "descriptionDone",
            ],
            positional: $positional,
            unsupported: &[
                $($unsupported,)*
                "doStepIf",
                "hideStepIf",
                "locks",
                "descriptionSuffix",
                "updateBuildSummaryPolicy",
            ],
            ignored: &[$($ignored),*],
        };
    };
}

step_spec!(REMOVE_DIRECTORY, "steps.RemoveDirectory", 1, ["dir"],
    unsupported: [], ignored: []);
step_spec!(MAKE_DIRECTORY, "steps.MakeDirectory", 1, ["dir"],
    unsupported: [], ignored: []);
step_spec!(SET_PROPERTY_FROM_COMMAND, "steps.SetPropertyFromCommand", 1,
    ["property", "command", "strip", "env", "timeout", "maxTime"],
    unsupported: ["extract_fn", "includeStdout", "includeStderr", "logfiles", "lazylogfiles",
        "usePTY", "decodeRC", "sigtermTime", "interruptSignal", "initialStdin", "max_lines"],
    ignored: ["logEnviron", "logEncoding"]);
step_spec!(MASTER_SHELL_COMMAND, "steps.MasterShellCommand", 1, ["command", "env"],
    unsupported: ["usePTY", "interruptSignal", "runtime_timeout"], ignored: ["logEnviron"]);
step_spec!(STRING_DOWNLOAD, "steps.StringDownload", 2,
    ["s", "workerdest", "maxsize", "blocksize", "mode"],
    unsupported: ["slavedest"], ignored: []);
step_spec!(FILE_DOWNLOAD, "steps.FileDownload", 2,
    ["mastersrc", "workerdest", "maxsize", "blocksize", "mode"],
    unsupported: ["slavedest"], ignored: []);
step_spec!(FILE_UPLOAD, "steps.FileUpload", 2,
    ["workersrc", "masterdest", "maxsize", "blocksize", "mode", "keepstamp"],
    unsupported: ["url", "urlText", "slavesrc"], ignored: []);
step_spec!(DIRECTORY_UPLOAD, "steps.DirectoryUpload", 2,
    ["workersrc", "masterdest", "maxsize", "blocksize", "compress"],
    unsupported: ["url", "urlText", "slavesrc"], ignored: []);

/// A required, non-empty string.
fn path(a: &Args, name: &str) -> starlark::Result<String> {
    let value = a.req_str(name)?;
    if value.is_empty() {
        return Err(a.invalid(name, "must not be empty"));
    }
    Ok(value)
}

/// `maxsize=`: None or a non-negative number of bytes.
fn maxsize(a: &Args) -> starlark::Result<Option<u64>> {
    match a.int("maxsize")? {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| a.invalid("maxsize", format!("must not be negative, got {n}"))),
    }
}

/// `blocksize=`: a positive number of bytes, at most 1 MiB (the worker's cap).
fn blocksize(a: &Args, default: u32) -> starlark::Result<u32> {
    match a.int("blocksize")? {
        None => Ok(default),
        Some(n) if (1..=MAX_BLOCKSIZE).contains(&n) => Ok(n as u32),
        Some(n) => Err(a.invalid(
            "blocksize",
            format!("must be between 1 and {MAX_BLOCKSIZE}, got {n}"),
        )),
    }
}

/// `mode=`: None or permission bits such as `0o755`.
fn mode(a: &Args) -> starlark::Result<Option<u32>> {
    match a.int("mode")? {
        None => Ok(None),
        Some(n) if (0..=0o7777).contains(&n) => Ok(Some(n as u32)),
        Some(n) => Err(a.invalid(
            "mode",
            format!("must be permission bits between 0 and 0o7777, got {n}"),
        )),
    }
}

pub(crate) fn remove_directory(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    Ok(Item::Step(StepConfig::RemoveDirectory(
        DirectoryStepConfig {
            dir: path(a, "dir")?,
            common: common(a, "RemoveDirectory", true)?,
        },
    )))
}

pub(crate) fn make_directory(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    Ok(Item::Step(StepConfig::MakeDirectory(DirectoryStepConfig {
        dir: path(a, "dir")?,
        common: common(a, "MakeDirectory", true)?,
    })))
}

pub(crate) fn set_property_from_command(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let command = command(a)?;
    // Buildbot takes extract_fn instead of property; that form is not supported here.
    let property = path(a, "property")?;
    Ok(Item::Step(StepConfig::SetPropertyFromCommand(
        SetPropertyFromCommandConfig {
            common: common(a, "setproperty", false)?,
            command,
            property,
            strip: a.bool("strip", true)?,
            env: env(a)?,
            timeout_s: timeout(a)?,
            max_time_s: a.seconds("maxTime")?,
        },
    )))
}

pub(crate) fn master_shell_command(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let command = command(a)?;
    Ok(Item::Step(StepConfig::MasterShellCommand(
        MasterShellCommandConfig {
            common: common(a, "MasterShellCommand", true)?,
            command,
            env: env(a)?,
        },
    )))
}

pub(crate) fn string_download(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    // An empty string is a legitimate (empty) file, so only its type is checked.
    let s = a.req_str("s")?;
    Ok(Item::Step(StepConfig::StringDownload(
        StringDownloadConfig {
            s,
            workerdest: path(a, "workerdest")?,
            mode: mode(a)?,
            maxsize: maxsize(a)?,
            blocksize: blocksize(a, DEFAULT_BLOCKSIZE)?,
            common: common(a, "string_download", true)?,
        },
    )))
}

pub(crate) fn file_download(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    Ok(Item::Step(StepConfig::FileDownload(FileDownloadConfig {
        mastersrc: path(a, "mastersrc")?,
        workerdest: path(a, "workerdest")?,
        maxsize: maxsize(a)?,
        blocksize: blocksize(a, DEFAULT_BLOCKSIZE)?,
        mode: mode(a)?,
        common: common(a, "download", true)?,
    })))
}

pub(crate) fn file_upload(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    Ok(Item::Step(StepConfig::FileUpload(FileUploadConfig {
        workersrc: path(a, "workersrc")?,
        masterdest: path(a, "masterdest")?,
        maxsize: maxsize(a)?,
        blocksize: blocksize(a, DEFAULT_UPLOAD_BLOCKSIZE)?,
        mode: mode(a)?,
        keepstamp: a.bool("keepstamp", false)?,
        common: common(a, "upload", true)?,
    })))
}

pub(crate) fn directory_upload(a: &Args, _w: &mut Vec<String>) -> starlark::Result<Item> {
    let compress = match a.raw("compress") {
        None => Compression::None,
        Some(v) if v.is_none() => Compression::None,
        Some(_) => match a.str("compress")?.as_deref() {
            Some("gz") => Compression::Gz,
            Some("bz2") => Compression::Bz2,
            other => {
                return Err(a.invalid(
                    "compress",
                    format!("must be None, 'gz' or 'bz2', got {:?}", other.unwrap_or("")),
                ));
            }
        },
    };
    Ok(Item::Step(StepConfig::DirectoryUpload(
        DirectoryUploadConfig {
            workersrc: path(a, "workersrc")?,
            masterdest: path(a, "masterdest")?,
            compress,
            maxsize: maxsize(a)?,
            blocksize: blocksize(a, DEFAULT_BLOCKSIZE)?,
            common: common(a, "upload", true)?,
        },
    )))
}

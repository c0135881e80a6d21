//! The worker protocol (`proto/ferrobot/worker/v1/worker.proto`), generated at build time, with
//! the constants both sides agree on.
#![warn(missing_docs)]

/// Generated messages, client and server of `ferrobot.worker.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("ferrobot.worker.v1");
}

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Version reported for each remote command, as Buildbot's workers report "3.3".
pub const COMMAND_VERSION: &str = "3.3";

/// The remote commands of protocol v1, under Buildbot's names.
pub const COMMANDS: &[&str] = &[
    "shell",
    "mkdir",
    "rmdir",
    "cpdir",
    "stat",
    "glob",
    "listdir",
    "rmfile",
    "uploadFile",
    "uploadDirectory",
    "downloadFile",
];

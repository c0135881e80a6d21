//! The worker side of the master: the gRPC server that workers dial, and the registry of
//! connected workers that the build engine sends commands through.

mod connection;
pub mod control;
pub mod listen;
mod server;

pub use connection::{CommandEvent, RemoteCommand, WorkerConnection, WorkerRegistry};
pub use server::WorkerServer;

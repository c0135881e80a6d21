//! The Ferrobot master: change sources, schedulers, the build engine, the worker server and the
//! REST API, wired together by [`service`]. See docs/architecture.md for the map.
#![warn(missing_docs)]

pub mod building;
pub mod changes;
pub mod cli;
pub mod cluster;
pub mod context;
mod error;
pub mod events;
pub mod reporters;
pub mod roles;
pub mod scheduling;
pub mod service;
pub mod workers;
pub mod www;

pub use error::{Error, ErrorCode, Result};

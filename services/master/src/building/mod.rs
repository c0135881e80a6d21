//! The build engine: the distributor that claims requests and the build runner with its steps.

mod build;
pub mod cancel;
mod distributor;
mod log_writer;
mod steps;

pub use build::BuildJob;
pub use distributor::Distributor;

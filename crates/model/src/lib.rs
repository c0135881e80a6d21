//! Types shared by every part of Ferrobot: result codes and the entities of Buildbot's data
//! model in their REST API v2 shapes.
#![warn(missing_docs)]

mod entities;
mod results;

pub use entities::*;
pub use results::{ResultFlags, Results};

/// Seconds since the UNIX epoch, the time unit of Buildbot's database and API.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

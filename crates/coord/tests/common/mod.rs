//! What the backend test files share: unique names and the case runner around a fixture.

#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A case gets this much time; a hang fails it instead of stalling the run.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// A name no other test of this run or of a parallel run uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs a case on its own task under [`CASE_TIMEOUT`]; returns its panic, if any, so that the
/// caller cleans up before re-raising it.
pub async fn run_case<Fut>(case: Fut) -> Result<(), Box<dyn std::any::Any + Send>>
where
    Fut: Future<Output = ()> + Send + 'static,
{
    match tokio::spawn(tokio::time::timeout(CASE_TIMEOUT, case)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Box::new(format!(
            "case did not finish within {CASE_TIMEOUT:?}"
        ))),
        Err(error) if error.is_panic() => Err(error.into_panic()),
        Err(error) => Err(Box::new(format!("case task failed: {error}"))),
    }
}

/// Reads a required environment variable or fails the test saying how to get it.
pub fn required_env(name: &str, service: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!("{name} is not set: run scripts/test.sh, which starts {service}"),
    }
}

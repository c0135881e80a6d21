//! What the NATS test files share: the server under test and unique subject prefixes.
// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ferrobot_bus::{NatsBus, NatsOptions};

/// The NATS server the tests use, from `FERROBOT_TEST_NATS_URL` (set by scripts/test.sh).
/// Missing, the test fails: a NATS bus that was never tested must not look green.
pub fn nats_url() -> String {
    std::env::var("FERROBOT_TEST_NATS_URL").unwrap_or_else(|_| {
        panic!(
            "FERROBOT_TEST_NATS_URL is not set: run scripts/test.sh, or start nats-server and \
             export FERROBOT_TEST_NATS_URL=nats://127.0.0.1:4222"
        )
    })
}

/// A subject prefix no other test, test run or cluster on the same server uses, so tests
/// cannot hear each other.
pub fn unique_prefix(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!(
        "ferrobot_test_{name}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A bus on the test server under `prefix`, or a panic naming the server.
pub async fn connect(prefix: &str, queue_capacity: usize) -> NatsBus {
    let url = nats_url();
    let options = NatsOptions {
        queue_capacity,
        ..NatsOptions::default()
    };
    NatsBus::connect_with(&url, prefix, options)
        .await
        .unwrap_or_else(|error| panic!("connecting to NATS at {url}: {error}"))
}

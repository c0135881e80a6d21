//! The coordinator conformance suite against etcd (feature `etcd`): every case gets its own key
//! prefix on the server named by `FERROBOT_TEST_ETCD_ENDPOINTS` (comma-separated; it fails
//! without it, never skips), deleted afterwards.
#![cfg(feature = "etcd")]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Client, DeleteOptions};
use ferrobot_coord::EtcdCoordinator;
use ferrobot_coord::conformance::Fixture;

fn endpoints() -> Vec<String> {
    common::required_env("FERROBOT_TEST_ETCD_ENDPOINTS", "etcd")
        .split(',')
        .map(|endpoint| endpoint.trim().to_owned())
        .filter(|endpoint| !endpoint.is_empty())
        .collect()
}

async fn run<F, Fut>(case: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let endpoints = endpoints();
    let prefix = format!("/{}", common::unique_name("ferrobot-coord-test"));
    let coordinator = EtcdCoordinator::connect(&endpoints, &prefix)
        .await
        .unwrap_or_else(|error| panic!("the etcd coordinator does not connect: {error}"));
    let admin = Client::connect(&endpoints, None)
        .await
        .expect("a second etcd client");
    let behind_the_back = admin.clone();
    let fixture = Fixture {
        coordinator: Arc::new(coordinator),
        ttl: Duration::from_secs(2),
        // etcd's lessor looks for expired leases every 500 ms.
        expiry_slack: Duration::from_millis(700),
        remove_lease: Box::new(move |lease_id| {
            let mut client = behind_the_back.clone();
            Box::pin(async move {
                client
                    .lease_revoke(lease_id)
                    .await
                    .expect("the lease can be revoked from outside");
            })
        }),
    };
    let outcome = common::run_case(case(fixture)).await;
    admin
        .clone()
        .delete(prefix.as_str(), Some(DeleteOptions::new().with_prefix()))
        .await
        .expect("the test's keys can be deleted");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

ferrobot_coord::coord_conformance_suite!(run);

//! The coordinator conformance suite against the in-process coordinator.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ferrobot_coord::InProcessCoordinator;
use ferrobot_coord::conformance::Fixture;

async fn run<F, Fut>(case: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let coordinator = InProcessCoordinator::new();
    let remover = coordinator.clone();
    let fixture = Fixture {
        coordinator: Arc::new(coordinator),
        ttl: Duration::from_secs(1),
        expiry_slack: Duration::ZERO,
        remove_lease: Box::new(move |lease_id| {
            remover.remove_lease(lease_id);
            Box::pin(async {})
        }),
    };
    if let Err(panic) = common::run_case(case(fixture)).await {
        std::panic::resume_unwind(panic);
    }
}

ferrobot_coord::coord_conformance_suite!(run);

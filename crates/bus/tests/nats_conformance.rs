//! The bus conformance suite against the NATS bus on `FERROBOT_TEST_NATS_URL`, each test on its
//! own subject prefix, with a small queue (so the lag case overflows quickly) and with the
//! default one.

mod common;

use std::sync::Arc;

use ferrobot_bus::conformance::Fixture;

async fn nats(queue_capacity: usize) -> Fixture {
    let bus = common::connect(&common::unique_prefix("conformance"), queue_capacity).await;
    let counted = bus.clone();
    Fixture::new(Arc::new(bus), queue_capacity)
        .with_live_subscriptions(move || counted.subscriber_count())
}

mod small_queue {
    ferrobot_bus::bus_conformance_suite!(super::nats(16));
}

mod default_queue {
    ferrobot_bus::bus_conformance_suite!(super::nats(ferrobot_bus::DEFAULT_QUEUE_CAPACITY));
}

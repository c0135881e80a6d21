//! The bus conformance suite against the in-process bus, with a small queue (so the lag case
//! overflows quickly) and with the default one.

use std::sync::Arc;

use ferrobot_bus::conformance::Fixture;
use ferrobot_bus::{DEFAULT_QUEUE_CAPACITY, InProcessBus};

async fn in_process(queue_capacity: usize) -> Fixture {
    let bus = InProcessBus::with_queue_capacity(queue_capacity);
    let counted = bus.clone();
    Fixture::new(Arc::new(bus), queue_capacity)
        .with_live_subscriptions(move || counted.subscriber_count())
}

mod small_queue {
    ferrobot_bus::bus_conformance_suite!(super::in_process(16));
}

mod default_queue {
    ferrobot_bus::bus_conformance_suite!(super::in_process(ferrobot_bus::DEFAULT_QUEUE_CAPACITY));
}

#[test]
fn default_capacity_is_the_documented_one() {
    assert_eq!(InProcessBus::new().queue_capacity(), DEFAULT_QUEUE_CAPACITY);
    assert_eq!(DEFAULT_QUEUE_CAPACITY, 4096);
}

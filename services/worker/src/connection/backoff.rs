//! Delays between connection attempts: exponential, jittered, capped at `maxdelay`.

use std::hash::BuildHasher;
use std::time::Duration;

/// First delay after a failure, as Twisted's reconnecting factory.
const INITIAL: Duration = Duration::from_secs(1);
const FACTOR: f64 = 1.8;
/// Each delay is moved by up to this fraction either way, so that workers cut off together
/// (a master restart) do not all come back in the same instant.
const JITTER: f64 = 0.1;
/// Even `--maxdelay 0` must not spin.
const FLOOR: Duration = Duration::from_millis(10);

pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Self { next: INITIAL, max }
    }

    pub(crate) fn reset(&mut self) {
        self.next = INITIAL;
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let base = self.next.min(self.max);
        self.next = self.next.mul_f64(FACTOR).min(self.max.max(INITIAL));
        let jittered = base.mul_f64(1.0 + JITTER * (2.0 * random_unit() - 1.0));
        jittered.min(self.max).max(FLOOR)
    }
}

/// A number in [0, 1) that differs from call to call; good enough for jitter and shuffling,
/// without a random-number crate.
pub(crate) fn random_unit() -> f64 {
    let bits = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Shuffles in place (Fisher-Yates).
pub(crate) fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = ((random_unit() * (i + 1) as f64) as usize).min(i);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_maxdelay() {
        let max = Duration::from_secs(10);
        let mut backoff = Backoff::new(max);
        let delays: Vec<Duration> = (0..12).map(|_| backoff.next_delay()).collect();
        assert!(
            delays[0] >= Duration::from_millis(900) && delays[0] <= Duration::from_millis(1100)
        );
        assert!(delays[3] > delays[0] * 3, "{delays:?}");
        assert!(delays.iter().all(|d| *d <= max), "{delays:?}");
        assert!(delays[11] >= max.mul_f64(0.9), "{delays:?}");
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(1100));
    }

    #[test]
    fn a_small_maxdelay_caps_even_the_first_delay() {
        let mut backoff = Backoff::new(Duration::from_millis(50));
        assert!(backoff.next_delay() <= Duration::from_millis(50));
    }
}

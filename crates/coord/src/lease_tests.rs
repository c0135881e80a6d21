//! The renewal loop against a scripted backend, on paused time: when it renews, when it
//! retries and when it fences.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use super::*;

const TTL: Duration = Duration::from_millis(1200);

#[derive(Clone, Copy)]
enum Answer {
    Renewed,
    Unreachable,
    Gone,
    Hangs,
}

/// Answers renewals from a script, then `Renewed` forever.
struct Scripted {
    script: Mutex<VecDeque<Answer>>,
    renewals: AtomicUsize,
}

impl Scripted {
    fn new(script: &[Answer]) -> Arc<Scripted> {
        Arc::new(Scripted {
            script: Mutex::new(script.iter().copied().collect()),
            renewals: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl LeaseBackend for Scripted {
    async fn renew(&self) -> Result<()> {
        self.renewals.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .script
            .lock()
            .expect("script lock")
            .pop_front()
            .unwrap_or(Answer::Renewed);
        match answer {
            Answer::Renewed => Ok(()),
            Answer::Unreachable => Err(Error::Backend("unreachable".into())),
            Answer::Gone => Err(Error::LeaseLost {
                owner: "m".into(),
                epoch: 1,
            }),
            Answer::Hangs => std::future::pending().await,
        }
    }

    async fn revoke(&self) -> Result<()> {
        Ok(())
    }
}

fn start(backend: Arc<Scripted>) -> (Lease, Instant) {
    let granted_at = Instant::now();
    (
        Lease::start(backend, 1, 1, "m", TTL, granted_at),
        granted_at,
    )
}

/// How long after the grant the lease was lost, or `None` if it lived for `within`.
async fn lost_after(lease: &Lease, granted_at: Instant, within: Duration) -> Option<Duration> {
    tokio::time::timeout(within, lease.lost())
        .await
        .ok()
        .map(|()| granted_at.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_healthy_lease_renews_every_third_of_its_ttl_and_lives_on() {
    let backend = Scripted::new(&[]);
    let (lease, granted_at) = start(backend.clone());
    assert_eq!(lost_after(&lease, granted_at, TTL * 10).await, None);
    let renewals = backend.renewals.load(Ordering::SeqCst);
    assert!(
        (29..=31).contains(&renewals),
        "{renewals} renewals in ten ttls"
    );
}

#[tokio::test(start_paused = true)]
async fn a_passing_failure_is_retried_without_losing_the_lease() {
    let backend = Scripted::new(&[Answer::Unreachable, Answer::Unreachable]);
    let (lease, granted_at) = start(backend);
    assert_eq!(lost_after(&lease, granted_at, TTL * 5).await, None);
}

#[tokio::test(start_paused = true)]
async fn failing_renewals_fence_at_two_thirds_of_the_ttl() {
    let backend = Scripted::new(&[Answer::Unreachable; 50]);
    let (lease, granted_at) = start(backend);
    let lost = lost_after(&lease, granted_at, TTL * 5).await;
    assert_eq!(lost, Some(TTL * 2 / 3), "lost at {lost:?}");
}

#[tokio::test(start_paused = true)]
async fn a_hanging_renewal_fences_at_two_thirds_of_the_ttl() {
    let backend = Scripted::new(&[Answer::Renewed, Answer::Hangs]);
    let (lease, granted_at) = start(backend);
    // The second renewal is sent at 2/3 ttl, after the first succeeded at 1/3 ttl.
    let lost = lost_after(&lease, granted_at, TTL * 5).await;
    assert_eq!(lost, Some(TTL / 3 + TTL * 2 / 3), "lost at {lost:?}");
}

#[tokio::test(start_paused = true)]
async fn a_lease_the_backend_forgot_is_lost_at_the_next_renewal() {
    let backend = Scripted::new(&[Answer::Gone]);
    let (lease, granted_at) = start(backend);
    let lost = lost_after(&lease, granted_at, TTL * 5).await;
    assert_eq!(lost, Some(TTL / 3), "lost at {lost:?}");
    assert!(lease.is_lost());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_lease_stops_its_renewals() {
    let backend = Scripted::new(&[]);
    let (lease, _) = start(backend.clone());
    let token = lease.lost_token();
    drop(lease);
    assert!(token.is_cancelled(), "dropping a lease reports it lost");
    tokio::time::sleep(TTL * 3).await;
    assert_eq!(backend.renewals.load(Ordering::SeqCst), 0);
}

#[test]
fn names_and_ttls_are_checked() {
    assert!(check_grant("m", Duration::from_secs(2)).is_ok());
    assert!(matches!(
        check_grant("", Duration::from_secs(2)),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        check_grant("m", Duration::from_millis(10)),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        check_grant("m", Duration::from_secs(3600)),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(check_name("duty", ""), Err(Error::Invalid(_))));
}

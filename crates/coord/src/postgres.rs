//! The cluster coordinator on PostgreSQL: a heartbeat row per lease whose expiry the
//! database clock decides, epochs from a sequence, and one ownership row per duty taken under
//! a per-duty advisory lock only when its holder's lease has expired. Resignations and
//! revocations `NOTIFY` the waiting campaigners, who otherwise look again when the holder's
//! lease would expire, and at least every second in case a notification was lost.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::leadership::DutyBackend;
use crate::lease::{LeaseBackend, check_grant, check_name};
use crate::{Coordinator, Error, Leadership, Lease, Result};

/// Connections per master: one listens for wake-ups, and renewals must not queue behind
/// campaigns.
const CONNECTIONS: u32 = 5;
/// How often a waiting campaigner looks again without being woken.
const MAX_POLL: Duration = Duration::from_secs(1);
/// The channel that wakes campaigners when a duty is given up.
const WAKEUP_CHANNEL: &str = "ferrobot_coord_duties";
/// Serialises the creation of the tables when several masters start at once.
const SCHEMA_LOCK: i64 = 0x6665_7272_6f63_6f6f;
/// Seeds the hash that turns a duty name into its advisory lock key.
const DUTY_LOCK_SEED: i64 = 0x6475_7479;

const SCHEMA: [&str; 3] = [
    "CREATE SEQUENCE IF NOT EXISTS ferrobot_coord_epochs",
    "CREATE TABLE IF NOT EXISTS ferrobot_coord_leases (
        id BIGINT PRIMARY KEY DEFAULT nextval('ferrobot_coord_epochs'),
        owner TEXT NOT NULL,
        ttl_ms BIGINT NOT NULL,
        granted_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS ferrobot_coord_duties (
        duty TEXT PRIMARY KEY,
        lease_id BIGINT NOT NULL,
        owner TEXT NOT NULL,
        since TIMESTAMPTZ NOT NULL
    )",
];

/// Leases and elections in a PostgreSQL database shared by the masters. It creates its own
/// tables (`ferrobot_coord_*`) on connect. Clones share the pool.
#[derive(Clone)]
pub struct PostgresCoordinator {
    pool: PgPool,
    wakeups: Arc<Wakeups>,
}

/// Bumped on every notification on [`WAKEUP_CHANNEL`] (and whenever the listener reconnects,
/// since notifications may have been missed); the listener stops with the last clone.
struct Wakeups {
    changed: watch::Receiver<u64>,
    _stop: DropGuard,
}

impl PostgresCoordinator {
    /// Connects to `url` (`postgresql://...`) and creates the tables if missing.
    pub async fn connect(url: &str) -> Result<PostgresCoordinator> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        PostgresCoordinator::with_pool(pool).await
    }

    /// Uses an existing pool (of two connections at least: one stays with the listener for
    /// wake-ups) and creates the tables if missing.
    pub async fn with_pool(pool: PgPool) -> Result<PostgresCoordinator> {
        let mut transaction = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK)
            .execute(&mut *transaction)
            .await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        let (sender, changed) = watch::channel(0);
        let stop = CancellationToken::new();
        tokio::spawn(relay_wakeups(pool.clone(), sender, stop.clone()));
        Ok(PostgresCoordinator {
            pool,
            wakeups: Arc::new(Wakeups {
                changed,
                _stop: stop.drop_guard(),
            }),
        })
    }

    /// One campaign attempt: takes the duty if it is free, held by an expired lease or already
    /// ours. Returns how long the current holder's lease still runs otherwise.
    async fn try_take(&self, duty: &str, lease: &Lease) -> Result<Option<Duration>> {
        let mut transaction = self.pool.begin().await?;
        // Every taker of this duty queues here, and the statements below start after the lock
        // is held, so each sees what the previous taker committed.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
            .bind(duty)
            .bind(DUTY_LOCK_SEED)
            .execute(&mut *transaction)
            .await?;
        let taken: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO ferrobot_coord_duties (duty, lease_id, owner, since)
             SELECT $1, l.id, l.owner, clock_timestamp() FROM ferrobot_coord_leases l
              WHERE l.id = $2 AND l.expires_at > clock_timestamp()
             ON CONFLICT (duty) DO UPDATE
                SET lease_id = EXCLUDED.lease_id, owner = EXCLUDED.owner, since = EXCLUDED.since
              WHERE ferrobot_coord_duties.lease_id = EXCLUDED.lease_id
                 OR NOT EXISTS (SELECT 1 FROM ferrobot_coord_leases h
                                 WHERE h.id = ferrobot_coord_duties.lease_id
                                   AND h.expires_at > clock_timestamp())
             RETURNING lease_id",
        )
        .bind(duty)
        .bind(lease.id())
        .fetch_optional(&mut *transaction)
        .await?;
        if taken.is_some() {
            transaction.commit().await?;
            return Ok(None);
        }
        let holder_left: Option<(f64,)> = sqlx::query_as(
            "SELECT EXTRACT(EPOCH FROM (l.expires_at - clock_timestamp()))::float8
               FROM ferrobot_coord_duties d JOIN ferrobot_coord_leases l ON l.id = d.lease_id
              WHERE d.duty = $1",
        )
        .bind(duty)
        .fetch_optional(&mut *transaction)
        .await?;
        transaction.commit().await?;
        let left = holder_left.map_or(0.0, |(seconds,)| seconds.max(0.0));
        Ok(Some(Duration::from_secs_f64(left)))
    }
}

async fn relay_wakeups(pool: PgPool, sender: watch::Sender<u64>, stop: CancellationToken) {
    loop {
        let error = tokio::select! {
            _ = stop.cancelled() => return,
            error = relay_notifications(&pool, &sender) => error,
        };
        tracing::warn!(%error, "listening for duty wake-ups failed; campaigners poll meanwhile");
        sender.send_modify(|version| *version += 1);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(MAX_POLL) => {}
        }
    }
}

/// Relays notifications until the listener fails.
async fn relay_notifications(pool: &PgPool, sender: &watch::Sender<u64>) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener.listen(WAKEUP_CHANNEL).await {
        return error;
    }
    loop {
        // `None` means the connection was lost and made again: wake everyone, to be safe.
        if let Err(error) = listener.try_recv().await {
            return error;
        }
        sender.send_modify(|version| *version += 1);
    }
}

/// Frees every duty of lease `$1` and wakes their campaigners (on commit).
const REVOKE_DUTIES: &str = "WITH gone AS (
        DELETE FROM ferrobot_coord_duties WHERE lease_id = $1 RETURNING duty)
    SELECT pg_notify('ferrobot_coord_duties', duty) FROM gone";
/// Frees duty `$1` if lease `$2` owns it and wakes its campaigners.
const RESIGN_DUTY: &str = "WITH gone AS (
        DELETE FROM ferrobot_coord_duties WHERE duty = $1 AND lease_id = $2 RETURNING duty)
    SELECT pg_notify('ferrobot_coord_duties', duty) FROM gone";

struct PostgresLease {
    pool: PgPool,
    id: i64,
    owner: String,
    epoch: u64,
}

#[async_trait]
impl LeaseBackend for PostgresLease {
    async fn renew(&self) -> Result<()> {
        let renewed = sqlx::query(
            "UPDATE ferrobot_coord_leases
                SET expires_at = clock_timestamp() + ttl_ms * interval '1 millisecond'
              WHERE id = $1 AND expires_at > clock_timestamp()",
        )
        .bind(self.id)
        .execute(&self.pool)
        .await?;
        if renewed.rows_affected() == 0 {
            return Err(Error::LeaseLost {
                owner: self.owner.clone(),
                epoch: self.epoch,
            });
        }
        Ok(())
    }

    async fn revoke(&self) -> Result<()> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(REVOKE_DUTIES)
            .bind(self.id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM ferrobot_coord_leases WHERE id = $1")
            .bind(self.id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }
}

struct PostgresDuty {
    pool: PgPool,
    duty: String,
    lease_id: i64,
}

#[async_trait]
impl DutyBackend for PostgresDuty {
    async fn resign(&self) -> Result<()> {
        sqlx::query(RESIGN_DUTY)
            .bind(&self.duty)
            .bind(self.lease_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Coordinator for PostgresCoordinator {
    async fn grant_lease(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        check_grant(owner, ttl)?;
        let ttl_ms = i64::try_from(ttl.as_millis()).map_err(|_| Error::Invalid("ttl".into()))?;
        // Rows of leases that expired long ago only help an operator looking back.
        sqlx::query(
            "DELETE FROM ferrobot_coord_leases WHERE expires_at < clock_timestamp() - interval '1 hour'",
        )
        .execute(&self.pool)
        .await?;
        let requested_at = Instant::now();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO ferrobot_coord_leases (owner, ttl_ms, granted_at, expires_at)
             VALUES ($1, $2, clock_timestamp(), clock_timestamp() + $2 * interval '1 millisecond')
             RETURNING id",
        )
        .bind(owner)
        .bind(ttl_ms)
        .fetch_one(&self.pool)
        .await?;
        let epoch = u64::try_from(id)
            .map_err(|_| Error::Backend(format!("the lease sequence gave {id}")))?;
        let backend = Arc::new(PostgresLease {
            pool: self.pool.clone(),
            id,
            owner: owner.to_owned(),
            epoch,
        });
        tracing::info!(owner, epoch, ?ttl, "lease granted");
        Ok(Lease::start(backend, id, epoch, owner, ttl, requested_at))
    }

    async fn campaign(&self, duty: &str, lease: &Lease) -> Result<Leadership> {
        check_name("duty", duty)?;
        let mut wakeups = self.wakeups.changed.clone();
        loop {
            wakeups.borrow_and_update();
            if lease.is_lost() {
                return Err(lease.lost_error());
            }
            let attempt = tokio::select! {
                _ = lease.lost() => return Err(lease.lost_error()),
                attempt = self.try_take(duty, lease) => attempt?,
            };
            let Some(holder_left) = attempt else { break };
            // Look again when the holder's lease would run out, when a duty is given up, or
            // after a while anyway (a notification may be lost).
            let wait = holder_left.min(MAX_POLL);
            tokio::select! {
                _ = lease.lost() => return Err(lease.lost_error()),
                Ok(()) = wakeups.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!(
            duty,
            owner = lease.owner(),
            epoch = lease.epoch(),
            "duty won"
        );
        let backend = Arc::new(PostgresDuty {
            pool: self.pool.clone(),
            duty: duty.to_owned(),
            lease_id: lease.id(),
        });
        Ok(Leadership::new(duty, lease, backend))
    }

    async fn leader(&self, duty: &str) -> Result<Option<String>> {
        let owner: Option<(String,)> = sqlx::query_as(
            "SELECT d.owner FROM ferrobot_coord_duties d
               JOIN ferrobot_coord_leases l ON l.id = d.lease_id
              WHERE d.duty = $1 AND l.expires_at > clock_timestamp()",
        )
        .bind(duty)
        .fetch_optional(&self.pool)
        .await?;
        Ok(owner.map(|(owner,)| owner))
    }

    async fn live_owners(&self) -> Result<Vec<String>> {
        let owners: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT owner FROM ferrobot_coord_leases
              WHERE expires_at > clock_timestamp()",
        )
        .fetch_all(&self.pool)
        .await?;
        // Sorted here, not by the database's collation, so every backend sorts alike.
        let mut owners: Vec<String> = owners.into_iter().map(|(owner,)| owner).collect();
        owners.sort();
        Ok(owners)
    }
}

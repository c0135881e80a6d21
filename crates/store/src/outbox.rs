//! The reporters' outbox: one durable row per (reporter, build, event) to report, claimed by one
//! master at a time, so each report goes out once across the cluster (issue 7).
//!
//! A row is `pending` until it is settled `sent`, `skipped` (the reporter did not want it) or
//! `failed` (its attempts ran out). A claim is held until `claim_expires_at`; a row whose claim
//! expired, or whose claimer is no longer an active master, may be claimed again. A row is
//! only claimable once every earlier row of the same reporter and build is settled, so a
//! build's start is always reported before its end.

use ferrobot_model::{BuildId, MasterId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::SqlStore;
use crate::{Error, Result};

/// Which moment of a build a row reports (Buildbot's routing key event names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutboxEvent {
    /// `builds.N.new`: the build started.
    Started,
    /// `builds.N.finished`: the build finished.
    Finished,
}

impl OutboxEvent {
    /// The stored spelling: `new` or `finished`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxEvent::Started => "new",
            OutboxEvent::Finished => "finished",
        }
    }

    fn parse(text: &str) -> Result<OutboxEvent> {
        match text {
            "new" => Ok(OutboxEvent::Started),
            "finished" => Ok(OutboxEvent::Finished),
            other => Err(Error::Corrupt(format!("outbox event {other:?}"))),
        }
    }
}

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Still to be delivered (possibly claimed right now, or waiting for its next attempt).
    Pending,
    /// Delivered.
    Sent,
    /// Settled without a delivery: the reporter's modes or filters did not want it.
    Skipped,
    /// Given up after its last attempt failed; `last_error` says why.
    Failed,
}

impl OutboxState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Skipped => "skipped",
            OutboxState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<OutboxState> {
        Ok(match text {
            "pending" => OutboxState::Pending,
            "sent" => OutboxState::Sent,
            "skipped" => OutboxState::Skipped,
            "failed" => OutboxState::Failed,
            other => return Err(Error::Corrupt(format!("outbox state {other:?}"))),
        })
    }
}

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Row id (rows of one reporter are handled in id order).
    pub id: i64,
    /// The reporter's name (its duty name, e.g. `reporter:0:MailNotifier`).
    pub reporter: String,
    /// The build reported on.
    pub buildid: BuildId,
    /// The moment reported.
    pub event: OutboxEvent,
    /// Where it stands.
    pub state: OutboxState,
    /// Attempts started so far (each claim is one).
    pub attempts: i64,
    /// The master holding the claim, if any.
    pub claimed_by: Option<MasterId>,
    /// When the claim lapses (epoch seconds).
    pub claim_expires_at: Option<i64>,
    /// Not to be claimed before this time (epoch seconds): the backoff after a failure.
    pub next_attempt_at: i64,
    /// When the row was recorded.
    pub created_at: i64,
    /// When it was settled.
    pub settled_at: Option<i64>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
}

/// How an attempt ended, for [`crate::Store::settle_report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxOutcome {
    /// Delivered.
    Sent,
    /// Not wanted; nothing was delivered.
    Skipped,
    /// Failed; try again at `next_attempt_at` (epoch seconds).
    Retry {
        /// When the next attempt may start.
        next_attempt_at: i64,
        /// What went wrong.
        error: String,
    },
    /// Failed for the last time.
    Failed {
        /// What went wrong.
        error: String,
    },
}

const COLUMNS: &str = "id, reporter, buildid, event, state, attempts, claimed_by, \
    claim_expires_at, next_attempt_at, created_at, settled_at, last_error";

/// The conditions under which row `o` may be claimed at `$2`: pending, due, not held by a live
/// claim, and no earlier row of its build still pending.
const CLAIMABLE: &str = "o.state = 'pending' AND o.next_attempt_at <= $2 \
    AND (o.claimed_by IS NULL OR o.claim_expires_at < $2 \
         OR NOT EXISTS (SELECT 1 FROM masters m WHERE m.id = o.claimed_by AND m.active = 1)) \
    AND NOT EXISTS (SELECT 1 FROM reporter_outbox e WHERE e.reporter = o.reporter \
         AND e.buildid = o.buildid AND e.id < o.id AND e.state = 'pending')";

fn item_from_row(row: &AnyRow) -> Result<OutboxItem> {
    Ok(OutboxItem {
        id: row.try_get("id")?,
        reporter: row.try_get("reporter")?,
        buildid: row.try_get("buildid")?,
        event: OutboxEvent::parse(&row.try_get::<String, _>("event")?)?,
        state: OutboxState::parse(&row.try_get::<String, _>("state")?)?,
        attempts: row.try_get("attempts")?,
        claimed_by: row.try_get("claimed_by")?,
        claim_expires_at: row.try_get("claim_expires_at")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        created_at: row.try_get("created_at")?,
        settled_at: row.try_get("settled_at")?,
        last_error: row.try_get("last_error")?,
    })
}

impl SqlStore {
    pub(crate) async fn enqueue_build_reports_impl(
        &self,
        reporter: &str,
        events: &[OutboxEvent],
        since: i64,
        now: i64,
    ) -> Result<u64> {
        let mut tx = self.write().await?;
        let mut added = 0;
        // Starts first, so a build caught starting and finishing in one pass keeps its order.
        let mut events = events.to_vec();
        events.sort();
        events.dedup();
        for event in events {
            let moment = match event {
                OutboxEvent::Started => "b.started_at >= $2",
                OutboxEvent::Finished => "b.complete_at IS NOT NULL AND b.complete_at >= $2",
            };
            let sql = format!(
                "INSERT INTO reporter_outbox (reporter, buildid, event, next_attempt_at, created_at) \
                 SELECT $1, b.id, $3, $4, $4 FROM builds b WHERE {moment} ORDER BY b.id \
                 ON CONFLICT (reporter, buildid, event) DO NOTHING"
            );
            added += sqlx::query(crate::db::assembled(sql))
                .bind(reporter)
                .bind(since)
                .bind(event.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    pub(crate) async fn claim_report_impl(
        &self,
        reporter: &str,
        masterid: MasterId,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Option<OutboxItem>> {
        let candidates: Vec<i64> = {
            let mut conn = self.read().await?;
            let sql = format!(
                "SELECT o.id FROM reporter_outbox o WHERE o.reporter = $1 AND {CLAIMABLE} \
                 ORDER BY o.id LIMIT 16"
            );
            sqlx::query_scalar(crate::db::assembled(sql))
                .bind(reporter)
                .bind(now)
                .fetch_all(&mut *conn)
                .await?
        };
        // Compare-and-set on each candidate: the UPDATE re-checks the conditions on the row
        // itself (PostgreSQL re-evaluates them on the newest version after a concurrent update
        // commits), so of masters racing for a row exactly one changes it.
        let sql = format!(
            "UPDATE reporter_outbox AS o SET claimed_by = $3, claim_expires_at = $4, \
             attempts = attempts + 1 WHERE o.id = $1 AND {CLAIMABLE} RETURNING {COLUMNS}"
        );
        for id in candidates {
            let row = sqlx::query(crate::db::assembled(sql.clone()))
                .bind(id)
                .bind(now)
                .bind(masterid)
                .bind(now + lease_seconds)
                .fetch_optional(self.writer())
                .await?;
            if let Some(row) = row {
                return item_from_row(&row).map(Some);
            }
        }
        Ok(None)
    }

    pub(crate) async fn settle_report_impl(
        &self,
        id: i64,
        masterid: MasterId,
        outcome: &OutboxOutcome,
        now: i64,
    ) -> Result<bool> {
        let (state, error) = match outcome {
            OutboxOutcome::Retry {
                next_attempt_at,
                error,
            } => {
                let released = sqlx::query(
                    "UPDATE reporter_outbox SET next_attempt_at = $3, last_error = $4, \
                     claimed_by = NULL, claim_expires_at = NULL \
                     WHERE id = $1 AND claimed_by = $2 AND state = 'pending'",
                )
                .bind(id)
                .bind(masterid)
                .bind(*next_attempt_at)
                .bind(error.as_str())
                .execute(self.writer())
                .await?;
                return Ok(released.rows_affected() == 1);
            }
            OutboxOutcome::Sent => (OutboxState::Sent, None),
            OutboxOutcome::Skipped => (OutboxState::Skipped, None),
            OutboxOutcome::Failed { error } => (OutboxState::Failed, Some(error.as_str())),
        };
        let query = sqlx::query(
            "UPDATE reporter_outbox SET state = $3, settled_at = $4, \
             last_error = COALESCE($5, last_error), claimed_by = NULL, claim_expires_at = NULL \
             WHERE id = $1 AND claimed_by = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(masterid)
        .bind(state.as_str())
        .bind(now)
        .bind(error);
        Ok(query.execute(self.writer()).await?.rows_affected() == 1)
    }

    pub(crate) async fn outbox_impl(&self, reporter: &str) -> Result<Vec<OutboxItem>> {
        let mut conn = self.read().await?;
        let sql = format!("SELECT {COLUMNS} FROM reporter_outbox WHERE reporter = $1 ORDER BY id");
        let rows = sqlx::query(crate::db::assembled(sql))
            .bind(reporter)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(item_from_row).collect()
    }
}

//! Claims on build requests: the one atomic statement that keeps a request on one master
//! (design invariant 2), their release, completion of claimed requests, and taking back what a
//! dead master held.

use ferrobot_model::{BuildId, BuildRequestId, MasterId, Results};

use crate::db::SqlStore;
use crate::fence::{Claimant, FenceOn};
use crate::{Error, ReleasedWork, Result};

impl SqlStore {
    pub(crate) async fn claim_buildrequest_impl(
        &self,
        brid: BuildRequestId,
        claimant: Claimant,
        now: i64,
    ) -> Result<bool> {
        // One statement: the unique index on brid lets exactly one insert win, and the EXISTS
        // keeps complete requests out.
        let inserted = sqlx::query(
            "INSERT INTO buildrequest_claims (brid, masterid, claimed_at, epoch) \
             SELECT $1, $2, $3, $4 WHERE EXISTS \
             (SELECT 1 FROM buildrequests WHERE id = $1 AND complete = 0) \
             ON CONFLICT (brid) DO NOTHING",
        )
        .bind(brid)
        .bind(claimant.masterid)
        .bind(now)
        .bind(claimant.epoch)
        .execute(self.writer())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub(crate) async fn unclaim_buildrequests_impl(
        &self,
        brids: &[BuildRequestId],
        claimant: Claimant,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        for brid in brids {
            sqlx::query(
                "DELETE FROM buildrequest_claims WHERE brid = $1 AND masterid = $2 AND epoch = $3",
            )
            .bind(brid)
            .bind(claimant.masterid)
            .bind(claimant.epoch)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn complete_buildrequests_impl(
        &self,
        brids: &[BuildRequestId],
        results: Results,
        claimant: Claimant,
        now: i64,
    ) -> Result<Vec<BuildRequestId>> {
        if results == Results::Retry {
            return Err(Error::Invalid(
                "a build request cannot complete with RETRY: unclaim it so it runs again".into(),
            ));
        }
        let mut tx = self.write().await?;
        let mut completed = Vec::new();
        for &brid in brids {
            self.hold_fence(&mut tx, FenceOn::Request(brid), claimant)
                .await?;
            let updated = sqlx::query(
                "UPDATE buildrequests SET complete = 1, results = $2, complete_at = $3 \
                 WHERE id = $1 AND complete = 0",
            )
            .bind(brid)
            .bind(i64::from(results.code()))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 1 {
                completed.push(brid);
            }
        }
        tx.commit().await?;
        Ok(completed)
    }

    pub(crate) async fn release_master_work_impl(
        &self,
        masterid: MasterId,
        now: i64,
    ) -> Result<ReleasedWork> {
        let retry = i64::from(Results::Retry.code());
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE steps SET complete_at = $2, results = $3 WHERE complete_at IS NULL \
             AND buildid IN (SELECT id FROM builds WHERE masterid = $1 AND complete_at IS NULL)",
        )
        .bind(masterid)
        .bind(now)
        .bind(retry)
        .execute(&mut *tx)
        .await?;
        let mut builds: Vec<BuildId> = sqlx::query_scalar(
            "UPDATE builds SET complete_at = $2, results = $3 \
             WHERE masterid = $1 AND complete_at IS NULL RETURNING id",
        )
        .bind(masterid)
        .bind(now)
        .bind(retry)
        .fetch_all(&mut *tx)
        .await?;
        // Claims on complete requests stay: they record who ran them, as in Buildbot.
        let mut buildrequests: Vec<BuildRequestId> = sqlx::query_scalar(
            "DELETE FROM buildrequest_claims WHERE masterid = $1 \
             AND brid IN (SELECT id FROM buildrequests WHERE complete = 0) RETURNING brid",
        )
        .bind(masterid)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        builds.sort_unstable();
        buildrequests.sort_unstable();
        Ok(ReleasedWork {
            builds,
            buildrequests,
        })
    }
}

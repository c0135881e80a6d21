//! Buildsets and build requests, including the claim that keeps a request on one master.

use ferrobot_model::{
    BuildRequest, BuildRequestId, BuilderId, Buildset, BuildsetId, MasterId, Properties, Results,
};
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::changes::{find_or_create_sourcestamp, load_buildset_sourcestamps};
use crate::db::{SqlStore, as_flag, assembled, flag, properties_from_rows, property_json, results};
use crate::{BuildRequestFilter, Error, NewBuildset, Result};

const BUILDSET_COLUMNS: &str = "id, external_idstring, reason, submitted_at, complete, \
     complete_at, results, parent_buildid, parent_relationship, rebuilt_buildid";

const BUILDREQUEST_SELECT: &str = "SELECT br.id, br.buildsetid, br.builderid, br.priority, \
     br.complete, br.results, br.submitted_at, br.complete_at, br.waited_for, \
     c.masterid AS claimed_by, c.claimed_at \
     FROM buildrequests br LEFT JOIN buildrequest_claims c ON c.brid = br.id";

impl SqlStore {
    pub(crate) async fn add_buildset_impl(
        &self,
        buildset: &NewBuildset,
    ) -> Result<(BuildsetId, Vec<(BuilderId, BuildRequestId)>)> {
        let mut tx = self.write().await?;
        // results = -1 while incomplete, as Buildbot inserts it.
        let bsid: BuildsetId = sqlx::query_scalar(
            "INSERT INTO buildsets (external_idstring, reason, submitted_at, complete, results, \
             parent_buildid, rebuilt_buildid) VALUES ($1, $2, $3, 0, -1, $4, $5) RETURNING id",
        )
        .bind(buildset.external_idstring.as_deref())
        .bind(&buildset.reason)
        .bind(buildset.submitted_at)
        .bind(buildset.parent_buildid)
        .bind(buildset.rebuilt_buildid)
        .fetch_one(&mut *tx)
        .await?;
        for (name, (value, source)) in &buildset.properties {
            sqlx::query(
                "INSERT INTO buildset_properties (buildsetid, property_name, property_value) \
                 VALUES ($1, $2, $3)",
            )
            .bind(bsid)
            .bind(name)
            .bind(property_json(value, source)?)
            .execute(&mut *tx)
            .await?;
        }
        let mut ssids = buildset.sourcestamp_ids.clone();
        for stamp in &buildset.sourcestamps {
            ssids.push(find_or_create_sourcestamp(&mut tx, stamp, buildset.submitted_at).await?);
        }
        for ssid in ssids {
            sqlx::query(
                "INSERT INTO buildset_sourcestamps (buildsetid, sourcestampid) VALUES ($1, $2) \
                 ON CONFLICT (buildsetid, sourcestampid) DO NOTHING",
            )
            .bind(bsid)
            .bind(ssid)
            .execute(&mut *tx)
            .await?;
        }
        let mut requests = Vec::with_capacity(buildset.builderids.len());
        for &builderid in &buildset.builderids {
            let brid: BuildRequestId = sqlx::query_scalar(
                "INSERT INTO buildrequests (buildsetid, builderid, priority, complete, results, \
                 submitted_at, waited_for) VALUES ($1, $2, $3, 0, -1, $4, 0) RETURNING id",
            )
            .bind(bsid)
            .bind(builderid)
            .bind(buildset.priority)
            .bind(buildset.submitted_at)
            .fetch_one(&mut *tx)
            .await?;
            requests.push((builderid, brid));
        }
        tx.commit().await?;
        Ok((bsid, requests))
    }

    pub(crate) async fn buildset_impl(&self, bsid: BuildsetId) -> Result<Option<Buildset>> {
        let mut conn = self.read().await?;
        let sql = format!("SELECT {BUILDSET_COLUMNS} FROM buildsets WHERE id = $1");
        let rows = sqlx::query(assembled(sql))
            .bind(bsid)
            .fetch_all(&mut *conn)
            .await?;
        let filter = "bss.buildsetid = $1";
        Ok(buildsets_from_rows(&mut conn, &rows, filter, Some(bsid))
            .await?
            .pop())
    }

    pub(crate) async fn buildsets_impl(&self, complete: Option<bool>) -> Result<Vec<Buildset>> {
        let mut conn = self.read().await?;
        let param = complete.map(as_flag);
        let sql = format!(
            "SELECT {BUILDSET_COLUMNS} FROM buildsets WHERE ($1 IS NULL OR complete = $1) \
             ORDER BY id DESC"
        );
        let rows = sqlx::query(assembled(sql))
            .bind(param)
            .fetch_all(&mut *conn)
            .await?;
        let filter =
            "bss.buildsetid IN (SELECT id FROM buildsets WHERE $1 IS NULL OR complete = $1)";
        buildsets_from_rows(&mut conn, &rows, filter, param).await
    }

    pub(crate) async fn buildset_properties_impl(&self, bsid: BuildsetId) -> Result<Properties> {
        let mut conn = self.read().await?;
        let rows = sqlx::query(
            "SELECT property_name, property_value FROM buildset_properties WHERE buildsetid = $1",
        )
        .bind(bsid)
        .fetch_all(&mut *conn)
        .await?;
        properties_from_rows(&rows, "property_name", "property_value")
    }

    pub(crate) async fn maybe_complete_buildset_impl(
        &self,
        bsid: BuildsetId,
        now: i64,
    ) -> Result<Option<Results>> {
        let mut tx = self.write().await?;
        let complete: Option<i64> =
            sqlx::query_scalar("SELECT complete FROM buildsets WHERE id = $1")
                .bind(bsid)
                .fetch_optional(&mut *tx)
                .await?;
        if complete.ok_or_else(|| Error::not_found(format!("buildset {bsid}")))? != 0 {
            return Ok(None);
        }
        let rows =
            sqlx::query("SELECT id, complete, results FROM buildrequests WHERE buildsetid = $1")
                .bind(bsid)
                .fetch_all(&mut *tx)
                .await?;
        // Buildbot's maybeBuildsetComplete: the worst result, starting from SUCCESS.
        let mut worst = Results::Success;
        for row in &rows {
            if !flag(row, "complete")? {
                return Ok(None);
            }
            let brid: BuildRequestId = row.try_get("id")?;
            let result = results(row, "results")?.ok_or_else(|| {
                Error::Corrupt(format!("complete build request {brid} has no results"))
            })?;
            worst = worst.worst(result);
        }
        // The guard on complete makes a concurrent caller (another master) the loser.
        let updated = sqlx::query(
            "UPDATE buildsets SET complete = 1, complete_at = $2, results = $3 \
             WHERE id = $1 AND complete = 0",
        )
        .bind(bsid)
        .bind(now)
        .bind(i64::from(worst.code()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((updated.rows_affected() == 1).then_some(worst))
    }

    /// The build requests with these ids (any order, missing ones left out).
    pub(crate) async fn buildrequests_by_ids(
        &self,
        ids: &[BuildRequestId],
    ) -> Result<std::collections::HashMap<BuildRequestId, BuildRequest>> {
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let mut conn = self.read().await?;
        let sql = format!(
            "{BUILDREQUEST_SELECT} WHERE br.id IN ({})",
            crate::listing::id_list(ids)
        );
        let rows = sqlx::query(assembled(sql)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| buildrequest_from_row(row).map(|r| (r.buildrequestid, r)))
            .collect()
    }

    pub(crate) async fn buildrequest_impl(
        &self,
        brid: BuildRequestId,
    ) -> Result<Option<BuildRequest>> {
        let mut conn = self.read().await?;
        let sql = format!("{BUILDREQUEST_SELECT} WHERE br.id = $1");
        let row = sqlx::query(assembled(sql))
            .bind(brid)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(buildrequest_from_row).transpose()
    }

    pub(crate) async fn buildrequests_impl(
        &self,
        filter: &BuildRequestFilter,
    ) -> Result<Vec<BuildRequest>> {
        let mut conn = self.read().await?;
        // As Buildbot: "claimed" means a claim row exists, "unclaimed" means none AND still
        // pending (a complete request is never up for grabs).
        let sql = format!(
            "{BUILDREQUEST_SELECT} WHERE ($1 IS NULL OR br.builderid = $1) \
             AND ($2 IS NULL OR br.buildsetid = $2) \
             AND ($3 IS NULL OR br.complete = $3) \
             AND ($4 IS NULL OR ($4 = 1 AND c.brid IS NOT NULL) \
                  OR ($4 = 0 AND c.brid IS NULL AND br.complete = 0)) \
             AND ($5 IS NULL OR c.masterid = $5) \
             ORDER BY br.id"
        );
        let rows = sqlx::query(assembled(sql))
            .bind(filter.builderid)
            .bind(filter.buildsetid)
            .bind(filter.complete.map(as_flag))
            .bind(filter.claimed.map(as_flag))
            .bind(filter.claimed_by_masterid)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(buildrequest_from_row).collect()
    }

    pub(crate) async fn set_buildrequest_priority_impl(
        &self,
        brid: BuildRequestId,
        priority: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let complete: Option<i64> =
            sqlx::query_scalar("SELECT complete FROM buildrequests WHERE id = $1")
                .bind(brid)
                .fetch_optional(&mut *tx)
                .await?;
        match complete {
            None => return Err(Error::not_found(format!("build request {brid}"))),
            Some(0) => {}
            Some(_) => return Err(Error::Conflict(format!("build request {brid} is complete"))),
        }
        sqlx::query("UPDATE buildrequests SET priority = $2 WHERE id = $1 AND complete = 0")
            .bind(brid)
            .bind(priority)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn buildsets_from_rows(
    conn: &mut AnyConnection,
    rows: &[AnyRow],
    stamps_filter: &str,
    param: Option<i64>,
) -> Result<Vec<Buildset>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut stamps = load_buildset_sourcestamps(conn, stamps_filter, param).await?;
    rows.iter()
        .map(|row| {
            let bsid: BuildsetId = row.try_get("id")?;
            let reason: Option<String> = row.try_get("reason")?;
            Ok(Buildset {
                bsid,
                external_idstring: row.try_get("external_idstring")?,
                reason: reason.unwrap_or_default(),
                rebuilt_buildid: row.try_get("rebuilt_buildid")?,
                submitted_at: row.try_get("submitted_at")?,
                complete: flag(row, "complete")?,
                complete_at: row.try_get("complete_at")?,
                results: results(row, "results")?,
                sourcestamps: stamps.remove(&bsid).unwrap_or_default(),
                parent_buildid: row.try_get("parent_buildid")?,
                parent_relationship: row.try_get("parent_relationship")?,
            })
        })
        .collect()
}

fn buildrequest_from_row(row: &AnyRow) -> Result<BuildRequest> {
    let complete = flag(row, "complete")?;
    let claimed_by: Option<MasterId> = row.try_get("claimed_by")?;
    let stored_results: Option<i64> = row.try_get("results")?;
    Ok(BuildRequest {
        buildrequestid: row.try_get("id")?,
        buildsetid: row.try_get("buildsetid")?,
        builderid: row.try_get("builderid")?,
        priority: row.try_get("priority")?,
        claimed: claimed_by.is_some(),
        claimed_at: row.try_get("claimed_at")?,
        claimed_by_masterid: claimed_by,
        complete,
        // Buildbot's REST shape: -1 while pending.
        results: if complete {
            stored_results.unwrap_or(-1)
        } else {
            -1
        },
        submitted_at: row.try_get("submitted_at")?,
        complete_at: row.try_get("complete_at")?,
        waited_for: flag(row, "waited_for")?,
        properties: None,
    })
}

//! Builds and their properties.

use ferrobot_model::{Build, BuildId, BuildRequestId, BuilderId, Properties, Results, WorkerId};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{SqlStore, as_flag, assembled, results, to_json};
use crate::fence::{Claimant, FenceOn};
use crate::{BuildFilter, Error, Result};

const BUILD_COLUMNS: &str = "id, number, builderid, buildrequestid, workerid, masterid, \
     started_at, complete_at, locks_duration_s, state_string, results";

/// Attempts at a build number before giving up; each failed attempt means another master took
/// that number at the same moment, so running out means something else is wrong.
const BUILD_NUMBER_ATTEMPTS: usize = 100;

fn build_from_row(row: &AnyRow) -> Result<Build> {
    let complete_at: Option<i64> = row.try_get("complete_at")?;
    Ok(Build {
        buildid: row.try_get("id")?,
        number: row.try_get("number")?,
        builderid: row.try_get("builderid")?,
        buildrequestid: row.try_get("buildrequestid")?,
        workerid: row.try_get("workerid")?,
        masterid: row.try_get("masterid")?,
        started_at: row.try_get("started_at")?,
        complete: complete_at.is_some(),
        complete_at,
        locks_duration_s: row.try_get("locks_duration_s")?,
        results: results(row, "results")?,
        state_string: row.try_get("state_string")?,
        properties: Properties::new(),
    })
}

impl SqlStore {
    pub(crate) async fn add_build_impl(
        &self,
        builderid: BuilderId,
        buildrequestid: BuildRequestId,
        workerid: WorkerId,
        claimant: Claimant,
        state_string: &str,
        now: i64,
    ) -> Result<(BuildId, i64)> {
        // Next number and insert in one statement; when another master inserts the same number
        // first, the unique (builderid, number) index turns ours into a no-op and we try again
        // with a fresh max (Buildbot retries on IntegrityError the same way).
        for _ in 0..BUILD_NUMBER_ATTEMPTS {
            let mut tx = self.write().await?;
            self.hold_fence(&mut tx, FenceOn::Request(buildrequestid), claimant)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO builds (number, builderid, buildrequestid, workerid, masterid, \
                 started_at, locks_duration_s, state_string) \
                 SELECT COALESCE(MAX(number), 0) + 1, $1, $2, $3, $4, $5, 0, $6 \
                 FROM builds WHERE builderid = $1 \
                 ON CONFLICT (builderid, number) DO NOTHING RETURNING id, number",
            )
            .bind(builderid)
            .bind(buildrequestid)
            .bind(workerid)
            .bind(claimant.masterid)
            .bind(now)
            .bind(state_string)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = inserted {
                tx.commit().await?;
                return Ok((row.try_get("id")?, row.try_get("number")?));
            }
            tracing::debug!(builderid, "build number taken by another master, retrying");
        }
        Err(Error::Conflict(format!(
            "no free build number for builder {builderid} after {BUILD_NUMBER_ATTEMPTS} attempts"
        )))
    }

    pub(crate) async fn set_build_state_string_impl(
        &self,
        buildid: BuildId,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Build(buildid), claimant)
            .await?;
        sqlx::query("UPDATE builds SET state_string = $2 WHERE id = $1")
            .bind(buildid)
            .bind(state_string)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn finish_build_impl(
        &self,
        buildid: BuildId,
        results: Results,
        claimant: Claimant,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Build(buildid), claimant)
            .await?;
        sqlx::query("UPDATE builds SET complete_at = $2, results = $3 WHERE id = $1")
            .bind(buildid)
            .bind(now)
            .bind(i64::from(results.code()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn build_impl(&self, buildid: BuildId) -> Result<Option<Build>> {
        let mut conn = self.read().await?;
        let sql = format!("SELECT {BUILD_COLUMNS} FROM builds WHERE id = $1");
        let row = sqlx::query(assembled(sql))
            .bind(buildid)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(build_from_row).transpose()
    }

    pub(crate) async fn build_by_number_impl(
        &self,
        builderid: BuilderId,
        number: i64,
    ) -> Result<Option<Build>> {
        let mut conn = self.read().await?;
        let sql =
            format!("SELECT {BUILD_COLUMNS} FROM builds WHERE builderid = $1 AND number = $2");
        let row = sqlx::query(assembled(sql))
            .bind(builderid)
            .bind(number)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(build_from_row).transpose()
    }

    pub(crate) async fn builds_impl(&self, filter: &BuildFilter) -> Result<Vec<Build>> {
        let mut conn = self.read().await?;
        // Newest first so LIMIT keeps the newest, then turned around to ascending.
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds WHERE ($1 IS NULL OR builderid = $1) \
             AND ($2 IS NULL OR buildrequestid = $2) \
             AND ($3 IS NULL OR workerid = $3) \
             AND ($4 IS NULL OR masterid = $4) \
             AND ($5 IS NULL OR ($5 = 1 AND complete_at IS NOT NULL) \
                  OR ($5 = 0 AND complete_at IS NULL)) \
             ORDER BY id DESC LIMIT $6"
        );
        let rows = sqlx::query(assembled(sql))
            .bind(filter.builderid)
            .bind(filter.buildrequestid)
            .bind(filter.workerid)
            .bind(filter.masterid)
            .bind(filter.complete.map(as_flag))
            .bind(filter.newest.unwrap_or(i64::MAX).max(0))
            .fetch_all(&mut *conn)
            .await?;
        let mut builds = rows
            .iter()
            .map(build_from_row)
            .collect::<Result<Vec<_>>>()?;
        builds.reverse();
        Ok(builds)
    }

    /// The builds with these ids (any order, missing ones left out).
    pub(crate) async fn builds_by_ids(
        &self,
        ids: &[BuildId],
    ) -> Result<std::collections::HashMap<BuildId, Build>> {
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let mut conn = self.read().await?;
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds WHERE id IN ({})",
            crate::listing::id_list(ids)
        );
        let rows = sqlx::query(assembled(sql)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| build_from_row(row).map(|b| (b.buildid, b)))
            .collect()
    }

    pub(crate) async fn set_build_property_impl(
        &self,
        buildid: BuildId,
        name: &str,
        value: &Value,
        source: &str,
        claimant: Claimant,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Build(buildid), claimant)
            .await?;
        sqlx::query(
            "INSERT INTO build_properties (buildid, name, value, source) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (buildid, name) DO UPDATE SET value = excluded.value, \
             source = excluded.source",
        )
        .bind(buildid)
        .bind(name)
        .bind(to_json(value)?)
        .bind(source)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn build_properties_impl(&self, buildid: BuildId) -> Result<Properties> {
        let mut conn = self.read().await?;
        let rows =
            sqlx::query("SELECT name, value, source FROM build_properties WHERE buildid = $1")
                .bind(buildid)
                .fetch_all(&mut *conn)
                .await?;
        let mut properties = Properties::new();
        for row in &rows {
            let name: String = row.try_get("name")?;
            let text: String = row.try_get("value")?;
            let value = crate::db::parse_json(&text, &format!("build property {name}"))?;
            properties.insert(name, (value, row.try_get("source")?));
        }
        Ok(properties)
    }
}

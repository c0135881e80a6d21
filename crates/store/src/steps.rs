//! Steps of builds.

use std::collections::BTreeSet;

use ferrobot_model::{BuildId, Results, Step, StepId, StepUrl};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{SqlStore, as_flag, assembled, flag, parse_json, results, to_json};
use crate::fence::{Claimant, FenceOn};
use crate::{Error, Result};

const STEP_COLUMNS: &str = "id, number, name, buildid, started_at, locks_acquired_at, \
     complete_at, state_string, results, urls_json, hidden";

/// Buildbot's limit on step names (`model_config.step_name_length`).
const STEP_NAME_LENGTH: usize = 50;

/// Attempts before giving up when concurrent inserts keep taking the chosen number or name.
const STEP_ATTEMPTS: usize = 20;

fn step_from_row(row: &AnyRow) -> Result<Step> {
    let stepid: StepId = row.try_get("id")?;
    let complete_at: Option<i64> = row.try_get("complete_at")?;
    let urls: String = row.try_get("urls_json")?;
    Ok(Step {
        stepid,
        number: row.try_get("number")?,
        name: row.try_get("name")?,
        buildid: row.try_get("buildid")?,
        started_at: row.try_get("started_at")?,
        locks_acquired_at: row.try_get("locks_acquired_at")?,
        complete: complete_at.is_some(),
        complete_at,
        results: results(row, "results")?,
        state_string: row.try_get("state_string")?,
        urls: parse_json(&urls, &format!("urls of step {stepid}"))?,
        hidden: flag(row, "hidden")?,
    })
}

/// Buildbot's `addStep` naming: the name itself if free, else the first free `name_1`,
/// `name_2`, ..., cut on the right so that the result stays within 50 characters.
pub(crate) fn unique_step_name(name: &str, taken: &BTreeSet<String>) -> String {
    if !taken.contains(name) {
        return name.to_owned();
    }
    (1u64..)
        .map(|n| {
            let suffix = format!("_{n}");
            let keep = STEP_NAME_LENGTH.saturating_sub(suffix.len());
            let stem: String = name.chars().take(keep).collect();
            format!("{stem}{suffix}")
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| name.to_owned())
}

impl SqlStore {
    pub(crate) async fn add_step_impl(
        &self,
        buildid: BuildId,
        name: &str,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<(StepId, i64, String)> {
        for _ in 0..STEP_ATTEMPTS {
            let mut tx = self.write().await?;
            self.hold_fence(&mut tx, FenceOn::Build(buildid), claimant)
                .await?;
            let number: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM steps WHERE buildid = $1")
                .bind(buildid)
                .fetch_one(&mut *tx)
                .await?;
            let taken: BTreeSet<String> =
                sqlx::query_scalar("SELECT name FROM steps WHERE buildid = $1")
                    .bind(buildid)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
            let unique = unique_step_name(name, &taken);
            // A concurrent add_step on the same build (possible on PostgreSQL) takes the
            // number or name first; DO NOTHING then leaves the transaction usable for a retry.
            let stepid: Option<StepId> = sqlx::query_scalar(
                "INSERT INTO steps (number, name, buildid, state_string, urls_json, hidden) \
                 VALUES ($1, $2, $3, $4, '[]', 0) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(number)
            .bind(&unique)
            .bind(buildid)
            .bind(state_string)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(stepid) = stepid {
                tx.commit().await?;
                return Ok((stepid, number, unique));
            }
        }
        Err(Error::Conflict(format!(
            "could not add step {name:?} to build {buildid}"
        )))
    }

    pub(crate) async fn start_step_impl(
        &self,
        stepid: StepId,
        claimant: Claimant,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Step(stepid), claimant)
            .await?;
        // Steps take no locks yet, so they hold their locks as soon as they start.
        sqlx::query("UPDATE steps SET started_at = $2, locks_acquired_at = $2 WHERE id = $1")
            .bind(stepid)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn set_step_state_string_impl(
        &self,
        stepid: StepId,
        state_string: &str,
        claimant: Claimant,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Step(stepid), claimant)
            .await?;
        sqlx::query("UPDATE steps SET state_string = $2 WHERE id = $1")
            .bind(stepid)
            .bind(state_string)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn add_step_url_impl(
        &self,
        stepid: StepId,
        name: &str,
        url: &str,
        claimant: Claimant,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Step(stepid), claimant)
            .await?;
        // The no-op update locks the row (PostgreSQL) so concurrent additions do not lose each
        // other's URLs in this read-modify-write.
        let text: Option<String> = sqlx::query_scalar(
            "UPDATE steps SET urls_json = urls_json WHERE id = $1 RETURNING urls_json",
        )
        .bind(stepid)
        .fetch_optional(&mut *tx)
        .await?;
        let text = text.ok_or_else(|| Error::not_found(format!("step {stepid}")))?;
        let mut urls: Vec<StepUrl> = parse_json(&text, &format!("urls of step {stepid}"))?;
        let url = StepUrl {
            name: name.to_owned(),
            url: url.to_owned(),
        };
        // As Buildbot, the same link twice is shown once.
        if !urls.contains(&url) {
            urls.push(url);
            sqlx::query("UPDATE steps SET urls_json = $2 WHERE id = $1")
                .bind(stepid)
                .bind(to_json(&urls)?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn finish_step_impl(
        &self,
        stepid: StepId,
        results: Results,
        hidden: bool,
        claimant: Claimant,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.hold_fence(&mut tx, FenceOn::Step(stepid), claimant)
            .await?;
        sqlx::query("UPDATE steps SET complete_at = $2, results = $3, hidden = $4 WHERE id = $1")
            .bind(stepid)
            .bind(now)
            .bind(i64::from(results.code()))
            .bind(as_flag(hidden))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn step_impl(&self, stepid: StepId) -> Result<Option<Step>> {
        let mut conn = self.read().await?;
        let sql = format!("SELECT {STEP_COLUMNS} FROM steps WHERE id = $1");
        let row = sqlx::query(assembled(sql))
            .bind(stepid)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(step_from_row).transpose()
    }

    pub(crate) async fn steps_impl(&self, buildid: BuildId) -> Result<Vec<Step>> {
        let mut conn = self.read().await?;
        let sql = format!("SELECT {STEP_COLUMNS} FROM steps WHERE buildid = $1 ORDER BY number");
        let rows = sqlx::query(assembled(sql))
            .bind(buildid)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(step_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn duplicate_names_get_the_first_free_suffix_as_in_buildbot() {
        assert_eq!(unique_step_name("new", &taken(&["other"])), "new");
        // Buildbot's test_addStep_getStep_name_collisions.
        assert_eq!(
            unique_step_name("new", &taken(&["new", "new_1", "new_2", "new_step"])),
            "new_3"
        );
    }

    #[test]
    fn suffixed_names_stay_within_fifty_characters() {
        let long = "x".repeat(50);
        let name = unique_step_name(&long, &taken(&[&long]));
        assert_eq!(name.chars().count(), 50);
        assert!(name.ends_with("_1"));
    }
}

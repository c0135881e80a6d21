//! Schedulers, change sources and the persisted state of objects.

use ferrobot_model::{
    ChangeId, ChangeSource, ChangeSourceId, Master, MasterId, Scheduler, SchedulerId,
};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{SqlStore, as_flag, flag, name_hash, parse_json, to_json};
use crate::{Error, Result};

/// The master columns of a LEFT JOIN, `None` when no master runs the service.
fn joined_master(row: &AnyRow) -> Result<Option<Master>> {
    let Some(masterid) = row.try_get::<Option<MasterId>, _>("masterid")? else {
        return Ok(None);
    };
    Ok(Some(Master {
        masterid,
        name: row.try_get("master_name")?,
        active: flag(row, "master_active")?,
        last_active: row.try_get("master_last_active")?,
    }))
}

impl SqlStore {
    pub(crate) async fn find_or_create_scheduler_impl(&self, name: &str) -> Result<SchedulerId> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO schedulers (name, name_hash, enabled) VALUES ($1, $2, 1) \
             ON CONFLICT (name_hash) DO NOTHING",
        )
        .bind(name)
        .bind(name_hash(name))
        .execute(&mut *tx)
        .await?;
        let id = sqlx::query_scalar("SELECT id FROM schedulers WHERE name_hash = $1")
            .bind(name_hash(name))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn set_scheduler_enabled_impl(
        &self,
        schedulerid: SchedulerId,
        enabled: bool,
    ) -> Result<()> {
        let updated = sqlx::query("UPDATE schedulers SET enabled = $2 WHERE id = $1")
            .bind(schedulerid)
            .bind(as_flag(enabled))
            .execute(self.writer())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::not_found(format!("scheduler {schedulerid}")));
        }
        Ok(())
    }

    pub(crate) async fn set_scheduler_master_impl(
        &self,
        schedulerid: SchedulerId,
        masterid: Option<MasterId>,
    ) -> Result<()> {
        match masterid {
            // Who may run a scheduler is decided by the cluster's leases; this row records it.
            Some(masterid) => sqlx::query(
                "INSERT INTO scheduler_masters (schedulerid, masterid) VALUES ($1, $2) \
                 ON CONFLICT (schedulerid) DO UPDATE SET masterid = excluded.masterid",
            )
            .bind(schedulerid)
            .bind(masterid),
            None => sqlx::query("DELETE FROM scheduler_masters WHERE schedulerid = $1")
                .bind(schedulerid),
        }
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub(crate) async fn schedulers_impl(&self) -> Result<Vec<Scheduler>> {
        let mut conn = self.read().await?;
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.enabled, m.id AS masterid, m.name AS master_name, \
             m.active AS master_active, m.last_active AS master_last_active \
             FROM schedulers s LEFT JOIN scheduler_masters sm ON sm.schedulerid = s.id \
             LEFT JOIN masters m ON m.id = sm.masterid ORDER BY s.id",
        )
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Scheduler {
                    schedulerid: row.try_get("id")?,
                    name: row.try_get("name")?,
                    enabled: flag(row, "enabled")?,
                    master: joined_master(row)?,
                })
            })
            .collect()
    }

    pub(crate) async fn classify_change_impl(
        &self,
        schedulerid: SchedulerId,
        changeid: ChangeId,
        important: bool,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO scheduler_changes (schedulerid, changeid, important) VALUES ($1, $2, $3) \
             ON CONFLICT (schedulerid, changeid) DO UPDATE SET important = excluded.important",
        )
        .bind(schedulerid)
        .bind(changeid)
        .bind(as_flag(important))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub(crate) async fn classified_changes_impl(
        &self,
        schedulerid: SchedulerId,
    ) -> Result<Vec<(ChangeId, bool)>> {
        let mut conn = self.read().await?;
        let rows = sqlx::query(
            "SELECT changeid, important FROM scheduler_changes WHERE schedulerid = $1 \
             ORDER BY changeid",
        )
        .bind(schedulerid)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("changeid")?, flag(row, "important")?)))
            .collect()
    }

    pub(crate) async fn flush_classified_changes_impl(
        &self,
        schedulerid: SchedulerId,
        up_to: ChangeId,
    ) -> Result<()> {
        sqlx::query("DELETE FROM scheduler_changes WHERE schedulerid = $1 AND changeid <= $2")
            .bind(schedulerid)
            .bind(up_to)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub(crate) async fn find_or_create_changesource_impl(
        &self,
        name: &str,
    ) -> Result<ChangeSourceId> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO changesources (name, name_hash) VALUES ($1, $2) \
             ON CONFLICT (name_hash) DO NOTHING",
        )
        .bind(name)
        .bind(name_hash(name))
        .execute(&mut *tx)
        .await?;
        let id = sqlx::query_scalar("SELECT id FROM changesources WHERE name_hash = $1")
            .bind(name_hash(name))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn set_changesource_master_impl(
        &self,
        changesourceid: ChangeSourceId,
        masterid: Option<MasterId>,
    ) -> Result<()> {
        match masterid {
            Some(masterid) => sqlx::query(
                "INSERT INTO changesource_masters (changesourceid, masterid) VALUES ($1, $2) \
                 ON CONFLICT (changesourceid) DO UPDATE SET masterid = excluded.masterid",
            )
            .bind(changesourceid)
            .bind(masterid),
            None => sqlx::query("DELETE FROM changesource_masters WHERE changesourceid = $1")
                .bind(changesourceid),
        }
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub(crate) async fn changesources_impl(&self) -> Result<Vec<ChangeSource>> {
        let mut conn = self.read().await?;
        let rows = sqlx::query(
            "SELECT c.id, c.name, m.id AS masterid, m.name AS master_name, \
             m.active AS master_active, m.last_active AS master_last_active \
             FROM changesources c LEFT JOIN changesource_masters cm ON cm.changesourceid = c.id \
             LEFT JOIN masters m ON m.id = cm.masterid ORDER BY c.id",
        )
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ChangeSource {
                    changesourceid: row.try_get("id")?,
                    name: row.try_get("name")?,
                    master: joined_master(row)?,
                })
            })
            .collect()
    }

    pub(crate) async fn get_state_impl(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
    ) -> Result<Option<Value>> {
        let mut conn = self.read().await?;
        let text: Option<String> = sqlx::query_scalar(
            "SELECT os.value_json FROM object_state os JOIN objects o ON o.id = os.objectid \
             WHERE o.name = $1 AND o.class_name = $2 AND os.name = $3",
        )
        .bind(object_name)
        .bind(class_name)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        text.map(|text| parse_json(&text, &format!("state {key} of {class_name} {object_name}")))
            .transpose()
    }

    pub(crate) async fn create_state_once_impl(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
        value: &Value,
    ) -> Result<Value> {
        let mut tx = self.write().await?;
        let objectid = object_id(&mut tx, object_name, class_name).await?;
        sqlx::query(
            "INSERT INTO object_state (objectid, name, value_json) VALUES ($1, $2, $3) \
             ON CONFLICT (objectid, name) DO NOTHING",
        )
        .bind(objectid)
        .bind(key)
        .bind(to_json(value)?)
        .execute(&mut *tx)
        .await?;
        let text: String = sqlx::query_scalar(
            "SELECT value_json FROM object_state WHERE objectid = $1 AND name = $2",
        )
        .bind(objectid)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        parse_json(&text, &format!("state {key} of {class_name} {object_name}"))
    }

    pub(crate) async fn set_state_impl(
        &self,
        object_name: &str,
        class_name: &str,
        key: &str,
        value: &Value,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let objectid = object_id(&mut tx, object_name, class_name).await?;
        sqlx::query(
            "INSERT INTO object_state (objectid, name, value_json) VALUES ($1, $2, $3) \
             ON CONFLICT (objectid, name) DO UPDATE SET value_json = excluded.value_json",
        )
        .bind(objectid)
        .bind(key)
        .bind(to_json(value)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The id of an object (`objects`), created if new.
async fn object_id(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    object_name: &str,
    class_name: &str,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO objects (name, class_name) VALUES ($1, $2) \
         ON CONFLICT (name, class_name) DO NOTHING",
    )
    .bind(object_name)
    .bind(class_name)
    .execute(&mut **tx)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM objects WHERE name = $1 AND class_name = $2")
            .bind(object_name)
            .bind(class_name)
            .fetch_one(&mut **tx)
            .await?,
    )
}

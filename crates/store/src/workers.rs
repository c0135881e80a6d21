//! Workers: their rows, which masters they are connected to and which builders they serve.

use std::collections::{BTreeMap, BTreeSet};

use ferrobot_model::{BuilderId, ConfiguredOn, ConnectedTo, MasterId, Worker, WorkerId};
use serde_json::Value;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::db::{SqlStore, as_flag, assembled, flag, parse_json, to_json};
use crate::{Error, Result};

impl SqlStore {
    pub(crate) async fn find_or_create_worker_impl(&self, name: &str) -> Result<WorkerId> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO workers (name, info) VALUES ($1, '{}') ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        let id = sqlx::query_scalar("SELECT id FROM workers WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn set_configured_workers_impl(
        &self,
        masterid: MasterId,
        pairs: &[(BuilderId, WorkerId)],
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "DELETE FROM configured_workers WHERE buildermasterid IN \
             (SELECT id FROM builder_masters WHERE masterid = $1)",
        )
        .bind(masterid)
        .execute(&mut *tx)
        .await?;
        let unique: BTreeSet<(BuilderId, WorkerId)> = pairs.iter().copied().collect();
        for (builderid, workerid) in unique {
            // As Buildbot: only builders this master configures (builder_masters) count.
            sqlx::query(
                "INSERT INTO configured_workers (buildermasterid, workerid) \
                 SELECT id, $3 FROM builder_masters WHERE builderid = $1 AND masterid = $2",
            )
            .bind(builderid)
            .bind(masterid)
            .bind(workerid)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn worker_connected_impl(
        &self,
        workerid: WorkerId,
        masterid: MasterId,
        info: &BTreeMap<String, Value>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let updated = sqlx::query("UPDATE workers SET info = $2 WHERE id = $1")
            .bind(workerid)
            .bind(to_json(info)?)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::not_found(format!("worker {workerid}")));
        }
        sqlx::query(
            "INSERT INTO connected_workers (masterid, workerid) VALUES ($1, $2) \
             ON CONFLICT (masterid, workerid) DO NOTHING",
        )
        .bind(masterid)
        .bind(workerid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn worker_disconnected_impl(
        &self,
        workerid: WorkerId,
        masterid: MasterId,
    ) -> Result<()> {
        sqlx::query("DELETE FROM connected_workers WHERE workerid = $1 AND masterid = $2")
            .bind(workerid)
            .bind(masterid)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub(crate) async fn set_worker_paused_impl(
        &self,
        workerid: WorkerId,
        paused: bool,
        reason: Option<&str>,
    ) -> Result<()> {
        let updated =
            sqlx::query("UPDATE workers SET paused = $2, pause_reason = $3 WHERE id = $1")
                .bind(workerid)
                .bind(as_flag(paused))
                .bind(reason)
                .execute(self.writer())
                .await?;
        found(updated.rows_affected(), workerid)
    }

    pub(crate) async fn set_worker_graceful_impl(
        &self,
        workerid: WorkerId,
        graceful: bool,
    ) -> Result<()> {
        let updated = sqlx::query("UPDATE workers SET graceful = $2 WHERE id = $1")
            .bind(workerid)
            .bind(as_flag(graceful))
            .execute(self.writer())
            .await?;
        found(updated.rows_affected(), workerid)
    }

    pub(crate) async fn workers_impl(&self) -> Result<Vec<Worker>> {
        let mut conn = self.read().await?;
        load_workers(&mut conn, WorkerSel::All).await
    }

    pub(crate) async fn worker_impl(&self, workerid: WorkerId) -> Result<Option<Worker>> {
        let mut conn = self.read().await?;
        Ok(load_workers(&mut conn, WorkerSel::Id(workerid))
            .await?
            .pop())
    }

    pub(crate) async fn worker_by_name_impl(&self, name: &str) -> Result<Option<Worker>> {
        let mut conn = self.read().await?;
        Ok(load_workers(&mut conn, WorkerSel::Name(name.to_owned()))
            .await?
            .pop())
    }
}

fn found(rows_affected: u64, workerid: WorkerId) -> Result<()> {
    if rows_affected == 0 {
        return Err(Error::not_found(format!("worker {workerid}")));
    }
    Ok(())
}

enum WorkerSel {
    All,
    Id(WorkerId),
    Name(String),
}

async fn load_workers(conn: &mut AnyConnection, sel: WorkerSel) -> Result<Vec<Worker>> {
    let filter = match &sel {
        WorkerSel::All => "",
        WorkerSel::Id(_) => "WHERE w.id = $1",
        WorkerSel::Name(_) => "WHERE w.name = $1",
    };
    let bind = |sql: String| {
        let query = sqlx::query(assembled(sql));
        match &sel {
            WorkerSel::All => query,
            WorkerSel::Id(id) => query.bind(*id),
            WorkerSel::Name(name) => query.bind(name.clone()),
        }
    };
    let rows = bind(format!(
        "SELECT w.id, w.name, w.info, w.paused, w.pause_reason, w.graceful FROM workers w \
         {filter} ORDER BY w.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let connected_rows = bind(format!(
        "SELECT cw.workerid, cw.masterid FROM connected_workers cw \
         JOIN workers w ON w.id = cw.workerid {filter} ORDER BY cw.masterid"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let configured_rows = bind(format!(
        "SELECT cw.workerid, bm.builderid, bm.masterid FROM configured_workers cw \
         JOIN builder_masters bm ON bm.id = cw.buildermasterid \
         JOIN workers w ON w.id = cw.workerid {filter} ORDER BY bm.builderid, bm.masterid"
    ))
    .fetch_all(&mut *conn)
    .await?;

    let mut connected: BTreeMap<WorkerId, Vec<ConnectedTo>> = BTreeMap::new();
    for row in &connected_rows {
        let masterid = row.try_get("masterid")?;
        connected
            .entry(row.try_get("workerid")?)
            .or_default()
            .push(ConnectedTo { masterid });
    }
    let mut configured: BTreeMap<WorkerId, Vec<ConfiguredOn>> = BTreeMap::new();
    for row in &configured_rows {
        let entry = ConfiguredOn {
            builderid: row.try_get("builderid")?,
            masterid: row.try_get("masterid")?,
        };
        configured
            .entry(row.try_get("workerid")?)
            .or_default()
            .push(entry);
    }
    rows.iter()
        .map(|row| {
            let workerid: WorkerId = row.try_get("id")?;
            let info: String = row.try_get("info")?;
            Ok(Worker {
                workerid,
                name: row.try_get("name")?,
                workerinfo: parse_json(&info, &format!("info of worker {workerid}"))?,
                paused: flag(row, "paused")?,
                pause_reason: row.try_get("pause_reason")?,
                graceful: flag(row, "graceful")?,
                connected_to: connected.remove(&workerid).unwrap_or_default(),
                configured_on: configured.remove(&workerid).unwrap_or_default(),
            })
        })
        .collect()
}

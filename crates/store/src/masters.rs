//! Masters and builders.

use std::collections::{BTreeMap, BTreeSet};

use ferrobot_model::{Builder, BuilderId, Master, MasterId};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::db::{SqlStore, flag, name_hash};
use crate::{Error, Result};

const MASTER_COLUMNS: &str = "id, name, active, last_active";

fn master_from_row(row: &AnyRow) -> Result<Master> {
    Ok(Master {
        masterid: row.try_get("id")?,
        name: row.try_get("name")?,
        active: flag(row, "active")?,
        last_active: row.try_get("last_active")?,
    })
}

impl SqlStore {
    pub(crate) async fn find_or_create_master_impl(&self, name: &str) -> Result<MasterId> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO masters (name, name_hash, active, last_active) VALUES ($1, $2, 0, 0) \
             ON CONFLICT (name_hash) DO NOTHING",
        )
        .bind(name)
        .bind(name_hash(name))
        .execute(&mut *tx)
        .await?;
        let id = sqlx::query_scalar("SELECT id FROM masters WHERE name_hash = $1")
            .bind(name_hash(name))
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn set_master_active_impl(
        &self,
        masterid: MasterId,
        active: bool,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        // The no-op update locks the row on PostgreSQL, so two masters expiring the same one
        // agree on who saw the flip.
        let was: Option<i64> =
            sqlx::query_scalar("UPDATE masters SET active = active WHERE id = $1 RETURNING active")
                .bind(masterid)
                .fetch_optional(&mut *tx)
                .await?;
        let was_active = was.ok_or_else(|| Error::not_found(format!("master {masterid}")))? != 0;
        if active {
            sqlx::query("UPDATE masters SET active = 1, last_active = $2 WHERE id = $1")
                .bind(masterid)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE masters SET active = 0 WHERE id = $1")
                .bind(masterid)
                .execute(&mut *tx)
                .await?;
            // As Buildbot: a stopped master runs no schedulers any more.
            sqlx::query("DELETE FROM scheduler_masters WHERE masterid = $1")
                .bind(masterid)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(was_active != active)
    }

    pub(crate) async fn masters_impl(&self) -> Result<Vec<Master>> {
        let mut conn = self.read().await?;
        let sql = format!("SELECT {MASTER_COLUMNS} FROM masters ORDER BY id");
        let rows = sqlx::query(crate::db::assembled(sql))
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(master_from_row).collect()
    }

    pub(crate) async fn master_impl(&self, masterid: MasterId) -> Result<Option<Master>> {
        let mut conn = self.read().await?;
        load_master(&mut conn, masterid).await
    }

    pub(crate) async fn find_or_create_builder_impl(
        &self,
        name: &str,
        description: Option<&str>,
        tags: &[String],
    ) -> Result<BuilderId> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO builders (name, name_hash) VALUES ($1, $2) \
             ON CONFLICT (name_hash) DO NOTHING",
        )
        .bind(name)
        .bind(name_hash(name))
        .execute(&mut *tx)
        .await?;
        let builderid: BuilderId =
            sqlx::query_scalar("SELECT id FROM builders WHERE name_hash = $1")
                .bind(name_hash(name))
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE builders SET description = $2 WHERE id = $1")
            .bind(builderid)
            .bind(description)
            .execute(&mut *tx)
            .await?;
        set_builder_tags(&mut tx, builderid, tags).await?;
        tx.commit().await?;
        Ok(builderid)
    }

    pub(crate) async fn set_master_builders_impl(
        &self,
        masterid: MasterId,
        builderids: &[BuilderId],
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let current: Vec<BuilderId> =
            sqlx::query_scalar("SELECT builderid FROM builder_masters WHERE masterid = $1")
                .bind(masterid)
                .fetch_all(&mut *tx)
                .await?;
        let wanted: BTreeSet<BuilderId> = builderids.iter().copied().collect();
        // Rows that stay are kept (not deleted and re-inserted): configured_workers hang off
        // them and would cascade away.
        for gone in current.iter().filter(|id| !wanted.contains(id)) {
            sqlx::query("DELETE FROM builder_masters WHERE builderid = $1 AND masterid = $2")
                .bind(gone)
                .bind(masterid)
                .execute(&mut *tx)
                .await?;
        }
        for added in wanted.iter().filter(|id| !current.contains(id)) {
            sqlx::query(
                "INSERT INTO builder_masters (builderid, masterid) VALUES ($1, $2) \
                 ON CONFLICT (builderid, masterid) DO NOTHING",
            )
            .bind(added)
            .bind(masterid)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn builders_impl(&self) -> Result<Vec<Builder>> {
        let mut conn = self.read().await?;
        load_builders(&mut conn, BuilderSel::All).await
    }

    pub(crate) async fn builder_impl(&self, builderid: BuilderId) -> Result<Option<Builder>> {
        let mut conn = self.read().await?;
        Ok(load_builders(&mut conn, BuilderSel::Id(builderid))
            .await?
            .pop())
    }

    pub(crate) async fn builder_by_name_impl(&self, name: &str) -> Result<Option<Builder>> {
        let mut conn = self.read().await?;
        Ok(
            load_builders(&mut conn, BuilderSel::NameHash(name_hash(name)))
                .await?
                .pop(),
        )
    }
}

/// Replaces a builder's tags, creating unknown tags.
async fn set_builder_tags(
    tx: &mut Transaction<'static, Any>,
    builderid: BuilderId,
    tags: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM builders_tags WHERE builderid = $1")
        .bind(builderid)
        .execute(&mut **tx)
        .await?;
    let mut seen = BTreeSet::new();
    for tag in tags.iter().filter(|tag| seen.insert(tag.as_str())) {
        sqlx::query(
            "INSERT INTO tags (name, name_hash) VALUES ($1, $2) ON CONFLICT (name_hash) DO NOTHING",
        )
        .bind(tag)
        .bind(name_hash(tag))
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO builders_tags (builderid, tagid) \
             SELECT $1, id FROM tags WHERE name_hash = $2",
        )
        .bind(builderid)
        .bind(name_hash(tag))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// One master, by id.
pub(crate) async fn load_master(
    conn: &mut AnyConnection,
    masterid: MasterId,
) -> Result<Option<Master>> {
    let sql = format!("SELECT {MASTER_COLUMNS} FROM masters WHERE id = $1");
    let row = sqlx::query(crate::db::assembled(sql))
        .bind(masterid)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(master_from_row).transpose()
}

enum BuilderSel {
    All,
    Id(BuilderId),
    NameHash(String),
}

async fn load_builders(conn: &mut AnyConnection, sel: BuilderSel) -> Result<Vec<Builder>> {
    // Each query selects the builders' ids the same way, so the three lists line up.
    let (filter, id_param, hash_param) = match &sel {
        BuilderSel::All => ("", None, None),
        BuilderSel::Id(id) => ("WHERE b.id = $1", Some(*id), None),
        BuilderSel::NameHash(hash) => ("WHERE b.name_hash = $1", None, Some(hash.clone())),
    };
    let bind = |sql: String| {
        let query = sqlx::query(crate::db::assembled(sql));
        match (id_param, hash_param.clone()) {
            (Some(id), _) => query.bind(id),
            (None, Some(hash)) => query.bind(hash),
            (None, None) => query,
        }
    };
    let rows = bind(format!(
        "SELECT b.id, b.name, b.description, b.description_format, b.description_html, \
         b.projectid FROM builders b {filter} ORDER BY b.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let master_rows = bind(format!(
        "SELECT bm.builderid, bm.masterid FROM builder_masters bm \
         JOIN builders b ON b.id = bm.builderid {filter} ORDER BY bm.masterid"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let tag_rows = bind(format!(
        "SELECT bt.builderid, t.name FROM builders_tags bt JOIN tags t ON t.id = bt.tagid \
         JOIN builders b ON b.id = bt.builderid {filter} ORDER BY bt.id"
    ))
    .fetch_all(&mut *conn)
    .await?;

    let mut masterids: BTreeMap<BuilderId, Vec<MasterId>> = BTreeMap::new();
    for row in &master_rows {
        masterids
            .entry(row.try_get("builderid")?)
            .or_default()
            .push(row.try_get("masterid")?);
    }
    let mut tags: BTreeMap<BuilderId, Vec<String>> = BTreeMap::new();
    for row in &tag_rows {
        tags.entry(row.try_get("builderid")?)
            .or_default()
            .push(row.try_get("name")?);
    }
    rows.iter()
        .map(|row| {
            let builderid: BuilderId = row.try_get("id")?;
            Ok(Builder {
                builderid,
                name: row.try_get("name")?,
                masterids: masterids.remove(&builderid).unwrap_or_default(),
                description: row.try_get("description")?,
                description_format: row.try_get("description_format")?,
                description_html: row.try_get("description_html")?,
                projectid: row.try_get("projectid")?,
                tags: tags.remove(&builderid).unwrap_or_default(),
            })
        })
        .collect()
}

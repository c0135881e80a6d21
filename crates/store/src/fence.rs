//! Fencing of a claimant's writes (design invariant 2): every write for a claimed request or its
//! build first proves, inside its own transaction, that the claim is still held by the same
//! master under the same lease epoch. A master whose lease expired and whose claims another
//! master released (cluster housekeeping) can then no longer change those builds, even if it is
//! still running, e.g. after a long pause.

use ferrobot_model::{BuildId, BuildRequestId, LogId, MasterId, StepId};
use sqlx::{Any, Transaction};

use crate::db::{Backend, SqlStore, assembled};
use crate::{Error, Result};

/// Who holds a claim: the master and the epoch of the coordinator lease it claimed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimant {
    /// The claiming master.
    pub masterid: MasterId,
    /// The epoch of its lease (`ferrobot_coord::Lease::epoch`), strictly increasing per lease.
    pub epoch: i64,
}

/// The row a fenced write touches, from which the claim is found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FenceOn {
    Request(BuildRequestId),
    Build(BuildId),
    Step(StepId),
    Log(LogId),
}

impl FenceOn {
    /// The joins from the written row to its request's claim `fc`, and the id column.
    fn path(self) -> (&'static str, &'static str, i64) {
        const BUILD: &str = "builds fb JOIN buildrequest_claims fc ON fc.brid = fb.buildrequestid";
        match self {
            FenceOn::Request(id) => ("buildrequest_claims fc", "fc.brid", id),
            FenceOn::Build(id) => (BUILD, "fb.id", id),
            FenceOn::Step(id) => (
                "steps fs JOIN builds fb ON fb.id = fs.buildid \
                 JOIN buildrequest_claims fc ON fc.brid = fb.buildrequestid",
                "fs.id",
                id,
            ),
            FenceOn::Log(id) => (
                "logs fl JOIN steps fs ON fs.id = fl.stepid JOIN builds fb ON fb.id = fs.buildid \
                 JOIN buildrequest_claims fc ON fc.brid = fb.buildrequestid",
                "fl.id",
                id,
            ),
        }
    }

    fn describe(self) -> String {
        match self {
            FenceOn::Request(id) => format!("build request {id}"),
            FenceOn::Build(id) => format!("build {id}"),
            FenceOn::Step(id) => format!("step {id}"),
            FenceOn::Log(id) => format!("log {id}"),
        }
    }

    fn table(self) -> &'static str {
        match self {
            FenceOn::Request(_) => "buildrequests",
            FenceOn::Build(_) => "builds",
            FenceOn::Step(_) => "steps",
            FenceOn::Log(_) => "logs",
        }
    }
}

impl SqlStore {
    /// Checks inside `tx` that `claimant` still holds the claim behind `target`. On PostgreSQL
    /// the claim row is share-locked until `tx` ends, so a concurrent release waits for this
    /// write; SQLite has a single writer, so nothing can release it in between anyway.
    pub(crate) async fn hold_fence(
        &self,
        tx: &mut Transaction<'static, Any>,
        target: FenceOn,
        claimant: Claimant,
    ) -> Result<()> {
        let (from, id_column, id) = target.path();
        let lock = match self.backend() {
            Backend::Postgres => " FOR SHARE OF fc",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "SELECT fc.masterid FROM {from} WHERE {id_column} = $1 AND fc.masterid = $2 \
             AND fc.epoch = $3{lock}"
        );
        let held: Option<MasterId> = sqlx::query_scalar(assembled(sql))
            .bind(id)
            .bind(claimant.masterid)
            .bind(claimant.epoch)
            .fetch_optional(&mut **tx)
            .await?;
        if held.is_some() {
            return Ok(());
        }
        let table = target.table();
        let exists: Option<i64> =
            sqlx::query_scalar(assembled(format!("SELECT id FROM {table} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        match exists {
            None => Err(Error::not_found(target.describe())),
            Some(_) => Err(Error::Fenced(format!(
                "{}: its build request is no longer claimed by master {} under lease epoch {}",
                target.describe(),
                claimant.masterid,
                claimant.epoch
            ))),
        }
    }
}

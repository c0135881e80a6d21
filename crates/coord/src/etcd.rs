//! The cluster coordinator on etcd: an etcd lease per master lease, kept alive over one
//! keep-alive stream, and one key per duty created with the lease inside a transaction that
//! succeeds only when the key does not exist. Waiting campaigners watch the key for deletion,
//! which etcd performs when the holder resigns or its lease expires. Nothing is registered for a
//! campaigner that has not won, so a campaign given up never wins later.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, LeaseKeepAliveStream,
    LeaseKeeper, PutOptions, Txn, TxnOp, TxnOpResponse, WatchOptions,
};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::leadership::DutyBackend;
use crate::lease::{LeaseBackend, check_grant, check_name};
use crate::{Coordinator, Error, Leadership, Lease, Result};

/// How long connecting to an endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Leases and elections in etcd, under a key prefix of its own (one prefix per cluster).
#[derive(Clone)]
pub struct EtcdCoordinator {
    client: Client,
    prefix: String,
}

impl EtcdCoordinator {
    /// Connects to the etcd endpoints (`http://host:port`) and keeps every key under `prefix`.
    pub async fn connect(endpoints: &[String], prefix: &str) -> Result<EtcdCoordinator> {
        if endpoints.is_empty() {
            return Err(Error::Invalid("no etcd endpoints given".into()));
        }
        let options = ConnectOptions::new().with_connect_timeout(CONNECT_TIMEOUT);
        let client = Client::connect(endpoints, Some(options)).await?;
        Ok(EtcdCoordinator {
            client,
            prefix: prefix.trim_end_matches('/').to_owned(),
        })
    }

    fn lease_key(&self, lease_id: i64) -> String {
        format!("{}/leases/{lease_id:016x}", self.prefix)
    }

    fn leases_prefix(&self) -> String {
        format!("{}/leases/", self.prefix)
    }

    fn duty_key(&self, duty: &str) -> String {
        format!("{}/duties/{duty}", self.prefix)
    }

    /// One campaign attempt: `None` when the lease owns the duty now, else the revision after
    /// which the holder's key must be watched for deletion.
    async fn try_take(&self, key: &str, lease: &Lease) -> Result<Option<i64>> {
        let take = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key,
                lease.owner(),
                Some(PutOptions::new().with_lease(lease.id())),
            )])
            .or_else([TxnOp::get(key, None)]);
        let response = self.client.clone().txn(take).await?;
        if response.succeeded() {
            return Ok(None);
        }
        let revision = response.header().map_or(0, |header| header.revision());
        let holder_lease = response.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Get(get) => get.kvs().first().map(|kv| kv.lease()),
            _ => None,
        });
        if holder_lease == Some(lease.id()) {
            return Ok(None);
        }
        Ok(Some(revision))
    }

    /// Waits until the duty key is deleted after `revision` (or the watch breaks, after which
    /// the caller simply tries again).
    async fn wait_for_deletion(&self, key: &str, revision: i64) -> Result<()> {
        let options = WatchOptions::new().with_start_revision(revision + 1);
        let mut stream = self.client.clone().watch(key, Some(options)).await?;
        while let Some(response) = stream.message().await? {
            if response.canceled() {
                return Ok(());
            }
            if response
                .events()
                .iter()
                .any(|event| event.event_type() == EventType::Delete)
            {
                return Ok(());
            }
        }
        Ok(())
    }
}

struct EtcdLease {
    client: Client,
    id: i64,
    owner: String,
    epoch: u64,
    keep_alive: Mutex<Option<(LeaseKeeper, LeaseKeepAliveStream)>>,
}

#[async_trait]
impl LeaseBackend for EtcdLease {
    async fn renew(&self) -> Result<()> {
        let mut keep_alive = self.keep_alive.lock().await;
        if keep_alive.is_none() {
            *keep_alive = Some(self.client.clone().lease_keep_alive(self.id).await?);
        }
        let Some((keeper, stream)) = keep_alive.as_mut() else {
            return Err(Error::Backend("no keep-alive stream".into()));
        };
        let answer = match keeper.keep_alive().await {
            Ok(()) => stream.message().await,
            Err(error) => Err(error),
        };
        match answer {
            Ok(Some(response)) if response.ttl() > 0 => Ok(()),
            Ok(Some(_)) => Err(Error::LeaseLost {
                owner: self.owner.clone(),
                epoch: self.epoch,
            }),
            Ok(None) => {
                // The stream ended; the next renewal opens a new one.
                *keep_alive = None;
                Err(Error::Backend("etcd closed the keep-alive stream".into()))
            }
            Err(error) => {
                *keep_alive = None;
                Err(error.into())
            }
        }
    }

    async fn revoke(&self) -> Result<()> {
        match self.client.clone().lease_revoke(self.id).await {
            Ok(_) => Ok(()),
            // Already expired or revoked: what revoking wanted.
            Err(etcd_client::Error::GRpcStatus(status))
                if status.message().contains("lease not found") =>
            {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }
}

struct EtcdDuty {
    client: Client,
    key: String,
    lease_id: i64,
}

#[async_trait]
impl DutyBackend for EtcdDuty {
    async fn resign(&self) -> Result<()> {
        let resign = Txn::new()
            .when([Compare::lease(
                self.key.as_str(),
                CompareOp::Equal,
                self.lease_id,
            )])
            .and_then([TxnOp::delete(self.key.as_str(), None)]);
        self.client.clone().txn(resign).await?;
        Ok(())
    }
}

#[async_trait]
impl Coordinator for EtcdCoordinator {
    async fn grant_lease(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        check_grant(owner, ttl)?;
        // etcd counts whole seconds; rounding up keeps the server's TTL at least the one the
        // renewal task fences against.
        let seconds = i64::try_from(ttl.as_millis().div_ceil(1000))
            .map_err(|_| Error::Invalid("ttl".into()))?;
        let mut client = self.client.clone();
        let requested_at = Instant::now();
        let granted = client.lease_grant(seconds, None).await?;
        let id = granted.id();
        // The revision of the lease's own key orders leases cluster-wide: the epoch.
        let put = match client
            .put(
                self.lease_key(id),
                owner,
                Some(PutOptions::new().with_lease(id)),
            )
            .await
        {
            Ok(put) => put,
            Err(error) => {
                // Best effort: otherwise the half-made lease lingers until its TTL.
                if let Err(revoke_error) = client.lease_revoke(id).await {
                    tracing::warn!(lease_id = id, error = %revoke_error, "revoking a half-made lease failed");
                }
                return Err(error.into());
            }
        };
        let revision = put.header().map_or(0, |header| header.revision());
        let epoch = u64::try_from(revision)
            .ok()
            .filter(|&epoch| epoch > 0)
            .ok_or_else(|| Error::Backend(format!("etcd answered revision {revision}")))?;
        let backend = Arc::new(EtcdLease {
            client,
            id,
            owner: owner.to_owned(),
            epoch,
            keep_alive: Mutex::new(None),
        });
        tracing::info!(owner, epoch, lease_id = id, ?ttl, "lease granted");
        Ok(Lease::start(backend, id, epoch, owner, ttl, requested_at))
    }

    async fn campaign(&self, duty: &str, lease: &Lease) -> Result<Leadership> {
        check_name("duty", duty)?;
        let key = self.duty_key(duty);
        loop {
            if lease.is_lost() {
                return Err(lease.lost_error());
            }
            let attempt = tokio::select! {
                _ = lease.lost() => return Err(lease.lost_error()),
                attempt = self.try_take(&key, lease) => attempt?,
            };
            let Some(revision) = attempt else { break };
            tokio::select! {
                _ = lease.lost() => return Err(lease.lost_error()),
                waited = self.wait_for_deletion(&key, revision) => waited?,
            }
        }
        tracing::info!(
            duty,
            owner = lease.owner(),
            epoch = lease.epoch(),
            "duty won"
        );
        let backend = Arc::new(EtcdDuty {
            client: self.client.clone(),
            key,
            lease_id: lease.id(),
        });
        Ok(Leadership::new(duty, lease, backend))
    }

    async fn leader(&self, duty: &str) -> Result<Option<String>> {
        let response = self.client.clone().get(self.duty_key(duty), None).await?;
        match response.kvs().first() {
            Some(kv) => Ok(Some(kv.value_str()?.to_owned())),
            None => Ok(None),
        }
    }

    async fn live_owners(&self) -> Result<Vec<String>> {
        let options = GetOptions::new().with_prefix();
        let response = self
            .client
            .clone()
            .get(self.leases_prefix(), Some(options))
            .await?;
        let mut owners = response
            .kvs()
            .iter()
            .map(|kv| kv.value_str().map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        owners.sort();
        owners.dedup();
        Ok(owners)
    }
}

//! The REST API v2 and JSON-RPC calls the workloads make, the same on both systems.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

/// A master's REST API at `http://127.0.0.1:<port>/api/v2`.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

/// Polls `check` every `every` until it yields a value, failing after `timeout` with `what`.
pub async fn poll<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    loop {
        // Errors while polling (a master not listening yet) count as "not yet".
        if let Ok(Some(value)) = check().await {
            return Ok(value);
        }
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(every).await;
    }
}

impl Api {
    /// The API of the master serving HTTP on `port` of the loopback interface.
    pub fn new(port: u16) -> Result<Api> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Api {
            base: format!("http://127.0.0.1:{port}/api/v2"),
            http,
        })
    }

    /// `GET <path>` (relative to `/api/v2`) as text; non-2xx answers are errors.
    pub async fn get_text(&self, path: &str) -> Result<String> {
        let url = format!("{}/{path}", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .with_context(|| format!("GET {url}: reading the body"))?;
        if !status.is_success() {
            bail!(
                "GET {url}: {status}: {}",
                body.chars().take(300).collect::<String>()
            );
        }
        Ok(body)
    }

    /// `GET <path>` as JSON.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let text = self.get_text(path).await?;
        serde_json::from_str(&text).with_context(|| format!("GET {path}: not JSON"))
    }

    /// `GET <path>` and the list under `key` (`builds`, `workers`, ...).
    pub async fn list(&self, path: &str, key: &str) -> Result<Vec<Value>> {
        match self.get(path).await?.get_mut(key).map(Value::take) {
            Some(Value::Array(items)) => Ok(items),
            _ => bail!("GET {path}: the answer has no list '{key}'"),
        }
    }

    /// Forces the given builders through the force scheduler `force`; returns the build request
    /// ids, one per builder.
    pub async fn force(&self, builders: &[String]) -> Result<Vec<i64>> {
        let url = format!("{}/forceschedulers/force", self.base);
        let body = json!({"jsonrpc": "2.0", "method": "force", "id": 1,
                          "params": {"builderNames": builders}});
        let reply: Value = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?
            .json()
            .await
            .with_context(|| format!("POST {url}: the answer is not JSON"))?;
        let Some(requests) = reply.pointer("/result/1").and_then(Value::as_object) else {
            bail!("force of {builders:?} failed: {reply}");
        };
        let ids: Vec<i64> = requests.values().filter_map(Value::as_i64).collect();
        if ids.len() != builders.len() {
            bail!(
                "force of {} builders created {} build requests: {reply}",
                builders.len(),
                ids.len()
            );
        }
        Ok(ids)
    }

    /// Waits until build request `brid` is complete, polling every `every`.
    pub async fn wait_request_complete(
        &self,
        brid: i64,
        timeout: Duration,
        every: Duration,
    ) -> Result<()> {
        poll(
            &format!("build request {brid} to complete"),
            timeout,
            every,
            || async move {
                let r = self
                    .list(&format!("buildrequests/{brid}"), "buildrequests")
                    .await?;
                Ok(r.first()
                    .and_then(|r| r["complete"].as_bool())
                    .filter(|c| *c)
                    .map(|_| ()))
            },
        )
        .await
    }

    /// The id of the builder named `name`.
    pub async fn builder_id(&self, name: &str) -> Result<i64> {
        let builders = self.list("builders", "builders").await?;
        builders
            .iter()
            .find(|b| b["name"] == name)
            .and_then(|b| b["builderid"].as_i64())
            .with_context(|| format!("no builder named {name}"))
    }

    /// Checks that every one of `brids` has a build with results SUCCESS (0).
    pub async fn check_all_success(&self, builderid: i64, brids: &[i64]) -> Result<()> {
        let builds = self
            .list(
                &format!("builders/{builderid}/builds?field=buildrequestid&field=results"),
                "builds",
            )
            .await?;
        let succeeded: std::collections::HashSet<i64> = builds
            .iter()
            .filter(|b| b["results"].as_i64() == Some(0))
            .filter_map(|b| b["buildrequestid"].as_i64())
            .collect();
        let failed: Vec<&i64> = brids.iter().filter(|id| !succeeded.contains(id)).collect();
        if !failed.is_empty() {
            let sample: Vec<&Value> = builds
                .iter()
                .filter(|b| b["results"].as_i64() != Some(0))
                .take(3)
                .collect();
            bail!(
                "{} of {} builds are not SUCCESS (e.g. {sample:?})",
                failed.len(),
                brids.len()
            );
        }
        Ok(())
    }

    /// How many workers are connected to a master.
    pub async fn connected_workers(&self) -> Result<usize> {
        let workers = self.list("workers", "workers").await?;
        Ok(workers
            .iter()
            .filter(|w| w["connected_to"].as_array().is_some_and(|c| !c.is_empty()))
            .count())
    }
}

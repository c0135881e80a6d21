//! The status push reporters against a recording HTTP server started by the test:
//! `reporters.HttpStatusPush` and `reporters.GitHubStatusPush`, and their retries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::http::{HeaderMap, StatusCode, Uri};
use ferrobot_bus::Pattern;
use ferrobot_integration_tests::Sandbox;
use ferrobot_store::NewChange;
use serde_json::{Value, json};
use tokio::sync::watch;

/// How long the pushes may take to arrive.
const PUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// One request the server received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    authorization: Option<String>,
    body: Value,
}

/// A local HTTP server that records every POST and answers the first `failures` with 500.
struct Recorder {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    count: watch::Receiver<usize>,
}

impl Recorder {
    async fn start(failures: usize) -> anyhow::Result<Recorder> {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (count_tx, count) = watch::channel(0usize);
        let count_tx = Arc::new(count_tx);
        let attempts = Arc::new(Mutex::new(0usize));
        let app = {
            let received = received.clone();
            axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
                let (received, count_tx, attempts) =
                    (received.clone(), count_tx.clone(), attempts.clone());
                async move {
                    let attempt = {
                        let mut attempts = attempts.lock().expect("not poisoned");
                        *attempts += 1;
                        *attempts
                    };
                    if attempt <= failures {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let request = Received {
                        path: uri.path().to_owned(),
                        authorization: headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        body: serde_json::from_str(&body).unwrap_or(Value::Null),
                    };
                    let n = {
                        let mut all = received.lock().expect("not poisoned");
                        all.push(request);
                        all.len()
                    };
                    count_tx.send_replace(n);
                    StatusCode::CREATED
                }
            })
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Recorder {
            url,
            received,
            count,
        })
    }

    /// Waits (bounded) until `n` requests were accepted, and returns them.
    async fn wait(&mut self, n: usize) -> anyhow::Result<Vec<Received>> {
        tokio::time::timeout(PUSH_TIMEOUT, self.count.wait_for(|c| *c >= n))
            .await
            .with_context(|| {
                format!(
                    "{n} pushes never arrived; got {:?}",
                    self.received.lock().expect("not poisoned")
                )
            })??;
        Ok(self.received.lock().expect("not poisoned").clone())
    }
}

/// A sandbox with builder `passes` (`true`) run by a SingleBranchScheduler on branch `main`,
/// `services` as `c['services']` and a connected worker.
pub(crate) async fn start(
    services: &str,
) -> anyhow::Result<(Sandbox, ferrobot_integration_tests::SandboxWorker)> {
    let mut cfg = crate::shell_builders(&[("passes", &["true"])]);
    cfg.push_str(
        "c['schedulers'].append(schedulers.SingleBranchScheduler(name='on-main', \
         change_filter=util.ChangeFilter(branch='main'), treeStableTimer=None, \
         builderNames=['passes']))\n",
    );
    cfg.push_str(services);
    let sandbox = Sandbox::start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let any = Pattern::parse(">", '.');
    sandbox
        .wait_until(&any, || async {
            let schedulers = sandbox.get("/schedulers").await?;
            Ok(schedulers["schedulers"]
                .as_array()
                .is_some_and(|all| all.iter().filter(|s| !s["master"].is_null()).count() >= 2))
        })
        .await
        .context("schedulers never started")?;
    Ok((sandbox, worker))
}

/// Adds a change of `repository` at `revision` on `main` and announces it.
pub(crate) async fn add_change(
    sandbox: &Sandbox,
    repository: &str,
    revision: &str,
) -> anyhow::Result<()> {
    let ctx = &sandbox.master().ctx;
    let change = ctx
        .store
        .add_change(&NewChange {
            author: "dev <dev@example.org>".into(),
            comments: "work".into(),
            revision: Some(revision.into()),
            when_timestamp: 1_700_000_000,
            branch: Some("main".into()),
            repository: repository.into(),
            project: "widgets".into(),
            ..Default::default()
        })
        .await?;
    ctx.events.change(&change).await;
    Ok(())
}

#[tokio::test]
async fn http_status_push_posts_the_build_when_it_starts_and_when_it_finishes() -> anyhow::Result<()>
{
    let mut server = Recorder::start(0).await?;
    let (sandbox, worker) = start(&format!(
        "c['services'] = [reporters.HttpStatusPush(serverUrl='{}/builds', \
         auth=('ci', 'secret'), headers={{'X-Team': 'widgets'}})]\n",
        server.url
    ))
    .await?;
    add_change(&sandbox, "https://example.com/widgets.git", "abc123").await?;
    let pushes = server.wait(2).await?;
    let (start, end) = (&pushes[0].body, &pushes[1].body);
    assert_eq!(pushes[0].path, "/builds");
    assert_eq!(
        pushes[0].authorization.as_deref(),
        Some("Basic Y2k6c2VjcmV0"),
        "basic auth of ci:secret"
    );
    assert_eq!(start["complete"], json!(false), "{start}");
    assert_eq!(start["results"], Value::Null, "{start}");
    assert_eq!(end["complete"], json!(true), "{end}");
    assert_eq!(end["results"], json!(0), "{end}");
    assert_eq!(end["buildid"], start["buildid"]);
    assert_eq!(end["builder"]["name"], json!("passes"), "{end}");
    assert_eq!(
        end["buildset"]["sourcestamps"][0]["revision"],
        json!("abc123"),
        "{end}"
    );
    assert_eq!(
        end["properties"]["buildername"][0],
        json!("passes"),
        "{end}"
    );
    assert_eq!(
        end["steps"][0]["name"],
        json!("worker_preparation"),
        "{end}"
    );
    assert_eq!(end["steps"][1]["name"], json!("s0"), "{end}");
    let builderid = &end["builderid"];
    assert_eq!(
        end["url"],
        json!(format!("http://localhost/#/builders/{builderid}/builds/1"))
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn github_status_push_reports_pending_then_success_on_the_commit() -> anyhow::Result<()> {
    let mut server = Recorder::start(0).await?;
    let (sandbox, worker) = start(&format!(
        "c['services'] = [reporters.GitHubStatusPush(token='ghp_test', baseURL='{}/')]\n",
        server.url
    ))
    .await?;
    add_change(&sandbox, "git@github.com:octo/widgets.git", "0123abcd").await?;
    let pushes = server.wait(2).await?;
    for push in &pushes {
        assert_eq!(push.path, "/repos/octo/widgets/statuses/0123abcd");
        assert_eq!(push.authorization.as_deref(), Some("token ghp_test"));
        assert_eq!(
            push.body["context"],
            json!("buildbot/passes"),
            "{}",
            push.body
        );
        assert!(
            push.body["target_url"]
                .as_str()
                .is_some_and(|url| url.ends_with("/builds/1")),
            "{}",
            push.body
        );
    }
    assert_eq!(pushes[0].body["state"], json!("pending"));
    assert_eq!(pushes[0].body["description"], json!("Build started."));
    assert_eq!(pushes[1].body["state"], json!("success"));
    assert_eq!(pushes[1].body["description"], json!("Build done."));
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_until_it_accepts() -> anyhow::Result<()> {
    // The build's start push fails twice (500) and is accepted on its third try.
    let mut server = Recorder::start(2).await?;
    let (sandbox, worker) = start(&format!(
        "c['services'] = [reporters.GitLabStatusPush(token='glpat', baseURL='{}')]\n",
        server.url
    ))
    .await?;
    add_change(
        &sandbox,
        "https://gitlab.example.com/group/sub/widgets.git",
        "feedbeef",
    )
    .await?;
    let pushes = server.wait(2).await?;
    assert_eq!(
        pushes[0].path,
        "/api/v4/projects/group%2Fsub%2Fwidgets/statuses/feedbeef"
    );
    assert_eq!(
        pushes[0].body["state"],
        json!("running"),
        "{}",
        pushes[0].body
    );
    assert_eq!(pushes[0].body["name"], json!("buildbot/passes"));
    assert_eq!(pushes[0].body["ref"], json!("main"));
    assert_eq!(
        pushes[1].body["state"],
        json!("success"),
        "{}",
        pushes[1].body
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

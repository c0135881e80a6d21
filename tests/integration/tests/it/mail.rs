//! `reporters.MailNotifier` against the real SMTP server `scripts/test.sh` starts (aiosmtpd,
//! which files every mail it receives in a Maildir): who gets mail, with what subject and body.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use ferrobot_bus::Pattern;
use ferrobot_integration_tests::Sandbox;
use ferrobot_store::NewChange;
use serde_json::{Value, json};

/// How long a mail may take to arrive.
const MAIL_TIMEOUT: Duration = Duration::from_secs(30);

/// `(host, port, maildir)` of the test SMTP server.
pub(crate) fn smtp_server() -> anyhow::Result<(String, u16, PathBuf)> {
    let address = std::env::var("FERROBOT_TEST_SMTP").map_err(|_| {
        anyhow!("FERROBOT_TEST_SMTP is not set: run scripts/test.sh, which starts an SMTP server")
    })?;
    let maildir = std::env::var("FERROBOT_TEST_MAILDIR").map_err(|_| {
        anyhow!(
            "FERROBOT_TEST_MAILDIR is not set: run scripts/test.sh, which starts an SMTP server"
        )
    })?;
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("FERROBOT_TEST_SMTP must be host:port, not {address:?}"))?;
    Ok((host.to_owned(), port.parse()?, PathBuf::from(maildir)))
}

/// One received mail.
#[derive(Debug)]
pub(crate) struct Received {
    pub to: String,
    pub subject: String,
    /// The type of the body (the first part of a multipart mail).
    pub content_type: String,
    pub body: String,
    /// `(file name, content)` of each attachment.
    pub attachments: Vec<(String, String)>,
}

/// Every mail in the Maildir addressed to `recipient`.
pub(crate) fn mails_to(
    maildir: &std::path::Path,
    recipient: &str,
) -> anyhow::Result<Vec<Received>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(maildir.join("new"))? {
        let path = entry?.path();
        let raw = std::fs::read(&path)?;
        let parsed = mailparse::parse_mail(&raw)?;
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
                .unwrap_or_default()
        };
        if header("To").contains(recipient) {
            let body_part = parsed.subparts.first().unwrap_or(&parsed);
            let mut attachments = Vec::new();
            for part in parsed.subparts.iter().skip(1) {
                let disposition = part.get_content_disposition();
                let name = disposition
                    .params
                    .get("filename")
                    .cloned()
                    .unwrap_or_default();
                attachments.push((name, part.get_body()?));
            }
            found.push(Received {
                to: header("To"),
                subject: header("Subject"),
                content_type: body_part.ctype.mimetype.clone(),
                body: body_part.get_body()?,
                attachments,
            });
        }
    }
    Ok(found)
}

/// Waits (bounded) until `count` mails to `recipient` have arrived; the SMTP server announces
/// nothing, so its Maildir is looked at again every 50 ms.
pub(crate) async fn wait_mails(
    maildir: &std::path::Path,
    recipient: &str,
    count: usize,
) -> anyhow::Result<Vec<Received>> {
    let deadline = tokio::time::Instant::now() + MAIL_TIMEOUT;
    loop {
        let mails = mails_to(maildir, recipient)?;
        if mails.len() >= count {
            return Ok(mails);
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "{} mail(s) to {recipient} after {MAIL_TIMEOUT:?}, expected {count}: {mails:?}",
                mails.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Adds a change by `author` on `branch` and announces it, as a change source would.
pub(crate) async fn add_change(
    sandbox: &Sandbox,
    author: &str,
    branch: &str,
) -> anyhow::Result<()> {
    let ctx = &sandbox.master().ctx;
    let change = ctx
        .store
        .add_change(&NewChange {
            author: author.into(),
            comments: format!("work on {branch}"),
            revision: Some(format!("rev-{branch}")),
            when_timestamp: 1_700_000_000,
            branch: Some(branch.into()),
            repository: "https://example.com/repo.git".into(),
            project: "widgets".into(),
            ..Default::default()
        })
        .await?;
    ctx.events.change(&change).await;
    Ok(())
}

/// Waits until `count` builds have finished.
pub(crate) async fn wait_builds_finished(sandbox: &Sandbox, count: usize) -> anyhow::Result<Value> {
    let finished = Pattern::parse("builds.*.finished", '.');
    sandbox
        .wait_until(&finished, || async {
            let builds = sandbox.get("/builds?complete=true").await?;
            Ok(builds["builds"].as_array().map_or(0, Vec::len) >= count)
        })
        .await
        .context("builds never finished")?;
    sandbox.get("/builds?complete=true&order=buildid").await
}

/// A sandbox whose builders `passes` and `fails` run on changes to the branches of the same
/// names, with `services` as `c['services']`, a connected worker and running schedulers.
pub(crate) async fn start(
    services: &str,
) -> anyhow::Result<(Sandbox, ferrobot_integration_tests::SandboxWorker)> {
    let mut cfg = crate::shell_builders(&[
        ("passes", &["true"]),
        ("fails", &["echo it-broke && false"]),
    ]);
    for name in ["passes", "fails"] {
        cfg.push_str(&format!(
            "c['schedulers'].append(schedulers.SingleBranchScheduler(name='on-{name}', \
             change_filter=util.ChangeFilter(branch='{name}'), treeStableTimer=None, \
             builderNames=['{name}'], properties={{'owner': 'admin'}}))\n"
        ));
    }
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

#[tokio::test]
async fn a_failing_build_mails_once_and_a_passing_one_not_at_all() -> anyhow::Result<()> {
    let (host, port, maildir) = smtp_server()?;
    let team = format!("team-{}@example.org", uuid::Uuid::new_v4().simple());
    let author = format!("dev{}", uuid::Uuid::new_v4().simple());
    let (sandbox, worker) = start(&format!(
        "c['services'] = [reporters.MailNotifier(fromaddr='ci@example.org', \
         relayhost='{host}', smtpPort={port}, mode='failing', lookup='example.org', \
         extraRecipients=['{team}'])]\n"
    ))
    .await?;
    add_change(&sandbox, &author, "passes").await?;
    wait_builds_finished(&sandbox, 1).await?;
    add_change(
        &sandbox,
        &format!("{author} <{author}@example.org>"),
        "fails",
    )
    .await?;
    let builds = wait_builds_finished(&sandbox, 2).await?;
    assert_eq!(builds["builds"][1]["results"], json!(2), "{builds}");

    let mails = wait_mails(&maildir, &team, 1).await?;
    // The reporter handles builds in the order they finish, so had the passing build been
    // mailed, its mail would be here, before the failing build's.
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert!(mail.to.contains(&team), "{mail:?}");
    assert!(
        mail.to.contains(&format!("{author}@example.org")),
        "{mail:?}"
    );
    assert!(
        mail.to.contains("admin@example.org"),
        "the owner is interested: {mail:?}"
    );
    assert_eq!(mail.subject, "Buildbot failure in Integration on fails");
    assert_eq!(mail.content_type, "text/plain");
    let builderid = builds["builds"][1]["builderid"].clone();
    for line in [
        "The Buildbot has detected a failed build on builder fails while building widgets."
            .to_owned(),
        format!("    http://localhost/#/builders/{builderid}/builds/1"),
        "Worker: w1".to_owned(),
    ] {
        assert!(mail.body.contains(&line), "{line:?} in:\n{}", mail.body);
    }
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_seed_html_template_renders_with_every_variable_filled() -> anyhow::Result<()> {
    let (host, port, maildir) = smtp_server()?;
    let team = format!("user-{}@your.domain", uuid::Uuid::new_v4().simple());
    // Seed 000's MailNotifier and template, with the test server as relay.
    let (sandbox, worker) = start(&format!(
        r#"template_html=u'''\
<h4>Build status: {{{{ summary }}}}</h4>
<p>Worker: {{{{ workername }}}}</p>
<p>Project: {{{{ projects }}}}</p>
<p>Buildbot: {{{{ buildbot_url }}}}</p>
<p>Build: {{{{ build_url }}}}</p>
<p><b> -- The Buildbot</b></p>
'''
sendMessageToAll = reporters.MailNotifier(fromaddr="projectHost@your.domain",
    sendToInterestedUsers=True, lookup="your.domain", relayhost="{host}", smtpPort={port},
    mode="warnings", extraRecipients=['{team}'],
    messageFormatter=reporters.MessageFormatter(template=template_html, template_type='html',
        wantProperties=True, wantSteps=True))
c['services'] = [sendMessageToAll]
"#
    ))
    .await?;
    add_change(&sandbox, "carol", "fails").await?;
    let builds = wait_builds_finished(&sandbox, 1).await?;
    let mails = wait_mails(&maildir, &team, 1).await?;
    let mail = &mails[0];
    assert_eq!(mail.content_type, "text/html");
    assert!(
        mail.to.contains("carol@your.domain") && mail.to.contains("admin@your.domain"),
        "{mail:?}"
    );
    let builderid = builds["builds"][0]["builderid"].clone();
    for line in [
        "<h4>Build status: BUILD FAILED: failed s0</h4>".to_owned(),
        "<p>Worker: w1</p>".to_owned(),
        "<p>Project: widgets</p>".to_owned(),
        "<p>Buildbot: http://localhost/</p>".to_owned(),
        format!("<p>Build: http://localhost/#/builders/{builderid}/builds/1</p>"),
    ] {
        assert!(mail.body.contains(&line), "{line:?} in:\n{}", mail.body);
    }
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn change_mode_mails_a_new_failure_and_the_restoring_build_only() -> anyhow::Result<()> {
    let (host, port, maildir) = smtp_server()?;
    let team = format!("team-{}@example.org", uuid::Uuid::new_v4().simple());
    let flag = tempfile::tempdir()?;
    let fail_flag = flag.path().join("fail");
    // The builder passes until the test creates the flag file, and fails while it exists.
    let mut cfg = crate::shell_builders(&[(
        "flaky",
        &[format!("test ! -e {}", fail_flag.display()).as_str()],
    )]);
    cfg.push_str(&format!(
        "c['schedulers'].append(schedulers.SingleBranchScheduler(name='on-flaky', \
         change_filter=util.ChangeFilter(branch='flaky'), treeStableTimer=None, \
         builderNames=['flaky']))\n\
         c['services'] = [reporters.MailNotifier(fromaddr='ci@example.org', \
         relayhost='{host}', smtpPort={port}, mode=['change'], sendToInterestedUsers=False, \
         extraRecipients=['{team}'], messageFormatter=reporters.MessageFormatter(\
         template='{{{{ status_detected }}}} #{{{{ build.number }}}} after {{{{ result_names[previous_results] }}}}'))]\n"
    ));
    let sandbox = Sandbox::start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let any = Pattern::parse(">", '.');
    sandbox
        .wait_until(&any, || async {
            let schedulers = sandbox.get("/schedulers").await?;
            Ok(schedulers["schedulers"].as_array().is_some_and(|all| {
                all.iter()
                    .any(|s| s["name"] == json!("on-flaky") && !s["master"].is_null())
            }))
        })
        .await
        .context("scheduler never started")?;
    // pass (nothing to compare with), fail (new failure), fail (no change), pass (restored).
    for (number, fails) in [(1, false), (2, true), (3, true), (4, false)] {
        if fails {
            std::fs::write(&fail_flag, "")?;
        } else if fail_flag.exists() {
            std::fs::remove_file(&fail_flag)?;
        }
        add_change(&sandbox, "dev", "flaky").await?;
        wait_builds_finished(&sandbox, number).await?;
    }
    let mails = wait_mails(&maildir, &team, 2).await?;
    let mut bodies: Vec<&str> = mails.iter().map(|m| m.body.trim()).collect();
    bodies.sort_unstable();
    // Build 3's mail, had there been one, would have come before build 4's.
    assert_eq!(
        bodies,
        [
            "new failure #2 after success",
            "restored build #4 after failure"
        ]
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_generator_mails_with_its_subject_and_attaches_the_step_logs() -> anyhow::Result<()> {
    let (host, port, maildir) = smtp_server()?;
    let team = format!("team-{}@example.org", uuid::Uuid::new_v4().simple());
    let (sandbox, worker) = start(&format!(
        r#"c['services'] = [reporters.MailNotifier(fromaddr='ci@example.org',
    relayhost='{host}', smtpPort={port}, sendToInterestedUsers=False, extraRecipients=['{team}'],
    generators=[reporters.BuildStatusGenerator(mode='failing', builders=['fails'],
        subject='%(builder)s broke', add_logs=['s0.stdio'],
        message_formatter=reporters.MessageFormatter(want_logs=True, want_logs_content=True,
            template="{{% for s in build['steps'] %}}{{% for l in s['logs'] %}}[{{{{ s['name'] }}}}/{{{{ l['name'] }}}}: {{{{ l['content']['content'] }}}}]{{% endfor %}}{{% endfor %}}"))])]
"#
    ))
    .await?;
    add_change(&sandbox, "dev", "fails").await?;
    wait_builds_finished(&sandbox, 1).await?;
    let mails = wait_mails(&maildir, &team, 1).await?;
    let mail = &mails[0];
    assert_eq!(mail.subject, "fails broke");
    // Every log's content is in the context; only the one asked for is attached.
    assert!(
        mail.body.contains("[worker_preparation/stdio: "),
        "{}",
        mail.body
    );
    assert!(
        mail.body.contains("[s0/stdio: echo it-broke"),
        "{}",
        mail.body
    );
    let has_output_line = |text: &str| text.lines().any(|l| l.trim_end() == "it-broke");
    assert!(has_output_line(&mail.body), "{}", mail.body);
    let [(name, content)] = mail.attachments.as_slice() else {
        panic!("one attachment: {mail:?}");
    };
    assert_eq!(name, "s0.stdio");
    assert!(has_output_line(content), "{content}");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

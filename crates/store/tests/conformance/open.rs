//! Opening databases: URLs, migrations, upgrades.

use ferrobot_store::Error;

use crate::harness::Ctx;

pub async fn unsupported_urls_are_refused_by_name(ctx: Ctx) -> anyhow::Result<()> {
    for url in [
        "mysql://root@localhost/buildbot",
        "sqlite://",
        "state.sqlite",
    ] {
        match ferrobot_store::open(url, &ctx.basedir).await {
            Err(Error::BadUrl { url: named, reason }) => {
                assert_eq!(named, url);
                assert!(
                    reason.contains("sqlite:///") && reason.contains("postgresql://"),
                    "{reason}"
                );
            }
            Err(other) => panic!("{url}: expected BadUrl, got {other}"),
            Ok(_) => panic!("{url}: opened"),
        }
        assert!(matches!(
            ferrobot_store::upgrade(url, &ctx.basedir).await,
            Err(Error::BadUrl { .. })
        ));
    }
    assert!(ferrobot_store::is_sqlite("sqlite:///state.sqlite"));
    assert!(!ferrobot_store::is_sqlite("postgresql://db/bb"));
    Ok(())
}

pub async fn reopening_keeps_the_data(ctx: Ctx) -> anyhow::Result<()> {
    let masterid = ctx.store.find_or_create_master("host1:/srv/master").await?;
    let reopened = ferrobot_store::open(&ctx.url, &ctx.basedir).await?;
    assert_eq!(
        reopened.find_or_create_master("host1:/srv/master").await?,
        masterid
    );
    assert_eq!(reopened.masters().await?.len(), 1);
    // Both handles keep working side by side.
    let worker = reopened.find_or_create_worker("worker1").await?;
    assert_eq!(ctx.store.find_or_create_worker("worker1").await?, worker);
    Ok(())
}

pub async fn upgrading_an_up_to_date_database_changes_nothing(ctx: Ctx) -> anyhow::Result<()> {
    let masterid = ctx.store.find_or_create_master("host1:/srv/master").await?;
    ferrobot_store::upgrade(&ctx.url, &ctx.basedir).await?;
    ferrobot_store::upgrade(&ctx.url, &ctx.basedir).await?;
    assert_eq!(
        ctx.store.master(masterid).await?.map(|m| m.name).as_deref(),
        Some("host1:/srv/master")
    );
    Ok(())
}

#[tokio::test]
async fn sqlite_absolute_urls_name_the_file_itself() -> anyhow::Result<()> {
    let elsewhere = tempfile::tempdir()?;
    let basedir = tempfile::tempdir()?;
    let file = elsewhere.path().join("ferrobot.sqlite");
    let url = format!("sqlite:///{}", file.display());
    let store = ferrobot_store::open(&url, basedir.path()).await?;
    store.find_or_create_master("m").await?;
    assert!(file.is_file(), "the database is at the absolute path");
    assert!(!basedir.path().join("ferrobot.sqlite").exists());
    Ok(())
}

#[tokio::test]
async fn sqlite_in_a_missing_directory_is_refused_with_its_name() {
    let basedir = tempfile::tempdir().expect("a temporary directory");
    let opened = ferrobot_store::open("sqlite:///no/such/dir/state.sqlite", basedir.path()).await;
    match opened {
        Err(Error::BadUrl { reason, .. }) => assert!(reason.contains("no/such/dir"), "{reason}"),
        Err(other) => panic!("expected BadUrl, got {other}"),
        Ok(_) => panic!("opened a database in a missing directory"),
    }
}

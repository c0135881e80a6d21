//! Backends for the suite: a SQLite file in a temporary directory, and a fresh PostgreSQL
//! database on the server named by `FERROBOT_TEST_DATABASE_URL`, dropped afterwards.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ferrobot_store::Store;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// A case gets this much time; a hang fails it instead of stalling the run.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a case works with.
#[derive(Clone)]
pub struct Ctx {
    /// The store under test, freshly migrated and empty.
    pub store: Arc<dyn Store>,
    /// The URL it was opened with (Buildbot's form, for `open` and `upgrade`).
    pub url: String,
    /// The master directory it was opened in.
    pub basedir: PathBuf,
    /// The same database as an sqlx URL, for cases that look at the stored rows themselves.
    pub sqlx_url: String,
}

/// Runs a case against SQLite.
pub async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = "sqlite:///state.sqlite".to_owned();
    let store = ferrobot_store::open(&url, dir.path())
        .await
        .expect("sqlite store opens");
    let sqlx_url = format!("sqlite://{}", dir.path().join("state.sqlite").display());
    let ctx = Ctx {
        store,
        url,
        basedir: dir.path().to_owned(),
        sqlx_url,
    };
    let outcome = tokio::spawn(tokio::time::timeout(CASE_TIMEOUT, case(ctx))).await;
    report(outcome);
}

/// Runs a case against its own database on the PostgreSQL server.
pub async fn run_postgres<F, Fut>(case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let Ok(server) = std::env::var("FERROBOT_TEST_DATABASE_URL") else {
        panic!(
            "FERROBOT_TEST_DATABASE_URL is not set: run scripts/test.sh, which starts PostgreSQL"
        );
    };
    let name = unique_database_name();
    let mut admin = PgConnection::connect(&server)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("a test database can be created");
    let url = with_database(&server, &name);
    let basedir = std::env::temp_dir();
    let outcome = match ferrobot_store::open(&url, &basedir).await {
        Ok(store) => {
            let ctx = Ctx {
                store,
                url: url.clone(),
                basedir,
                sqlx_url: url,
            };
            Ok(tokio::spawn(tokio::time::timeout(CASE_TIMEOUT, case(ctx))).await)
        }
        Err(error) => Err(error),
    };
    // FORCE closes the store's pooled connections, which may outlive the case by a moment.
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("the test database can be dropped");
    match outcome {
        Ok(outcome) => report(outcome),
        Err(error) => panic!("postgresql store does not open: {error}"),
    }
}

fn report(
    outcome: Result<
        Result<anyhow::Result<()>, tokio::time::error::Elapsed>,
        tokio::task::JoinError,
    >,
) {
    match outcome {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => panic!("case failed: {error:#}"),
        Ok(Err(_)) => panic!("case did not finish within {CASE_TIMEOUT:?}"),
        Err(join_error) if join_error.is_panic() => {
            std::panic::resume_unwind(join_error.into_panic())
        }
        Err(join_error) => panic!("case task failed: {join_error}"),
    }
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "ferrobot_store_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// The server URL with its database replaced by `name` (query parameters kept).
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

#[test]
fn database_names_replace_the_servers() {
    assert_eq!(
        with_database("postgresql://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgresql://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@h", "t2"),
        "postgres://u:p@h/t2"
    );
    assert_eq!(
        with_database("postgres://h:1/db?sslmode=disable", "t3"),
        "postgres://h:1/t3?sslmode=disable"
    );
}

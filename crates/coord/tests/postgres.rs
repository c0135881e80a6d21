//! The coordinator conformance suite against PostgreSQL: every case gets its own database on
//! the server named by `FERROBOT_TEST_DATABASE_URL` (it fails without it, never skips), dropped
//! afterwards.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ferrobot_coord::conformance::Fixture;
use ferrobot_coord::{Coordinator, PostgresCoordinator};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

const TTL: Duration = Duration::from_millis(1500);

/// Runs `body` with the URL of a fresh database, dropped afterwards whatever the outcome.
async fn in_fresh_database<B, Fut>(body: B)
where
    B: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let server = common::required_env("FERROBOT_TEST_DATABASE_URL", "PostgreSQL");
    let name = common::unique_name("ferrobot_coord_test");
    let mut admin = PgConnection::connect(&server)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("a test database can be created");
    let outcome = common::run_case(body(with_database(&server, &name))).await;
    // FORCE closes the coordinator's pooled connections, which may outlive the case a moment.
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("the test database can be dropped");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn run<F, Fut>(case: F)
where
    F: FnOnce(Fixture) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    in_fresh_database(|url| async move {
        let coordinator = PostgresCoordinator::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("the postgresql coordinator does not connect: {error}"));
        let behind_the_back = PgPool::connect(&url)
            .await
            .expect("a second pool to the test database");
        let fixture = Fixture {
            coordinator: Arc::new(coordinator),
            ttl: TTL,
            expiry_slack: Duration::ZERO,
            remove_lease: Box::new(move |lease_id| {
                let pool = behind_the_back.clone();
                Box::pin(async move {
                    sqlx::query("DELETE FROM ferrobot_coord_leases WHERE id = $1")
                        .bind(lease_id)
                        .execute(&pool)
                        .await
                        .expect("the lease row can be deleted");
                })
            }),
        };
        case(fixture).await;
    })
    .await;
}

/// The server URL with its database replaced by `name` (query parameters kept).
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

ferrobot_coord::coord_conformance_suite!(run);

/// Two masters connecting at once both create-or-find the tables, and see each other's leases
/// and duties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_masters_share_one_database() {
    in_fresh_database(|url| async move {
        let (first, second) = tokio::join!(
            PostgresCoordinator::connect(&url),
            PostgresCoordinator::connect(&url)
        );
        let first = first.expect("the first master connects");
        let second = second.expect("the second master connects");
        let lease = first.grant_lease("master-a", TTL).await.expect("a lease");
        let _duty = first
            .campaign("housekeeping", &lease)
            .await
            .expect("the duty");
        let seen = second.leader("housekeeping").await.expect("the leader");
        assert_eq!(seen.as_deref(), Some("master-a"));
        assert_eq!(second.live_owners().await.expect("owners"), ["master-a"]);
        lease.revoke().await.expect("revoking");
        assert_eq!(
            second.leader("housekeeping").await.expect("the leader"),
            None
        );
    })
    .await;
}

#[test]
fn database_names_replace_the_servers() {
    assert_eq!(
        with_database("postgresql://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgresql://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://h:1/db?sslmode=disable", "t3"),
        "postgres://h:1/t3?sslmode=disable"
    );
}

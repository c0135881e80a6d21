//! Two masters on one PostgreSQL and one NATS: a `www,scheduler` master without builders and a
//! `builder` master with the worker. Actions on the first reach builds on the second
//! (design invariant 5), and SQLite refuses to be shared.

use ferrobot_integration_tests::{ClusterServices, Roles, Sandbox};
use serde_json::json;

fn cluster_config(services: &ClusterServices) -> String {
    let mut cfg = crate::shell_builders(&[
        ("quick", &["echo built-elsewhere"]),
        ("slow", &["echo started; sleep 600"]),
    ]);
    cfg.push_str(&services.config_lines());
    cfg
}

#[tokio::test]
async fn a_www_master_without_builders_forces_and_stops_builds_that_run_on_a_builder_master()
-> anyhow::Result<()> {
    let services = ClusterServices::create().await?;
    let cfg = cluster_config(&services);
    let ui_roles = Roles {
        www: true,
        scheduler: true,
        builder: false,
    };
    let builder_roles = Roles {
        www: false,
        scheduler: false,
        builder: true,
    };
    let ui = Sandbox::start_with(tempfile::tempdir()?, &cfg, "ui", ui_roles).await?;
    let builder =
        Sandbox::start_with(tempfile::tempdir()?, &cfg, "builder-1", builder_roles).await?;
    let worker = builder.add_worker("w1", "pw").await?;
    ui.wait_worker_connected("w1").await?;

    let builders = ui.get("/builders").await?;
    let builder_masterid = builder.master().ctx.masterid;
    for entry in builders["builders"].as_array().expect("builders") {
        assert_eq!(
            entry["masterids"],
            json!([builder_masterid]),
            "only the builder master runs builders: {entry}"
        );
    }

    let build = ui.wait_request_done(ui.force("quick").await?).await?;
    assert_eq!(build["results"], json!(0), "{build}");
    assert_eq!(
        build["masterid"],
        json!(builder_masterid),
        "the build ran on the builder master"
    );
    assert!(
        ui.build_log_text(build["buildid"].as_i64().expect("id"))
            .await?
            .contains("built-elsewhere")
    );

    let brid = ui.force("slow").await?;
    let buildid = ui.wait_build_log(brid, "started").await?;
    ui.stop_build(buildid).await?;
    let stopped = ui.wait_request_done(brid).await?;
    assert_eq!(
        stopped["results"],
        json!(6),
        "stopped through the www master: {stopped}"
    );

    worker.stop().await;
    builder.stop().await;
    ui.stop().await;
    services.drop_database().await
}

#[tokio::test]
async fn sqlite_refuses_to_be_shared_by_a_cluster() -> anyhow::Result<()> {
    let shared = crate::shell_builders(&[("quick", &["true"])]) + "c['multiMaster'] = True\n";
    let refused = Sandbox::start(&shared)
        .await
        .err()
        .expect("SQLite with multiMaster must be refused");
    assert!(
        refused
            .to_string()
            .contains("cannot be shared by several masters"),
        "{refused}"
    );
    let single = crate::shell_builders(&[("quick", &["true"])]);
    let partial = Roles {
        www: true,
        scheduler: false,
        builder: false,
    };
    let refused = Sandbox::start_with(tempfile::tempdir()?, &single, "ui", partial)
        .await
        .err()
        .expect("refused");
    assert!(refused.to_string().contains("postgresql://"), "{refused}");
    Ok(())
}

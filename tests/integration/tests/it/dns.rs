//! DNS load balancing of workers over builder masters (issue 4 item 1): a real DNS server
//! (hickory-server, in-process) gives one name three A records, 127.0.0.2/.3/.4, where three
//! builder masters of one cluster listen on the same port. Nine workers created with that name
//! and `nameserver` spread over all three; when one master dies, its workers reconnect to the
//! other two.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use ferrobot_bus::Pattern;
use ferrobot_integration_tests::{ClusterServices, Roles, Sandbox};
use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Short enough that the dead master's connections are cleared within seconds.
const LEASE_TTL: Duration = Duration::from_millis(1500);
const ZONE: &str = "ferrobot.test.";
const MASTERS_NAME: &str = "builders.ferrobot.test";
const BUILDER_IPS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(127, 0, 0, 2),
    Ipv4Addr::new(127, 0, 0, 3),
    Ipv4Addr::new(127, 0, 0, 4),
];
const WORKERS: usize = 9;
/// Nine workers that each pick one of three masters at random leave one master without a
/// worker 7.8 % of the time; a fresh round of connections after such a draw keeps the test's
/// false-failure rate near 0.078^4 while a worker that does not spread fails every round.
const SPREAD_ROUNDS: usize = 4;

/// Serves `MASTERS_NAME` with one A record per builder address, on UDP 127.0.0.1:random.
async fn dns_server() -> anyhow::Result<(Server<Catalog>, SocketAddr)> {
    let origin = Name::from_str(ZONE)?;
    let mut zone: InMemoryZoneHandler =
        InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
    let soa = SOA::new(
        Name::from_str("ns.ferrobot.test.")?,
        Name::from_str("admin.ferrobot.test.")?,
        1,
        3600,
        600,
        86400,
        0,
    );
    let serial = 1;
    if !zone.upsert_mut(
        Record::from_rdata(origin.clone(), 3600, RData::SOA(soa)),
        serial,
    ) {
        return Err(anyhow!("the SOA record was refused"));
    }
    let name = Name::from_str(&format!("{MASTERS_NAME}."))?;
    for ip in BUILDER_IPS {
        // A TTL of 0: nothing may cache the answer between two connection attempts.
        let record = Record::from_rdata(name.clone(), 0, RData::A(A(ip)));
        if !zone.upsert_mut(record, serial) {
            return Err(anyhow!("the A record {ip} was refused"));
        }
    }
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let addr = socket.local_addr()?;
    let mut server = Server::new(catalog);
    server.register_socket(socket);
    Ok((server, addr))
}

/// A port free on all three builder addresses.
fn shared_port() -> anyhow::Result<u16> {
    for _ in 0..20 {
        let first = std::net::TcpListener::bind((BUILDER_IPS[0], 0))?;
        let port = first.local_addr()?.port();
        if BUILDER_IPS[1..]
            .iter()
            .all(|ip| std::net::TcpListener::bind((*ip, port)).is_ok())
        {
            return Ok(port);
        }
    }
    Err(anyhow!("no port is free on all of {BUILDER_IPS:?}"))
}

fn config(services: &ClusterServices) -> String {
    let names: Vec<String> = (1..=WORKERS).map(|i| format!("\"w{i}\"")).collect();
    let mut cfg = crate::shell_builders(&[("quick", &["echo spread"])]).replace(
        "workernames=[\"w1\"]",
        &format!("workernames=[{}]", names.join(", ")),
    );
    for i in 2..=WORKERS {
        cfg.push_str(&format!(
            "c['workers'].append(worker.Worker('w{i}', 'pw'))\n"
        ));
    }
    cfg.push_str(&services.config_lines());
    cfg
}

/// Nine in-process workers dialling `MASTERS_NAME:port` through the DNS server `nameserver`.
struct Workers {
    dir: tempfile::TempDir,
    running: Vec<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

impl Workers {
    fn start(dir: tempfile::TempDir, port: u16, nameserver: SocketAddr) -> anyhow::Result<Self> {
        let mut running = Vec::new();
        for i in 1..=WORKERS {
            let basedir = dir.path().join(format!("w{i}"));
            let master = format!("{MASTERS_NAME}:{port}");
            let mut options =
                ferrobot_worker::WorkerOptions::new(&basedir, master, format!("w{i}"), "pw");
            options.maxdelay = Duration::from_secs(1);
            options.nameserver = Some(nameserver.to_string());
            ferrobot_worker::create_worker(&options, true)?;
            let cancel = CancellationToken::new();
            let task = tokio::spawn({
                let cancel = cancel.clone();
                async move {
                    if let Err(error) = ferrobot_worker::run(options, cancel).await {
                        eprintln!("worker ended: {error}");
                    }
                }
            });
            running.push((cancel, task));
        }
        Ok(Workers { dir, running })
    }

    async fn stop(self) -> tempfile::TempDir {
        for (cancel, task) in self.running {
            cancel.cancel();
            let _ = tokio::time::timeout(ferrobot_integration_tests::TIMEOUT, task).await;
        }
        self.dir
    }
}

/// Each worker's name with the masterids it is connected to, as `GET /workers` shows them.
async fn connections(api: &Sandbox) -> anyhow::Result<BTreeMap<String, Vec<i64>>> {
    let workers = api.get("/workers").await?;
    let all = workers["workers"].as_array().context("workers")?;
    Ok(all
        .iter()
        .map(|w| {
            let masters = w["connected_to"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["masterid"].as_i64())
                .collect();
            (w["name"].as_str().unwrap_or_default().to_owned(), masters)
        })
        .collect())
}

/// Waits until the REST API shows every worker connected to exactly one master, all of them
/// in `allowed`; returns how many workers each master has.
async fn wait_all_connected(
    api: &Sandbox,
    allowed: &[i64],
) -> anyhow::Result<BTreeMap<i64, usize>> {
    let settled = || async {
        let connections = connections(api).await?;
        anyhow::Ok(
            connections.len() == WORKERS
                && connections
                    .values()
                    .all(|m| m.len() == 1 && allowed.contains(&m[0])),
        )
    };
    api.wait_until(&Pattern::parse("workers.*.*", '.'), settled)
        .await
        .with_context(|| format!("the workers never all connected to the masters {allowed:?}"))?;
    let mut per_master = BTreeMap::new();
    for masters in connections(api).await?.values() {
        *per_master.entry(masters[0]).or_insert(0) += 1;
    }
    Ok(per_master)
}

async fn wait_all_disconnected(api: &Sandbox) -> anyhow::Result<()> {
    api.wait_until(&Pattern::parse("workers.*.*", '.'), || async {
        Ok(connections(api).await?.values().all(Vec::is_empty))
    })
    .await
    .context("the stopped workers still show connected")
}

#[tokio::test]
async fn workers_spread_over_the_masters_behind_one_name_and_leave_a_dead_one() -> anyhow::Result<()>
{
    let (_dns, nameserver) = dns_server().await?;
    let services = ClusterServices::create().await?;
    let cfg = config(&services);
    let port = shared_port()?;
    let www_roles = Roles {
        www: true,
        scheduler: true,
        builder: false,
    };
    let builder_roles = Roles {
        www: false,
        scheduler: false,
        builder: true,
    };
    let ui =
        Sandbox::start_crashable(tempfile::tempdir()?, &cfg, "ui", www_roles, LEASE_TTL).await?;
    let mut builders = Vec::new();
    for (i, ip) in BUILDER_IPS.iter().enumerate() {
        let listen = SocketAddr::from((*ip, port));
        let name = format!("builder-{}", i + 1);
        let master = Sandbox::start_crashable_listening(
            tempfile::tempdir()?,
            &cfg,
            &name,
            builder_roles,
            LEASE_TTL,
            listen,
        )
        .await?;
        assert_eq!(
            master.master().worker_addr,
            Some(listen),
            "{name} listens on {listen}"
        );
        builders.push(master);
    }
    let ids: Vec<i64> = builders.iter().map(|b| b.master().ctx.masterid).collect();

    let mut dir = tempfile::tempdir()?;
    let mut spreads = Vec::new();
    let workers = loop {
        let workers = Workers::start(dir, port, nameserver)?;
        let spread = wait_all_connected(&ui, &ids).await?;
        spreads.push(spread.clone());
        if spread.len() == ids.len() || spreads.len() == SPREAD_ROUNDS {
            break workers;
        }
        // An unlucky draw: disconnect everyone and draw again.
        dir = workers.stop().await;
        wait_all_disconnected(&ui).await?;
    };
    let spread = spreads.last().expect("one round at least");
    assert!(
        ids.iter()
            .all(|id| spread.get(id).copied().unwrap_or(0) >= 1),
        "every builder master {ids:?} has a worker; workers per master, per round: {spreads:?}"
    );

    let doomed = builders.remove(0);
    let doomed_id = ids[0];
    let orphans = spread[&doomed_id];
    let _doomed_dir = doomed.crash();
    let survivors = &ids[1..];
    let after = wait_all_connected(&ui, survivors)
        .await
        .with_context(|| format!("{orphans} workers of the crashed master {doomed_id}"))?;
    assert_eq!(
        after.values().sum::<usize>(),
        WORKERS,
        "all workers are connected to the survivors {survivors:?}: {after:?}"
    );
    assert!(!after.contains_key(&doomed_id), "{after:?}");
    // And builds run on the survivors.
    let build = ui.wait_request_done(ui.force("quick").await?).await?;
    assert_eq!(build["results"], json!(0), "{build}");
    assert!(
        survivors.iter().any(|id| build["masterid"] == json!(id)),
        "the build ran on a surviving master {survivors:?}: {build}"
    );

    let dir = workers.stop().await;
    drop(dir);
    for builder in builders {
        builder.stop().await;
    }
    ui.stop().await;
    services.drop_database().await
}

//! Resolving the master's name to every address behind it: with the system resolver
//! (`/etc/hosts`, `resolv.conf`) by default, or with hickory-resolver against the DNS server of
//! `--nameserver` (e.g. Consul's DNS on port 8600).

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

/// All addresses of `master` (`HOST:PORT`), each with the master's port; `Err` says why none.
///
/// Nothing is cached between calls, so a builder master added behind the name is seen by the
/// next connection attempt.
pub(super) async fn resolve(
    master: &str,
    nameserver: Option<&str>,
) -> Result<Vec<SocketAddr>, String> {
    let Some(nameserver) = nameserver else {
        return tokio::net::lookup_host(master)
            .await
            .map(Iterator::collect)
            .map_err(|e| format!("cannot resolve: {e}"));
    };
    let (host, port) = master
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("{master:?} is not HOST:PORT"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let servers = nameserver_addresses(nameserver).await?;
    // A resolver per attempt: nothing stays cached from one attempt to the next.
    let resolver = resolver(&servers).map_err(|e| format!("cannot set up a resolver: {e}"))?;
    let found = resolver
        .lookup_ip(host)
        .await
        .map_err(|e| format!("cannot resolve {host} with the DNS server {nameserver}: {e}"))?;
    let addrs: Vec<SocketAddr> = found.iter().map(|ip| SocketAddr::new(ip, port)).collect();
    tracing::debug!(%host, %nameserver, addresses = ?addrs, "master name resolved");
    Ok(addrs)
}

/// The DNS server's addresses; its host may itself be a name, resolved by the system.
async fn nameserver_addresses(nameserver: &str) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(nameserver)
        .await
        .map_err(|e| format!("cannot resolve the DNS server {nameserver}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("the DNS server {nameserver} has no address"));
    }
    Ok(addrs)
}

/// A resolver asking only `servers` (UDP, then TCP for truncated answers), for A and AAAA.
fn resolver(
    servers: &[SocketAddr],
) -> Result<Resolver<TokioRuntimeProvider>, hickory_resolver::net::NetError> {
    let name_servers = servers
        .iter()
        .map(|server| {
            let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                .into_iter()
                .map(|mut connection| {
                    connection.port = server.port();
                    connection
                })
                .collect();
            NameServerConfig::new(server.ip(), true, connections)
        })
        .collect();
    let mut options = ResolverOpts::default();
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    Resolver::builder_with_config(
        ResolverConfig::from_name_servers(name_servers),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ip_literal_needs_no_dns_server() {
        // The DNS server is never asked: nothing listens on it.
        let addrs = resolve("[::1]:9989", Some("127.0.0.1:1")).await;
        assert_eq!(addrs, Ok(vec!["[::1]:9989".parse().expect("addr")]));
        let addrs = resolve("127.0.0.3:9989", Some("127.0.0.1:1")).await;
        assert_eq!(addrs, Ok(vec!["127.0.0.3:9989".parse().expect("addr")]));
    }

    #[tokio::test]
    async fn without_a_nameserver_the_system_resolver_answers() {
        let addrs = resolve("localhost:9989", None)
            .await
            .expect("localhost resolves");
        assert!(!addrs.is_empty());
        assert!(
            addrs
                .iter()
                .all(|a| a.port() == 9989 && a.ip().is_loopback()),
            "{addrs:?}"
        );
    }
}

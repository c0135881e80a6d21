//! Resolving the master's name to every address behind it with hickory-resolver: by default
//! from the system's `/etc/hosts` and the servers of `/etc/resolv.conf`, or only from the DNS
//! server of `--nameserver` (e.g. Consul's DNS on port 8600). When the system configuration
//! cannot be read, or hickory finds nothing, the system resolver (`getaddrinfo`, which also
//! knows NSS sources such as mDNS) answers instead, and the log says so.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
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
    let (host, port) = master
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("{master:?} is not HOST:PORT"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let Some(nameserver) = nameserver else {
        return resolve_with_system_config(master, host, port).await;
    };
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

/// hickory with `/etc/resolv.conf` and `/etc/hosts`, falling back to `getaddrinfo`.
async fn resolve_with_system_config(
    master: &str,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, String> {
    let hickory = match Resolver::builder_tokio() {
        Ok(mut builder) => {
            // Keeps resolv.conf's timeout and attempts; asks for both families.
            let options = builder.options_mut();
            options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
            options.use_hosts_file = ResolveHosts::Always;
            match builder.build() {
                Ok(resolver) => match resolver.lookup_ip(host).await {
                    Ok(found) => {
                        let addrs: Vec<SocketAddr> =
                            found.iter().map(|ip| SocketAddr::new(ip, port)).collect();
                        if !addrs.is_empty() {
                            tracing::debug!(%host, addresses = ?addrs, "master name resolved");
                            return Ok(addrs);
                        }
                        "no address".to_owned()
                    }
                    Err(e) => e.to_string(),
                },
                Err(e) => format!("cannot set up a resolver: {e}"),
            }
        }
        Err(e) => format!("cannot read the system DNS configuration: {e}"),
    };
    tracing::debug!(%host, reason = %hickory, "hickory-resolver found nothing; asking the system resolver");
    tokio::net::lookup_host(master)
        .await
        .map(Iterator::collect)
        .map_err(|e| format!("cannot resolve {host}: {hickory}; system resolver: {e}"))
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

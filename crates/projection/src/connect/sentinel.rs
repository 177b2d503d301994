//! Redis behind Sentinel: the URL form, and a local relay that always leads
//! to the group's current primary.
//!
//! `redis+sentinel://[user:password@]host:port,host:port,…/service[/db]`
//! names the sentinels (port 26379 when left out), the service they watch
//! (`sentinel monitor <service> …`) and the database; the user and password
//! are the Redis servers' (the sentinels are asked without them).
//!
//! The connection a service uses is an ordinary reconnecting connection to
//! a relay on 127.0.0.1 in the same process. The relay asks the sentinels
//! for the primary (the `redis` crate's Sentinel client, which also checks
//! that the server calls itself primary) every [`POLL`], and forwards each
//! connection to it. When the sentinels name another primary, the relay
//! closes every forwarded connection: the connection reconnects, and so
//! reaches the promoted replica, without anything else in the service
//! knowing of Sentinel.

use std::net::Ipv4Addr;
use std::time::Duration;

use redis::sentinel::{Sentinel, SentinelNodeConnectionInfo};
use redis::{ConnectionAddr, ConnectionInfo, ErrorKind, IntoConnectionInfo, RedisConnectionInfo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The scheme of a Sentinel URL.
pub const SCHEME: &str = "redis+sentinel://";

/// The port of a sentinel when the URL gives none.
pub const DEFAULT_PORT: u16 = 26379;

/// How often the sentinels are asked for the primary.
pub const POLL: Duration = Duration::from_millis(250);

/// How long reaching the primary may take before a forwarded connection
/// gives up (the client then tries again).
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);

/// A parsed Sentinel URL.
#[derive(Debug, Clone)]
pub struct SentinelUrl {
    /// The sentinels, `(host, port)`.
    pub sentinels: Vec<(String, u16)>,
    /// The service (master name) they watch.
    pub service: String,
    /// The user, password and database on the Redis servers.
    pub redis: RedisConnectionInfo,
}

fn invalid(detail: String) -> redis::RedisError {
    redis::RedisError::from((
        ErrorKind::InvalidClientConfig,
        "invalid Sentinel URL",
        detail,
    ))
}

impl SentinelUrl {
    /// Parses `url` when it is a Sentinel URL; `None` for any other.
    ///
    /// # Errors
    /// When it starts with [`SCHEME`] but is not well formed.
    pub fn parse(url: &str) -> Result<Option<Self>, redis::RedisError> {
        let Some(rest) = url.strip_prefix(SCHEME) else {
            return Ok(None);
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let mut redis = RedisConnectionInfo::default();
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            if !user.is_empty() {
                redis = redis.set_username(user);
            }
            if !password.is_empty() {
                redis = redis.set_password(password);
            }
        }
        let sentinels = hosts
            .split(',')
            .map(|h| parse_host(h.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if sentinels.is_empty() {
            return Err(invalid(format!("{url:?} names no sentinel")));
        }
        let mut parts = path.trim_end_matches('/').split('/');
        let service = parts.next().unwrap_or_default();
        if service.is_empty() {
            return Err(invalid(format!(
                "{url:?} names no service: {SCHEME}host:port,…/service"
            )));
        }
        if let Some(db) = parts.next() {
            let db: i64 = db
                .parse()
                .map_err(|_| invalid(format!("{url:?}: database {db:?} is not a number")))?;
            redis = redis.set_db(db);
        }
        if parts.next().is_some() {
            return Err(invalid(format!("{url:?}: more path than service/db")));
        }
        Ok(Some(Self {
            sentinels,
            service: service.to_owned(),
            redis,
        }))
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn parse_host(h: &str) -> Result<(String, u16), redis::RedisError> {
    let (host, port) = if let Some(v6) = h.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| invalid(format!("sentinel {h:?}: no closing ]")))?;
        (host, after.strip_prefix(':'))
    } else {
        match h.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (h, None),
        }
    };
    if host.is_empty() {
        return Err(invalid(format!("sentinel {h:?}: no host")));
    }
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| invalid(format!("sentinel {h:?}: bad port")))?,
        None => DEFAULT_PORT,
    };
    Ok((host.to_owned(), port))
}

/// Asks the sentinels for the primary once, starts the relay and the task
/// that follows the primary (both live as long as the runtime), and
/// returns what to connect to: the relay, with the group's user, password
/// and database.
///
/// # Errors
/// When no sentinel names a primary that answers as one, or the relay
/// cannot listen.
pub async fn follow(group: SentinelUrl) -> Result<ConnectionInfo, redis::RedisError> {
    let nodes: Vec<ConnectionInfo> = group
        .sentinels
        .iter()
        .map(|(h, p)| ConnectionAddr::Tcp(h.clone(), *p).into_connection_info())
        .collect::<Result<_, _>>()?;
    let mut sentinel = Sentinel::build(nodes)?;
    let node = SentinelNodeConnectionInfo::default().set_redis_connection_info(group.redis.clone());
    let first = primary(&mut sentinel, &group.service, &node).await?;
    tracing::info!(service = %group.service, primary = %show(&first), "Redis primary from Sentinel");
    let (tx, rx) = watch::channel(first);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(watch_primary(sentinel, group.service, node, tx));
    tokio::spawn(relay(listener, rx));
    Ok(ConnectionAddr::Tcp(Ipv4Addr::LOCALHOST.to_string(), port)
        .into_connection_info()?
        .set_redis_settings(group.redis))
}

/// The primary's address, as the sentinels name it and it confirms.
async fn primary(
    sentinel: &mut Sentinel,
    service: &str,
    node: &SentinelNodeConnectionInfo,
) -> Result<ConnectionAddr, redis::RedisError> {
    let client = sentinel.async_master_for(service, Some(node)).await?;
    Ok(client.get_connection_info().addr().clone())
}

fn show(addr: &ConnectionAddr) -> String {
    match addr {
        ConnectionAddr::Tcp(h, p) => format!("{h}:{p}"),
        other => format!("{other:?}"),
    }
}

/// Asks for the primary every [`POLL`]; a change closes the forwarded
/// connections (see [`relay`]).
async fn watch_primary(
    mut sentinel: Sentinel,
    service: String,
    node: SentinelNodeConnectionInfo,
    tx: watch::Sender<ConnectionAddr>,
) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match primary(&mut sentinel, &service, &node).await {
            Ok(addr) => {
                tx.send_if_modified(|current| {
                    if *current == addr {
                        return false;
                    }
                    tracing::warn!(%service, from = %show(current), to = %show(&addr),
                        "Redis primary changed; reconnecting to it");
                    *current = addr;
                    true
                });
            }
            Err(error) => {
                tracing::debug!(%error, %service, "no primary from Sentinel yet");
            }
        }
    }
}

/// Forwards each connection to the current primary until it changes.
async fn relay(listener: TcpListener, rx: watch::Receiver<ConnectionAddr>) {
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(forward(client, rx.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "Redis relay could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn forward(mut client: TcpStream, mut rx: watch::Receiver<ConnectionAddr>) {
    let target = rx.borrow_and_update().clone();
    let ConnectionAddr::Tcp(host, port) = &target else {
        tracing::error!(primary = %show(&target), "only plain TCP primaries can be followed");
        return;
    };
    let upstream =
        tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect((host.as_str(), *port))).await;
    let mut upstream = match upstream {
        Ok(Ok(s)) => s,
        Ok(Err(error)) => {
            tracing::debug!(%error, primary = %show(&target), "Redis primary unreachable");
            return;
        }
        Err(_) => {
            tracing::debug!(primary = %show(&target), "Redis primary did not answer in time");
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    let _ = client.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        _ = rx.changed() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_are_not_sentinel_urls() {
        assert!(matches!(
            SentinelUrl::parse("redis://127.0.0.1:6379"),
            Ok(None)
        ));
    }

    #[test]
    fn a_sentinel_url_names_sentinels_service_and_database() {
        let u = SentinelUrl::parse("redis+sentinel://:pw@h1:26380,h2,[::1]:26381/mymaster/2")
            .expect("valid")
            .expect("sentinel");
        assert_eq!(
            u.sentinels,
            [
                ("h1".to_owned(), 26380),
                ("h2".to_owned(), DEFAULT_PORT),
                ("::1".to_owned(), 26381)
            ]
        );
        assert_eq!(u.service, "mymaster");
        assert_eq!(u.redis.db(), 2);
        assert_eq!(u.redis.password(), Some("pw"));
        assert_eq!(u.redis.username(), None);
    }

    #[test]
    fn a_sentinel_url_without_service_or_with_a_bad_port_is_refused() {
        assert!(SentinelUrl::parse("redis+sentinel://h1:26379").is_err());
        assert!(SentinelUrl::parse("redis+sentinel://h1:x/m").is_err());
        assert!(SentinelUrl::parse("redis+sentinel://h1/m/notadb").is_err());
        assert!(SentinelUrl::parse("redis+sentinel:///m").is_err());
    }
}

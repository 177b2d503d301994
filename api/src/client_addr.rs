//! The address a request comes from, for the limits keyed on addresses.
//!
//! It is the peer of the connection, unless the peer is one of the
//! trusted reverse proxies (`PATROLCHAT_TRUSTED_PROXIES`, none by
//! default). Then `X-Forwarded-For` is read from the right, where each
//! proxy appends the address it was reached from: trusted proxies are
//! skipped and the first other address is the client. Entries left of it
//! are the client's own word and never count, so a made-up entry gains
//! nothing; a header that cannot be read falls back to the peer.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

pub use crate::proxies::TrustedProxies;

/// The header reverse proxies append the client's address to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// One `X-Forwarded-For` entry: an address, optionally with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`) or in brackets.
fn parse_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let ip = s
        .parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<Ipv6Addr>()
                .ok()
                .map(IpAddr::V6)
        })?;
    Some(ip.to_canonical())
}

/// The client's address: `peer` unless it is a trusted proxy, then the
/// nearest untrusted address in `X-Forwarded-For` (see the module).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut nearest = peer;
    // Several headers read as one list, in order.
    for value in headers.get_all(X_FORWARDED_FOR).iter().rev() {
        let Ok(value) = value.to_str() else {
            return peer;
        };
        for entry in value.rsplit(',') {
            let Some(ip) = parse_entry(entry) else {
                return peer;
            };
            if !trusted.contains(ip) {
                return ip;
            }
            nearest = ip;
        }
    }
    // Every hop is trusted: the farthest one is where the request began.
    nearest
}

/// The address a request counts under (see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key of the limits kept per address. An IPv6 client counts by
    /// its /64, the block one subscriber is usually given, so that
    /// changing addresses within it does not buy fresh limits.
    pub fn limit_key(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => format!("ip:{v4}"),
            IpAddr::V6(v6) => {
                let block = u128::from(v6) & !((1u128 << 64) - 1);
                format!("ip:{}/64", Ipv6Addr::from(block))
            }
        }
    }
}

impl fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<S> FromRequestParts<S> for ClientAddr
where
    S: AsRef<TrustedProxies> + Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        // The server always records the peer; without it every request
        // shares one address, which limits rather than frees.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(Self(client_ip(peer, &parts.headers, state.as_ref())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).expect("networks")
    }

    fn networks(list: &str) -> Result<Vec<String>, String> {
        TrustedProxies::parse(list).map(|t| t.networks().iter().map(|n| n.to_string()).collect())
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(X_FORWARDED_FOR, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    const PROXY: &str = "10.0.0.2";

    #[test]
    fn the_trusted_list_takes_networks_and_single_addresses() {
        assert_eq!(networks(""), Ok(vec![]));
        assert_eq!(networks(" "), Ok(vec![]));
        assert_eq!(
            networks(" 10.0.0.0/8 , 127.0.0.1,fd00::/8, ::1,"),
            Ok(["10.0.0.0/8", "127.0.0.1/32", "fd00::/8", "::1/128"]
                .map(String::from)
                .to_vec())
        );
        // Host bits are dropped: the network is what is meant.
        assert_eq!(networks("10.1.2.3/8"), Ok(vec!["10.0.0.0/8".into()]));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.1/",
            "nonsense",
            "10.0.0.0/-1",
            "10.0.0/8",
            "10.0.0.0/8;192.168.0.0/16",
            "10.0.0.0/8,bad",
        ] {
            let err = networks(bad).expect_err(bad);
            assert!(err.contains("CIDR"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header() {
        let h = forwarded(&["203.0.113.9"]);
        assert_eq!(client_ip(ip(PROXY), &h, &trusted("")), ip(PROXY));
        // A peer outside the list is believed no more.
        let list = trusted("10.0.0.0/8");
        assert_eq!(client_ip(ip("192.0.2.1"), &h, &list), ip("192.0.2.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_entry_is_the_client() {
        let list = trusted("10.0.0.0/8, 2001:db8:ffff::/48");
        let cases: &[(&[&str], &str)] = &[
            (&["203.0.113.9"], "203.0.113.9"),
            // A made-up entry in front of the one the proxy appended.
            (&["198.51.100.1, 203.0.113.9"], "203.0.113.9"),
            (&["198.51.100.1", "203.0.113.9"], "203.0.113.9"),
            // Trusted hops between the client and the peer are skipped.
            (&["203.0.113.9, 10.0.0.7, 10.9.9.9"], "203.0.113.9"),
            (&["203.0.113.9", "10.0.0.7"], "203.0.113.9"),
            (&["2001:db8::5, 2001:db8:ffff::1"], "2001:db8::5"),
            // Garbage left of the client is the client's own business.
            (&["not an address, 203.0.113.9"], "203.0.113.9"),
            // Ports and brackets, as some proxies write them.
            (&["203.0.113.9:4711"], "203.0.113.9"),
            (&["[2001:db8::5]:4711"], "2001:db8::5"),
            (&["[2001:db8::5]"], "2001:db8::5"),
            // An IPv4 client written as IPv6 is the IPv4 client.
            (&["::ffff:203.0.113.9"], "203.0.113.9"),
            // Only trusted hops: the farthest one.
            (&["10.0.0.9, 10.0.0.7"], "10.0.0.9"),
        ];
        for (values, want) in cases {
            assert_eq!(
                client_ip(ip(PROXY), &forwarded(values), &list),
                ip(want),
                "{values:?}"
            );
        }
        // An IPv4 peer seen through an IPv6 socket is still trusted.
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.2"), &forwarded(&["203.0.113.9"]), &list),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_missing_or_unreadable_header_falls_back_to_the_peer() {
        let list = trusted("10.0.0.0/8");
        let cases: &[&[&str]] = &[
            &[],
            &[""],
            &["unknown"],
            &["203.0.113.9, "],
            &["203.0.113.9,,10.0.0.7"],
            &["203.0.113.9 10.0.0.7"],
            &["203.0.113.9", "garbage"],
            &["203.0.113.9/24"],
        ];
        for values in cases {
            assert_eq!(
                client_ip(ip(PROXY), &forwarded(values), &list),
                ip(PROXY),
                "{values:?}"
            );
        }
        let mut h = HeaderMap::new();
        h.insert(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"203.0.113.\xff").expect("header"),
        );
        assert_eq!(client_ip(ip(PROXY), &h, &list), ip(PROXY));
    }

    #[test]
    fn ipv6_clients_count_by_their_64_block() {
        let a = ClientAddr(ip("2001:db8:1:2:aaaa::1"));
        let b = ClientAddr(ip("2001:db8:1:2:bbbb::2"));
        let c = ClientAddr(ip("2001:db8:1:3::1"));
        assert_eq!(a.limit_key(), "ip:2001:db8:1:2::/64");
        assert_eq!(a.limit_key(), b.limit_key());
        assert_ne!(a.limit_key(), c.limit_key());
        assert_eq!(ClientAddr(ip("192.0.2.7")).limit_key(), "ip:192.0.2.7");
    }
}

//! The reverse proxies whose `X-Forwarded-For` is believed
//! (`PATROLCHAT_TRUSTED_PROXIES`), as the settings hold them.

use std::net::IpAddr;

use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed
/// (`PATROLCHAT_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma list of CIDR networks (`10.0.0.0/8`, `fd00::/8`)
    /// or single addresses; empty means none.
    ///
    /// # Errors
    /// A message naming the first entry that is neither.
    pub fn parse(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(parse_network)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `ip` is one of them.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The networks, as given (host bits cleared).
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }
}

/// One network of the list, or a single address (a network of one).
fn parse_network(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not an address or a CIDR network (10.0.0.0/8, fd00::/8)"))
}

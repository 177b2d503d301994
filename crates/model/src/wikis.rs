//! The wikis a deployment serves: an allow-list of hosts, and the one
//! check every URL called with a person's credentials passes.
//!
//! A person's OAuth grant (and the OAuth client secret) go only to the
//! wikis: every such call is `https://` to a host on the list. The router
//! makes items only from feed events whose `server_url` passes
//! [`WikiHosts::check_server`]; the api's HTTP client sends only to URLs
//! that pass [`WikiHosts::check`], and sends exactly the normalised URL
//! the check returns, so no other parser's reading of the text matters.
//!
//! A pattern is a host, with an optional port (443 when absent):
//! - `wikipedia.org` allows that host only;
//! - `*.wikipedia.org` allows exactly one label in front of it
//!   (`en.wikipedia.org`, not `wikipedia.org`, not `a.b.wikipedia.org`);
//! - `127.0.0.1:8443` allows a dotted IPv4 address on that port (never
//!   through `*.`).
//!
//! The check is strict on purpose. A URL is refused, before anything is
//! sent, when it is not `https`; when it has user info (`@`), a
//! backslash, a fragment, a space, a control or non-ASCII character; when
//! its host is empty, percent-encoded, ends in a dot, is an IPv6 literal
//! or a number that is not a dotted IPv4 address; when its port is empty,
//! zero, not a number or written with a leading zero; and when host and
//! port match no pattern. Host
//! names compare case-insensitively (they are lowercased).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// The project domains of the Wikimedia farm; the default list allows
/// each and one label in front of it (`en.wikipedia.org`,
/// `www.wikidata.org`, `commons.wikimedia.org`).
pub const WIKIMEDIA_DOMAINS: [&str; 12] = [
    "wikipedia.org",
    "wiktionary.org",
    "wikibooks.org",
    "wikinews.org",
    "wikiquote.org",
    "wikisource.org",
    "wikiversity.org",
    "wikivoyage.org",
    "wikimedia.org",
    "wikidata.org",
    "mediawiki.org",
    "wikifunctions.org",
];

/// The only port a pattern without one allows.
pub const HTTPS_PORT: u16 = 443;

/// Longest host name (RFC 1035).
const MAX_HOST: usize = 253;
/// Longest label.
const MAX_LABEL: usize = 63;
/// How much of a refused URL an error quotes.
const QUOTE: usize = 100;

/// A host: a lowercase DNS name or a dotted IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Name(String),
    Ipv4(Ipv4Addr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Ipv4(a) => write!(f, "{a}"),
        }
    }
}

/// One entry of the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// `*.`: exactly one label in front of `host`.
    one_label_deep: bool,
    host: Host,
    port: u16,
}

impl HostPattern {
    fn matches(&self, host: &Host, port: u16) -> bool {
        if port != self.port {
            return false;
        }
        match (&self.host, host) {
            (Host::Name(base), Host::Name(name)) if self.one_label_deep => name
                .strip_suffix(base.as_str())
                .and_then(|front| front.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains('.')),
            (a, b) => !self.one_label_deep && a == b,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.one_label_deep {
            f.write_str("*.")?;
        }
        write!(f, "{}", self.host)?;
        if self.port != HTTPS_PORT {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

impl FromStr for HostPattern {
    type Err = HostsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &'static str| HostsError::Pattern {
            pattern: quote(s),
            why,
        };
        let p = s.trim();
        if p.contains("://") {
            return Err(bad(
                "a pattern is a host with an optional :port, not a URL (calls are always https)",
            ));
        }
        let (one_label_deep, rest) = match p.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        let (host, port) = split_port(rest).map_err(bad)?;
        let host = parse_host(host).map_err(bad)?;
        if one_label_deep {
            match &host {
                Host::Ipv4(_) => return Err(bad("`*.` goes before a host name, not an address")),
                Host::Name(n) if !n.contains('.') => {
                    return Err(bad("`*.` needs a domain of two labels or more"));
                }
                Host::Name(_) => {}
            }
        }
        Ok(Self {
            one_label_deep,
            host,
            port,
        })
    }
}

/// The hosts of the wikis a deployment serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiHosts {
    patterns: Vec<HostPattern>,
}

impl Default for WikiHosts {
    /// The Wikimedia farm: each of [`WIKIMEDIA_DOMAINS`] and one label in
    /// front of it, on port 443.
    fn default() -> Self {
        let patterns = WIKIMEDIA_DOMAINS
            .iter()
            .flat_map(|d| {
                [false, true].map(|one_label_deep| HostPattern {
                    one_label_deep,
                    host: Host::Name((*d).to_owned()),
                    port: HTTPS_PORT,
                })
            })
            .collect();
        Self { patterns }
    }
}

impl FromStr for WikiHosts {
    type Err = HostsError;

    /// A comma-separated list of patterns (spaces around them ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let patterns = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<HostPattern>, _>>()?;
        if patterns.is_empty() {
            return Err(HostsError::Empty);
        }
        Ok(Self { patterns })
    }
}

impl fmt::Display for WikiHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl WikiHosts {
    /// The patterns, in the order given.
    pub fn patterns(&self) -> &[HostPattern] {
        &self.patterns
    }

    /// Checks `url` and returns it normalised: the URL to call.
    ///
    /// # Errors
    /// [`NotAllowed`] when it is not `https`, is malformed, or names a
    /// host and port no pattern allows.
    pub fn check(&self, url: &str) -> Result<WikiUrl, NotAllowed> {
        let target = parse_url(url)?;
        if self
            .patterns
            .iter()
            .any(|p| p.matches(&target.host, target.port))
        {
            Ok(target)
        } else {
            Err(NotAllowed::Host(quote(&target.authority())))
        }
    }

    /// Checks a wiki's server URL as the feed gives it
    /// (`https://en.wikipedia.org`): [`WikiHosts::check`], and nothing
    /// after the host and port but an optional `/`.
    ///
    /// # Errors
    /// As [`WikiHosts::check`]; [`NotAllowed::Malformed`] when it has a
    /// path or query.
    pub fn check_server(&self, server_url: &str) -> Result<WikiUrl, NotAllowed> {
        let target = self.check(server_url)?;
        if target.path_and_query != "/" {
            return Err(NotAllowed::Malformed("a server URL has no path or query"));
        }
        Ok(target)
    }
}

/// A URL that passed the check, normalised: `https`, the host lowercased,
/// the port only when it is not 443, a path that starts with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WikiUrl {
    host: Host,
    port: u16,
    path_and_query: String,
}

impl WikiUrl {
    /// The host (lowercase name or dotted IPv4 address).
    pub fn host(&self) -> String {
        self.host.to_string()
    }

    /// The port (443 when the URL gave none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host` or `host:port`.
    pub fn authority(&self) -> String {
        if self.port == HTTPS_PORT {
            self.host.to_string()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The path and query, starting with `/`.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }
}

impl fmt::Display for WikiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}{}", self.authority(), self.path_and_query)
    }
}

/// Why a URL may not be called with a person's credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAllowed {
    /// Not `https://`.
    #[error("{0} is refused: wikis are called over https only")]
    NotHttps(String),
    /// Not a plain absolute URL.
    #[error("malformed wiki URL: {0}")]
    Malformed(&'static str),
    /// Host and port match no pattern.
    #[error("{0} is not on the wiki allow-list")]
    Host(String),
}

impl NotAllowed {
    /// A short name for metrics and logs: `not_https`, `malformed`,
    /// `not_allowed`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotHttps(_) => "not_https",
            Self::Malformed(_) => "malformed",
            Self::Host(_) => "not_allowed",
        }
    }
}

/// Why an allow-list setting is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostsError {
    /// No pattern at all.
    #[error("the wiki allow-list is empty")]
    Empty,
    /// One pattern is not a host.
    #[error("wiki host pattern {pattern:?}: {why}")]
    Pattern {
        /// The pattern (shortened).
        pattern: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// The start of `s`, for error messages.
fn quote(s: &str) -> String {
    let mut end = s.len().min(QUOTE);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    if end < s.len() {
        format!("{}…", &s[..end])
    } else {
        s.to_owned()
    }
}

fn parse_url(url: &str) -> Result<WikiUrl, NotAllowed> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(NotAllowed::Malformed("not an absolute URL"));
    };
    if !scheme.eq_ignore_ascii_case("https") {
        let scheme = if scheme.bytes().all(|b| b.is_ascii_alphanumeric()) {
            format!("{}://", scheme.to_ascii_lowercase())
        } else {
            "the scheme".to_owned()
        };
        return Err(NotAllowed::NotHttps(quote(&scheme)));
    }
    if let Some(b) = url.bytes().find(|b| !b.is_ascii_graphic()) {
        return Err(NotAllowed::Malformed(if b.is_ascii() {
            "a space or control character"
        } else {
            "a non-ASCII character"
        }));
    }
    if url.contains('\\') {
        return Err(NotAllowed::Malformed("a backslash"));
    }
    if url.contains('#') {
        return Err(NotAllowed::Malformed("a fragment"));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(NotAllowed::Malformed("user info before the host"));
    }
    let (host, port) = split_port(authority).map_err(NotAllowed::Malformed)?;
    let host = parse_host(host).map_err(NotAllowed::Malformed)?;
    let path_and_query = if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("/{tail}")
    };
    Ok(WikiUrl {
        host,
        port,
        path_and_query,
    })
}

/// `host[:port]` → host text and port (443 when absent).
fn split_port(authority: &str) -> Result<(&str, u16), &'static str> {
    if authority.starts_with('[') {
        return Err("an IPv6 address (not supported)");
    }
    match authority.split_once(':') {
        None => Ok((authority, HTTPS_PORT)),
        Some((host, port)) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err("the port is not a number");
            }
            if port.starts_with('0') {
                return Err("a port with a leading zero");
            }
            match port.parse::<u16>() {
                Ok(p) if p > 0 => Ok((host, p)),
                _ => Err("the port is out of range"),
            }
        }
    }
}

/// A host name of letters, digits and hyphens, or a dotted IPv4 address.
fn parse_host(host: &str) -> Result<Host, &'static str> {
    if host.is_empty() {
        return Err("an empty host");
    }
    if host.contains('%') {
        return Err("a percent-encoded host");
    }
    if host.ends_with('.') {
        return Err("a host ending in a dot");
    }
    if host.len() > MAX_HOST {
        return Err("a host name over 253 characters");
    }
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err("an empty label in the host");
        }
        if label.len() > MAX_LABEL {
            return Err("a host label over 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("a host with characters other than letters, digits, hyphens and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a host label starting or ending with a hyphen");
        }
    }
    let last = labels.last().copied().unwrap_or_default();
    if last.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
        return Ok(Host::Name(host));
    }
    // A last label that is not a name makes the host an address: only the
    // plain dotted form is taken (no 0x, octal, or fewer than four parts).
    match host.parse::<Ipv4Addr>() {
        Ok(a) if a.to_string() == host => Ok(Host::Ipv4(a)),
        _ => Err("a numeric host that is not a dotted IPv4 address"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(s: &str) -> WikiHosts {
        s.parse().expect("patterns")
    }

    #[test]
    fn the_default_allows_the_wikimedia_projects_and_their_language_wikis() {
        let d = WikiHosts::default();
        for ok in [
            "https://en.wikipedia.org",
            "https://en.wikipedia.org/",
            "https://de.wikipedia.org/w/api.php?action=query&format=json",
            "https://www.wikidata.org/w/api.php",
            "https://commons.wikimedia.org",
            "https://meta.wikimedia.org/w/rest.php/oauth2/access_token",
            "https://www.mediawiki.org",
            "https://wikisource.org",
            "https://ru.wikinews.org",
            "https://www.wikifunctions.org",
            "https://mnw.wiktionary.org",
            "https://en.wikipedia.org:443/w/api.php",
            "https://EN.Wikipedia.ORG/w/api.php",
            "HTTPS://en.wikipedia.org/w/api.php",
        ] {
            assert!(d.check(ok).is_ok(), "{ok}: {:?}", d.check(ok));
        }
        assert_eq!(d.patterns().len(), 24);
    }

    #[test]
    fn the_checked_url_is_normalised() {
        let d = WikiHosts::default();
        let u = d
            .check("HTTPS://EN.Wikipedia.ORG:443/w/api.php?a=B")
            .expect("allowed");
        assert_eq!(u.to_string(), "https://en.wikipedia.org/w/api.php?a=B");
        assert_eq!(u.authority(), "en.wikipedia.org");
        assert_eq!(u.host(), "en.wikipedia.org");
        assert_eq!(u.port(), 443);
        assert_eq!(u.path_and_query(), "/w/api.php?a=B");
        let u = d.check("https://en.wikipedia.org?x=1").expect("allowed");
        assert_eq!(u.path_and_query(), "/?x=1");
        let h = hosts("127.0.0.1:8443");
        let u = h
            .check("https://127.0.0.1:8443/w/api.php")
            .expect("allowed");
        assert_eq!(u.authority(), "127.0.0.1:8443");
        assert_eq!(u.to_string(), "https://127.0.0.1:8443/w/api.php");
    }

    /// Hostile and malformed URLs, each with the reason it is refused.
    #[test]
    fn hostile_urls_are_refused_with_their_reason() {
        let d = WikiHosts::default();
        let table: &[(&str, &str)] = &[
            ("http://en.wikipedia.org/w/api.php", "not_https"),
            ("HTTP://en.wikipedia.org", "not_https"),
            ("ftp://en.wikipedia.org", "not_https"),
            ("//en.wikipedia.org/w/api.php", "malformed"),
            ("javascript://en.wikipedia.org", "not_https"),
            ("en.wikipedia.org/w/api.php", "malformed"),
            ("https:en.wikipedia.org", "malformed"),
            ("https://en.wikipedia.org@evil.test", "malformed"),
            ("https://en.wikipedia.org@evil.test/w/api.php", "malformed"),
            ("https://user:pass@en.wikipedia.org", "malformed"),
            ("https://@en.wikipedia.org", "malformed"),
            ("https://evil.test/en.wikipedia.org", "not_allowed"),
            ("https://evil.test?en.wikipedia.org", "not_allowed"),
            ("https://evil.test", "not_allowed"),
            ("https://en.wikipedia.org.evil.test", "not_allowed"),
            (
                "https://en.wikipedia.org.evil.test/w/api.php",
                "not_allowed",
            ),
            ("https://evilwikipedia.org", "not_allowed"),
            ("https://a.b.wikipedia.org", "not_allowed"),
            ("https://wikipedia.org.", "malformed"),
            ("https://en.wikipedia.org./w/api.php", "malformed"),
            ("https://en.wikipedia.org:8443/w/api.php", "not_allowed"),
            ("https://en.wikipedia.org:80", "not_allowed"),
            ("https://en.wikipedia.org:/w/api.php", "malformed"),
            ("https://en.wikipedia.org:0", "malformed"),
            ("https://en.wikipedia.org:65536", "malformed"),
            ("https://en.wikipedia.org:+443", "malformed"),
            ("https://en.wikipedia.org:0443", "malformed"),
            ("https://en.wikipedia.org:443:443", "malformed"),
            ("https://127.0.0.1/w/api.php", "not_allowed"),
            ("https://2130706433/", "malformed"),
            ("https://0x7f000001/", "malformed"),
            ("https://0177.0.0.1/", "malformed"),
            ("https://127.1/", "malformed"),
            ("https://[::1]/w/api.php", "malformed"),
            ("https://[::ffff:127.0.0.1]:443/", "malformed"),
            ("https://en.wikipedia.org%2eevil.test", "malformed"),
            ("https://en%2Ewikipedia.org", "malformed"),
            ("https://evil.test\\@en.wikipedia.org", "malformed"),
            ("https://evil.test\\.en.wikipedia.org", "malformed"),
            ("https://en.wikipedia.org\\evil.test", "malformed"),
            ("https://", "malformed"),
            ("https:///w/api.php", "malformed"),
            ("https://:443/", "malformed"),
            ("https://en.wikipedia.org/w/api.php#x", "malformed"),
            ("https://en.wikipedia.org /w/api.php", "malformed"),
            ("https://en.wikipedia.org\t", "malformed"),
            ("https://en.wikipedia.org\r\nHost: evil.test", "malformed"),
            ("https://en.wikipedia.org/\u{0}", "malformed"),
            ("https://en.wikipédia.org", "malformed"),
            ("https://xn--en-.wikipedia.org", "malformed"),
            ("https://-en.wikipedia.org", "malformed"),
            ("https://en_x.wikipedia.org", "malformed"),
            ("https://en..wikipedia.org", "malformed"),
            ("https://.wikipedia.org", "malformed"),
        ];
        for (url, reason) in table {
            match d.check(url) {
                Ok(u) => panic!("{url:?} was allowed as {u}"),
                Err(e) => assert_eq!(e.reason(), *reason, "{url:?}: {e}"),
            }
        }
    }

    #[test]
    fn patterns_allow_exactly_their_host_or_one_label_more() {
        let h = hosts("wiki.example.org, *.farm.example:8443, 127.0.0.1:9000");
        assert!(h.check("https://wiki.example.org/w/api.php").is_ok());
        assert!(h.check("https://x.wiki.example.org").is_err());
        assert!(h.check("https://example.org").is_err());
        assert!(h.check("https://en.farm.example:8443").is_ok());
        assert!(h.check("https://en.farm.example").is_err(), "port 443");
        assert!(h.check("https://farm.example:8443").is_err(), "no label");
        assert!(h.check("https://a.b.farm.example:8443").is_err());
        assert!(h.check("https://127.0.0.1:9000/").is_ok());
        assert!(h.check("https://127.0.0.1/").is_err());
        assert!(h.check("https://127.0.0.2:9000/").is_err());
        assert!(h.check("https://localhost:9000/").is_err());
        assert_eq!(
            h.to_string(),
            "wiki.example.org,*.farm.example:8443,127.0.0.1:9000"
        );
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "",
            " , ",
            "http://en.wikipedia.org",
            "https://en.wikipedia.org",
            "*.org",
            "*.127.0.0.1",
            "*",
            "*.*.wikipedia.org",
            "**.wikipedia.org",
            "en.*.org",
            "wikipedia.org:0",
            "wikipedia.org:",
            "wikipedia.org:http",
            "wikipedia.org.",
            "user@wikipedia.org",
            "wiki pedia.org",
            "[::1]:443",
            "2130706433",
            "wikipedia.org/w",
        ] {
            assert!(bad.parse::<WikiHosts>().is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn server_urls_have_no_path() {
        let d = WikiHosts::default();
        assert!(d.check_server("https://en.wikipedia.org").is_ok());
        assert!(d.check_server("https://en.wikipedia.org/").is_ok());
        for bad in [
            "https://en.wikipedia.org/evil",
            "https://en.wikipedia.org?x",
            "https://en.wikipedia.org/w/api.php",
        ] {
            assert_eq!(
                d.check_server(bad).map_err(|e| e.reason()),
                Err("malformed"),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_quote_the_host_shortly() {
        let long = format!("https://{}.test/", "a".repeat(60) + "." + &"b".repeat(60));
        let e = WikiHosts::default().check(&long).expect_err("refused");
        assert!(e.to_string().chars().count() < 160, "{e}");
        assert_eq!(
            WikiHosts::default()
                .check("https://evil.test:8443/x")
                .expect_err("refused")
                .to_string(),
            "evil.test:8443 is not on the wiki allow-list"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the text, an allowed URL is https on a listed
            /// host, and its normal form passes the check again unchanged.
            #[test]
            fn allowed_urls_are_https_on_a_listed_host(url in "(https?|HTTPS)://[a-zA-Z0-9.:@%\\\\/?#\\[\\] -]{0,40}") {
                let d = WikiHosts::default();
                if let Ok(u) = d.check(&url) {
                    let text = u.to_string();
                    prop_assert!(text.starts_with("https://"));
                    prop_assert!(!u.authority().contains('@'));
                    let host = u.host();
                    prop_assert!(WIKIMEDIA_DOMAINS.iter().any(|d| host == *d
                        || host.strip_suffix(d).and_then(|f| f.strip_suffix('.')).is_some_and(|l| !l.contains('.'))));
                    prop_assert_eq!(d.check(&text), Ok(u));
                }
            }

            /// URLs built from pieces, allowed exactly when an
            /// independent reading of the pieces says so.
            #[test]
            fn urls_from_pieces_are_allowed_exactly_when_they_should_be(
                scheme in prop::sample::select(vec!["https", "HTTPS", "http", "ftp"]),
                userinfo in prop::sample::select(vec!["", "en.wikipedia.org@", "a:b@"]),
                labels in prop::collection::vec(
                    prop::sample::select(vec!["en", "WWW", "wikipedia", "wikidata", "org", "evil", "test"]),
                    1..5,
                ),
                port in prop::sample::select(vec!["", ":443", ":8443", ":"]),
                path in prop::sample::select(vec!["", "/", "/w/api.php", "/evil.test", "?q=en.wikipedia.org"]),
            ) {
                let host = labels.join(".");
                let url = format!("{scheme}://{userinfo}{host}{port}{path}");
                let lower: Vec<String> = labels.iter().map(|l| l.to_ascii_lowercase()).collect();
                let project = |l: &[String]| {
                    l.len() == 2 && ["wikipedia", "wikidata"].contains(&l[0].as_str()) && l[1] == "org"
                };
                let listed = project(&lower) || (lower.len() == 3 && project(&lower[1..]));
                let want = scheme.eq_ignore_ascii_case("https")
                    && userinfo.is_empty()
                    && (port.is_empty() || port == ":443")
                    && listed;
                let got = WikiHosts::default().check(&url);
                prop_assert_eq!(got.is_ok(), want, "{} → {:?}", url, got);
                if let Ok(u) = got {
                    prop_assert_eq!(u.host(), lower.join("."));
                }
            }

            /// Anything written after a listed host's URL (user info,
            /// another host, a port) is never taken as a listed host.
            #[test]
            fn text_around_a_listed_host_never_smuggles_another(
                before in "[a-z0-9.@:%\\\\-]{0,12}",
                after in "[a-z0-9.@:%\\\\-]{1,12}",
            ) {
                let d = WikiHosts::default();
                let url = format!("https://{before}en.wikipedia.org{after}/w/api.php");
                if let Ok(u) = d.check(&url) {
                    // Allowed only when the whole authority is one listed
                    // host on 443, as written (lowercased).
                    let written = format!("{before}en.wikipedia.org{after}");
                    let written = written.strip_suffix(":443").unwrap_or(&written);
                    prop_assert_eq!(u.authority(), written.to_owned());
                    prop_assert_eq!(u.port(), 443);
                }
            }
        }
    }
}

//! Stream names and subjects, built in one place.
//!
//! | stream | subjects |
//! |---|---|
//! | `RC` | `rc.<wiki>.<kind>` |
//! | `WORK` | `wf.<workflow>.<wiki>` |
//! | `ACTIVITY` | `act.<wiki>.<item>` |
//!
//! Every token comes from a validated id, so no subject can gain a token
//! or a wildcard from feed data.

use crate::feed::Kind;
use crate::ids::{ItemId, WikiId};

/// The stream of every feed event.
pub const RC_STREAM: &str = "RC";
/// The stream of items entering workflows.
pub const WORK_STREAM: &str = "WORK";
/// The stream of what people and the wiki do to items.
pub const ACTIVITY_STREAM: &str = "ACTIVITY";

/// Filter of every `RC` subject.
pub const RC_ALL: &str = "rc.>";
/// Filter of every `WORK` subject.
pub const WORK_ALL: &str = "wf.>";
/// Filter of every `ACTIVITY` subject.
pub const ACTIVITY_ALL: &str = "act.>";

/// Oldest nats-server that works: 2.9 answers the KV API in a shape
/// async-nats no longer understands.
pub const MIN_NATS_SERVER: (u32, u32) = (2, 10);

/// Parses a server version, `major.minor.patch` with an optional `v` and suffix.
pub fn parse_server_version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

/// Whether a nats-server of this version is recent enough.
pub fn server_supported(version: &str) -> bool {
    parse_server_version(version).is_some_and(|(major, minor, _)| (major, minor) >= MIN_NATS_SERVER)
}

/// The servers of a NATS URL setting: one URL, or several separated by
/// commas (the nodes of a cluster, so that a client can fail over), with
/// blanks trimmed and empty entries dropped.
pub fn nats_servers(urls: &str) -> Vec<&str> {
    urls.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect()
}

/// The user name and password in a NATS URL setting
/// (`nats://user:password@host:4222`), from the first URL that carries
/// them, percent-decoded. The NATS client sends credentials only when they
/// are given as options, so the services read them from the URL here.
pub fn nats_credentials(urls: &str) -> Option<(String, String)> {
    nats_servers(urls).into_iter().find_map(|url| {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let (userinfo, _host) = authority.rsplit_once('@')?;
        let (user, password) = userinfo.split_once(':')?;
        Some((percent_decode(user)?, percent_decode(password)?))
    })
}

/// A NATS URL setting fit for logs and errors: each URL's password
/// replaced by `***`.
pub fn nats_urls_redacted(urls: &str) -> String {
    nats_servers(urls)
        .into_iter()
        .map(|url| {
            let (scheme, rest) = url.split_once("://").map_or(("", url), |(s, r)| (s, r));
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let Some(at) = rest[..end].rfind('@') else {
                return url.to_owned();
            };
            let user = rest[..at].split_once(':').map_or(&rest[..at], |(u, _)| u);
            let sep = if scheme.is_empty() { "" } else { "://" };
            format!("{scheme}{sep}{user}:***{}", &rest[at..])
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `%XX` escapes to bytes; `None` when an escape is broken or the result
/// is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// `rc.<wiki>.<kind>`.
pub fn rc(wiki: &WikiId, kind: Kind) -> String {
    format!("rc.{wiki}.{}", kind.as_str())
}

/// `wf.<workflow>.<wiki>`; `workflow` must be a validated workflow name.
pub fn work(workflow: &str, wiki: &WikiId) -> String {
    format!("wf.{workflow}.{wiki}")
}

/// `act.<wiki>.<item>`.
pub fn activity(wiki: &WikiId, item: &ItemId) -> String {
    format!("act.{wiki}.{item}")
}

/// The subject of a workflow room's activity (`act.room.<workflow>`);
/// no wiki is called `room`.
pub fn room(workflow: &str) -> String {
    format!("act.room.{workflow}")
}

/// Moderation that belongs to no item (mutes, reports, notes):
/// `act.mod.<kind>`; no wiki is called `mod`.
pub fn moderation(kind: &str) -> String {
    format!("act.mod.{kind}")
}

/// Every moderation subject.
pub const MODERATION_ALL: &str = "act.mod.>";

/// A person's own activity that belongs to no item (follows, read
/// marks): `act.me.<kind>`; no wiki is called `me`.
pub fn personal(kind: &str) -> String {
    format!("act.me.{kind}")
}

/// Every personal subject.
pub const PERSONAL_ALL: &str = "act.me.>";

/// The stream of private conversations, kept apart from `ACTIVITY` so
/// that its own retention (`max_age`) forgets them.
pub const CONVERSATIONS_STREAM: &str = "CONVERSATIONS";

/// Every conversation subject.
pub const CONVERSATIONS_ALL: &str = "dm.>";

/// The subject of a private conversation: `dm.<id>`.
pub fn conversation(id: &str) -> String {
    format!("dm.{id}")
}

/// Core NATS (not stored): who is looking at items, `live.presence.<item>`.
pub const PRESENCE_ALL: &str = "live.presence.>";

/// The presence subject of an item.
pub fn presence(item: &ItemId) -> String {
    format!("live.presence.{item}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recentchange::RcType;

    #[test]
    fn nats_url_lists_split_on_commas() {
        assert_eq!(nats_servers("nats://a:4222"), vec!["nats://a:4222"]);
        assert_eq!(
            nats_servers(" nats://a:1, nats://b:2 ,,nats://c:3,"),
            vec!["nats://a:1", "nats://b:2", "nats://c:3"]
        );
        assert!(nats_servers(" , ").is_empty());
    }

    #[test]
    fn nats_credentials_come_from_the_first_url_that_has_them() {
        assert_eq!(nats_credentials("nats://a:4222"), None);
        assert_eq!(
            nats_credentials("nats://a:1,nats://service:pc%40x%2Fy@b:2/path,nats://o:p@c:3"),
            Some(("service".to_owned(), "pc@x/y".to_owned()))
        );
        // A user without a password, a broken escape: no credentials.
        assert_eq!(nats_credentials("nats://token@a:1"), None);
        assert_eq!(nats_credentials("nats://u:p%4@a:1"), None);
        // An `@` in the path is not userinfo.
        assert_eq!(nats_credentials("nats://a:1/x@y"), None);
    }

    #[test]
    fn redacted_nats_urls_keep_the_user_and_hide_the_password() {
        assert_eq!(
            nats_urls_redacted("nats://service:s3cret@a:1, nats://b:2,c:3/x@y"),
            "nats://service:***@a:1,nats://b:2,c:3/x@y"
        );
        assert!(!nats_urls_redacted("nats://u:p%40ss@h:4222").contains("ss"));
    }

    #[test]
    fn server_versions_parse_and_2_9_is_too_old() {
        assert_eq!(parse_server_version("2.9.10"), Some((2, 9, 10)));
        assert_eq!(parse_server_version("v2.15.1"), Some((2, 15, 1)));
        assert_eq!(parse_server_version("2.11.0-RC.1"), Some((2, 11, 0)));
        assert_eq!(parse_server_version("garbage"), None);
        assert!(!server_supported("2.9.10"));
        assert!(server_supported("2.10.0"));
        assert!(server_supported("3.0.0"));
    }

    #[test]
    fn subjects_follow_the_contract() {
        let wiki = WikiId::parse("enwiki").expect("valid");
        let item = ItemId::for_recent_change(&wiki, 42);
        assert_eq!(rc(&wiki, Kind::Rc(RcType::Edit)), "rc.enwiki.edit");
        assert_eq!(rc(&wiki, Kind::Revision), "rc.enwiki.revision");
        assert_eq!(work("patrol", &wiki), "wf.patrol.enwiki");
        assert_eq!(activity(&wiki, &item), "act.enwiki.enwiki-42");
    }
}

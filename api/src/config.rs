//! Settings of the api: flags, then environment.

use std::path::PathBuf;

use patrolchat_projection::visibility::WikiSet;

/// Settings of `patrolchat api`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiConfig {
    /// The address people reach the api at (`https://…` makes session
    /// cookies `Secure`); WebSocket upgrades must come from this origin.
    #[arg(
        long,
        env = "PATROLCHAT_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    /// More origins allowed to open the WebSocket (comma list).
    #[arg(long, env = "PATROLCHAT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (comma list of
    /// CIDR networks or addresses); none by default, when the limits kept
    /// per address count the connection's peer.
    #[arg(
        long,
        env = "PATROLCHAT_TRUSTED_PROXIES",
        default_value = "",
        value_parser = crate::proxies::TrustedProxies::parse
    )]
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// Enables `POST /auth/dev-login` (local use and tests only).
    #[arg(long, env = "PATROLCHAT_DEV_LOGIN", default_value = "0", value_parser = parse_flag)]
    pub dev_login: bool,
    /// Sign-in with the wiki.
    #[command(flatten)]
    pub oauth: OAuthConfig,
    /// Roles from groups and rights.
    #[command(flatten)]
    pub roles: RoleConfig,
    /// Each wiki's word on a person's standing there.
    #[command(flatten)]
    pub rights: RightsConfig,
    /// Rate limits and leases.
    #[command(flatten)]
    pub limits: LimitConfig,
    /// What one caller may hold open at once.
    #[command(flatten)]
    pub caps: crate::caps::CapConfig,
    /// The wiki's action API for a wiki; `{server}` is the item's server
    /// URL and `{wiki}` its database name. It must start with `{server}/`
    /// or `https://`; every URL it gives is called only when it is https
    /// on a host of the wiki allow-list (`PATROLCHAT_WIKI_HOSTS`).
    #[arg(
        long,
        env = "PATROLCHAT_WIKI_API",
        default_value = "{server}/w/api.php"
    )]
    pub wiki_api: String,
    /// More trust anchors for the wikis' TLS certificates (a PEM file of
    /// CA certificates, for a wiki farm with a private CA), on top of the
    /// webpki roots.
    #[arg(long, env = "PATROLCHAT_WIKI_CA_FILE")]
    pub wiki_ca_file: Option<PathBuf>,
    /// Seconds a session lasts.
    #[arg(long, env = "PATROLCHAT_SESSION_TTL", default_value_t = 30 * 24 * 3600)]
    pub session_ttl_s: u64,
    /// How long a stream goes without a feed event before the feed is
    /// shown as disconnected (seconds).
    #[arg(long, env = "PATROLCHAT_FEED_STALE_AFTER", default_value_t = 60)]
    pub feed_stale_after_s: u64,
    /// Seconds presence lasts without a heartbeat.
    #[arg(long, env = "PATROLCHAT_PRESENCE_TTL", default_value_t = 30)]
    pub presence_ttl_s: u64,
    /// Frames a WebSocket may have waiting before it is dropped as too slow.
    #[arg(long, env = "PATROLCHAT_WS_QUEUE", default_value_t = 256)]
    pub ws_queue: usize,
    /// How long private conversations are kept, in days (fractions allowed,
    /// more than 0, at most 3650): the `CONVERSATIONS` stream's `max_age`,
    /// set again at every start, and what Redis keeps of them.
    #[arg(
        long,
        env = "PATROLCHAT_CONVERSATION_RETENTION_DAYS",
        default_value = "90",
        value_parser = parse_days
    )]
    pub conversation_retention: std::time::Duration,
    /// The directory of this node's full-text index (one per node; it is
    /// a projection of the streams, rebuilt from them when lost). Unset:
    /// `patrolchat-search` in the system's temporary directory, the one
    /// place a hardened service may always write; a deployment that wants
    /// the index to outlive a restart without re-reading the streams
    /// points it at a state directory.
    #[arg(long, env = "PATROLCHAT_SEARCH_DIR")]
    pub search_dir: Option<PathBuf>,
    /// The built dashboard (`npm run build` in `dashboard/`), served at `/`.
    #[arg(
        long,
        env = "PATROLCHAT_DASHBOARD_DIR",
        default_value = "dashboard/dist"
    )]
    pub dashboard_dir: PathBuf,
}

/// Where the api finds NATS, Redis and the workflows, and the wiki
/// allow-list; `patrolchat all` shares them with the router.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// NATS server with JetStream (2.10 or newer).
    pub nats_url: String,
    /// Redis holding projections, sessions and claims.
    pub redis_url: String,
    /// The workflows file.
    pub workflows: PathBuf,
    /// The communities file; reloaded on SIGHUP and when it changes.
    pub communities: PathBuf,
    /// How often the communities file is checked for changes.
    pub communities_poll: std::time::Duration,
    /// Replicas of `WORK` and `ACTIVITY` when the api creates them.
    pub replicas: usize,
    /// Seconds items without discussion are kept.
    pub retention: std::time::Duration,
    /// The wikis the api may call with a person's credentials (the
    /// router's `PATROLCHAT_WIKI_HOSTS`).
    pub wiki_hosts: patrolchat_model::wikis::WikiHosts,
    /// The central wiki's database name (`PATROLCHAT_CENTRAL_WIKI`).
    pub central_wiki: String,
}

/// MediaWiki OAuth 2.0 client settings.
#[derive(Debug, Clone, clap::Args)]
pub struct OAuthConfig {
    /// The wiki people sign in with; its endpoints are under
    /// `/w/rest.php/oauth2/`. An https URL of a host on the wiki
    /// allow-list (checked at start when a client id is set).
    #[arg(
        long,
        env = "PATROLCHAT_OAUTH_WIKI",
        default_value = "https://meta.wikimedia.org"
    )]
    pub oauth_wiki: String,
    /// The OAuth 2.0 client (consumer) key.
    #[arg(long, env = "PATROLCHAT_OAUTH_CLIENT_ID", default_value = "")]
    pub oauth_client_id: String,
    /// The OAuth 2.0 client secret.
    #[arg(
        long,
        env = "PATROLCHAT_OAUTH_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub oauth_client_secret: String,
}

/// How wiki groups and rights map to roles.
#[derive(Debug, Clone, clap::Args)]
pub struct RoleConfig {
    /// Rights that make a patroller.
    #[arg(
        long,
        env = "PATROLCHAT_PATROLLER_RIGHTS",
        value_delimiter = ',',
        default_value = "patrol,rollback"
    )]
    pub patroller_rights: Vec<String>,
    /// Groups that make a patroller.
    #[arg(
        long,
        env = "PATROLCHAT_PATROLLER_GROUPS",
        value_delimiter = ',',
        default_value = "rollbacker,patroller,reviewer"
    )]
    pub patroller_groups: Vec<String>,
    /// Groups that make an admin.
    #[arg(
        long,
        env = "PATROLCHAT_ADMIN_GROUPS",
        value_delimiter = ',',
        default_value = "sysop"
    )]
    pub admin_groups: Vec<String>,
}

/// The global groups as a deployment for the Wikimedia farm starts with:
/// stewards are admins everywhere; global sysops everywhere but the wikis
/// outside the global-sysop wiki set (those with their own large admin
/// corps); global rollbackers patrol everywhere.
pub const DEFAULT_GLOBAL_GROUPS: &str = "steward=admin@*;\
global-sysop=admin@*!enwiki!dewiki!frwiki!eswiki!itwiki!jawiki!ruwiki!plwiki!ptwiki!zhwiki!nlwiki!svwiki!fawiki!arwiki!hewiki!commonswiki!wikidatawiki!metawiki;\
global-rollbacker=patroller@*";

/// One global group: the role it gives, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalGroup {
    /// The group's name.
    pub group: String,
    /// Whether it gives the admin role (else the patroller role).
    pub admin: bool,
    /// The wikis it gives it on.
    pub wikis: WikiSet,
}

/// The global groups and where each applies, from
/// `PATROLCHAT_GLOBAL_GROUPS`: entries separated by `;`, each
/// `group=role@wikis`, `wikis` being `*` (every wiki), `*!a!b` (every
/// wiki but `a` and `b`) or `a,b` (those wikis).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlobalGroups(pub Vec<GlobalGroup>);

impl GlobalGroups {
    /// Parses the setting.
    ///
    /// # Errors
    /// What is wrong with which entry.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for entry in s.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = |why: &str| format!("global group {entry:?}: {why}");
            let (group, rest) = entry
                .split_once('=')
                .ok_or_else(|| bad("expected group=role@wikis"))?;
            let (role, wikis) = rest
                .split_once('@')
                .ok_or_else(|| bad("expected group=role@wikis"))?;
            let admin = match role.trim() {
                "admin" => true,
                "patroller" => false,
                other => return Err(bad(&format!("unknown role {other:?}"))),
            };
            let wikis = wikis.trim();
            let set = if let Some(except) = wikis.strip_prefix('*') {
                if !(except.is_empty() || except.starts_with('!')) {
                    return Err(bad("expected *, *!a!b or a,b"));
                }
                let except: Vec<&str> = except.split('!').filter(|w| !w.is_empty()).collect();
                if !except.iter().all(|w| valid_wiki(w)) {
                    return Err(bad("bad wiki name after *!"));
                }
                WikiSet::everywhere_but(except)
            } else {
                let named: Vec<&str> = wikis.split(',').map(str::trim).collect();
                if named.is_empty() || !named.iter().all(|w| valid_wiki(w)) {
                    return Err(bad("expected *, *!a!b or a,b"));
                }
                WikiSet::of(named)
            };
            let group = group.trim();
            if group.is_empty() {
                return Err(bad("empty group"));
            }
            out.push(GlobalGroup {
                group: group.to_owned(),
                admin,
                wikis: set,
            });
        }
        Ok(Self(out))
    }
}

fn valid_wiki(w: &str) -> bool {
    !w.is_empty()
        && w.len() <= 64
        && w.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// How a person's standing on each wiki is asked and kept.
#[derive(Debug, Clone, clap::Args)]
pub struct RightsConfig {
    /// Seconds a wiki's answer on a person's groups, rights and block is
    /// used before the wiki is asked again (on the next use, and before
    /// any privileged action).
    #[arg(long = "rights-refresh", env = "PATROLCHAT_RIGHTS_REFRESH", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub refresh_s: u64,
    /// Global groups (from the central wiki) and where each applies:
    /// `group=role@wikis` separated by `;`, `wikis` being `*`, `*!a!b`
    /// (every wiki but a and b) or `a,b`; role `admin` or `patroller`.
    #[arg(long, env = "PATROLCHAT_GLOBAL_GROUPS", default_value = DEFAULT_GLOBAL_GROUPS,
          value_parser = GlobalGroups::parse)]
    pub global_groups: GlobalGroups,
    /// The central wiki's database name (the router's
    /// `PATROLCHAT_CENTRAL_WIKI`, from [`Endpoints`]): the wiki people
    /// sign in with, whose groups the sign-in's profile gives.
    #[arg(skip = String::from("metawiki"))]
    pub central_wiki: String,
}

/// Rate limits, per person, bot token or (signed out) address.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitConfig {
    /// Messages per minute.
    #[arg(long, env = "PATROLCHAT_LIMIT_MESSAGES", default_value_t = 30)]
    pub messages_per_minute: u32,
    /// Claims (and renewals) per minute; as many resolves and escalations,
    /// counted apart.
    #[arg(long, env = "PATROLCHAT_LIMIT_CLAIMS", default_value_t = 120)]
    pub claims_per_minute: u32,
    /// People one message may mention.
    #[arg(long, env = "PATROLCHAT_MAX_MENTIONS", default_value_t = 5)]
    pub max_mentions: usize,
    /// Seconds a report is kept once filed.
    #[arg(long, env = "PATROLCHAT_REPORT_RETENTION", default_value_t = 365 * 24 * 3600)]
    pub report_retention_s: u64,
    /// Sign-in attempts per minute.
    #[arg(long, env = "PATROLCHAT_LIMIT_LOGINS", default_value_t = 10)]
    pub logins_per_minute: u32,
    /// Lease of a claim when none is asked for (seconds).
    #[arg(long, env = "PATROLCHAT_CLAIM_TTL", default_value_t = 300)]
    pub claim_ttl_s: u64,
    /// Longest lease (seconds).
    #[arg(long, env = "PATROLCHAT_CLAIM_MAX_TTL", default_value_t = 1800)]
    pub claim_max_ttl_s: u64,
}

/// A number of days (fractions allowed) as a duration: more than 0 and at
/// most ten years.
///
/// # Errors
/// The reason, for clap to print.
pub fn parse_days(s: &str) -> Result<std::time::Duration, String> {
    let days: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of days, got {s:?}"))?;
    if !(days > 0.0 && days <= 3650.0) {
        return Err(format!(
            "expected more than 0 and at most 3650 days, got {s:?}"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(days * 86_400.0))
}

fn parse_flag(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("expected 1 or 0, got {other:?}")),
    }
}

impl ApiConfig {
    /// Whether session cookies get `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The OAuth callback this api registers.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.public_url.trim_end_matches('/'))
    }

    /// Whether a WebSocket upgrade from `origin` is allowed.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        let public = self.public_url.trim_end_matches('/');
        origin == public
            || self
                .allowed_origins
                .iter()
                .any(|o| o.trim_end_matches('/') == origin)
    }
}

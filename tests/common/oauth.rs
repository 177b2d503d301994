//! Signing in through the MediaWiki stand-in as a browser would: the
//! api's `/auth/login`, the wiki's consent, the api's callback; what a
//! test needs to act with a person's own wiki grant.

use patrolchat_testkit::site::{Person, Site};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::wiki_standin::{Profile, WikiStandin, test_ca};

/// A client that follows no redirect and trusts the stand-in's test CA.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_built_in_root_certs(false)
        .add_root_certificate(test_ca())
        .build()
        .expect("client")
}

/// A redirect's `Location`.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location")
        .to_owned()
}

/// The `name=value` of the cookie `name` a response sets.
pub fn cookie_named(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .expect("the cookie")
        .to_owned()
}

/// Signs `profile` in at the api of `site` through the stand-in (OAuth 2.0
/// with PKCE): the person, with their session token as a bearer token.
pub async fn sign_in(site: &Site, wiki: &WikiStandin, profile: Profile) -> Person {
    let name = profile.username.clone();
    wiki.set_profile(profile);
    let c = client();
    let res = c.get(site.url("/auth/login")).send().await.expect("login");
    assert_eq!(res.status(), 302);
    let browser = cookie_named(&res, "patrolchat_signin");
    let res = c.get(location(&res)).send().await.expect("the wiki");
    assert_eq!(res.status(), 302, "the stand-in consents");
    let res = c
        .get(location(&res))
        .header(COOKIE, browser)
        .send()
        .await
        .expect("callback");
    assert_eq!(res.status(), 302, "signed in");
    let session = cookie_named(&res, "patrolchat_session");
    Person {
        name,
        token: session.trim_start_matches("patrolchat_session=").to_owned(),
        csrf: String::new(),
    }
}

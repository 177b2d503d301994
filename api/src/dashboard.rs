//! The dashboard: the built web app (`npm run build` in `dashboard/`),
//! served from `PATROLCHAT_DASHBOARD_DIR` (default `dashboard/dist`).
//!
//! - Files under the directory are served with their content type;
//!   hashed `/assets/*` are cached for a year (`immutable`), everything
//!   else (`index.html`, the manifest, icons) is revalidated (`no-cache`,
//!   with an `ETag`).
//! - The build writes a brotli (`.br`) and a gzip (`.gz`) copy beside each
//!   file that compresses (`dashboard/scripts/compress.mjs`). A request
//!   that accepts one gets it (`br` first at equal quality), with
//!   `Content-Encoding` and the original file's type; a missing copy falls
//!   back to the next accepted one, then to the file itself. Every file
//!   answer says `Vary: Accept-Encoding`.
//! - Any other `GET` or `HEAD` path that is not under `/api`, `/auth` or
//!   `/metrics` answers `index.html`: the app's own routes
//!   (`/queue/patrol/item/…`).
//! - A path is decoded once and must be made of plain segments: `..`,
//!   `.`, hidden names, backslashes and control characters are refused,
//!   and the file found must still lie under the directory once symbolic
//!   links are resolved.
//! - Without a built dashboard, `/` answers a JSON 404 saying how to
//!   build it.
//!
//! The api's `guard` middleware adds the Content-Security-Policy and the
//! other security headers to these answers as to every other.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Cache header of content-hashed files.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache header of everything else.
const REVALIDATE: &str = "no-cache";
/// The folder of content-hashed files.
const ASSETS: &str = "assets";
/// The longest path looked at.
const MAX_PATH: usize = 1024;

/// The router's fallback: the dashboard for browser paths, a JSON 404
/// for everything else.
pub async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    respond(&state.cfg.dashboard_dir, &method, uri.path(), &headers).await
}

/// Answers `method path` from the dashboard in `dir`.
pub async fn respond(dir: &Path, method: &Method, path: &str, headers: &HeaderMap) -> Response {
    if (method != Method::GET && method != Method::HEAD) || is_server_path(path) {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    let Some(segments) = segments(path) else {
        return ApiError::NotFound("no such file".into()).into_response();
    };
    let Ok(root) = tokio::fs::canonicalize(dir).await else {
        return not_built(dir);
    };
    let index = root.join("index.html");
    if !tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file()) {
        return not_built(dir);
    }
    if !segments.is_empty() {
        let mut wanted = root.clone();
        wanted.extend(&segments);
        if let Some(file) = existing_file_under(&root, &wanted).await {
            let immutable = segments.len() > 1 && segments[0] == ASSETS;
            return file_response(&root, &file, immutable, headers).await;
        }
        if segments[0] == ASSETS {
            // A hashed file that is not there: an old page asking for the
            // build before this one. index.html would only confuse it.
            return ApiError::NotFound("no such file".into()).into_response();
        }
    }
    file_response(&root, &index, false, headers).await
}

/// A content coding of the precompressed copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// Its name in `Accept-Encoding` and `Content-Encoding`.
    fn token(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }

    /// The extension of its copy (`index.html.br`).
    fn suffix(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gz",
        }
    }
}

/// The codings the request accepts, best first: by quality, `br` before
/// `gzip` when equal; none with `q=0`. A `*` stands for each coding the
/// header does not name.
fn accepted_encodings(headers: &HeaderMap) -> Vec<Encoding> {
    let (mut br, mut gzip, mut any) = (None, None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
                })
                .next()
                .map_or(1.0, |v| v.parse::<f32>().unwrap_or(0.0));
            match coding.as_str() {
                "br" => br = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
    }
    let mut out: Vec<(Encoding, f32)> = [(Encoding::Brotli, br), (Encoding::Gzip, gzip)]
        .into_iter()
        .filter_map(|(e, q)| q.or(any).filter(|q| *q > 0.0).map(|q| (e, q)))
        .collect();
    // Stable: br stays first at equal quality.
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.into_iter().map(|(e, _)| e).collect()
}

/// The copy of `file` to send for `headers`: the first accepted coding
/// whose copy exists under `root`, else the file itself.
async fn pick_encoding(
    root: &Path,
    file: &Path,
    headers: &HeaderMap,
) -> (PathBuf, Option<Encoding>) {
    for enc in accepted_encodings(headers) {
        let mut name = file.as_os_str().to_owned();
        name.push(".");
        name.push(enc.suffix());
        if let Some(copy) = existing_file_under(root, Path::new(&name)).await {
            return (copy, Some(enc));
        }
    }
    (file.to_owned(), None)
}

/// Paths of the api's own kind, never the dashboard: unknown ones stay
/// JSON 404s. (`/metrics` is served on the metrics address only; here it
/// is a 404 like any route the api does not have.)
fn is_server_path(path: &str) -> bool {
    ["/api", "/auth", "/metrics"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
        || matches!(path, "/healthz" | "/readyz")
}

/// The decoded segments of a request path, or `None` when one of them
/// could step outside the directory or name something hidden.
fn segments(path: &str) -> Option<Vec<String>> {
    if path.len() > MAX_PATH || !path.starts_with('/') {
        return None;
    }
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let s = percent_decode(raw)?;
        let bad = s.is_empty()
            || s.starts_with('.')
            || s.contains(['/', '\\', ':'])
            || s.chars().any(char::is_control);
        if bad {
            return None;
        }
        out.push(s);
    }
    Some(out)
}

/// Decodes `%XX` escapes once; `None` for a bad escape or bad UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `wanted` when it is a regular file that, with symbolic links resolved,
/// still lies under `root` (itself canonical).
async fn existing_file_under(root: &Path, wanted: &Path) -> Option<PathBuf> {
    let real = tokio::fs::canonicalize(wanted).await.ok()?;
    if !real.starts_with(root) {
        return None;
    }
    tokio::fs::metadata(&real)
        .await
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|_| real)
}

fn not_built(dir: &Path) -> Response {
    ApiError::NotFound(format!(
        "the dashboard is not built: run `npm ci && npm run build` in dashboard/ \
         (looked in {}; set PATROLCHAT_DASHBOARD_DIR to serve another folder)",
        dir.display()
    ))
    .into_response()
}

/// The content type of a file, from its extension.
fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Answers with `path` (or its precompressed copy the request accepts),
/// typed as `path`.
async fn file_response(root: &Path, path: &Path, immutable: bool, headers: &HeaderMap) -> Response {
    let (body_path, encoding) = pick_encoding(root, path, headers).await;
    let Ok(meta) = tokio::fs::metadata(&body_path).await else {
        return ApiError::NotFound("no such file".into()).into_response();
    };
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = match encoding {
        Some(enc) => format!("\"{:x}-{:x}-{}\"", meta.len(), modified, enc.suffix()),
        None => format!("\"{:x}-{:x}\"", meta.len(), modified),
    };
    let cache = if immutable { IMMUTABLE } else { REVALIDATE };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match tokio::fs::read(&body_path).await {
            Ok(bytes) => (
                [(header::CONTENT_TYPE, content_type(path))],
                Body::from(bytes),
            )
                .into_response(),
            Err(_) => return ApiError::NotFound("no such file".into()).into_response(),
        }
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(enc) = encoding {
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(enc.token()),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A dashboard folder with an index, an asset and a manifest, beside a
    /// secret that must never be served.
    struct Fixture {
        base: PathBuf,
        dist: PathBuf,
    }

    impl Fixture {
        fn new(name: &str) -> Self {
            let base = std::env::temp_dir().join(format!(
                "patrolchat-dashboard-{name}-{}-{}",
                std::process::id(),
                crate::now_ms()
            ));
            let dist = base.join("dist");
            std::fs::create_dir_all(dist.join("assets")).expect("mkdir");
            std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title>")
                .expect("index");
            std::fs::write(dist.join("assets/index-abc123.js"), "console.log(1)").expect("js");
            std::fs::write(dist.join("assets/index-abc123.css"), "body{}").expect("css");
            std::fs::write(dist.join("manifest.webmanifest"), "{}").expect("manifest");
            // Precompressed copies as the build writes them (the contents
            // are markers: the api sends the bytes as they are). The CSS
            // has a gzip copy only, the manifest none.
            for (file, body) in [
                ("assets/index-abc123.js.br", "BR-JS"),
                ("assets/index-abc123.js.gz", "GZ-JS"),
                ("assets/index-abc123.css.gz", "GZ-CSS"),
                ("index.html.br", "BR-INDEX"),
                ("index.html.gz", "GZ-INDEX"),
            ] {
                std::fs::write(dist.join(file), body).expect("compressed copy");
            }
            std::fs::write(dist.join(".hidden"), "hidden").expect("hidden");
            std::fs::write(base.join("secret.txt"), "SECRET").expect("secret");
            Self { base, dist }
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }

    async fn get(dir: &Path, path: &str) -> (StatusCode, HeaderMap, String) {
        get_with(dir, path, None).await
    }

    /// `GET path` with `Accept-Encoding: accept` when given.
    async fn get_with(
        dir: &Path,
        path: &str,
        accept: Option<&str>,
    ) -> (StatusCode, HeaderMap, String) {
        let mut req = HeaderMap::new();
        if let Some(a) = accept {
            req.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(a).expect("header"),
            );
        }
        let res = respond(dir, &Method::GET, path, &req).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    fn header_of(h: &HeaderMap, name: header::HeaderName) -> String {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[tokio::test]
    async fn serves_files_with_types_and_cache_headers() {
        let f = Fixture::new("files");
        let (s, h, body) = get(&f.dist, "/").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("<title>app</title>"));
        assert_eq!(
            header_of(&h, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-cache");

        let (s, h, body) = get(&f.dist, "/assets/index-abc123.js").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body, "console.log(1)");
        assert_eq!(
            header_of(&h, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header_of(&h, header::CACHE_CONTROL), IMMUTABLE);

        let (_, h, _) = get(&f.dist, "/assets/index-abc123.css").await;
        assert_eq!(
            header_of(&h, header::CONTENT_TYPE),
            "text/css; charset=utf-8"
        );
        let (_, h, _) = get(&f.dist, "/manifest.webmanifest").await;
        assert_eq!(
            header_of(&h, header::CONTENT_TYPE),
            "application/manifest+json"
        );
        assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-cache");
    }

    #[tokio::test]
    async fn unknown_browser_paths_answer_the_app() {
        let f = Fixture::new("spa");
        for path in [
            "/queue/patrol",
            "/queue/patrol/item/enwiki-1/thread",
            "/admin",
            "/item/enwiki-1",
            "/favicon.ico",
        ] {
            let (s, h, body) = get(&f.dist, path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert!(body.contains("<title>app</title>"), "{path}");
            assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-cache", "{path}");
        }
    }

    #[tokio::test]
    async fn api_paths_methods_and_missing_assets_stay_json_404s() {
        let f = Fixture::new("api");
        for path in [
            "/api",
            "/api/v1/nope",
            "/auth/nope",
            "/auth",
            "/assets/index-old.js",
        ] {
            let (s, h, body) = get(&f.dist, path).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
            assert!(header_of(&h, header::CONTENT_TYPE).starts_with("application/json"));
            assert!(body.contains("not_found"), "{path}: {body}");
        }
        let res = respond(&f.dist, &Method::POST, "/queue/patrol", &HeaderMap::new()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = respond(&f.dist, &Method::HEAD, "/", &HeaderMap::new()).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn traversal_is_impossible() {
        let f = Fixture::new("traversal");
        for path in [
            "/../secret.txt",
            "/assets/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2Fsecret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "/..%5csecret.txt",
            "/assets/%2e%2e/%2e%2e/secret.txt",
            "/.hidden",
            "/%2ehidden",
            "/./index.html",
            "/%00",
            "/C:%5cWindows",
            "/%zz",
            "/%c0%ae%c0%ae/secret.txt",
        ] {
            let (s, _, body) = get(&f.dist, path).await;
            assert!(!body.contains("SECRET"), "{path} leaked the secret");
            assert!(!body.contains("hidden"), "{path} served a hidden file");
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn symbolic_links_out_of_the_folder_are_not_followed() {
        let f = Fixture::new("symlink");
        std::os::unix::fs::symlink(f.base.join("secret.txt"), f.dist.join("leak.txt"))
            .expect("symlink");
        let (s, _, body) = get(&f.dist, "/leak.txt").await;
        assert!(!body.contains("SECRET"));
        // Not a file of the dashboard: the app answers, as for any path.
        assert_eq!(s, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_missing_build_says_how_to_build() {
        let missing = std::env::temp_dir().join("patrolchat-dashboard-never-built");
        let (s, h, body) = get(&missing, "/").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(header_of(&h, header::CONTENT_TYPE).starts_with("application/json"));
        assert!(body.contains("npm run build"), "{body}");
    }

    #[tokio::test]
    async fn etags_answer_not_modified() {
        let f = Fixture::new("etag");
        let (_, h, _) = get(&f.dist, "/").await;
        let etag = header_of(&h, header::ETAG);
        assert!(!etag.is_empty());
        let mut req = HeaderMap::new();
        req.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&etag).expect("etag"),
        );
        let res = respond(&f.dist, &Method::GET, "/", &req).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    }

    #[tokio::test]
    async fn brotli_is_sent_when_accepted_with_the_original_type() {
        let f = Fixture::new("br");
        for accept in ["gzip, deflate, br, zstd", "br", "BR;q=1.0, gzip;q=1.0", "*"] {
            let (s, h, body) = get_with(&f.dist, "/assets/index-abc123.js", Some(accept)).await;
            assert_eq!(s, StatusCode::OK, "{accept}");
            assert_eq!(body, "BR-JS", "{accept}");
            assert_eq!(header_of(&h, header::CONTENT_ENCODING), "br", "{accept}");
            assert_eq!(
                header_of(&h, header::CONTENT_TYPE),
                "text/javascript; charset=utf-8",
                "{accept}"
            );
            assert_eq!(header_of(&h, header::VARY), "Accept-Encoding", "{accept}");
            assert_eq!(header_of(&h, header::CACHE_CONTROL), IMMUTABLE, "{accept}");
        }
    }

    #[tokio::test]
    async fn gzip_is_sent_when_only_gzip_is_accepted() {
        let f = Fixture::new("gzip");
        for accept in [
            "gzip",
            "gzip, deflate",
            "x-gzip",
            "br;q=0, gzip",
            "gzip;q=1, br;q=0.5",
            "br;q=0, *",
        ] {
            let (s, h, body) = get_with(&f.dist, "/assets/index-abc123.js", Some(accept)).await;
            assert_eq!(s, StatusCode::OK, "{accept}");
            assert_eq!(body, "GZ-JS", "{accept}");
            assert_eq!(header_of(&h, header::CONTENT_ENCODING), "gzip", "{accept}");
            assert_eq!(
                header_of(&h, header::CONTENT_TYPE),
                "text/javascript; charset=utf-8",
                "{accept}"
            );
            assert_eq!(header_of(&h, header::VARY), "Accept-Encoding", "{accept}");
        }
    }

    #[tokio::test]
    async fn the_file_itself_is_sent_otherwise() {
        let f = Fixture::new("identity");
        for accept in [
            None,
            Some("identity"),
            Some("deflate"),
            Some("br;q=0, gzip;q=0"),
            Some("*;q=0"),
            Some("gzip;q=abc"),
        ] {
            let (s, h, body) = get_with(&f.dist, "/assets/index-abc123.js", accept).await;
            assert_eq!(s, StatusCode::OK, "{accept:?}");
            assert_eq!(body, "console.log(1)", "{accept:?}");
            assert!(h.get(header::CONTENT_ENCODING).is_none(), "{accept:?}");
            assert_eq!(header_of(&h, header::VARY), "Accept-Encoding", "{accept:?}");
        }
    }

    #[tokio::test]
    async fn the_app_fallback_is_compressed_too() {
        let f = Fixture::new("fallback");
        for path in ["/", "/queue/patrol/item/enwiki-1", "/admin"] {
            let (s, h, body) = get_with(&f.dist, path, Some("gzip, deflate, br")).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert_eq!(body, "BR-INDEX", "{path}");
            assert_eq!(header_of(&h, header::CONTENT_ENCODING), "br", "{path}");
            assert_eq!(
                header_of(&h, header::CONTENT_TYPE),
                "text/html; charset=utf-8",
                "{path}"
            );
            assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-cache", "{path}");
            assert_eq!(header_of(&h, header::VARY), "Accept-Encoding", "{path}");
            let (_, h, body) = get_with(&f.dist, path, Some("gzip")).await;
            assert_eq!(body, "GZ-INDEX", "{path}");
            assert_eq!(header_of(&h, header::CONTENT_ENCODING), "gzip", "{path}");
        }
        // Missing assets and api paths stay JSON 404s, whatever is accepted.
        for path in ["/assets/index-old.js", "/api/v1/nope"] {
            let (s, h, _) = get_with(&f.dist, path, Some("br, gzip")).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
            assert!(header_of(&h, header::CONTENT_TYPE).starts_with("application/json"));
            assert!(h.get(header::CONTENT_ENCODING).is_none(), "{path}");
        }
    }

    #[tokio::test]
    async fn a_missing_copy_falls_back_to_the_next_coding_then_the_file() {
        let f = Fixture::new("missing");
        let (_, h, body) = get_with(&f.dist, "/assets/index-abc123.css", Some("br, gzip")).await;
        assert_eq!(body, "GZ-CSS");
        assert_eq!(header_of(&h, header::CONTENT_ENCODING), "gzip");
        assert_eq!(
            header_of(&h, header::CONTENT_TYPE),
            "text/css; charset=utf-8"
        );
        let (_, h, body) = get_with(&f.dist, "/assets/index-abc123.css", Some("br")).await;
        assert_eq!(body, "body{}");
        assert!(h.get(header::CONTENT_ENCODING).is_none());
        let (_, h, body) = get_with(&f.dist, "/manifest.webmanifest", Some("br, gzip")).await;
        assert_eq!(body, "{}");
        assert!(h.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(
            header_of(&h, header::CONTENT_TYPE),
            "application/manifest+json"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_copy_linked_out_of_the_folder_is_not_sent() {
        let f = Fixture::new("copy-symlink");
        std::fs::write(f.dist.join("manifest.webmanifest.gz"), "GZ-MANIFEST").expect("gz");
        std::os::unix::fs::symlink(
            f.base.join("secret.txt"),
            f.dist.join("manifest.webmanifest.br"),
        )
        .expect("symlink");
        let (_, h, body) = get_with(&f.dist, "/manifest.webmanifest", Some("br, gzip")).await;
        assert!(!body.contains("SECRET"));
        assert_eq!(body, "GZ-MANIFEST");
        assert_eq!(header_of(&h, header::CONTENT_ENCODING), "gzip");
    }

    #[tokio::test]
    async fn each_coding_has_its_own_etag() {
        let f = Fixture::new("etag-coding");
        let path = "/assets/index-abc123.js";
        let mut tags = Vec::new();
        for accept in ["br", "gzip", "identity"] {
            let (_, h, _) = get_with(&f.dist, path, Some(accept)).await;
            tags.push(header_of(&h, header::ETAG));
        }
        assert!(tags.iter().all(|t| !t.is_empty()));
        assert_ne!(tags[0], tags[1]);
        assert_ne!(tags[0], tags[2]);
        assert_ne!(tags[1], tags[2]);
        let mut req = HeaderMap::new();
        req.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
        req.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&tags[0]).expect("etag"),
        );
        let res = respond(&f.dist, &Method::GET, path, &req).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header_of(res.headers(), header::VARY), "Accept-Encoding");
        // The brotli tag does not validate the gzip copy.
        req.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let res = respond(&f.dist, &Method::GET, path, &req).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

//! The metrics listener: a Prometheus registry served at `/metrics` on
//! its own address (`PATROLCHAT_METRICS_ADDR`), apart from any public
//! listener.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Renders a registry in the OpenMetrics text format.
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

/// The `/metrics` route over a registry.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let registry = Arc::clone(&registry);
            async move { ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], render(&registry)) }
        }),
    )
}

/// Serves `/metrics` on a bound listener until `shutdown` is cancelled.
///
/// # Errors
/// When serving fails.
pub async fn serve_on(
    listener: TcpListener,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "serving metrics");
    axum::serve(listener, router(registry))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Binds `addr` and serves `/metrics` there until `shutdown` is cancelled.
///
/// # Errors
/// When the address cannot be bound or serving fails.
pub async fn serve(
    addr: SocketAddr,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve_on(TcpListener::bind(addr).await?, registry, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    #[tokio::test]
    async fn the_listener_serves_the_registry() {
        let mut registry = Registry::default();
        let c = Counter::<u64>::default();
        registry.register("probe", "A probe", c.clone());
        c.inc();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let served = tokio::spawn(serve_on(listener, Arc::new(registry), shutdown.clone()));
        let body = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .expect("answers")
            .text()
            .await
            .expect("text");
        assert!(body.contains("probe_total 1"), "{body}");
        shutdown.cancel();
        served.await.expect("joins").expect("serves");
    }
}

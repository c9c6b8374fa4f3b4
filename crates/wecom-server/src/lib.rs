//! wecomd's HTTP side. Requests under `/cgi-bin/` are decoded into an [`Endpoint`] once, the
//! caller is established from the credential the endpoint needs, and the API area's module
//! answers; the control API (`/control/…`) is the emulator's own surface.
//!
//! [`Endpoint`]: wecom_model::Endpoint

mod api;
mod auth;
mod batch;
mod callback;
mod clock;
mod control;
mod directory;
mod fanout;
mod faults;
mod limits;
mod multipart;
mod reply;
mod router;
mod worker;

pub use clock::Clock;

use std::net::SocketAddr;
use std::sync::Arc;
use wecom_store::Store;

/// What the server is told at start-up.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Frequency and concurrency limits (45009, 45033).
    pub rate_limits: bool,
    /// Calls of one API by one corp that may be in progress at once before 45033.
    pub api_concurrency: u32,
    /// Length of WeCom tokens (legacy tokens are always 64).
    pub wecom_token_len: usize,
    /// The control API's bearer token.
    pub admin_token: String,
    /// Whether the control API demands the admin token (always when bound beyond loopback).
    pub require_admin_token: bool,
    /// What getcallbackip answers: the addresses callbacks come from.
    pub callback_ips: Vec<String>,
    /// What get_api_domain_ip answers: the addresses the API is served on.
    pub api_domain_ips: Vec<String>,
    /// PEM certificates trusted for outgoing https (callback URLs, upload_by_url), besides the
    /// public roots wecomd is built with.
    pub tls_ca_pem: Vec<u8>,
}

pub(crate) struct App {
    pub store: Store,
    pub clock: Arc<Clock>,
    /// The one client of wecomd's outgoing requests: URL verification, pushes, upload_by_url.
    pub http: reqwest::Client,
    /// This process, as delivery claims, job leases and the delivery log name it.
    pub instance: String,
    pub auth: auth::Auth,
    pub directories: directory::Directories,
    pub fanouts: worker::Switch,
    pub jobs: batch::Jobs,
    pub limits: limits::Limits,
    pub faults: faults::Faults,
    pub deliverer: callback::Deliverer,
    pub config: ServerConfig,
}

/// Serves until the listener fails. Clock offset and notices from other instances (PostgreSQL)
/// are picked up here, and the fan-out and batch job workers start with what a previous run left
/// pending.
pub async fn serve(store: Store, config: ServerConfig, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let clock = Arc::new(Clock::load(&store).await.map_err(std::io::Error::other)?);
    let app = Arc::new(App {
        http: outgoing_client(&config.tls_ca_pem).map_err(std::io::Error::other)?,
        instance: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()),
        limits: limits::Limits::new(config.rate_limits, config.api_concurrency),
        auth: auth::Auth::default(),
        directories: directory::Directories::default(),
        fanouts: worker::Switch::default(),
        jobs: batch::Jobs::default(),
        faults: faults::Faults::default(),
        deliverer: callback::Deliverer::new(),
        clock,
        store,
        config,
    });
    if let Some(mut notices) = app.store.listen().await.map_err(std::io::Error::other)? {
        let app = app.clone();
        tokio::spawn(async move {
            while let Some(notice) = notices.recv().await {
                control::on_notice(&app, &notice).await;
            }
        });
    }
    tokio::spawn(fanout::run(app.clone()));
    tokio::spawn(batch::run(app.clone()));
    callback::spawn(app.clone());
    spawn_media_sweep(app.clone());
    api::media::spawn_job_takeover(app.clone());
    let service = router::router(app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).await
}

/// Temporary media past their 3 days and uploads a crash left unfinished are removed at start and
/// every ten minutes after (any instance may do it; deleting twice is harmless).
fn spawn_media_sweep(app: Arc<App>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = app.store.sweep_media(app.clock.now()).await {
                tracing::warn!("media sweep: {e}");
            }
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        }
    });
}

/// rustls with the public (webpki) roots compiled in, so no system OpenSSL or certificate store
/// is needed, plus the certificates the configuration trusts (a test receiver's self-signed one).
fn outgoing_client(ca_pem: &[u8]) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder().pool_max_idle_per_host(64);
    if !ca_pem.is_empty() {
        let certs = reqwest::Certificate::from_pem_bundle(ca_pem).map_err(|e| format!("the trusted CA file: {e}"))?;
        if certs.is_empty() {
            return Err("the trusted CA file holds no PEM certificate".into());
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_trusted_ca_file_must_hold_certificates() {
        assert!(super::outgoing_client(b"").is_ok(), "no file: the public roots only");
        assert!(super::outgoing_client(b"not a certificate").unwrap_err().contains("CA file"));
    }
}

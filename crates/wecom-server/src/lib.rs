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
}

pub(crate) struct App {
    pub store: Store,
    pub clock: Clock,
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
    let clock = Clock::load(&store).await.map_err(std::io::Error::other)?;
    let app = Arc::new(App {
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

//! `wecomd`: open the store, create the demo corp on first start, apply a seed, serve.

mod config;

use clap::Parser;
use config::{Cli, Settings};
use std::process::ExitCode;
use wecom_model::credential::{new_admin_token, Scope};
use wecom_model::seed::Seed;
use wecom_server::{serve, ServerConfig};
use wecom_store::Store;

const DEMO: &str = include_str!("demo.toml");

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("WECOMD_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let settings = match cli.options.resolve() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wecomd: {e}");
            return ExitCode::from(2);
        }
    };
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wecomd: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(s: Settings) -> Result<(), String> {
    if let Some(dir) = &s.data_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("data directory {}: {e}", dir.display()))?;
    }
    let store = Store::open(&s.database).await.map_err(|e| e.to_string())?.with_fanout_batch(s.fanout_batch).with_batch_rows(s.batch_rows);
    let now = wecom_server::Clock::load(&store).await.map_err(|e| e.to_string())?.now();

    let (stored_token, first_start) = store.setting_or_insert("admin_token", &new_admin_token()).await.map_err(|e| e.to_string())?;
    let admin_token = s.admin_token.clone().unwrap_or(stored_token);
    let demo_created = first_start && s.demo;
    if demo_created {
        let seed = Seed::from_toml(DEMO).map_err(|e| format!("demo seed: {e}"))?;
        store.apply_seed(&seed, now).await.map_err(|e| format!("demo seed: {e}"))?;
    }
    if let Some(path) = &s.seed {
        let text = std::fs::read_to_string(path).map_err(|e| format!("seed {}: {e}", path.display()))?;
        let seed = Seed::from_toml(&text).map_err(|e| format!("seed {}: {e}", path.display()))?;
        store.apply_seed(&seed, now).await.map_err(|e| format!("seed {}: {e}", path.display()))?;
    }

    let listener = tokio::net::TcpListener::bind(s.listen).await.map_err(|e| format!("listen on {}: {e}", s.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let base = format!("http://{host}:{}", addr.port());
    let config = ServerConfig {
        rate_limits: s.rate_limits,
        api_concurrency: s.api_concurrency,
        wecom_token_len: s.token_length,
        require_admin_token: !addr.ip().is_loopback(),
        admin_token: admin_token.clone(),
        callback_ips: s.callback_ips.clone(),
        api_domain_ips: vec![host],
        tls_ca_pem: s.tls_ca_pem.clone(),
    };
    println!("wecomd {} listening on {base} ({} database)", env!("CARGO_PKG_VERSION"), store.backend().name());
    if first_start {
        println!("control API admin token: {admin_token}");
    }
    if demo_created {
        print_demo(&store, &base).await.map_err(|e| e.to_string())?;
    }
    serve(store, config, listener).await.map_err(|e| e.to_string())
}

/// The demo corp's credentials and snippets to paste.
async fn print_demo(store: &Store, base: &str) -> wecom_store::Result<()> {
    let seed = Seed::from_toml(DEMO).expect("demo seed parses");
    let corp = &seed.corp[0];
    let creds = store.credentials(&corp.corpid).await?;
    let secret = |scope: Scope| creds.iter().find(|c| c.scope == scope).map_or("?", |c| c.secret.as_str());
    println!("\nFirst start: created the demo corp {} ({}).", corp.name, corp.corpid);
    println!("  corpid                         {}", corp.corpid);
    for app in &corp.app {
        println!("  app {} {:<10} secret {}   (WeCom)", app.agentid, app.name, secret(Scope::App { agentid: app.agentid }));
    }
    println!("  contacts sync (通讯录同步)      secret {}   (WeCom)", secret(Scope::ContactSync));
    for g in &corp.group {
        println!("  管理组 {} {:<10}        secret {}   (legacy 企业号)", g.groupid, g.name, secret(Scope::Group { groupid: g.groupid }));
    }
    let app_secret = secret(Scope::App { agentid: 1000002 });
    println!("\ncurl:\n  curl '{base}/cgi-bin/gettoken?corpid={}&corpsecret={app_secret}'", corp.corpid);
    println!(
        "\nwechatpy 1.8.18:\n  from wechatpy.enterprise import WeChatClient\n  class LocalClient(WeChatClient):\n      API_BASE_URL = '{base}/cgi-bin/'\n      def fetch_access_token(self):\n          return self._fetch_access_token(url=self.API_BASE_URL + 'gettoken', params={{'corpid': self.corp_id, 'corpsecret': self.secret}})\n  client = LocalClient('{}', '{app_secret}')\n  print(client.access_token)\n",
        corp.corpid
    );
    Ok(())
}

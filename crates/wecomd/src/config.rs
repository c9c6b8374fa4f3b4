//! Configuration: flags, then environment variables, then the config file, then defaults — the
//! first that sets a value wins.

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use wecom_model::token::{LEGACY_TOKEN_LEN, TOKEN_LEN_MAX, WECOM_TOKEN_LEN_DEFAULT};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8460";
pub const DEFAULT_DATA_DIR: &str = "wecomd-data";
pub const DEFAULT_API_CONCURRENCY: u32 = 100;

#[derive(Parser, Debug)]
#[command(name = "wecomd", version, about = "A self-hosted twin of the WeCom (企业微信) and legacy 企业号 server APIs")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub options: Options,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
}

/// Every setting. Each is optional here so that the file can fill what flags and env leave out.
#[derive(Args, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// TOML file with any of these settings (keys as the long flags, with underscores).
    #[arg(long, env = "WECOMD_CONFIG", global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8460].
    #[arg(long, env = "WECOMD_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Directory for the embedded SQLite database [default: ./wecomd-data].
    #[arg(long, env = "WECOMD_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL instead of the data directory: postgres://… or sqlite://PATH.
    #[arg(long, env = "WECOMD_DATABASE", global = true)]
    pub database: Option<String>,
    /// Seed file (TOML) applied at every start; applying it again changes nothing.
    #[arg(long, env = "WECOMD_SEED", global = true)]
    pub seed: Option<PathBuf>,
    /// Do not create the demo corp on first start.
    #[arg(long, env = "WECOMD_NO_DEMO", global = true, num_args = 0..=1, default_missing_value = "true")]
    pub no_demo: Option<bool>,
    /// Turn off the platform's frequency and concurrency limits (45009, 45033).
    #[arg(long, env = "WECOMD_NO_RATE_LIMITS", global = true, num_args = 0..=1, default_missing_value = "true")]
    pub no_rate_limits: Option<bool>,
    /// Length of WeCom access tokens, 65 to 512 [default: 214]. Legacy tokens are always 64.
    #[arg(long, env = "WECOMD_TOKEN_LENGTH", global = true)]
    pub token_length: Option<usize>,
    /// Control API token [default: generated on first start and kept in the database].
    #[arg(long, env = "WECOMD_ADMIN_TOKEN", global = true)]
    pub admin_token: Option<String>,
    /// Calls of one API by one corp in progress at once before 45033 [default: 100].
    #[arg(long, env = "WECOMD_API_CONCURRENCY", global = true)]
    pub api_concurrency: Option<u32>,
    /// Members an @all fan-out writes per transaction [default: 5000].
    #[arg(long, env = "WECOMD_FANOUT_BATCH", global = true)]
    pub fanout_batch: Option<i64>,
    /// Rows a batch import job processes per transaction [default: 500].
    #[arg(long, env = "WECOMD_BATCH_ROWS", global = true)]
    pub batch_rows: Option<i64>,
    /// Addresses getcallbackip reports, comma-separated [default: 127.0.0.1].
    #[arg(long, env = "WECOMD_CALLBACK_IPS", global = true, value_delimiter = ',')]
    pub callback_ips: Option<Vec<String>>,
    /// PEM file of certificates (a CA, or a receiver's self-signed certificate) trusted for https
    /// callback URLs and upload_by_url, besides the public roots [default: public roots only].
    #[arg(long, env = "WECOMD_TLS_CA_FILE", global = true)]
    pub tls_ca_file: Option<PathBuf>,
}

/// Settings after precedence and defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: String,
    pub data_dir: Option<PathBuf>,
    pub seed: Option<PathBuf>,
    pub demo: bool,
    pub rate_limits: bool,
    pub token_length: usize,
    pub admin_token: Option<String>,
    pub api_concurrency: u32,
    pub callback_ips: Vec<String>,
    pub fanout_batch: i64,
    /// The contents of the trusted CA file (empty without one).
    pub tls_ca_pem: Vec<u8>,
    pub batch_rows: i64,
}

impl Options {
    /// Values set here win; the rest come from `file`.
    fn or(self, file: Options) -> Options {
        Options {
            config: self.config,
            listen: self.listen.or(file.listen),
            data_dir: self.data_dir.or(file.data_dir),
            database: self.database.or(file.database),
            seed: self.seed.or(file.seed),
            no_demo: self.no_demo.or(file.no_demo),
            no_rate_limits: self.no_rate_limits.or(file.no_rate_limits),
            token_length: self.token_length.or(file.token_length),
            admin_token: self.admin_token.or(file.admin_token),
            api_concurrency: self.api_concurrency.or(file.api_concurrency),
            callback_ips: self.callback_ips.or(file.callback_ips),
            fanout_batch: self.fanout_batch.or(file.fanout_batch),
            tls_ca_file: self.tls_ca_file.or(file.tls_ca_file),
            batch_rows: self.batch_rows.or(file.batch_rows),
        }
    }

    pub fn resolve(self) -> Result<Settings, String> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("config file {}: {e}", path.display()))?;
                toml::from_str::<Options>(&text).map_err(|e| format!("config file {}: {e}", path.display()))?
            }
            None => Options::default(),
        };
        let o = self.or(file);
        let token_length = o.token_length.unwrap_or(WECOM_TOKEN_LEN_DEFAULT);
        if !(LEGACY_TOKEN_LEN + 1..=TOKEN_LEN_MAX).contains(&token_length) {
            return Err(format!("token length must be {} to {TOKEN_LEN_MAX}", LEGACY_TOKEN_LEN + 1));
        }
        let (database, data_dir) = match o.database {
            Some(url) => (url, None),
            None => {
                let dir = o.data_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
                (wecom_store::Store::sqlite_url(&dir), Some(dir))
            }
        };
        let tls_ca_pem = match &o.tls_ca_file {
            Some(path) => std::fs::read(path).map_err(|e| format!("TLS CA file {}: {e}", path.display()))?,
            None => Vec::new(),
        };
        Ok(Settings {
            listen: o.listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("default address parses")),
            database,
            data_dir,
            seed: o.seed,
            demo: !o.no_demo.unwrap_or(false),
            rate_limits: !o.no_rate_limits.unwrap_or(false),
            token_length,
            admin_token: o.admin_token,
            api_concurrency: o.api_concurrency.unwrap_or(DEFAULT_API_CONCURRENCY),
            callback_ips: o.callback_ips.unwrap_or_else(|| vec!["127.0.0.1".into()]),
            fanout_batch: o.fanout_batch.unwrap_or(wecom_store::FANOUT_BATCH),
            tls_ca_pem,
            batch_rows: o.batch_rows.unwrap_or(wecom_store::BATCH_ROWS),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        Cli::parse_from([&["wecomd"], args].concat()).options
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wecomd.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ntoken_length = 300\nno_rate_limits = true\n").unwrap();
        let s = parse(&["--config", file.to_str().unwrap(), "--token-length", "100"]).resolve().unwrap();
        assert_eq!(s.token_length, 100, "flag wins over file");
        assert_eq!(s.listen.port(), 9000, "file wins over default");
        assert!(!s.rate_limits);
        assert!(s.demo);
    }

    #[test]
    fn defaults() {
        let s = parse(&[]).resolve().unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.token_length, 214);
        assert!(s.database.starts_with("sqlite://") && s.database.ends_with("wecomd-data/wecomd.sqlite3"));
        assert_eq!(s.api_concurrency, 100);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(parse(&["--token-length", "64"]).resolve().is_err());
        assert!(parse(&["--token-length", "513"]).resolve().is_err());
        assert!(parse(&["--config", "/nonexistent/wecomd.toml"]).resolve().is_err());
        assert!(parse(&["--tls-ca-file", "/nonexistent/ca.pem"]).resolve().unwrap_err().contains("TLS CA file"));
    }

    #[test]
    fn boolean_flags_take_an_optional_value() {
        assert_eq!(parse(&["--no-demo"]).no_demo, Some(true));
        assert_eq!(parse(&["--no-demo=false"]).no_demo, Some(false));
    }
}

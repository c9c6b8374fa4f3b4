//! One store over two backends. SQL is written once with `$N` placeholders, which both SQLite and
//! PostgreSQL accept through sqlx's Any driver, and the schema uses only types both read alike.

mod agent;
mod appchat;
mod batch;
mod callback;
mod chat;
mod contact;
mod corp;
mod credential;
mod department;
mod event;
mod fanout;
mod material;
mod media;
mod member;
mod menu;
mod message;
mod removed;
mod tag;
mod ticket;
mod webhook;

pub use batch::{JobRow, NewJob, NewRow, Step, BATCH_ROWS};
pub use callback::{Attempt, CallbackRow, CardClick, Claimed, DeliveryView, Settle};
pub use chat::{Author, ChatMessageRow, NewChatMessage};
pub use corp::{AppRow, CorpRow, GroupRow};
pub use credential::{CredentialRow, TokenRow};
pub use department::DepartmentWrite;
pub use event::{EventRow, Origin};
pub use fanout::FanoutRow;
pub use material::{Material, MpnewsRow};
pub use media::{MediaJobRow, MediaJobRun, MediaKind, MediaRow, MediaSink, CHUNK_BYTES};
pub use message::{Audience, Directory, InboxItem, MessageRow, NewMessage, ResponseCode, Sender, Sent};
pub use removed::{KfMessageRow, Stock};
pub use tag::{MemberChange, Rule, TagMembers};
pub use webhook::RobotRow;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The schema, the same for both backends.
static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Channel for cross-instance notices on PostgreSQL (LISTEN/NOTIFY).
const CHANNEL: &str = "wecomd";

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    url: String,
    /// Reads go here; on SQLite several connections read the WAL concurrently.
    read: AnyPool,
    /// Writes go here; on SQLite one connection, so writers queue in-process instead of failing
    /// with SQLITE_BUSY. On PostgreSQL it is the same pool as `read`.
    write: AnyPool,
    /// Members written per fan-out transaction (`Store::with_fanout_batch`).
    fanout_batch: i64,
    /// Rows a batch job processes per transaction (`Store::with_batch_rows`).
    batch_rows: i64,
}

/// Members an @all fan-out writes per transaction unless told otherwise.
pub const FANOUT_BATCH: i64 = 5000;

impl Store {
    /// Opens `postgres://…` or `sqlite://path` (created when missing) and applies migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Invalid(format!("unsupported database url {url:?}: use sqlite://PATH or postgres://…")));
        };
        let store = match backend {
            Backend::Postgres => {
                let pool = AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
                MIGRATIONS.run(&pool).await?;
                Store { backend, url: url.to_string(), read: pool.clone(), write: pool, fanout_batch: FANOUT_BATCH, batch_rows: BATCH_ROWS }
            }
            Backend::Sqlite => {
                let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
                let write = sqlite_pool(&url, 1).await?;
                // WAL is a property of the file: set once, before readers open it.
                write.execute("PRAGMA journal_mode = WAL").await?;
                MIGRATIONS.run(&write).await?;
                let read = sqlite_pool(&url, 4).await?;
                Store { backend, url, read, write, fanout_batch: FANOUT_BATCH, batch_rows: BATCH_ROWS }
            }
        };
        Ok(store)
    }

    /// Members an @all fan-out writes per transaction (at least 1).
    pub fn with_fanout_batch(self, members: i64) -> Store {
        Store { fanout_batch: members.max(1), ..self }
    }

    /// The SQLite database inside a data directory.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}", data_dir.join("wecomd.sqlite3").display())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.read).await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Stores `value` unless the key already has one; returns what is stored and whether it was
    /// this call that stored it (first start, across racing instances).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<(String, bool)> {
        let inserted = sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.write)
            .await?
            .rows_affected()
            == 1;
        let stored = self.setting(key).await?.ok_or_else(|| StoreError::NotFound(key.into()))?;
        Ok((stored, inserted))
    }

    /// Deletes every corp and everything in it. Settings survive, except those named in `clear`.
    pub async fn reset(&self, clear: &[&str]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        // Children first, so neither backend needs cascades to be switched on.
        for table in [
            "tokens",
            "credentials",
            "tag_users",
            "tag_parties",
            "tags",
            "member_departments",
            "members",
            "departments",
            "group_app_rights",
            "group_department_rights",
            "group_tags",
            "mgmt_groups",
            "apps",
            "corps",
            "chat_messages",
            "chat_mutes",
            "chats",
            "robot_media",
            "robots",
            // Event numbers restart with their corp, so the old events must go with it.
            "events",
            "menus",
            "kf",
            "kf_messages",
            "shake_tickets",
            "cards",
            "card_codes",
            "tickets",
            "message_recipients",
            "response_codes",
            "messages",
            "fanouts",
            "appchat_members",
            "appchats",
            "callbacks",
            "deliveries",
            "delivery_attempts",
            "media_chunks",
            "media",
            "media_jobs",
            "material_mpnews",
            "batch_jobs",
            "batch_rows",
            "batch_doomed_departments",
        ] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
        }
        for key in clear {
            sqlx::query("DELETE FROM settings WHERE key = $1").bind(*key).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Tells every other wecomd on the same PostgreSQL that something cached changed. SQLite has
    /// one process, which updates its own caches directly.
    pub async fn notify(&self, notice: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(notice).execute(&self.write).await?;
        }
        Ok(())
    }

    /// Notices from other instances (PostgreSQL only), subscribed before this returns so that no
    /// notice sent after start-up is missed. When the connection drops, `"reconnected"` is
    /// delivered (notices may have been lost meanwhile) and the listener subscribes again.
    pub async fn listen(&self) -> Result<Option<mpsc::UnboundedReceiver<String>>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(CHANNEL).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let notice = match listener.try_recv().await {
                    Ok(Some(n)) => n.payload().to_string(),
                    Ok(None) => "reconnected".to_string(),
                    Err(e) => {
                        tracing::warn!("PostgreSQL notice listener: {e}; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                };
                if tx.send(notice).is_err() {
                    return;
                }
            }
        });
        Ok(Some(rx))
    }
}

async fn sqlite_pool(url: &str, max: u32) -> Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // FULL: a commit is on disk before wecomd answers errcode 0.
                conn.execute("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

fn json_list<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Vec<T> {
    serde_json::from_str(&row.get::<String, _>(col)).unwrap_or_default()
}

/// Lists are stored as JSON text, the same on both backends.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("lists of ids and strings serialise")
}

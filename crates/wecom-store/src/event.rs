//! The outbox: events recorded in the same transaction as the change that causes them.

use crate::{Result, Store};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use wecom_model::callback::{MemberPush, Owner};
use wecom_model::credential::Scope;
use wecom_model::event::{ChangeContact, ChatPackage};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub created_at: i64,
    /// The owner key of the credential whose call caused it (`contact_sync`, `app:…`, `group:…`),
    /// or `control` for changes made through the control API.
    pub origin: String,
    pub event: String,
    pub change_type: String,
    pub items: Vec<(String, String)>,
    /// A chat package (event `chat`): the whole package as the chat callback would carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<ChatPackage>,
    /// A member's message or event in an app: what its callback receives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_push: Option<MemberPush>,
    /// The one receiver the event is for (batch_job_result), when it is not routed by its kind.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub receiver: String,
}

/// Who caused a change: an API caller, or the emulator's control API.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    Caller(Scope),
    Control,
}

impl Origin {
    /// The origin an owner key was written from (a job keeps its caller's).
    pub(crate) fn parse(key: &str) -> Origin {
        Scope::parse_owner_key(key).map_or(Origin::Control, Origin::Caller)
    }

    pub(crate) fn key(self) -> String {
        match self {
            Origin::Caller(scope) => scope.owner_key(),
            Origin::Control => "control".into(),
        }
    }
}

/// The corp's next event number. Taking it locks the corp's row, so a corp's events are numbered
/// in commit order.
pub(crate) async fn next_seq(tx: &mut Transaction<'static, Any>, corpid: &str) -> Result<i64> {
    let row = sqlx::query("UPDATE corps SET event_seq = event_seq + 1 WHERE corpid = $1 RETURNING event_seq")
        .bind(corpid)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.get(0))
}

/// Records a change_contact event inside the caller's transaction.
pub(crate) async fn record_change(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    origin: Origin,
    change: &ChangeContact,
    now: i64,
) -> Result<()> {
    let seq = next_seq(tx, corpid).await?;
    sqlx::query(
        "INSERT INTO events (corpid, seq, created_at, origin, event, change_type, items) VALUES ($1, $2, $3, $4, 'change_contact', $5, $6)",
    )
    .bind(corpid)
    .bind(seq)
    .bind(now)
    .bind(origin.key())
    .bind(change.change_type.as_str())
    .bind(crate::json_text(&change.items))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records an event for one receiver only (batch_job_result: `<BatchJob>`'s elements in `items`)
/// inside the caller's transaction.
pub(crate) async fn record_addressed(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    origin: Origin,
    event: &str,
    items: &[(String, String)],
    receiver: Owner,
    now: i64,
) -> Result<()> {
    let seq = next_seq(tx, corpid).await?;
    sqlx::query(
        "INSERT INTO events (corpid, seq, created_at, origin, event, change_type, items, receiver) VALUES ($1, $2, $3, $4, $5, '', $6, $7)",
    )
    .bind(corpid)
    .bind(seq)
    .bind(now)
    .bind(origin.key())
    .bind(event)
    .bind(crate::json_text(&items))
    .bind(receiver.key())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a chat package (legacy-api.md §7.3) inside the caller's transaction, numbered as
/// change_contact events are; its PackageId is kept apart for acknowledgements.
pub(crate) async fn record_package(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    origin: Origin,
    package: &ChatPackage,
    now: i64,
) -> Result<()> {
    let seq = next_seq(tx, corpid).await?;
    sqlx::query(
        "INSERT INTO events (corpid, seq, created_at, origin, event, change_type, items, package_id, package) \
         VALUES ($1, $2, $3, $4, $5, '', '[]', $6, $7)",
    )
    .bind(corpid)
    .bind(seq)
    .bind(now)
    .bind(origin.key())
    .bind(&package.agent_type)
    .bind(&package.package_id)
    .bind(crate::json_text(package))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// A corp's recorded events after `after` (0 for all), oldest first.
    pub async fn events(&self, corpid: &str, after: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT seq, created_at, origin, event, change_type, items, package, member_push, receiver FROM events WHERE corpid = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(corpid)
        .bind(after)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                seq: r.get("seq"),
                created_at: r.get("created_at"),
                origin: r.get("origin"),
                event: r.get("event"),
                change_type: r.get("change_type"),
                items: crate::json_list(r, "items"),
                package: serde_json::from_str(&r.get::<String, _>("package")).ok(),
                member_push: serde_json::from_str(&r.get::<String, _>("member_push")).ok(),
                receiver: r.get("receiver"),
            })
            .collect())
    }
}

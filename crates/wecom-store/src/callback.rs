//! Callback receivers and the deliveries of the outbox's events to them. Routing turns each new
//! event into one delivery per receiver (idempotently, by the delivery's id); workers claim the
//! oldest pending delivery of each receiver under a lease, so a receiver gets its events in order
//! and, with several instances on one PostgreSQL, each push is made by one of them.

use crate::event::next_seq;
use crate::message::issue_response_code;
use crate::{Backend, Origin, Result, Store, StoreError};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use std::collections::HashMap;
use wecom_model::callback::{self, ClickedCard, MemberPush, Owner, Routed, Settings, Subject};
use wecom_model::event::{ChangeContact, ChatPackage};
use wecom_model::message::new_response_code;
use wecom_model::scope::Range;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallbackRow {
    pub owner: String,
    pub url: String,
    pub token: String,
    pub encodingaeskey: String,
    /// Events numbered up to this one predate the receiver and are not pushed to it.
    pub from_seq: i64,
    pub created_at: i64,
}

fn callback_of(r: &AnyRow) -> CallbackRow {
    CallbackRow {
        owner: r.get("owner"),
        url: r.get("url"),
        token: r.get("token"),
        encodingaeskey: r.get("encodingaeskey"),
        from_seq: r.get("from_seq"),
        created_at: r.get("created_at"),
    }
}

/// A member's click on a template card: the card's message, the member, and the response_code the
/// push carries (stored with it, tied to both).
#[derive(Debug, Clone, Copy)]
pub struct CardClick<'a> {
    pub seq: i64,
    pub userid: &'a str,
    pub response_code: &'a str,
}

/// A delivery a worker holds: what to push, where.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub corpid: String,
    pub owner: Owner,
    pub timestamp: i64,
    pub nonce: String,
    pub xml: String,
    /// A chat package's id, which its receiver acks with; '' for others.
    pub package_id: String,
    pub attempts: i64,
    pub first_at: i64,
}

/// One attempt's outcome, for the log.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub started_at: i64,
    pub latency_ms: i64,
    /// HTTP status, 0 when none came back.
    pub status: i64,
    pub error: String,
    pub reply: String,
    pub reply_xml: String,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    Delivered,
    RetryAt(i64),
    GiveUp,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeliveryView {
    pub id: String,
    pub seq: i64,
    pub owner: String,
    pub state: String,
    pub timestamp: i64,
    pub nonce: String,
    /// The decrypted request: the inner XML the receiver gets.
    pub xml: String,
    pub attempts: Vec<Value>,
}

/// Deliveries rows inserted per statement (SQLite binds, ≤32 rows).
const BATCH: usize = 32;
/// Events routed per corp per pass.
const ROUTE_LIMIT: i64 = 512;

impl Store {
    /// The receiver's owner must exist: the corp, and the app or the corp's chat service.
    pub async fn check_callback_owner(&self, corpid: &str, owner: Owner) -> Result<()> {
        self.corp(corpid).await?.ok_or_else(|| StoreError::NotFound(format!("no corp {corpid}")))?;
        let holder = match owner {
            Owner::Job(_) => return Err(StoreError::Invalid("a batch job's receiver is the job's own callback".into())),
            Owner::App(agentid) => self.app(corpid, agentid).await?.map(drop),
            Owner::ContactSync | Owner::Chat => sqlx::query("SELECT 1 FROM credentials WHERE corpid = $1 AND owner = $2")
                .bind(corpid)
                .bind(owner.key())
                .fetch_optional(&self.read)
                .await?
                .map(drop),
        };
        holder.ok_or_else(|| {
            StoreError::NotFound(match owner {
                Owner::App(agentid) => format!("no app {agentid} in corp {corpid}"),
                Owner::Chat => format!("corp {corpid} has no chat service"),
                Owner::ContactSync | Owner::Job(_) => format!("corp {corpid} has no contacts-sync secret"),
            })
        })
    }

    /// Saves a receiver (after its URL passed verification). Events already recorded are not
    /// pushed to it.
    pub async fn set_callback(&self, corpid: &str, owner: Owner, s: &Settings, now: i64) -> Result<CallbackRow> {
        self.check_callback_owner(corpid, owner).await?;
        let mut tx = self.write.begin().await?;
        let row = upsert_callback(&mut tx, corpid, owner, s, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn callbacks(&self, corpid: &str) -> Result<Vec<CallbackRow>> {
        let rows = sqlx::query("SELECT * FROM callbacks WHERE corpid = $1 ORDER BY owner").bind(corpid).fetch_all(&self.read).await?;
        Ok(rows.iter().map(callback_of).collect())
    }

    /// A receiver's settings: a saved receiver's, or the `callback` a batch job was started with.
    pub async fn callback(&self, corpid: &str, owner: Owner) -> Result<Option<CallbackRow>> {
        let row = match owner {
            Owner::Job(seq) => sqlx::query(
                "SELECT $2 AS owner, callback_url AS url, callback_token AS token, callback_aeskey AS encodingaeskey, \
                 CAST(0 AS BIGINT) AS from_seq, created_at FROM batch_jobs WHERE corpid = $1 AND seq = $3 AND callback_url <> ''",
            )
            .bind(corpid)
            .bind(owner.key())
            .bind(seq),
            _ => sqlx::query("SELECT * FROM callbacks WHERE corpid = $1 AND owner = $2").bind(corpid).bind(owner.key()),
        };
        Ok(row.fetch_optional(&self.read).await?.as_ref().map(callback_of))
    }

    /// Removes a receiver; what was already routed to it is still pushed with its last settings.
    pub async fn delete_callback(&self, corpid: &str, owner: Owner) -> Result<()> {
        let done = sqlx::query("DELETE FROM callbacks WHERE corpid = $1 AND owner = $2")
            .bind(corpid)
            .bind(owner.key())
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("corp {corpid} has no callback for {}", owner.key())));
        }
        Ok(())
    }

    /// Records a member's message or event in an app (control API member actions) as an event;
    /// a card click's push with the response_code it carries, in the same transaction.
    pub async fn record_member_push(&self, corpid: &str, push: &MemberPush, click: Option<&CardClick<'_>>, now: i64) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        if let Some(c) = click {
            issue_response_code(&mut tx, corpid, c.response_code, c.seq, c.userid, now).await?;
        }
        let seq = record_push(&mut tx, corpid, Origin::Control, push, now).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// The template card `msgid` as app `agentid` sent it (its message's number, and a new
    /// response_code for the click's push), and whether `userid` received it.
    pub async fn clicked_card(&self, corpid: &str, agentid: i64, msgid: &str, userid: &str) -> Result<Option<(i64, ClickedCard)>> {
        let Some(m) = sqlx::query(
            "SELECT seq, content FROM messages WHERE corpid = $1 AND agentid = $2 AND msgid = $3 AND msgtype = 'template_card' AND chatid = ''",
        )
        .bind(corpid)
        .bind(agentid)
        .bind(msgid)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let seq: i64 = m.get("seq");
        let received = sqlx::query("SELECT 1 FROM message_recipients WHERE corpid = $1 AND seq = $2 AND userid_key = $3")
            .bind(corpid)
            .bind(seq)
            .bind(userid.to_lowercase())
            .fetch_optional(&self.read)
            .await?
            .is_some();
        let card = ClickedCard {
            card: serde_json::from_str(&m.get::<String, _>("content")).unwrap_or_default(),
            response_code: new_response_code(),
            received,
        };
        Ok(Some((seq, card)))
    }

    /// Turns events recorded since the last pass into deliveries, corp by corp. Safe to run on
    /// several instances at once: a corp's pass commits only if no other pass moved its mark, and
    /// deliveries are keyed by id. Returns how many events were routed.
    pub async fn route_events(&self, now_ms: i64) -> Result<usize> {
        let corps = sqlx::query("SELECT corpid, routed_seq FROM corps WHERE event_seq > routed_seq").fetch_all(&self.write).await?;
        let mut routed = 0;
        for c in corps {
            let (corpid, from): (String, i64) = (c.get(0), c.get(1));
            routed += self.route_corp(&corpid, from, now_ms).await?;
        }
        Ok(routed)
    }

    async fn route_corp(&self, corpid: &str, from: i64, now_ms: i64) -> Result<usize> {
        let receivers = self.callbacks(corpid).await?;
        let events = sqlx::query(
            "SELECT seq, created_at, origin, event, change_type, items, package, package_id, member_push, receiver FROM events \
             WHERE corpid = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(corpid)
        .bind(from)
        .bind(ROUTE_LIMIT)
        .fetch_all(&self.write)
        .await?;
        let Some(last) = events.last().map(|r| r.get::<i64, _>("seq")) else { return Ok(0) };
        let ranges = self.app_ranges(corpid, &receivers).await?;
        let mut rows = Vec::new();
        for e in &events {
            let seq: i64 = e.get("seq");
            let addressed = Owner::parse(&e.get::<String, _>("receiver"));
            let mut configured: Vec<Owner> = receivers.iter().filter(|r| r.from_seq < seq).filter_map(|r| Owner::parse(&r.owner)).collect();
            // A job's own receiver exists as long as its job: it is configured for its result.
            configured.extend(addressed.filter(|o| matches!(o, Owner::Job(_))));
            if configured.is_empty() {
                continue;
            }
            let at: i64 = e.get("created_at");
            let origin: String = e.get("origin");
            let kind: String = e.get("event");
            let member: Option<MemberPush> = serde_json::from_str(&e.get::<String, _>("member_push")).ok();
            let package: Option<ChatPackage> = serde_json::from_str(&e.get::<String, _>("package")).ok();
            let change: Option<ChangeContact> = (kind == "change_contact")
                .then(|| serde_json::from_value(json!({ "change_type": e.get::<String, _>("change_type"), "items": crate::json_list::<(String, String)>(e, "items") })).ok())
                .flatten();
            // batch_job_result's <BatchJob> elements.
            let job: Option<Vec<(String, String)>> = (kind == "batch_job_result").then(|| crate::json_list(e, "items"));
            let routed = match (addressed, &member, &package, &change) {
                (Some(to), ..) => Routed::Addressed(to),
                (_, Some(m), _, _) => Routed::Member { agentid: m.agentid },
                (_, _, Some(_), _) => Routed::Package,
                (_, _, _, Some(_)) => Routed::Change { origin: &origin },
                _ => continue,
            };
            let subject = match &change {
                Some(c) if !ranges.is_empty() => Some(self.subject(corpid, c).await?),
                _ => None,
            };
            let covers = |agentid: i64| match (&subject, ranges.get(&agentid)) {
                (Some(s), Some(r)) => callback::covers(r, s),
                _ => false,
            };
            for owner in callback::receivers(&routed, &configured, covers) {
                let xml = match (&job, &member, &package, &change) {
                    (Some(items), ..) => callback::batch_job_result_xml(corpid, at, items),
                    (_, Some(m), _, _) => m.xml(corpid, at),
                    (_, _, Some(p), _) => callback::package_xml(corpid, p),
                    (_, _, _, Some(c)) => callback::change_contact_xml(corpid, owner, at, c),
                    _ => continue,
                };
                let id = format!("{corpid}/{seq}/{}", owner.key());
                let package_id = package.as_ref().map(|p| p.package_id.clone()).unwrap_or_default();
                rows.push((id, seq, owner.key(), at, nonce(), xml, package_id));
            }
        }
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query("UPDATE corps SET routed_seq = $1 WHERE corpid = $2 AND routed_seq = $3")
            .bind(last)
            .bind(corpid)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 0 {
            // Another instance routed these meanwhile.
            return Ok(0);
        }
        for chunk in rows.chunks(BATCH) {
            // Eight values per row, then now_ms once, as every row's next_at.
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 8;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 'pending', 0, 0, ${}, '', 0)",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        chunk.len() * 8 + 1
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO deliveries (id, corpid, seq, owner, timestamp, nonce, xml, package_id, state, attempts, first_at, next_at, claimed_by, lease_until) \
                 VALUES {} ON CONFLICT (id) DO NOTHING",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, seq, owner, at, nonce, xml, package_id) in chunk {
                q = q
                    .bind(id.as_str())
                    .bind(corpid)
                    .bind(*seq)
                    .bind(owner.as_str())
                    .bind(*at)
                    .bind(nonce.as_str())
                    .bind(xml.as_str())
                    .bind(package_id.as_str());
            }
            q.bind(now_ms).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(events.len())
    }

    /// The visible ranges of the apps that have a receiver.
    async fn app_ranges(&self, corpid: &str, receivers: &[CallbackRow]) -> Result<HashMap<i64, Range>> {
        let mut out = HashMap::new();
        for r in receivers {
            if let Some(Owner::App(agentid)) = Owner::parse(&r.owner) {
                if let Some(app) = self.app(corpid, agentid).await? {
                    out.insert(agentid, Range::Visible { users: app.allow_users, parties: app.allow_parties, tags: app.allow_tags });
                }
            }
        }
        Ok(out)
    }

    /// Where the subject of a change sits now.
    async fn subject(&self, corpid: &str, change: &ChangeContact) -> Result<Subject> {
        let item = |name: &str| change.items.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if let Some(tagid) = item("TagId").and_then(|t| t.parse().ok()) {
            return Ok(Subject::Tag(tagid));
        }
        if let Some(id) = item("Id").and_then(|t| t.parse::<i64>().ok()) {
            let tree = self.departments(corpid).await?;
            let ancestors = tree.ancestors(id);
            return Ok(Subject::Department((!ancestors.is_empty()).then_some(ancestors)));
        }
        let userid = item("NewUserID").or_else(|| item("UserID")).unwrap_or_default();
        Ok(Subject::Member(self.member_place(corpid, &userid).await?))
    }

    /// Takes the oldest pending delivery of up to `limit` receivers that is due and not held by a
    /// live lease; the earlier deliveries of a receiver must be settled first (in order per
    /// receiver). PostgreSQL skips rows another instance is claiming; SQLite has one writer.
    pub async fn claim_deliveries(&self, instance: &str, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<Claimed>> {
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE deliveries SET claimed_by = $1, lease_until = $2 WHERE id IN ( \
               SELECT h.id FROM deliveries h WHERE h.state = 'pending' AND h.next_at <= $3 AND h.lease_until < $3 \
               AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.corpid = h.corpid AND e.owner = h.owner AND e.state = 'pending' AND e.seq < h.seq) \
               ORDER BY h.next_at LIMIT $4{lock} \
             ) AND state = 'pending' AND lease_until < $3 \
             RETURNING id, corpid, owner, timestamp, nonce, xml, package_id, attempts, first_at"
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(instance).bind(now_ms + lease_ms).bind(now_ms).bind(limit).fetch_all(&self.write).await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(Claimed {
                    id: r.get("id"),
                    corpid: r.get("corpid"),
                    owner: Owner::parse(&r.get::<String, _>("owner"))?,
                    timestamp: r.get("timestamp"),
                    nonce: r.get("nonce"),
                    xml: r.get("xml"),
                    package_id: r.get("package_id"),
                    attempts: r.get("attempts"),
                    first_at: r.get("first_at"),
                })
            })
            .collect())
    }

    /// Logs an attempt and settles the delivery, if this instance still holds it (a lease that
    /// ran out may have passed to another). Returns whether it did.
    pub async fn finish_attempt(&self, instance: &str, d: &Claimed, a: &Attempt, settle: Settle) -> Result<bool> {
        let (state, next_at) = match settle {
            Settle::Delivered => ("delivered", 0),
            Settle::RetryAt(at) => ("pending", at),
            Settle::GiveUp => ("failed", 0),
        };
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(
            "UPDATE deliveries SET state = $1, next_at = $2, attempts = attempts + 1, first_at = CASE WHEN first_at = 0 THEN $3 ELSE first_at END, \
             claimed_by = '', lease_until = 0 WHERE id = $4 AND claimed_by = $5 AND state = 'pending' RETURNING attempts",
        )
        .bind(state)
        .bind(next_at)
        .bind(a.started_at)
        .bind(&d.id)
        .bind(instance)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let attempt: i64 = row.get(0);
        sqlx::query(
            "INSERT INTO delivery_attempts (delivery_id, attempt, corpid, started_at, latency_ms, status, error, reply, reply_xml, instance) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&d.id)
        .bind(attempt)
        .bind(&d.corpid)
        .bind(a.started_at)
        .bind(a.latency_ms)
        .bind(a.status)
        .bind(&a.error)
        .bind(&a.reply)
        .bind(&a.reply_xml)
        .bind(instance)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every delivery of a corp with all its attempts, oldest event first.
    pub async fn deliveries(&self, corpid: &str, owner: Option<Owner>) -> Result<Vec<DeliveryView>> {
        let rows = sqlx::query(
            "SELECT id, seq, owner, state, timestamp, nonce, xml FROM deliveries WHERE corpid = $1 AND ($2 = '' OR owner = $2) ORDER BY seq, owner",
        )
        .bind(corpid)
        .bind(owner.map(Owner::key).unwrap_or_default())
        .fetch_all(&self.read)
        .await?;
        let mut attempts: HashMap<String, Vec<Value>> = HashMap::new();
        for a in sqlx::query("SELECT * FROM delivery_attempts WHERE corpid = $1 ORDER BY delivery_id, attempt")
            .bind(corpid)
            .fetch_all(&self.read)
            .await?
        {
            attempts.entry(a.get("delivery_id")).or_default().push(json!({
                "attempt": a.get::<i64, _>("attempt"),
                "started_at_ms": a.get::<i64, _>("started_at"),
                "latency_ms": a.get::<i64, _>("latency_ms"),
                "status": a.get::<i64, _>("status"),
                "error": a.get::<String, _>("error"),
                "reply": a.get::<String, _>("reply"),
                "reply_xml": a.get::<String, _>("reply_xml"),
                "instance": a.get::<String, _>("instance"),
            }));
        }
        Ok(rows
            .iter()
            .map(|r| {
                let id: String = r.get("id");
                DeliveryView {
                    attempts: attempts.remove(&id).unwrap_or_default(),
                    id,
                    seq: r.get("seq"),
                    owner: r.get("owner"),
                    state: r.get("state"),
                    timestamp: r.get("timestamp"),
                    nonce: r.get("nonce"),
                    xml: r.get("xml"),
                }
            })
            .collect())
    }
}

/// Saves a receiver inside a transaction (the control API's, or a seed's): events recorded so far
/// are not pushed to it.
pub(crate) async fn upsert_callback(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    owner: Owner,
    s: &Settings,
    now: i64,
) -> Result<CallbackRow> {
    let seq: Option<i64> =
        sqlx::query("SELECT event_seq FROM corps WHERE corpid = $1").bind(corpid).fetch_optional(&mut **tx).await?.map(|r| r.get(0));
    let seq = seq.ok_or_else(|| StoreError::NotFound(format!("no corp {corpid}")))?;
    sqlx::query(
        "INSERT INTO callbacks (corpid, owner, url, token, encodingaeskey, from_seq, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (corpid, owner) DO UPDATE SET url = excluded.url, token = excluded.token, encodingaeskey = excluded.encodingaeskey, \
         from_seq = excluded.from_seq, created_at = excluded.created_at",
    )
    .bind(corpid)
    .bind(owner.key())
    .bind(&s.url)
    .bind(&s.token)
    .bind(&s.encodingaeskey)
    .bind(seq)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(CallbackRow {
        owner: owner.key(),
        url: s.url.clone(),
        token: s.token.clone(),
        encodingaeskey: s.encodingaeskey.clone(),
        from_seq: seq,
        created_at: now,
    })
}

/// Records a push for one app (a member's action, a system event such as
/// upload_media_job_finish) inside the caller's transaction; returns its number.
pub(crate) async fn record_push(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    origin: Origin,
    push: &MemberPush,
    now: i64,
) -> Result<i64> {
    let seq = next_seq(tx, corpid).await?;
    let event = push.elements.iter().find_map(|e| match e {
        callback::Element::Text(n, v) if n == "Event" => Some(v.clone()),
        _ => None,
    });
    sqlx::query(
        "INSERT INTO events (corpid, seq, created_at, origin, event, change_type, items, member_push) VALUES ($1, $2, $3, $4, $5, '', '[]', $6)",
    )
    .bind(corpid)
    .bind(seq)
    .bind(now)
    .bind(origin.key())
    .bind(event.unwrap_or_else(|| push.msg_type.clone()))
    .bind(crate::json_text(push))
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// Nonces are digits in practice (§10.2).
fn nonce() -> String {
    rand::random_range(100_000_000..1_000_000_000u32).to_string()
}

//! State of the 企业号 APIs WeCom removed: the corp's 企业客服 and what kf/send sent, shakes, cards.

use crate::{json_text, Backend, Result, Store};
use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, Row, Transaction};
use wecom_model::removed::{CardCode, Counterpart, Kf, KfMessage, Shake, SHAKE_TICKET_SECS};

/// What card/modifystock did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stock {
    Changed,
    Unknown,
    TooLow,
}

/// A kf/send as the control API lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KfMessageRow {
    pub seq: i64,
    pub created_at: i64,
    pub sender: Value,
    pub receiver: Value,
    pub msgtype: String,
    pub payload: Value,
}

impl Store {
    /// The corp's 企业客服; none configured is an empty list of each kind.
    pub async fn kf(&self, corpid: &str) -> Result<Kf> {
        let row = sqlx::query("SELECT internal, external FROM kf WHERE corpid = $1").bind(corpid).fetch_optional(&self.read).await?;
        let parse = |r: &sqlx::any::AnyRow, c: &str| serde_json::from_str(&r.get::<String, _>(c)).unwrap_or_default();
        Ok(row.map(|r| Kf { internal: parse(&r, "internal"), external: parse(&r, "external") }).unwrap_or_default())
    }

    pub async fn set_kf(&self, corpid: &str, kf: &Kf) -> Result<()> {
        let mut tx = self.write.begin().await?;
        upsert_kf(&mut tx, corpid, kf).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a kf/send; messages are numbered per corp under a lock on its kf row.
    pub async fn add_kf_message(&self, corpid: &str, m: &KfMessage, now: i64) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT corpid FROM kf WHERE corpid = $1 FOR UPDATE").bind(corpid).fetch_optional(&mut *tx).await?;
        }
        let max: Option<i64> =
            sqlx::query("SELECT MAX(seq) FROM kf_messages WHERE corpid = $1").bind(corpid).fetch_one(&mut *tx).await?.get(0);
        let seq = max.unwrap_or(0) + 1;
        let (kind, id) = match &m.counterpart {
            Counterpart::Userid(u) => ("userid", u),
            Counterpart::Openid(o) => ("openid", o),
        };
        sqlx::query(
            "INSERT INTO kf_messages (corpid, seq, created_at, kf, from_kf, counterpart_type, counterpart_id, msgtype, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(corpid)
        .bind(seq)
        .bind(now)
        .bind(&m.kf)
        .bind(i64::from(m.from_kf))
        .bind(kind)
        .bind(id)
        .bind(&m.msgtype)
        .bind(json_text(&m.payload))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Every kf/send of the corp, oldest first.
    pub async fn kf_messages(&self, corpid: &str) -> Result<Vec<KfMessageRow>> {
        let rows = sqlx::query(
            "SELECT seq, created_at, kf, from_kf, counterpart_type, counterpart_id, msgtype, payload FROM kf_messages WHERE corpid = $1 ORDER BY seq",
        )
        .bind(corpid)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let kf = serde_json::json!({ "type": "kf", "id": r.get::<String, _>("kf") });
                let other =
                    serde_json::json!({ "type": r.get::<String, _>("counterpart_type"), "id": r.get::<String, _>("counterpart_id") });
                let (sender, receiver) = if r.get::<i64, _>("from_kf") != 0 { (kf, other) } else { (other, kf) };
                KfMessageRow {
                    seq: r.get("seq"),
                    created_at: r.get("created_at"),
                    sender,
                    receiver,
                    msgtype: r.get("msgtype"),
                    payload: serde_json::from_str(&r.get::<String, _>("payload")).unwrap_or(Value::Null),
                }
            })
            .collect())
    }

    pub async fn add_shake(&self, corpid: &str, ticket: &str, shake: &Shake, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO shake_tickets (corpid, ticket, created_at, shake) VALUES ($1, $2, $3, $4)")
            .bind(corpid)
            .bind(ticket)
            .bind(now)
            .bind(json_text(shake))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The shake behind a ticket while it is valid.
    pub async fn shake(&self, corpid: &str, ticket: &str, now: i64) -> Result<Option<Shake>> {
        let row = sqlx::query("SELECT shake FROM shake_tickets WHERE corpid = $1 AND ticket = $2 AND created_at > $3")
            .bind(corpid)
            .bind(ticket)
            .bind(now - SHAKE_TICKET_SECS)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.and_then(|r| serde_json::from_str(&r.get::<String, _>(0)).ok()))
    }

    pub async fn create_card(&self, corpid: &str, card_id: &str, card: &Value, quantity: i64, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO cards (corpid, card_id, card, quantity, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(corpid)
            .bind(card_id)
            .bind(json_text(card))
            .bind(quantity)
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A card as created and its current stock.
    pub async fn card(&self, corpid: &str, card_id: &str) -> Result<Option<(Value, i64)>> {
        let row = sqlx::query("SELECT card, quantity FROM cards WHERE corpid = $1 AND card_id = $2")
            .bind(corpid)
            .bind(card_id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| (serde_json::from_str(&r.get::<String, _>(0)).unwrap_or(Value::Null), r.get(1))))
    }

    /// One page of card ids (in card_id order, stable across pages) and how many cards there are.
    pub async fn card_ids(&self, corpid: &str, offset: i64, count: i64) -> Result<(Vec<String>, i64)> {
        let ids = sqlx::query("SELECT card_id FROM cards WHERE corpid = $1 ORDER BY card_id LIMIT $2 OFFSET $3")
            .bind(corpid)
            .bind(count)
            .bind(offset)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM cards WHERE corpid = $1").bind(corpid).fetch_one(&self.read).await?.get(0);
        Ok((ids, total))
    }

    /// `false` when there was no such card. The codes members hold of it go with it.
    pub async fn delete_card(&self, corpid: &str, card_id: &str) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM card_codes WHERE corpid = $1 AND card_id = $2").bind(corpid).bind(card_id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM cards WHERE corpid = $1 AND card_id = $2").bind(corpid).bind(card_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// A member receives one of a card's stock as `code`; the stock goes down by one, or nothing
    /// happens when the card is unknown or out of stock.
    pub async fn give_card(&self, corpid: &str, card_id: &str, code: &str, userid: &str, openid: &str, now: i64) -> Result<Stock> {
        let mut tx = self.write.begin().await?;
        let taken = sqlx::query("UPDATE cards SET quantity = quantity - 1 WHERE corpid = $1 AND card_id = $2 AND quantity > 0")
            .bind(corpid)
            .bind(card_id)
            .execute(&mut *tx)
            .await?;
        if taken.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM cards WHERE corpid = $1 AND card_id = $2")
                .bind(corpid)
                .bind(card_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(if exists.is_some() { Stock::TooLow } else { Stock::Unknown });
        }
        sqlx::query(
            "INSERT INTO card_codes (corpid, code, card_id, userid_key, openid, created_at, consumed_at) VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(corpid)
        .bind(code)
        .bind(card_id)
        .bind(userid.to_lowercase())
        .bind(openid)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Stock::Changed)
    }

    /// A received code with the card it is of.
    pub async fn card_code(&self, corpid: &str, code: &str) -> Result<Option<(CardCode, Value)>> {
        let row = sqlx::query(
            "SELECT k.card_id, k.openid, k.created_at, k.consumed_at, c.card FROM card_codes k \
             JOIN cards c ON c.corpid = k.corpid AND c.card_id = k.card_id WHERE k.corpid = $1 AND k.code = $2",
        )
        .bind(corpid)
        .bind(code)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| {
            let held = CardCode {
                code: code.to_string(),
                card_id: r.get(0),
                openid: r.get(1),
                received_at: r.get(2),
                consumed: r.get::<i64, _>(3) != 0,
            };
            (held, serde_json::from_str(&r.get::<String, _>(4)).unwrap_or(Value::Null))
        }))
    }

    /// Marks a code consumed; `false` when it already was (a concurrent consume won).
    pub async fn consume_code(&self, corpid: &str, code: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE card_codes SET consumed_at = $3 WHERE corpid = $1 AND code = $2 AND consumed_at = 0")
            .bind(corpid)
            .bind(code)
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a card's stock by `delta`, unless the card is unknown or the stock would go below 0.
    pub async fn modify_stock(&self, corpid: &str, card_id: &str, delta: i64) -> Result<Stock> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query("UPDATE cards SET quantity = quantity + $3 WHERE corpid = $1 AND card_id = $2 AND quantity + $3 >= 0")
            .bind(corpid)
            .bind(card_id)
            .bind(delta)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(Stock::Changed);
        }
        let exists = sqlx::query("SELECT 1 FROM cards WHERE corpid = $1 AND card_id = $2")
            .bind(corpid)
            .bind(card_id)
            .fetch_optional(&mut *tx)
            .await?;
        Ok(if exists.is_some() { Stock::TooLow } else { Stock::Unknown })
    }
}

pub(crate) async fn upsert_kf(tx: &mut Transaction<'static, Any>, corpid: &str, kf: &Kf) -> Result<()> {
    sqlx::query("INSERT INTO kf (corpid, internal, external) VALUES ($1, $2, $3) ON CONFLICT (corpid) DO UPDATE SET internal = excluded.internal, external = excluded.external")
        .bind(corpid)
        .bind(json_text(&kf.internal))
        .bind(json_text(&kf.external))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

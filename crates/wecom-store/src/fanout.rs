//! Pending @all messages (table `fanouts`): their recipient rows are written in batches after the
//! send has answered. A batch is one transaction that locks the fan-out's row, writes the next
//! `fanout_batch` members in key order, and moves `done_through` past them, so a crash repeats no
//! batch, and two workers (two instances on one PostgreSQL) take turns instead of writing a row
//! twice. A corp's fan-outs are written in send order: each one's throttle counts the ones before.

use crate::message::{insert_recipients, run, run_seq, throttled, Keys};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::Row;
use std::time::{SystemTime, UNIX_EPOCH};
use wecom_model::message::Throttle;
use wecom_model::scope::Range;

/// How long a worker's batch keeps sweepers away from its fan-out (real time).
const CLAIM_MS: i64 = 10_000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A pending fan-out as the control API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FanoutRow {
    pub corpid: String,
    pub msgid: String,
    pub agentid: i64,
    /// Recipient rows written so far.
    pub recipients: i64,
}

impl Store {
    /// Writes pending fan-outs of a corp (of one app, or all) in send order until none is left or
    /// `go_on` says stop (checked between batches).
    pub async fn settle_fanouts(&self, corpid: &str, agentid: Option<i64>, go_on: &(dyn Fn() -> bool + Sync)) -> Result<()> {
        while go_on() {
            let next = match agentid {
                Some(a) => {
                    sqlx::query("SELECT seq FROM fanouts WHERE corpid = $1 AND agentid = $2 ORDER BY seq LIMIT 1").bind(corpid).bind(a)
                }
                None => sqlx::query("SELECT seq FROM fanouts WHERE corpid = $1 ORDER BY seq LIMIT 1").bind(corpid),
            };
            let Some(seq) = next.fetch_optional(&self.read).await?.map(|r| r.get::<i64, _>(0)) else { return Ok(()) };
            while go_on() && self.fanout_batch(corpid, seq).await? {}
        }
        Ok(())
    }

    /// Corps with a fan-out nobody has worked on lately (never started, or its worker died).
    pub async fn fanout_corps(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT corpid FROM fanouts WHERE claimed_until < $1").bind(now_ms()).fetch_all(&self.read).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub async fn fanouts(&self) -> Result<Vec<FanoutRow>> {
        let rows = sqlx::query(
            "SELECT f.corpid, m.msgid, f.agentid, m.recipients FROM fanouts f JOIN messages m ON m.corpid = f.corpid AND m.seq = f.seq \
             ORDER BY f.corpid, f.seq",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(|r| FanoutRow { corpid: r.get(0), msgid: r.get(1), agentid: r.get(2), recipients: r.get(3) }).collect())
    }

    /// Writes the next batch of fan-out `seq`; `false` once it is complete (by this call or another).
    async fn fanout_batch(&self, corpid: &str, seq: i64) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        // The UPDATE locks the row until commit: a second worker waits here, then sees the new
        // done_through (or no row).
        let claimed = sqlx::query(
            "UPDATE fanouts SET claimed_until = $3 WHERE corpid = $1 AND seq = $2 RETURNING agentid, ranges, sent_at, done_through",
        )
        .bind(corpid)
        .bind(seq)
        .bind(now_ms() + CLAIM_MS)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = claimed else { return Ok(false) };
        let throttle = Throttle::App(row.get("agentid"));
        let sent_at: i64 = row.get("sent_at");
        let done_through: String = row.get("done_through");
        let ranges: Vec<Range> = serde_json::from_str(&row.get::<String, _>("ranges"))
            .map_err(|e| StoreError::Invalid(format!("fan-out {corpid}/{seq}: {e}")))?;
        let dir = self.directory(corpid).await?;

        // The batch ends at the fanout_batch-th member still to go; none: this is the last one.
        let mut probe = Keys::new(2);
        probe.strings.push(done_through.clone());
        let within = probe.within(&ranges, &dir.tree, &dir.tag_parties);
        let sql = format!(
            "SELECT x.userid_key FROM members x WHERE x.corpid = $1 AND x.userid_key > $2{within} ORDER BY x.userid_key LIMIT 1 OFFSET {}",
            self.fanout_batch - 1
        );
        let last: Option<String> = run(sql, corpid, &probe).fetch_optional(&mut *tx).await?.map(|r| r.get(0));

        let mut keys = Keys::new(3);
        keys.strings.push(done_through);
        let upto = match &last {
            Some(k) => {
                keys.strings.push(k.clone());
                " AND x.userid_key <= $4"
            }
            None => "",
        };
        let within = keys.within(&ranges, &dir.tree, &dir.tag_parties);
        let throttled = throttled(&mut tx, corpid, seq, throttle, sent_at).await?;
        let sql = format!(
            "{} members x WHERE x.corpid = $1 AND x.userid_key > $3{upto}{within}{throttled} ON CONFLICT DO NOTHING",
            insert_recipients(throttle, sent_at)
        );
        let written = run_seq(sql, corpid, seq, &keys).execute(&mut *tx).await?.rows_affected() as i64;
        sqlx::query("UPDATE messages SET recipients = recipients + $1 WHERE corpid = $2 AND seq = $3")
            .bind(written)
            .bind(corpid)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        match &last {
            Some(k) => sqlx::query("UPDATE fanouts SET done_through = $3 WHERE corpid = $1 AND seq = $2").bind(corpid).bind(seq).bind(k),
            None => sqlx::query("DELETE FROM fanouts WHERE corpid = $1 AND seq = $2").bind(corpid).bind(seq),
        }
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(last.is_some())
    }
}

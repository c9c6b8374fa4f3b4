//! App group chats: the chat, its owner and members. The rules are in `wecom_model::appchat`;
//! messages sent to a chat are stored with the other messages (`message.rs`).

use crate::tag::Rule;
use crate::{contact::placeholders, Result, Store};
use sqlx::{Any, AnyConnection, AssertSqlSafe, Row, Transaction};
use wecom_model::appchat::{check_daily_creates, Chat};
use wecom_model::ratelimit::day_start;
use wecom_model::Errcode;

/// Members written per statement.
const MEMBER_BATCH: usize = 32;

async fn load(db: &mut AnyConnection, corpid: &str, chatid: &str, lock: &str) -> Result<Option<Chat>> {
    let sql = format!("SELECT chatid, name, owner, agentid FROM appchats WHERE corpid = $1 AND chatid = $2{lock}");
    let Some(row) = sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(chatid).fetch_optional(&mut *db).await? else { return Ok(None) };
    let userlist = sqlx::query(
        "SELECT COALESCE(m.userid, a.userid_key) FROM appchat_members a \
         LEFT JOIN members m ON m.corpid = a.corpid AND m.userid_key = a.userid_key \
         WHERE a.corpid = $1 AND a.chatid = $2 ORDER BY a.position",
    )
    .bind(corpid)
    .bind(chatid)
    .fetch_all(&mut *db)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    Ok(Some(Chat { chatid: row.get("chatid"), name: row.get("name"), owner: row.get("owner"), agentid: row.get("agentid"), userlist }))
}

async fn write_members(tx: &mut Transaction<'static, Any>, corpid: &str, chat: &Chat) -> Result<()> {
    sqlx::query("DELETE FROM appchat_members WHERE corpid = $1 AND chatid = $2").bind(corpid).bind(&chat.chatid).execute(&mut **tx).await?;
    for (n, chunk) in chat.userlist.chunks(MEMBER_BATCH).enumerate() {
        let sql = format!("INSERT INTO appchat_members (corpid, chatid, userid_key, position) VALUES {}", placeholders(chunk.len(), 4));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (i, userid) in chunk.iter().enumerate() {
            q = q.bind(corpid).bind(&chat.chatid).bind(userid.to_lowercase()).bind((n * MEMBER_BATCH + i) as i64);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    pub async fn appchat(&self, corpid: &str, chatid: &str) -> Result<Option<Chat>> {
        load(&mut *self.read.acquire().await?, corpid, chatid, "").await
    }

    /// Creates a chat unless the corp has created its day's chats (45009, when `limited`) or the
    /// chatid is taken (86215).
    pub async fn create_appchat(&self, corpid: &str, chat: &Chat, limited: bool, now: i64) -> Result<Rule<()>> {
        let mut tx = self.write.begin().await?;
        if limited {
            // Racing creates count one after the other: the corp's row is held until commit.
            if self.backend == crate::Backend::Postgres {
                sqlx::query("SELECT 1 FROM corps WHERE corpid = $1 FOR UPDATE").bind(corpid).execute(&mut *tx).await?;
            }
            let today: i64 = sqlx::query("SELECT COUNT(*) FROM appchats WHERE corpid = $1 AND created_at >= $2")
                .bind(corpid)
                .bind(day_start(now))
                .fetch_one(&mut *tx)
                .await?
                .get(0);
            if let Err(e) = check_daily_creates(today) {
                return Ok(Err(e));
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO appchats (corpid, chatid, name, owner, agentid, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(corpid)
        .bind(&chat.chatid)
        .bind(&chat.name)
        .bind(&chat.owner)
        .bind(chat.agentid)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Err(Errcode::ChatidExisted));
        }
        write_members(&mut tx, corpid, chat).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Changes a chat as `change` decides from the chat as it is (86003 when there is none).
    pub async fn update_appchat(&self, corpid: &str, chatid: &str, change: impl FnOnce(&Chat) -> Rule<Chat>) -> Result<Rule<()>> {
        let mut tx = self.write.begin().await?;
        let lock = if self.backend == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
        let Some(chat) = load(&mut tx, corpid, chatid, lock).await? else { return Ok(Err(Errcode::ChatidNotFound)) };
        let next = match change(&chat) {
            Ok(next) => next,
            Err(e) => return Ok(Err(e)),
        };
        sqlx::query("UPDATE appchats SET name = $1, owner = $2 WHERE corpid = $3 AND chatid = $4")
            .bind(&next.name)
            .bind(&next.owner)
            .bind(corpid)
            .bind(chatid)
            .execute(&mut *tx)
            .await?;
        if next.userlist != chat.userlist {
            write_members(&mut tx, corpid, &next).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }
}

//! Group robots: their keys (created through the control API), their uploads, and what they send,
//! which lands in their chat's conversation. Rules are `wecom_model::webhook`'s.

use crate::chat::{insert_message, Author, NewChatMessage};
use crate::{Backend, Result, Rule, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use wecom_model::chat::{Receiver, ReceiverKind};
use wecom_model::webhook::{new_key, new_media_id, MediaType, RobotMessage, MEDIA_TTL, MINUTE, PER_MINUTE};
use wecom_model::Errcode;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RobotRow {
    pub key: String,
    pub corpid: String,
    pub chatid: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: i64,
}

const ROBOT_COLUMNS: &str = "SELECT robot_key, corpid, chatid, name, enabled, created_at FROM robots";

fn robot_of(r: &AnyRow) -> RobotRow {
    RobotRow {
        key: r.get("robot_key"),
        corpid: r.get("corpid"),
        chatid: r.get("chatid"),
        name: r.get("name"),
        enabled: r.get::<i64, _>("enabled") != 0,
        created_at: r.get("created_at"),
    }
}

impl Store {
    /// A robot added to the chat `chatid`, with a new key.
    pub async fn create_robot(&self, corpid: &str, chatid: &str, name: &str, now: i64) -> Result<RobotRow> {
        self.require_corp(corpid).await?;
        let robot =
            RobotRow { key: new_key(), corpid: corpid.into(), chatid: chatid.into(), name: name.into(), enabled: true, created_at: now };
        sqlx::query("INSERT INTO robots (robot_key, corpid, chatid, name, enabled, created_at) VALUES ($1, $2, $3, $4, 1, $5)")
            .bind(&robot.key)
            .bind(corpid)
            .bind(chatid)
            .bind(name)
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(robot)
    }

    pub async fn robots(&self, corpid: &str) -> Result<Vec<RobotRow>> {
        let sql = format!("{ROBOT_COLUMNS} WHERE corpid = $1 ORDER BY created_at, robot_key");
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).fetch_all(&self.read).await?.iter().map(robot_of).collect())
    }

    pub async fn robot(&self, key: &str) -> Result<Option<RobotRow>> {
        let sql = format!("{ROBOT_COLUMNS} WHERE robot_key = $1");
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&self.read).await?.as_ref().map(robot_of))
    }

    /// Turns a robot off (93004) or on again.
    pub async fn set_robot_enabled(&self, corpid: &str, key: &str, enabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE robots SET enabled = $1 WHERE corpid = $2 AND robot_key = $3")
            .bind(i64::from(enabled))
            .bind(corpid)
            .bind(key)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("corp {corpid} has no robot {key}")));
        }
        Ok(())
    }

    /// Removes a robot from its chat: its key is then invalid (93000); what it sent stays.
    pub async fn delete_robot(&self, corpid: &str, key: &str) -> Result<()> {
        let done =
            sqlx::query("DELETE FROM robots WHERE corpid = $1 AND robot_key = $2").bind(corpid).bind(key).execute(&self.write).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("corp {corpid} has no robot {key}")));
        }
        Ok(())
    }

    /// An upload of the robot's; returns the media_id.
    pub async fn robot_upload(&self, key: &str, media_type: MediaType, filename: &str, length: usize, now: i64) -> Result<String> {
        let media_id = new_media_id();
        sqlx::query(
            "INSERT INTO robot_media (media_id, robot_key, media_type, filename, length, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&media_id)
        .bind(key)
        .bind(media_type.as_str())
        .bind(filename)
        .bind(length as i64)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(media_id)
    }

    /// webhook/send's write, under a lock on the robot: at most 20 messages in any 60 s (when
    /// `limited`), media only the robot's own, of the right type and under 3 days old. The message
    /// goes to the robot's chat; returns its msgid.
    pub async fn robot_send(&self, key: &str, message: &RobotMessage, limited: bool, now: i64) -> Result<Rule<String>> {
        let mut tx = self.write.begin().await?;
        let lock = match self.backend {
            Backend::Postgres => "SELECT robot_key, corpid, chatid, name, enabled, created_at FROM robots WHERE robot_key = $1 FOR UPDATE",
            // The single writer connection already serialises SQLite writers.
            Backend::Sqlite => "SELECT robot_key, corpid, chatid, name, enabled, created_at FROM robots WHERE robot_key = $1",
        };
        let Some(robot) = sqlx::query(lock).bind(key).fetch_optional(&mut *tx).await?.as_ref().map(robot_of) else {
            return Ok(Err(Errcode::InvalidWebhookUrl));
        };
        if limited {
            let sent: i64 = sqlx::query("SELECT COUNT(*) FROM chat_messages WHERE sender = $1 AND origin = 'robot' AND created_at > $2")
                .bind(key)
                .bind(now - MINUTE)
                .fetch_one(&mut *tx)
                .await?
                .get(0);
            if sent >= PER_MINUTE {
                return Ok(Err(Errcode::ApiFreqOutOfLimit));
            }
        }
        let mut payload = message.payload.clone();
        if let Some((kind, media_id)) = &message.media {
            let media = sqlx::query(
                "SELECT filename, length FROM robot_media WHERE media_id = $1 AND robot_key = $2 AND media_type = $3 AND created_at > $4",
            )
            .bind(media_id)
            .bind(key)
            .bind(kind.as_str())
            .bind(now - MEDIA_TTL)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(media) = media else { return Ok(Err(Errcode::InvalidMediaId)) };
            payload["filename"] = json!(media.get::<String, _>("filename"));
            payload["length"] = json!(media.get::<i64, _>("length"));
        }
        let receiver = Receiver { kind: ReceiverKind::Group, id: robot.chatid.clone() };
        let m = NewChatMessage { receiver: &receiver, author: Author::Robot, sender: key, msgtype: &message.msgtype, payload: &payload };
        let msgid = insert_message(&mut tx, &robot.corpid, &m, now).await?;
        tx.commit().await?;
        Ok(Ok(msgid))
    }
}

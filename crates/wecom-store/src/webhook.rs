//! Group robots: their keys (created through the control API), their uploads, and what they send,
//! which lands in their chat: a legacy chat's conversation, or an appchat's log and its members'
//! inboxes (through the messages' one writer). Rules are `wecom_model::webhook`'s.

use crate::chat::{insert_message, Author, NewChatMessage};
use crate::message::{write_message, Audience, Directory, NewMessage, Sender};
use crate::{Backend, Result, Rule, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use wecom_model::chat::{Receiver, ReceiverKind};
use wecom_model::webhook::{new_key, new_media_id, sender_key, ChatKind, MediaType, RobotMessage, MEDIA_TTL, MINUTE, PER_MINUTE};
use wecom_model::Errcode;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RobotRow {
    pub key: String,
    pub corpid: String,
    pub chatid: String,
    pub kind: ChatKind,
    pub name: String,
    pub enabled: bool,
    pub created_at: i64,
}

const ROBOT_COLUMNS: &str = "SELECT robot_key, corpid, chatid, chat_kind, name, enabled, created_at FROM robots";

fn robot_of(r: &AnyRow) -> Result<RobotRow> {
    let kind: String = r.get("chat_kind");
    Ok(RobotRow {
        key: r.get("robot_key"),
        corpid: r.get("corpid"),
        chatid: r.get("chatid"),
        kind: ChatKind::parse(&kind).ok_or_else(|| StoreError::Invalid(format!("stored chat kind {kind:?}")))?,
        name: r.get("name"),
        enabled: r.get::<i64, _>("enabled") != 0,
        created_at: r.get("created_at"),
    })
}

impl Store {
    /// A robot added to the chat `chatid` of that kind, with a new key. An appchat must exist.
    pub async fn create_robot(&self, corpid: &str, chatid: &str, kind: ChatKind, name: &str, now: i64) -> Result<RobotRow> {
        self.require_corp(corpid).await?;
        if kind == ChatKind::AppChat && self.appchat(corpid, chatid).await?.is_none() {
            return Err(StoreError::NotFound(format!("no appchat {chatid} in corp {corpid}")));
        }
        let robot = RobotRow {
            key: new_key(),
            corpid: corpid.into(),
            chatid: chatid.into(),
            kind,
            name: name.into(),
            enabled: true,
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO robots (robot_key, corpid, chatid, chat_kind, name, enabled, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(&robot.key)
        .bind(corpid)
        .bind(chatid)
        .bind(kind.as_str())
        .bind(name)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(robot)
    }

    pub async fn robots(&self, corpid: &str) -> Result<Vec<RobotRow>> {
        let sql = format!("{ROBOT_COLUMNS} WHERE corpid = $1 ORDER BY created_at, robot_key");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(corpid).fetch_all(&self.read).await?.iter().map(robot_of).collect()
    }

    pub async fn robot(&self, key: &str) -> Result<Option<RobotRow>> {
        let sql = format!("{ROBOT_COLUMNS} WHERE robot_key = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&self.read).await?.as_ref().map(robot_of).transpose()
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
    pub async fn robot_upload(&self, key: &str, media_type: MediaType, filename: &str, length: u64, now: i64) -> Result<String> {
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
            Backend::Postgres => format!("{ROBOT_COLUMNS} WHERE robot_key = $1 FOR UPDATE"),
            // The single writer connection already serialises SQLite writers.
            Backend::Sqlite => format!("{ROBOT_COLUMNS} WHERE robot_key = $1"),
        };
        let Some(robot) =
            sqlx::query(sqlx::AssertSqlSafe(lock)).bind(key).fetch_optional(&mut *tx).await?.as_ref().map(robot_of).transpose()?
        else {
            return Ok(Err(Errcode::InvalidWebhookUrl));
        };
        if limited {
            // Each kind of chat keeps its messages in its own table.
            let count = match robot.kind {
                ChatKind::Chat => {
                    sqlx::query("SELECT COUNT(*) FROM chat_messages WHERE sender = $1 AND origin = 'robot' AND created_at > $2")
                        .bind(key)
                        .bind(now - MINUTE)
                }
                // `chatid <> ''` lets the partial index serve it.
                ChatKind::AppChat => sqlx::query(
                    "SELECT COUNT(*) FROM messages WHERE corpid = $1 AND chatid = $2 AND sender = $3 AND created_at > $4 AND chatid <> ''",
                )
                .bind(&robot.corpid)
                .bind(&robot.chatid)
                .bind(sender_key(key))
                .bind(now - MINUTE),
            };
            let sent: i64 = count.fetch_one(&mut *tx).await?.get(0);
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
        let msgid = match robot.kind {
            ChatKind::Chat => {
                let receiver = Receiver { kind: ReceiverKind::Group, id: robot.chatid.clone() };
                let m = NewChatMessage {
                    receiver: &receiver,
                    author: Author::Robot,
                    sender: key,
                    msgtype: &message.msgtype,
                    payload: &payload,
                };
                insert_message(&mut tx, &robot.corpid, &m, now).await?
            }
            ChatKind::AppChat => {
                // Robots are no app: agentid 0; nothing to check for duplicates or tasks.
                let m = NewMessage {
                    sender: Sender::Robot(key),
                    agentid: 0,
                    chatid: &robot.chatid,
                    msgtype: &message.msgtype,
                    content: &payload,
                    safe: 0,
                    task_id: None,
                    updatable: false,
                    duplicate: None,
                };
                let to = Audience::Chat(robot.chatid.clone());
                // A chat audience never waits for an @all, so `None` cannot come back.
                match write_message(&mut tx, &robot.corpid, &m, &to, &Directory::default(), now).await? {
                    Some(Ok(sent)) => sent.msgid,
                    Some(Err(e)) => return Ok(Err(e)),
                    None => return Err(StoreError::Invalid("a robot message waited for an @all".into())),
                }
            }
        };
        tx.commit().await?;
        Ok(Ok(msgid))
    }
}

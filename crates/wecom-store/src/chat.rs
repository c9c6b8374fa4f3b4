//! The legacy chat service: chats, muted members, and the messages of every conversation (chat/send,
//! members through the control API, robots). A member's message also records the package the
//! platform pushed for it, in the same transaction. Rules are `wecom_model::chat`'s.

use crate::contact::params;
use crate::credential::upsert_credential;
use crate::event::{record_package, Origin};
use crate::{json_list, json_text, Backend, Result, Rule, Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use std::collections::HashMap;
use wecom_model::chat::{Chat, Receiver, ReceiverKind};
use wecom_model::credential::Scope;
use wecom_model::event::{new_message_id, ChatItem, ChatPackage};
use wecom_model::Errcode;

/// Who put a message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// chat/send, on a member's behalf.
    Api,
    /// A member, in the client (the control API acts it out).
    Member,
    /// A group robot (webhook/send); the sender is its key.
    Robot,
}

impl Author {
    fn as_str(self) -> &'static str {
        match self {
            Author::Api => "api",
            Author::Member => "member",
            Author::Robot => "robot",
        }
    }
}

/// A message to store: the payload as its type's rules left it.
pub struct NewChatMessage<'a> {
    pub receiver: &'a Receiver,
    pub author: Author,
    pub sender: &'a str,
    pub msgtype: &'a str,
    pub payload: &'a Value,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatMessageRow {
    pub seq: i64,
    pub msgid: String,
    pub receiver: Receiver,
    pub origin: String,
    pub sender: String,
    pub msgtype: String,
    pub payload: Value,
    pub created_at: i64,
}

fn message_of(r: &AnyRow) -> Result<ChatMessageRow> {
    let kind: String = r.get("receiver_type");
    let kind = match kind.as_str() {
        "single" => ReceiverKind::Single,
        "group" => ReceiverKind::Group,
        other => return Err(StoreError::Invalid(format!("stored receiver type {other:?}"))),
    };
    Ok(ChatMessageRow {
        seq: r.get("seq"),
        msgid: r.get("msgid"),
        receiver: Receiver { kind, id: r.get("receiver_id") },
        origin: r.get("origin"),
        sender: r.get("sender"),
        msgtype: r.get("msgtype"),
        payload: serde_json::from_str(&r.get::<String, _>("payload")).unwrap_or(Value::Null),
        created_at: r.get("created_at"),
    })
}

const MESSAGE_COLUMNS: &str =
    "SELECT seq, msgid, receiver_type, receiver_id, origin, sender, msgtype, payload, created_at FROM chat_messages";

fn chat_of(r: &AnyRow) -> Chat {
    Chat { chatid: r.get("chatid"), name: r.get("name"), owner: r.get("owner"), userlist: json_list(r, "userlist") }
}

/// Stores a message under the corp's next number (taking it locks the corp's row, so numbers
/// follow commit order); returns its msgid.
pub(crate) async fn insert_message(tx: &mut Transaction<'static, Any>, corpid: &str, m: &NewChatMessage<'_>, now: i64) -> Result<String> {
    let seq: i64 = sqlx::query("UPDATE corps SET chat_message_seq = chat_message_seq + 1 WHERE corpid = $1 RETURNING chat_message_seq")
        .bind(corpid)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    let msgid = new_message_id();
    sqlx::query(
        "INSERT INTO chat_messages (corpid, seq, receiver_type, receiver_id, origin, sender, msgid, msgtype, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(corpid)
    .bind(seq)
    .bind(m.receiver.kind.as_str())
    .bind(&m.receiver.id)
    .bind(m.author.as_str())
    .bind(m.sender)
    .bind(&msgid)
    .bind(m.msgtype)
    .bind(json_text(m.payload))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(msgid)
}

impl Store {
    /// Each of `userids` that names a member (ignoring case), keyed by its lowercase form, with
    /// the member's own spelling.
    pub async fn stored_userids(&self, corpid: &str, userids: &[String]) -> Result<HashMap<String, String>> {
        let keys: Vec<String> = userids.iter().map(|u| u.to_lowercase()).collect();
        let mut found = HashMap::new();
        for chunk in keys.chunks(32) {
            let sql = format!("SELECT userid_key, userid FROM members WHERE corpid = $1 AND userid_key IN ({})", params(2, chunk.len()));
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(corpid);
            for k in chunk {
                q = q.bind(k);
            }
            for r in q.fetch_all(&self.read).await? {
                found.insert(r.get("userid_key"), r.get("userid"));
            }
        }
        Ok(found)
    }

    /// Turns the chat service on: the corp gets a chat secret (or keeps the one it has).
    pub async fn enable_chat_service(&self, corpid: &str, now: i64) -> Result<String> {
        self.require_corp(corpid).await?;
        let mut tx = self.write.begin().await?;
        let secret = upsert_credential(&mut tx, corpid, Scope::Chat, None, &[], now).await?;
        tx.commit().await?;
        Ok(secret)
    }

    pub async fn chats(&self, corpid: &str) -> Result<Vec<Chat>> {
        let rows = sqlx::query("SELECT chatid, name, owner, userlist FROM chats WHERE corpid = $1 ORDER BY created_at, chatid")
            .bind(corpid)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(chat_of).collect())
    }

    pub async fn chat(&self, corpid: &str, chatid: &str) -> Result<Option<Chat>> {
        let row = sqlx::query("SELECT chatid, name, owner, userlist FROM chats WHERE corpid = $1 AND chatid = $2")
            .bind(corpid)
            .bind(chatid)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(chat_of))
    }

    /// A new chat whose members are already resolved, and its create_chat package, in one
    /// transaction; 86215 when the chatid is taken.
    pub async fn create_chat(&self, corpid: &str, chat: &Chat, origin: Origin, now: i64) -> Result<Rule<()>> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "INSERT INTO chats (corpid, chatid, name, owner, userlist, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (corpid, chatid) DO NOTHING",
        )
        .bind(corpid)
        .bind(&chat.chatid)
        .bind(&chat.name)
        .bind(&chat.owner)
        .bind(json_text(&chat.userlist))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(Err(Errcode::ChatidExisted));
        }
        record_package(&mut tx, corpid, origin, &ChatPackage::new(vec![ChatItem::create_chat(chat, now)]), now).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Applies `apply` to the chat as it is under a lock, so racing updates lose nothing, and
    /// records the item it reports the change with as a package; 86003 when there is no such chat.
    pub async fn change_chat(
        &self,
        corpid: &str,
        chatid: &str,
        origin: Origin,
        apply: impl FnOnce(&Chat) -> Rule<(Chat, ChatItem)>,
        now: i64,
    ) -> Result<Rule<Chat>> {
        let mut tx = self.write.begin().await?;
        let Some(chat) = locked_chat(&mut tx, self.backend, corpid, chatid).await? else { return Ok(Err(Errcode::ChatidNotFound)) };
        let (next, item) = match apply(&chat) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        record_package(&mut tx, corpid, origin, &ChatPackage::new(vec![item]), now).await?;
        sqlx::query("UPDATE chats SET name = $1, owner = $2, userlist = $3 WHERE corpid = $4 AND chatid = $5")
            .bind(&next.name)
            .bind(&next.owner)
            .bind(json_text(&next.userlist))
            .bind(corpid)
            .bind(chatid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(next))
    }

    /// chat/send's write, the sender and receiver already checked.
    pub async fn send_chat_message(&self, corpid: &str, m: &NewChatMessage<'_>, now: i64) -> Result<String> {
        let mut tx = self.write.begin().await?;
        let msgid = insert_message(&mut tx, corpid, m, now).await?;
        tx.commit().await?;
        Ok(msgid)
    }

    /// A member types `content` in a group chat: the message, and the package the platform
    /// pushed for it, in one transaction. Returns (msgid, package id).
    pub async fn member_says(&self, corpid: &str, chatid: &str, userid: &str, content: &str, now: i64) -> Result<Rule<(String, String)>> {
        let mut tx = self.write.begin().await?;
        let Some(chat) = locked_chat(&mut tx, self.backend, corpid, chatid).await? else { return Ok(Err(Errcode::ChatidNotFound)) };
        let Some(sender) = chat.userlist.iter().find(|u| u.eq_ignore_ascii_case(userid)) else {
            return Ok(Err(Errcode::ChatSenderNotInChat));
        };
        let receiver = Receiver { kind: ReceiverKind::Group, id: chat.chatid.clone() };
        let payload = serde_json::json!({ "content": content });
        let m = NewChatMessage { receiver: &receiver, author: Author::Member, sender, msgtype: "text", payload: &payload };
        let msgid = insert_message(&mut tx, corpid, &m, now).await?;
        let package = ChatPackage::new(vec![ChatItem::text(sender, now, content, &msgid, receiver.clone())]);
        record_package(&mut tx, corpid, Origin::Control, &package, now).await?;
        tx.commit().await?;
        Ok(Ok((msgid, package.package_id)))
    }

    /// The messages of one conversation, oldest first.
    pub async fn chat_messages(&self, corpid: &str, receiver: &Receiver) -> Result<Vec<ChatMessageRow>> {
        let sql = format!("{MESSAGE_COLUMNS} WHERE corpid = $1 AND receiver_type = $2 AND receiver_id = $3 ORDER BY seq");
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(receiver.kind.as_str()).bind(&receiver.id).fetch_all(&self.read).await?;
        rows.iter().map(message_of).collect()
    }

    /// What a robot sent, oldest first.
    pub async fn robot_messages(&self, corpid: &str, robot_key: &str) -> Result<Vec<ChatMessageRow>> {
        let sql = format!("{MESSAGE_COLUMNS} WHERE sender = $1 AND origin = 'robot' AND corpid = $2 ORDER BY seq");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(robot_key).bind(corpid).fetch_all(&self.read).await?;
        rows.iter().map(message_of).collect()
    }

    /// chat/setmute: each (userid key, muted) as asked.
    pub async fn set_mutes(&self, corpid: &str, mutes: &[(String, bool)]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for (key, muted) in mutes {
            let sql = if *muted {
                "INSERT INTO chat_mutes (corpid, userid_key) VALUES ($1, $2) ON CONFLICT (corpid, userid_key) DO NOTHING"
            } else {
                "DELETE FROM chat_mutes WHERE corpid = $1 AND userid_key = $2"
            };
            sqlx::query(sql).bind(corpid).bind(key).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The members whose chat notices are muted (userids in their stored case).
    pub async fn muted(&self, corpid: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT m.userid FROM chat_mutes c JOIN members m ON m.corpid = c.corpid AND m.userid_key = c.userid_key \
             WHERE c.corpid = $1 ORDER BY m.userid_key",
        )
        .bind(corpid)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

async fn locked_chat(tx: &mut Transaction<'static, Any>, backend: Backend, corpid: &str, chatid: &str) -> Result<Option<Chat>> {
    let sql = match backend {
        Backend::Postgres => "SELECT chatid, name, owner, userlist FROM chats WHERE corpid = $1 AND chatid = $2 FOR UPDATE",
        // The single writer connection already serialises SQLite writers.
        Backend::Sqlite => "SELECT chatid, name, owner, userlist FROM chats WHERE corpid = $1 AND chatid = $2",
    };
    let row = sqlx::query(sql).bind(corpid).bind(chatid).fetch_optional(&mut **tx).await?;
    Ok(row.as_ref().map(chat_of))
}

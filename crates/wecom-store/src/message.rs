//! Messages and member inboxes. A message is one row; who received it is one row per member,
//! written with set inserts (`INSERT … SELECT` over the members a range covers), so a message to
//! 100,000 members costs a few statements, not 100,000. An @all message is answered once its row
//! and audience are stored; its recipient rows follow in batches (`fanout.rs`), and every read
//! that shows them first finishes what is pending. Members a recipient throttle has had enough of
//! get no row. The rules are in `wecom_model::message`.

use crate::contact::params;
use crate::tag::Rule;
use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use std::collections::{HashMap, HashSet};
use wecom_model::credential::Scope;
use wecom_model::department::{Tree, ROOT};
use wecom_model::message::{new_msgid, new_response_code, Throttle, RECALL_WINDOW, RESPONSE_CODE_TTL};
use wecom_model::scope::Range;
use wecom_model::tag::Tag;
use wecom_model::Errcode;

/// Named userids are checked and written this many at a time (SQLite binds grow quadratically).
const USER_BATCH: usize = 32;

/// SQL selecting members' `userid_key` in corp `$1`, with the strings it binds from `$first` on.
/// Department and tag ids are integers and go into the text itself.
pub(crate) struct Keys {
    first: usize,
    pub(crate) strings: Vec<String>,
}

fn ints(ids: impl IntoIterator<Item = i64>) -> String {
    ids.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

const NOBODY: &str = "SELECT userid_key FROM members WHERE corpid = $1 AND 1 = 0";
const EVERYONE: &str = "SELECT userid_key FROM members WHERE corpid = $1";

impl Keys {
    pub(crate) fn new(first: usize) -> Keys {
        Keys { first, strings: Vec::new() }
    }

    fn users(&mut self, userids: &[String]) -> String {
        if userids.is_empty() {
            return NOBODY.into();
        }
        let list = params(self.first + self.strings.len(), userids.len());
        self.strings.extend(userids.iter().map(|u| u.to_lowercase()));
        format!("SELECT userid_key FROM members WHERE corpid = $1 AND userid_key IN ({list})")
    }

    /// Members of these departments or any department below them.
    fn departments(tree: &Tree, roots: &[i64]) -> String {
        if roots.contains(&ROOT) {
            return EVERYONE.into();
        }
        let ids: HashSet<i64> = roots.iter().flat_map(|r| tree.subtree(*r)).map(|d| d.id).collect();
        if ids.is_empty() {
            return NOBODY.into();
        }
        format!("SELECT userid_key FROM member_departments WHERE corpid = $1 AND department_id IN ({})", ints(ids))
    }

    /// Members a tag holds: its users, and the members under its departments.
    fn tags(tree: &Tree, tag_parties: &HashMap<i64, Vec<i64>>, tagids: &[i64]) -> String {
        if tagids.is_empty() {
            return NOBODY.into();
        }
        let parties: Vec<i64> = tagids.iter().flat_map(|t| tag_parties.get(t).into_iter().flatten().copied()).collect();
        format!(
            "SELECT userid_key FROM tag_users WHERE corpid = $1 AND tagid IN ({}) UNION {}",
            ints(tagids.iter().copied()),
            Keys::departments(tree, &parties)
        )
    }

    /// Members a caller's range sees (`wecom_model::scope::Range::sees`, in SQL).
    fn range(&mut self, range: &Range, tree: &Tree, tag_parties: &HashMap<i64, Vec<i64>>) -> String {
        match range {
            Range::All => EVERYONE.into(),
            Range::Subtrees(roots) => Keys::departments(tree, roots),
            Range::Visible { parties, .. } if parties.contains(&ROOT) => EVERYONE.into(),
            Range::Visible { users, parties, tags } => {
                format!("{} UNION {} UNION {}", self.users(users), Keys::departments(tree, parties), Keys::tags(tree, tag_parties, tags))
            }
        }
    }

    /// `AND userid_key IN (…)` for each range: a member must be seen by all of them.
    pub(crate) fn within(&mut self, ranges: &[Range], tree: &Tree, tag_parties: &HashMap<i64, Vec<i64>>) -> String {
        let mut out = String::new();
        for r in ranges {
            // A range that sees the whole corp filters nothing: leave it out of the statement.
            let sql = self.range(r, tree, tag_parties);
            if sql != EVERYONE {
                out.push_str(&format!(" AND userid_key IN ({sql})"));
            }
        }
        out
    }
}

/// What resolving recipients reads of a corp's contacts: the department tree, the tags, and the
/// departments each tag holds. The server keeps it between contact writes.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub tree: Tree,
    pub tags: Vec<Tag>,
    pub tag_parties: HashMap<i64, Vec<i64>>,
}

/// Who a message goes to, every id already checked by the rules.
#[derive(Debug, Clone)]
pub enum Audience {
    /// `@all`: everyone the ranges see, written after the answer.
    Everyone { ranges: Vec<Range> },
    /// Named userids (found and seen), and the members of valid departments and tags that the
    /// ranges see.
    Named { userids: Vec<String>, parties: Vec<i64>, tags: Vec<i64>, ranges: Vec<Range> },
    /// Every member of an appchat.
    Chat(String),
}

/// Who sent a message: an app's credential, or a group robot of an appchat (by its key).
#[derive(Debug, Clone, Copy)]
pub enum Sender<'a> {
    Caller(Scope),
    Robot(&'a str),
}

impl Sender<'_> {
    /// What the message's `sender` column holds.
    fn key(self) -> String {
        match self {
            Sender::Caller(scope) => scope.owner_key(),
            Sender::Robot(key) => wecom_model::webhook::sender_key(key),
        }
    }
}

/// A message as it is stored.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub sender: Sender<'a>,
    pub agentid: i64,
    pub chatid: &'a str,
    pub msgtype: &'a str,
    pub content: &'a serde_json::Value,
    pub safe: i64,
    pub task_id: Option<&'a str>,
    pub updatable: bool,
    /// enable_duplicate_check: the request's key and the window in seconds.
    pub duplicate: Option<(String, i64)>,
}

/// What message/send hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub msgid: String,
    pub response_code: Option<String>,
    /// How many members received it (0 for a duplicate, which is not delivered again, and for an
    /// @all, which is still being written).
    pub recipients: i64,
    /// An @all whose recipient rows are pending.
    pub fanout: bool,
}

/// A stored message, as the control API and the recall/update rules read it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MessageRow {
    #[serde(skip)]
    pub seq: i64,
    pub msgid: String,
    pub sender: String,
    pub agentid: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub chatid: String,
    pub msgtype: String,
    pub content: serde_json::Value,
    pub safe: i64,
    pub created_at: i64,
    pub recalled: bool,
    pub recipients: i64,
}

/// A template card's response_code: message/send's, or one a member's click issued.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseCode {
    pub message: MessageRow,
    /// The key of the member whose template_card_event carried it; `None` for message/send's.
    pub clicked_by: Option<String>,
    pub issued_at: i64,
    pub spent: bool,
}

/// One message in a member's inbox, as the member sees it: a template card reflects its latest
/// update_template_card for this member.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InboxItem {
    #[serde(flatten)]
    pub message: MessageRow,
    pub card_update: Option<serde_json::Value>,
}

const MESSAGE_COLUMNS: &str =
    "m.seq, m.msgid, m.sender, m.agentid, m.chatid, m.msgtype, m.content, m.safe, m.created_at, m.recalled_at, m.recipients";

fn message_of(r: &AnyRow) -> MessageRow {
    MessageRow {
        seq: r.get("seq"),
        msgid: r.get("msgid"),
        sender: r.get("sender"),
        agentid: r.get("agentid"),
        chatid: r.get("chatid"),
        msgtype: r.get("msgtype"),
        content: serde_json::from_str(&r.get::<String, _>("content")).unwrap_or_default(),
        safe: r.get("safe"),
        created_at: r.get("created_at"),
        recalled: r.get::<i64, _>("recalled_at") != 0,
        recipients: r.get("recipients"),
    }
}

/// Binds `$1` corpid, then the strings of `keys`.
pub(crate) fn run<'q>(sql: String, corpid: &'q str, keys: &'q Keys) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(corpid);
    for s in &keys.strings {
        q = q.bind(s.as_str());
    }
    q
}

impl Store {
    pub async fn directory(&self, corpid: &str) -> Result<Directory> {
        let mut tag_parties: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in sqlx::query("SELECT tagid, department_id FROM tag_parties WHERE corpid = $1").bind(corpid).fetch_all(&self.read).await? {
            tag_parties.entry(r.get(0)).or_default().push(r.get(1));
        }
        Ok(Directory { tree: self.departments(corpid).await?, tags: self.tags(corpid).await?, tag_parties })
    }

    /// Of `userids` (any case), the members that exist and every range sees: key → userid as
    /// stored.
    pub async fn members_within(
        &self,
        corpid: &str,
        userids: &[String],
        ranges: &[Range],
        dir: &Directory,
    ) -> Result<HashMap<String, String>> {
        let mut found = HashMap::new();
        for chunk in userids.chunks(USER_BATCH) {
            let mut keys = Keys::new(2);
            let named = keys.users(chunk);
            let within = keys.within(ranges, &dir.tree, &dir.tag_parties);
            let sql = format!("SELECT userid_key, userid FROM members WHERE corpid = $1 AND userid_key IN ({named}){within}");
            for r in run(sql, corpid, &keys).fetch_all(&self.read).await? {
                found.insert(r.get(0), r.get(1));
            }
        }
        Ok(found)
    }

    /// Names of members (by key) for id translation.
    pub async fn member_names(&self, corpid: &str, userids: &[String]) -> Result<HashMap<String, String>> {
        let mut names = HashMap::new();
        for chunk in userids.chunks(USER_BATCH) {
            let mut keys = Keys::new(2);
            let sql = format!("SELECT userid_key, name FROM members WHERE corpid = $1 AND userid_key IN ({})", keys.users(chunk));
            for r in run(sql, corpid, &keys).fetch_all(&self.read).await? {
                names.insert(r.get(0), r.get(1));
            }
        }
        Ok(names)
    }

    /// Stores a message and delivers it to its audience in one transaction (`write_message`); an
    /// @all stores its audience for the fan-out instead.
    pub async fn send_message(&self, corpid: &str, msg: &NewMessage<'_>, to: &Audience, dir: &Directory, now: i64) -> Result<Rule<Sent>> {
        loop {
            let mut tx = self.write.begin().await?;
            match write_message(&mut tx, corpid, msg, to, dir, now).await? {
                Some(sent) => {
                    if sent.is_ok() {
                        tx.commit().await?;
                    }
                    return Ok(sent);
                }
                // An earlier @all of this app is still being written. Its deliveries count against
                // this message's throttle, so it is finished first, as if it had been synchronous.
                None => {
                    drop(tx);
                    self.settle_fanouts(corpid, Some(msg.agentid), &|| true).await?
                }
            }
        }
    }

    pub async fn message(&self, corpid: &str, msgid: &str) -> Result<Option<MessageRow>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.corpid = $1 AND m.msgid = $2");
        Ok(sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(msgid).fetch_optional(&self.read).await?.as_ref().map(message_of))
    }

    /// A response_code of the corp and the message whose card it updates.
    pub async fn response_code(&self, corpid: &str, code: &str) -> Result<Option<ResponseCode>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, c.userid_key, c.created_at AS issued_at, c.spent FROM response_codes c \
             JOIN messages m ON m.corpid = c.corpid AND m.seq = c.seq WHERE c.corpid = $1 AND c.code = $2"
        );
        let row = sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(code).fetch_optional(&self.read).await?;
        Ok(row.map(|r| ResponseCode {
            message: message_of(&r),
            clicked_by: Some(r.get::<String, _>("userid_key")).filter(|u| !u.is_empty()),
            issued_at: r.get("issued_at"),
            spent: r.get::<i64, _>("spent") != 0,
        }))
    }

    /// Recalls an app message `sender` sent within the last 24 hours (42052); another sender's
    /// or an unknown msgid answers 40058. Recalling twice changes nothing.
    pub async fn recall_message(&self, corpid: &str, msgid: &str, sender: Scope, now: i64) -> Result<Rule<()>> {
        let Some(m) = self.message(corpid, msgid).await?.filter(|m| m.sender == sender.owner_key() && m.chatid.is_empty()) else {
            return Ok(Err(Errcode::InvalidRequestParameter));
        };
        if now - m.created_at > RECALL_WINDOW {
            return Ok(Err(Errcode::MsgidExpired));
        }
        sqlx::query("UPDATE messages SET recalled_at = $1 WHERE corpid = $2 AND seq = $3 AND recalled_at = 0")
            .bind(now)
            .bind(corpid)
            .bind(m.seq)
            .execute(&self.write)
            .await?;
        Ok(Ok(()))
    }

    /// Of the members a card update names (userids, or the members of departments and tags),
    /// which received message `seq`; and the named userids that did not.
    pub async fn card_targets(
        &self,
        corpid: &str,
        seq: i64,
        userids: &[String],
        parties: &[i64],
        tags: &[i64],
        dir: &Directory,
    ) -> Result<(bool, Vec<String>)> {
        self.settle_fanouts(corpid, None, &|| true).await?;
        let mut received: HashSet<String> = HashSet::new();
        for chunk in userids.chunks(USER_BATCH) {
            let mut keys = Keys::new(3);
            let sql = format!(
                "SELECT userid_key FROM message_recipients WHERE corpid = $1 AND seq = $2 AND userid_key IN ({})",
                keys.users(chunk)
            );
            received.extend(run_seq(sql, corpid, seq, &keys).fetch_all(&self.read).await?.iter().map(|r| r.get::<String, _>(0)));
        }
        let missing: Vec<String> = userids.iter().filter(|u| !received.contains(&u.to_lowercase())).cloned().collect();
        let groups = format!("{} UNION {}", Keys::departments(&dir.tree, parties), Keys::tags(&dir.tree, &dir.tag_parties, tags));
        let sql = format!("SELECT 1 FROM message_recipients WHERE corpid = $1 AND seq = $2 AND userid_key IN ({groups}) LIMIT 1");
        let group_hit = (!parties.is_empty() || !tags.is_empty())
            && sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(seq).fetch_optional(&self.read).await?.is_some();
        Ok((group_hit || !received.is_empty(), missing))
    }

    /// Applies a card update to the named recipients of message `seq` (`None`: all of them) and
    /// spends `code`; a code already spent or older than 72 hours answers 60140.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_card(
        &self,
        corpid: &str,
        code: &str,
        seq: i64,
        userids: Option<&[String]>,
        parties: &[i64],
        tags: &[i64],
        card: &serde_json::Value,
        dir: &Directory,
        now: i64,
    ) -> Result<Rule<()>> {
        self.settle_fanouts(corpid, None, &|| true).await?;
        let mut tx = self.write.begin().await?;
        let spent = sqlx::query("UPDATE response_codes SET spent = 1 WHERE corpid = $1 AND code = $2 AND spent = 0 AND created_at >= $3")
            .bind(corpid)
            .bind(code)
            .bind(now - RESPONSE_CODE_TTL)
            .execute(&mut *tx)
            .await?;
        if spent.rows_affected() == 0 {
            return Ok(Err(Errcode::InvalidResponseCode));
        }
        let groups = format!("{} UNION {}", Keys::departments(&dir.tree, parties), Keys::tags(&dir.tree, &dir.tag_parties, tags));
        set_cards(&mut tx, corpid, seq, userids.map(|u| (u, groups.as_str())), card).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The corp's interactive_taskcard messages with this task_id (task_ids are
    /// unique per app, so at most one per app).
    pub async fn taskcards(&self, corpid: &str, task_id: &str) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.corpid = $1 AND m.task_id = $2 AND m.msgtype = 'interactive_taskcard'"
        );
        Ok(sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(task_id).fetch_all(&self.read).await?.iter().map(message_of).collect())
    }

    /// The named members who received message `seq` now see `card`, no response_code spent:
    /// update_taskcard (a task card may be updated again) and a passive reply to a card click.
    pub async fn show_card(&self, corpid: &str, seq: i64, userids: &[String], card: &serde_json::Value) -> Result<()> {
        let mut tx = self.write.begin().await?;
        set_cards(&mut tx, corpid, seq, Some((userids, NOBODY)), card).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a member received, oldest first.
    pub async fn inbox(&self, corpid: &str, userid: &str) -> Result<Vec<InboxItem>> {
        self.settle_fanouts(corpid, None, &|| true).await?;
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, r.card FROM message_recipients r JOIN messages m ON m.corpid = r.corpid AND m.seq = r.seq \
             WHERE r.corpid = $1 AND r.userid_key = $2 ORDER BY r.seq"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(userid.to_lowercase()).fetch_all(&self.read).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let card: String = r.get("card");
                InboxItem { message: message_of(r), card_update: serde_json::from_str(&card).ok() }
            })
            .collect())
    }

    /// The messages sent to an appchat, oldest first: all, or those of one sender.
    pub async fn appchat_messages(&self, corpid: &str, chatid: &str, sender: Option<Sender<'_>>) -> Result<Vec<MessageRow>> {
        // `chatid <> ''` lets the partial index on (corpid, chatid, sender) serve it.
        let by = if sender.is_some() { " AND m.sender = $3 AND m.chatid <> ''" } else { "" };
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.corpid = $1 AND m.chatid = $2{by} ORDER BY m.seq");
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(chatid);
        if let Some(sender) = sender {
            q = q.bind(sender.key());
        }
        Ok(q.fetch_all(&self.read).await?.iter().map(message_of).collect())
    }
}

/// `INSERT … SELECT` of recipient rows for message `$1`/`$2` at `now`, from members named `x`.
pub(crate) fn insert_recipients(throttle: Throttle, now: i64) -> String {
    format!(
        "INSERT INTO message_recipients (corpid, seq, userid_key, throttle, sent_at) SELECT $1, $2, x.userid_key, '{}', {now} FROM",
        throttle.key()
    )
}

/// `AND …` clauses leaving out the members `x` a throttle has had enough of, for message `seq` sent
/// at `now`. A quota fewer earlier messages used than its limit can stop nobody and is left out.
pub(crate) async fn throttled(tx: &mut Transaction<'static, Any>, corpid: &str, seq: i64, throttle: Throttle, now: i64) -> Result<String> {
    let key = throttle.key();
    let mut out = String::new();
    for q in throttle.quotas() {
        let start = q.start(now);
        let used: i64 = sqlx::query("SELECT COUNT(*) FROM messages WHERE corpid = $1 AND throttle = $2 AND created_at >= $3 AND seq < $4")
            .bind(corpid)
            .bind(&key)
            .bind(start)
            .bind(seq)
            .fetch_one(&mut **tx)
            .await?
            .get(0);
        if used >= q.limit {
            out.push_str(&format!(
                " AND (SELECT COUNT(*) FROM message_recipients t WHERE t.corpid = $1 AND t.userid_key = x.userid_key \
                 AND t.throttle = '{key}' AND t.sent_at >= {start} AND t.seq < $2) < {}",
                q.limit
            ));
        }
    }
    Ok(out)
}

/// Stores what an @all will be expanded to (the sender's ranges as they are now).
async fn queue_fanout(tx: &mut Transaction<'static, Any>, corpid: &str, seq: i64, agentid: i64, ranges: &[Range], now: i64) -> Result<()> {
    let ranges = serde_json::to_string(ranges).map_err(|e| StoreError::Invalid(format!("ranges: {e}")))?;
    sqlx::query(
        "INSERT INTO fanouts (corpid, seq, agentid, ranges, sent_at, done_through, claimed_until) VALUES ($1, $2, $3, $4, $5, '', 0)",
    )
    .bind(corpid)
    .bind(seq)
    .bind(agentid)
    .bind(ranges)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores a message and delivers it to its audience inside the caller's transaction: the one
/// writer of messages and inboxes (message/send, appchat/send, robots in appchats). With a
/// duplicate key, a matching message of the same app inside the window is answered instead and
/// nothing new is delivered. A task_id the app used before answers 42014. `None` when an earlier
/// @all of the same app is pending (nothing was written).
pub(crate) async fn write_message(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    msg: &NewMessage<'_>,
    to: &Audience,
    dir: &Directory,
    now: i64,
) -> Result<Option<Rule<Sent>>> {
    let throttle = Throttle::of(msg.agentid, msg.chatid);
    // Takes the corp's row: messages are numbered, and duplicates decided, in send order.
    let seq: i64 = sqlx::query("UPDATE corps SET message_seq = message_seq + 1 WHERE corpid = $1 RETURNING message_seq")
        .bind(corpid)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no corp {corpid}")))?
        .get(0);
    if let Some((key, window)) = &msg.duplicate {
        let earlier = sqlx::query(
            "SELECT msgid FROM messages WHERE corpid = $1 AND agentid = $2 AND duplicate_key = $3 AND created_at > $4 ORDER BY seq DESC LIMIT 1",
        )
        .bind(corpid)
        .bind(msg.agentid)
        .bind(key)
        .bind(now - window)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = earlier {
            return Ok(Some(Ok(Sent { msgid: r.get(0), response_code: None, recipients: 0, fanout: false })));
        }
    }
    if let Some(task_id) = msg.task_id {
        let used = sqlx::query("SELECT 1 FROM messages WHERE corpid = $1 AND agentid = $2 AND task_id = $3")
            .bind(corpid)
            .bind(msg.agentid)
            .bind(task_id)
            .fetch_optional(&mut **tx)
            .await?;
        if used.is_some() {
            return Ok(Some(Err(Errcode::InvalidTaskId)));
        }
    }
    // Holding the corp's row: no @all of this app can be queued after this check and before
    // this message. A later @all waits its turn in the fan-out instead.
    if matches!(to, Audience::Named { .. }) {
        let pending = sqlx::query("SELECT 1 FROM fanouts WHERE corpid = $1 AND agentid = $2 LIMIT 1")
            .bind(corpid)
            .bind(msg.agentid)
            .fetch_optional(&mut **tx)
            .await?;
        if pending.is_some() {
            return Ok(None);
        }
    }
    let msgid = new_msgid();
    sqlx::query(
        "INSERT INTO messages (corpid, seq, msgid, sender, agentid, chatid, msgtype, content, safe, created_at, recalled_at, \
         duplicate_key, task_id, recipients, throttle) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, 0, $13)",
    )
    .bind(corpid)
    .bind(seq)
    .bind(&msgid)
    .bind(msg.sender.key())
    .bind(msg.agentid)
    .bind(msg.chatid)
    .bind(msg.msgtype)
    .bind(msg.content.to_string())
    .bind(msg.safe)
    .bind(now)
    .bind(msg.duplicate.as_ref().map_or("", |(k, _)| k.as_str()))
    .bind(msg.task_id.unwrap_or(""))
    .bind(throttle.key())
    .execute(&mut **tx)
    .await?;
    let response_code = msg.updatable.then(new_response_code);
    if let Some(code) = &response_code {
        issue_response_code(tx, corpid, code, seq, "", now).await?;
    }
    let recipients = deliver(tx, corpid, seq, msg.agentid, to, dir, throttle, now).await?;
    sqlx::query("UPDATE messages SET recipients = $1 WHERE corpid = $2 AND seq = $3")
        .bind(recipients)
        .bind(corpid)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    Ok(Some(Ok(Sent { msgid, response_code, recipients, fanout: matches!(to, Audience::Everyone { .. }) })))
}

/// Stores a response_code for the card of message `seq`, issued at `now` by message/send (`userid`
/// '') or to the member whose click carries it.
pub(crate) async fn issue_response_code(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    code: &str,
    seq: i64,
    userid: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO response_codes (corpid, code, seq, userid_key, created_at, spent) VALUES ($1, $2, $3, $4, $5, 0)")
        .bind(corpid)
        .bind(code)
        .bind(seq)
        .bind(userid.to_lowercase())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writes the recipient rows of message `seq` to named recipients or a chat, or queues an @all;
/// returns how many members it reached so far.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    seq: i64,
    agentid: i64,
    to: &Audience,
    dir: &Directory,
    throttle: Throttle,
    now: i64,
) -> Result<i64> {
    let mut keys = Keys::new(3);
    match to {
        Audience::Everyone { ranges } => {
            queue_fanout(tx, corpid, seq, agentid, ranges, now).await?;
            Ok(0)
        }
        Audience::Chat(chatid) => {
            let (insert, throttled) = (insert_recipients(throttle, now), throttled(tx, corpid, seq, throttle, now).await?);
            keys.strings.push(chatid.clone());
            let sql = format!("{insert} appchat_members x WHERE x.corpid = $1 AND x.chatid = $3{throttled}");
            Ok(run_seq(sql, corpid, seq, &keys).execute(&mut **tx).await?.rows_affected() as i64)
        }
        Audience::Named { userids, parties, tags, ranges } => {
            let (insert, throttled) = (insert_recipients(throttle, now), throttled(tx, corpid, seq, throttle, now).await?);
            let mut reached = 0;
            for chunk in userids.chunks(USER_BATCH) {
                let mut named = Keys::new(3);
                let list = named.users(chunk);
                // SQLite parses an upsert after INSERT … SELECT only when the SELECT has a WHERE.
                let sql = format!("{insert} ({list}) x WHERE 1 = 1{throttled} ON CONFLICT DO NOTHING");
                reached += run_seq(sql, corpid, seq, &named).execute(&mut **tx).await?.rows_affected();
            }
            if parties.is_empty() && tags.is_empty() {
                return Ok(reached as i64);
            }
            let groups = format!("{} UNION {}", Keys::departments(&dir.tree, parties), Keys::tags(&dir.tree, &dir.tag_parties, tags));
            let within = keys.within(ranges, &dir.tree, &dir.tag_parties);
            let sql = format!("{insert} ({groups}) x WHERE 1 = 1{within}{throttled} ON CONFLICT DO NOTHING");
            let more = run_seq(sql, corpid, seq, &keys).execute(&mut **tx).await?.rows_affected();
            Ok((reached + more) as i64)
        }
    }
}

/// Writes what recipients of message `seq` now see of its card: every recipient (`None`), or the
/// named userids and the members the `groups` SQL selects.
async fn set_cards(
    tx: &mut Transaction<'static, Any>,
    corpid: &str,
    seq: i64,
    targets: Option<(&[String], &str)>,
    card: &serde_json::Value,
) -> Result<()> {
    let base = "UPDATE message_recipients SET card = $3 WHERE corpid = $1 AND seq = $2";
    let mut statements = Vec::new();
    let with_card = || {
        let mut keys = Keys::new(3);
        keys.strings.push(card.to_string());
        keys
    };
    match targets {
        None => statements.push((base.to_string(), with_card())),
        Some((userids, groups)) => {
            if groups != NOBODY {
                statements.push((format!("{base} AND userid_key IN ({groups})"), with_card()));
            }
            for chunk in userids.chunks(USER_BATCH) {
                let mut keys = with_card();
                let sql = format!("{base} AND userid_key IN ({})", keys.users(chunk));
                statements.push((sql, keys));
            }
        }
    }
    for (sql, keys) in &statements {
        run_seq(sql.clone(), corpid, seq, keys).execute(&mut **tx).await?;
    }
    Ok(())
}

pub(crate) fn run_seq<'q>(sql: String, corpid: &'q str, seq: i64, keys: &'q Keys) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(corpid).bind(seq);
    for s in &keys.strings {
        q = q.bind(s.as_str());
    }
    q
}

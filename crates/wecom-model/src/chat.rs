//! The legacy chat service (企业会话服务, legacy-api.md §7): chatid, name, owner and member rules of
//! chat/create, update and quit, what chat/send, clearnotify and setmute accept, and the views.
//! Whether a userid exists is the store's to say; these rules take members already resolved.

use crate::{ApiError, Errcode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A chat has at least 3 members and fewer than 1000 (legacy-api.md §7.2).
pub const MIN_MEMBERS: usize = 3;
pub const MAX_MEMBERS: usize = 999;
/// The legacy limit on a chat's name is not known; appchat's 50 characters is used.
pub const NAME_MAX_CHARS: usize = 50;
/// chat/setmute takes at most 10000 entries.
pub const MUTE_LIST_MAX: usize = 10_000;
/// Text messages carry at most 2048 bytes, as message/send's.
pub const TEXT_MAX_BYTES: usize = 2048;

/// A chat as stored: userids in their stored case, in the order they joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub chatid: String,
    pub name: String,
    pub owner: String,
    pub userlist: Vec<String>,
}

impl Chat {
    pub fn has(&self, userid: &str) -> bool {
        self.userlist.iter().any(|u| u.eq_ignore_ascii_case(userid))
    }
}

/// chatid: ≤ 32 of `[0-9a-zA-Z]`; a number must lie in [1, 2^63), the rest being the system's.
pub fn check_chatid(chatid: Option<&str>) -> Result<&str, Errcode> {
    let chatid = chatid.filter(|c| !c.is_empty()).ok_or(Errcode::ChatidMissing)?;
    if chatid.len() > 32 {
        return Err(Errcode::ChatidTooLong);
    }
    if !chatid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Errcode::InvalidChatid);
    }
    if chatid.bytes().all(|b| b.is_ascii_digit()) {
        match chatid.parse::<u64>() {
            Ok(0) => return Err(Errcode::InvalidChatid),
            Ok(n) if n < 1 << 63 => {}
            _ => return Err(Errcode::ChatidTooBig),
        }
    }
    Ok(chatid)
}

fn check_name(name: &str) -> Result<(), Errcode> {
    if name.trim().is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(Errcode::InvalidChatName);
    }
    Ok(())
}

fn check_size(n: usize) -> Result<(), Errcode> {
    if (MIN_MEMBERS..=MAX_MEMBERS).contains(&n) {
        Ok(())
    } else {
        Err(Errcode::InvalidChatMemberSize)
    }
}

/// Userids without repeats (ignoring case), first spelling kept.
pub fn distinct(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in list {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(u)) {
            out.push(u.clone());
        }
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct CreateBody {
    pub chatid: Option<String>,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub userlist: Option<Vec<String>>,
}

/// chat/create's checks that need no store, in this order: chatid, name, owner, userlist, size,
/// owner among the members. Returns the chat with userids as given (the store resolves them).
pub fn create(body: CreateBody) -> Result<Chat, Errcode> {
    let chatid = check_chatid(body.chatid.as_deref())?.to_string();
    let name = body.name.ok_or(Errcode::ChatNameMissing)?;
    check_name(&name)?;
    let owner = body.owner.filter(|o| !o.is_empty()).ok_or(Errcode::ChatOwnerMissing)?;
    let userlist = distinct(&body.userlist.filter(|l| !l.is_empty()).ok_or(Errcode::ChatMemberMissing)?);
    check_size(userlist.len())?;
    let chat = Chat { chatid, name, owner, userlist };
    if !chat.has(&chat.owner) {
        return Err(Errcode::ChatOwnerNotInUserlist);
    }
    Ok(chat)
}

#[derive(Debug, Deserialize)]
pub struct UpdateBody {
    pub chatid: Option<String>,
    pub op_user: Option<String>,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub add_user_list: Option<Vec<String>>,
    pub del_user_list: Option<Vec<String>>,
}

/// What chat/update asks, with added members already resolved to stored userids.
pub struct Change<'a> {
    pub op_user: &'a str,
    pub name: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub add: &'a [String],
    pub del: &'a [String],
}

/// chat/update on the chat as it is. Any member may rename and add; handing the chat over and
/// removing others is the owner's (86101). Returns the chat as it becomes.
pub fn update(chat: &Chat, change: &Change) -> Result<Chat, Errcode> {
    let op = stored(chat, change.op_user).ok_or(Errcode::ChatSenderNotInChat)?;
    let mut next = chat.clone();
    if let Some(name) = change.name {
        check_name(name)?;
        next.name = name.to_string();
    }
    for d in distinct(change.del) {
        let member = stored(chat, &d).ok_or(Errcode::InvalidChatMemberId)?;
        if member != op && op != chat.owner {
            return Err(Errcode::OnlyChatOwner);
        }
        next.userlist.retain(|u| u != &member);
    }
    for a in change.add {
        if !next.has(a) {
            next.userlist.push(a.clone());
        }
    }
    if let Some(owner) = change.owner.filter(|o| !o.eq_ignore_ascii_case(&chat.owner)) {
        if op != chat.owner {
            return Err(Errcode::OnlyChatOwner);
        }
        next.owner = stored(&next, owner).ok_or(Errcode::ChatOwnerNotInUserlist)?;
    }
    if !next.has(&next.owner) {
        return Err(Errcode::ChatOwnerNotInUserlist);
    }
    check_size(next.userlist.len())?;
    Ok(next)
}

/// chat/quit: a member leaves; an owner who leaves hands the chat to the longest-standing member.
pub fn quit(chat: &Chat, op_user: &str) -> Result<Chat, Errcode> {
    let op = stored(chat, op_user).ok_or(Errcode::ChatSenderNotInChat)?;
    let mut next = chat.clone();
    next.userlist.retain(|u| u != &op);
    if op == chat.owner {
        next.owner = next.userlist.first().cloned().unwrap_or_default();
    }
    Ok(next)
}

fn stored(chat: &Chat, userid: &str) -> Option<String> {
    chat.userlist.iter().find(|u| u.eq_ignore_ascii_case(userid)).cloned()
}

pub fn get_view(chat: &Chat) -> Map<String, Value> {
    let Value::Object(m) = json!({ "chat_info": chat }) else { unreachable!() };
    m
}

/// A single (one-to-one) or group conversation, as chat/send, clearnotify and the callbacks
/// name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receiver {
    #[serde(rename = "type")]
    pub kind: ReceiverKind,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverKind {
    Single,
    Group,
}

impl ReceiverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Single => "single",
            ReceiverKind::Group => "group",
        }
    }
}

/// `{"type":"single|group","id":"…"}`; anything else is 86220.
pub fn receiver(v: Option<&Value>) -> Result<Receiver, Errcode> {
    let r: Receiver = v.and_then(|v| serde_json::from_value(v.clone()).ok()).ok_or(Errcode::InvalidChatParam)?;
    if r.id.is_empty() {
        return Err(Errcode::InvalidChatParam);
    }
    Ok(r)
}

/// A message sent in a chat: who to, who from, its type and payload as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outgoing {
    pub receiver: Receiver,
    pub sender: String,
    pub msgtype: String,
    pub payload: Value,
}

/// chat/send's checks that need no store: receiver, sender, msgtype (text, image, file, voice,
/// link), then the payload.
pub fn send(body: &Map<String, Value>) -> Result<Outgoing, ApiError> {
    let receiver = receiver(body.get("receiver"))?;
    let sender = body.get("sender").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or(Errcode::InvalidChatParam)?;
    let msgtype = body.get("msgtype").and_then(Value::as_str).ok_or(Errcode::InvalidChatParam)?;
    let payload = body.get(msgtype).and_then(Value::as_object);
    let field = |name: &str| payload.and_then(|p| p.get(name)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let payload = match msgtype {
        "text" => {
            let content = field("content").ok_or(Errcode::EmptyContent)?;
            if content.len() > TEXT_MAX_BYTES {
                return Err(ApiError::with_detail(Errcode::ContentSizeOutOfLimit, format!("text over {TEXT_MAX_BYTES} bytes")));
            }
            json!({ "content": content })
        }
        "image" | "file" | "voice" => json!({ "media_id": field("media_id").ok_or(Errcode::MediaIdMissing)? }),
        "link" => {
            let (title, url) = (field("title"), field("url"));
            let (Some(title), Some(url)) = (title, url) else { return Err(Errcode::InvalidChatParam.into()) };
            json!({ "title": title, "description": field("description").unwrap_or(""), "url": url,
                    "thumb_media_id": field("thumb_media_id").unwrap_or("") })
        }
        _ => return Err(Errcode::InvalidChatParam.into()),
    };
    Ok(Outgoing { receiver, sender: sender.to_string(), msgtype: msgtype.to_string(), payload })
}

/// chat/clearnotify: `{"op_user","chat":{"type","id"}}`.
pub fn clearnotify(body: &Map<String, Value>) -> Result<(&str, Receiver), Errcode> {
    let op_user = body.get("op_user").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or(Errcode::InvalidChatParam)?;
    Ok((op_user, receiver(body.get("chat"))?))
}

/// One entry of chat/setmute: 1 mutes the member's new-message notices, 0 lifts that.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mute {
    pub userid: String,
    pub status: i64,
}

#[derive(Debug, Deserialize)]
pub struct SetmuteBody {
    pub user_mute_list: Option<Vec<Mute>>,
}

pub fn setmute(body: SetmuteBody) -> Result<Vec<Mute>, Errcode> {
    let list = body.user_mute_list.filter(|l| !l.is_empty()).ok_or(Errcode::InvalidChatParam)?;
    if list.len() > MUTE_LIST_MAX || list.iter().any(|m| m.status != 0 && m.status != 1) {
        return Err(Errcode::InvalidChatParam);
    }
    Ok(list)
}

/// setmute's answer names the unknown userids as an array (legacy-api.md §7.2), always present.
pub fn setmute_view(invalid: &[String]) -> Map<String, Value> {
    let Value::Object(m) = json!({ "invaliduser": invalid }) else { unreachable!() };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn chat() -> Chat {
        Chat { chatid: "c1".into(), name: "Team".into(), owner: "zhangsan".into(), userlist: users(&["zhangsan", "lisi", "wangwu"]) }
    }

    #[test]
    fn chatids() {
        assert_eq!(check_chatid(None), Err(Errcode::ChatidMissing));
        assert_eq!(check_chatid(Some("")), Err(Errcode::ChatidMissing));
        assert_eq!(check_chatid(Some("abc123XYZ")), Ok("abc123XYZ"));
        assert_eq!(check_chatid(Some(&"a".repeat(32))).map(str::len), Ok(32));
        assert_eq!(check_chatid(Some(&"a".repeat(33))), Err(Errcode::ChatidTooLong));
        assert_eq!(check_chatid(Some("a-b")), Err(Errcode::InvalidChatid));
        assert_eq!(check_chatid(Some("项目")), Err(Errcode::InvalidChatid));
        assert_eq!(check_chatid(Some("0")), Err(Errcode::InvalidChatid));
        assert_eq!(check_chatid(Some("9223372036854775807")), Ok("9223372036854775807"), "2^63 - 1");
        assert_eq!(check_chatid(Some("9223372036854775808")), Err(Errcode::ChatidTooBig), "2^63 is the system's");
        assert_eq!(check_chatid(Some("99999999999999999999")), Err(Errcode::ChatidTooBig));
    }

    fn body(v: Value) -> CreateBody {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn create_rules_in_order() {
        let ok = json!({"chatid":"c1","name":"Team","owner":"zhangsan","userlist":["zhangsan","lisi","wangwu"]});
        assert_eq!(create(body(ok.clone())), Ok(chat()));
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            create(body(b))
        };
        assert_eq!(with("chatid", Value::Null), Err(Errcode::ChatidMissing));
        assert_eq!(with("name", Value::Null), Err(Errcode::ChatNameMissing));
        assert_eq!(with("name", json!("  ")), Err(Errcode::InvalidChatName));
        assert_eq!(with("name", json!("名".repeat(51))), Err(Errcode::InvalidChatName));
        assert_eq!(with("owner", json!("")), Err(Errcode::ChatOwnerMissing));
        assert_eq!(with("userlist", json!([])), Err(Errcode::ChatMemberMissing));
        assert_eq!(with("userlist", json!(["zhangsan", "lisi", "LISI"])), Err(Errcode::InvalidChatMemberSize), "repeats count once");
        let many: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
        assert_eq!(with("userlist", json!(many)), Err(Errcode::InvalidChatMemberSize), "fewer than 1000");
        assert!(with("userlist", json!(many[..999])).is_err(), "owner missing from these 999");
        assert_eq!(with("owner", json!("zhaoliu")), Err(Errcode::ChatOwnerNotInUserlist));
        assert!(with("owner", json!("ZhangSan")).is_ok(), "userids ignore case");
    }

    fn change<'a>(op: &'a str, add: &'a [String], del: &'a [String]) -> Change<'a> {
        Change { op_user: op, name: None, owner: None, add, del }
    }

    #[test]
    fn update_rules() {
        let none: Vec<String> = vec![];
        let c = chat();
        let added = update(&c, &change("lisi", &users(&["zhaoliu"]), &none)).unwrap();
        assert_eq!(added.userlist, users(&["zhangsan", "lisi", "wangwu", "zhaoliu"]), "any member may add");
        assert_eq!(update(&c, &change("nobody", &none, &none)), Err(Errcode::ChatSenderNotInChat));
        assert_eq!(update(&c, &change("lisi", &none, &users(&["wangwu"]))), Err(Errcode::OnlyChatOwner));
        assert_eq!(update(&c, &change("zhangsan", &none, &users(&["zhaoliu"]))), Err(Errcode::InvalidChatMemberId));
        assert_eq!(update(&c, &change("zhangsan", &none, &users(&["wangwu"]))), Err(Errcode::InvalidChatMemberSize), "3 at least");
        assert_eq!(update(&c, &change("zhangsan", &users(&["zhaoliu"]), &users(&["zhangsan"]))), Err(Errcode::ChatOwnerNotInUserlist));
        let mut handover = change("zhangsan", &none, &none);
        handover.owner = Some("LISI");
        assert_eq!(update(&c, &handover).unwrap().owner, "lisi", "stored case");
        handover.op_user = "wangwu";
        assert_eq!(update(&c, &handover), Err(Errcode::OnlyChatOwner));
        let mut rename = change("wangwu", &none, &none);
        rename.name = Some("");
        assert_eq!(update(&c, &rename), Err(Errcode::InvalidChatName));
        rename.name = Some("New");
        assert_eq!(update(&c, &rename).unwrap().name, "New");
    }

    #[test]
    fn quitting_owner_hands_over() {
        let c = chat();
        let q = quit(&c, "ZHANGSAN").unwrap();
        assert_eq!((q.owner.as_str(), q.userlist.len()), ("lisi", 2));
        assert_eq!(quit(&c, "wangwu").unwrap().owner, "zhangsan");
        assert_eq!(quit(&c, "nobody"), Err(Errcode::ChatSenderNotInChat));
    }

    fn sent(v: Value) -> Result<Outgoing, i64> {
        send(v.as_object().unwrap()).map_err(|e| e.errcode)
    }

    #[test]
    fn send_checks() {
        let r = json!({"type":"group","id":"c1"});
        let o = sent(json!({"receiver": r, "sender":"zhangsan","msgtype":"text","text":{"content":"hi"}})).unwrap();
        assert_eq!((o.receiver.kind, o.payload["content"].as_str()), (ReceiverKind::Group, Some("hi")));
        assert_eq!(sent(json!({"sender":"a","msgtype":"text","text":{"content":"hi"}})), Err(86220));
        assert_eq!(sent(json!({"receiver":{"type":"room","id":"c1"},"sender":"a","msgtype":"text","text":{"content":"x"}})), Err(86220));
        assert_eq!(sent(json!({"receiver": r, "msgtype":"text","text":{"content":"x"}})), Err(86220));
        assert_eq!(sent(json!({"receiver": r, "sender":"a","msgtype":"video","video":{"media_id":"m"}})), Err(86220));
        assert_eq!(sent(json!({"receiver": r, "sender":"a","msgtype":"text","text":{}})), Err(44004));
        assert_eq!(sent(json!({"receiver": r, "sender":"a","msgtype":"text","text":{"content":"x".repeat(2049)}})), Err(45002));
        assert_eq!(sent(json!({"receiver": r, "sender":"a","msgtype":"image","image":{}})), Err(41006));
        assert!(sent(json!({"receiver": r, "sender":"a","msgtype":"voice","voice":{"media_id":"m"}})).is_ok());
        assert_eq!(sent(json!({"receiver": r, "sender":"a","msgtype":"link","link":{"title":"t"}})), Err(86220));
    }

    #[test]
    fn setmute_checks() {
        let b = |v: Value| setmute(serde_json::from_value(v).unwrap());
        assert_eq!(b(json!({})), Err(Errcode::InvalidChatParam));
        assert_eq!(b(json!({"user_mute_list":[{"userid":"a","status":2}]})), Err(Errcode::InvalidChatParam));
        assert_eq!(b(json!({"user_mute_list":[{"userid":"a","status":1}]})).unwrap().len(), 1);
        assert_eq!(setmute_view(&[])["invaliduser"], json!([]));
    }
}

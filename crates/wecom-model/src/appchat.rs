//! App group chats (应用群聊, wecom-api.md §9.5; legacy-api.md §7.4): who may use them, chatid,
//! name, owner and member rules with their errcodes, and the answers. Message content is checked
//! by `message::check_content` with `Channel::AppChat`.

use crate::credential::Scope;
use crate::scope::Range;
use crate::{ApiError, Errcode};
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{json, Map, Value};

/// A chat name keeps its first 50 characters.
pub const NAME_MAX_CHARS: usize = 50;
pub const MEMBERS_MIN: usize = 2;
pub const MEMBERS_MAX: usize = 2000;
pub const CHATID_MAX: usize = 32;
/// A corp creates at most 1,000 chats a day (doc 90245), 45009 beyond.
pub const CREATES_PER_DAY: i64 = 1000;

/// A chat as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub chatid: String,
    pub name: String,
    pub owner: String,
    /// The self-built app that created it and alone manages it.
    pub agentid: i64,
    /// Members in the order they joined, each as stored.
    pub userlist: Vec<String>,
}

/// Only a self-built app whose visible range holds the root department may use appchat (48002);
/// the contacts-sync secret may not either.
pub fn app_may_chat(scope: Scope, range: &Range) -> Result<i64, Errcode> {
    match scope {
        Scope::App { agentid } if range.sees_department(&[crate::department::ROOT]) => Ok(agentid),
        _ => Err(Errcode::ApiForbidden),
    }
}

/// A chat another app created is not the caller's to touch (86008).
pub fn owned_by(chat: &Chat, agentid: i64) -> Result<(), Errcode> {
    if chat.agentid == agentid {
        Ok(())
    } else {
        Err(Errcode::ChatNotCreatedByApp)
    }
}

/// One more chat when the corp has created `today` since the day began (45009 beyond the limit).
pub fn check_daily_creates(today: i64) -> Result<(), Errcode> {
    if today < CREATES_PER_DAY {
        Ok(())
    } else {
        Err(Errcode::ApiFreqOutOfLimit)
    }
}

/// A chatid asked for at create: `[0-9a-zA-Z]` (86001), at most 32 characters (86205), and, when
/// all digits, within a signed 64-bit number (86206).
pub fn check_new_chatid(chatid: &str) -> Result<(), Errcode> {
    if chatid.is_empty() || !chatid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Errcode::InvalidChatid);
    }
    if chatid.len() > CHATID_MAX {
        return Err(Errcode::ChatidTooLong);
    }
    if chatid.bytes().all(|b| b.is_ascii_digit()) && chatid.parse::<i64>().is_err() {
        return Err(Errcode::ChatidTooBig);
    }
    Ok(())
}

/// A chatid wecomd makes when none is asked for: 32 letters and digits.
pub fn new_chatid() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), CHATID_MAX)
}

/// A chatid naming an existing chat: absent 86201.
pub fn required_chatid(chatid: Option<&str>) -> Result<&str, Errcode> {
    chatid.filter(|c| !c.is_empty()).ok_or(Errcode::ChatidMissing)
}

/// Longer names are cut, not refused.
pub fn chat_name(name: Option<&str>) -> String {
    name.unwrap_or("").chars().take(NAME_MAX_CHARS).collect()
}

/// 2–2000 members (86006).
pub fn check_size(members: usize) -> Result<(), Errcode> {
    if (MEMBERS_MIN..=MEMBERS_MAX).contains(&members) {
        Ok(())
    } else {
        Err(Errcode::InvalidChatMemberSize)
    }
}

/// The owner must be one of the members (86207); without one the first member owns the chat.
pub fn owner_of(owner: Option<&str>, members: &[String]) -> Result<String, Errcode> {
    match owner.filter(|o| !o.is_empty()) {
        None => members.first().cloned().ok_or(Errcode::ChatMemberMissing),
        Some(o) => members.iter().find(|m| m.eq_ignore_ascii_case(o)).cloned().ok_or(Errcode::ChatOwnerNotInUserlist),
    }
}

/// appchat/update's new member list: each added userid must be a member of the corp and not in the
/// chat yet, each removed one in the chat (86216); the result stays within 2–2000 and keeps its
/// owner (86207).
pub fn updated_members(current: &[String], add: &[String], del: &[String]) -> Result<Vec<String>, Errcode> {
    let has = |list: &[String], u: &str| list.iter().any(|m| m.eq_ignore_ascii_case(u));
    if del.iter().any(|u| !has(current, u)) || add.iter().any(|u| has(current, u) && !has(del, u)) {
        return Err(Errcode::InvalidChatMemberId);
    }
    let mut next: Vec<String> = current.iter().filter(|m| !has(del, m)).cloned().collect();
    for u in add {
        if !has(&next, u) {
            next.push(u.clone());
        }
    }
    check_size(next.len())?;
    Ok(next)
}

/// appchat/get: `chat_info` with chat_type 0 (chats made through the API are regular groups).
pub fn get_view(chat: &Chat) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "chat_info".into(),
        json!({ "chatid": chat.chatid, "name": chat.name, "owner": chat.owner, "userlist": chat.userlist, "chat_type": 0 }),
    );
    m
}

pub fn created_view(chatid: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("chatid".into(), chatid.into());
    m
}

/// A userid list from a JSON body: absent or not a list of strings answers `missing`.
pub fn userids(v: Option<&Value>, missing: Errcode) -> Result<Vec<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Err(missing.into()),
        Some(Value::Array(a)) => {
            let mut out: Vec<String> = Vec::new();
            for u in a {
                let u = u.as_str().ok_or_else(|| ApiError::with_detail(Errcode::InvalidChatMember, u))?;
                if !out.iter().any(|o| o.eq_ignore_ascii_case(u)) {
                    out.push(u.to_string());
                }
            }
            Ok(out)
        }
        Some(other) => Err(ApiError::with_detail(Errcode::InvalidChatMember, other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn who_may_chat() {
        let root = Range::Visible { users: vec![], parties: vec![1], tags: vec![] };
        let part = Range::Visible { users: vec![], parties: vec![2], tags: vec![] };
        assert_eq!(app_may_chat(Scope::App { agentid: 7 }, &root), Ok(7));
        assert_eq!(app_may_chat(Scope::App { agentid: 7 }, &part), Err(Errcode::ApiForbidden));
        assert_eq!(app_may_chat(Scope::ContactSync, &Range::All), Err(Errcode::ApiForbidden));
    }

    #[test]
    fn chatids() {
        assert_eq!(check_new_chatid("abc123"), Ok(()));
        assert_eq!(check_new_chatid("has-dash"), Err(Errcode::InvalidChatid));
        assert_eq!(check_new_chatid(&"a".repeat(33)), Err(Errcode::ChatidTooLong));
        assert_eq!(check_new_chatid("99999999999999999999"), Err(Errcode::ChatidTooBig));
        assert_eq!(check_new_chatid("12345"), Ok(()));
        let id = new_chatid();
        assert_eq!(check_new_chatid(&id), Ok(()));
        assert_eq!(required_chatid(Some("")), Err(Errcode::ChatidMissing));
    }

    #[test]
    fn names_owners_sizes() {
        assert_eq!(chat_name(Some(&"群".repeat(60))).chars().count(), 50);
        assert_eq!(check_size(1), Err(Errcode::InvalidChatMemberSize));
        assert_eq!(check_size(2001), Err(Errcode::InvalidChatMemberSize));
        assert_eq!(check_daily_creates(999), Ok(()));
        assert_eq!(check_daily_creates(1000), Err(Errcode::ApiFreqOutOfLimit));
        assert_eq!(owner_of(None, &s(&["a", "b"])), Ok("a".into()));
        assert_eq!(owner_of(Some("B"), &s(&["a", "b"])), Ok("b".into()));
        assert_eq!(owner_of(Some("c"), &s(&["a", "b"])), Err(Errcode::ChatOwnerNotInUserlist));
    }

    #[test]
    fn member_updates() {
        let cur = s(&["a", "b", "c"]);
        assert_eq!(updated_members(&cur, &s(&["d"]), &s(&["a"])), Ok(s(&["b", "c", "d"])));
        assert_eq!(updated_members(&cur, &[], &s(&["x"])), Err(Errcode::InvalidChatMemberId));
        assert_eq!(updated_members(&cur, &s(&["b"]), &[]), Err(Errcode::InvalidChatMemberId));
        assert_eq!(updated_members(&cur, &[], &s(&["a", "b"])), Err(Errcode::InvalidChatMemberSize));
    }
}

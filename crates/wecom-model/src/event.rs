//! Events the platform pushes to apps, as recorded in the outbox: change_contact (wecom-api.md
//! §10.7) and the legacy chat service's packages (legacy-api.md §7.3). Rendering them as XML and
//! delivering them is the callbacks' work.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    CreateUser,
    UpdateUser,
    DeleteUser,
    CreateParty,
    UpdateParty,
    DeleteParty,
    UpdateTag,
}

impl ChangeType {
    /// The `ChangeType` element's text.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::CreateUser => "create_user",
            ChangeType::UpdateUser => "update_user",
            ChangeType::DeleteUser => "delete_user",
            ChangeType::CreateParty => "create_party",
            ChangeType::UpdateParty => "update_party",
            ChangeType::DeleteParty => "delete_party",
            ChangeType::UpdateTag => "update_tag",
        }
    }
}

/// One change_contact event: its ChangeType and the elements that follow it, in the platform's
/// order (`UserID`, `Name`, `Department` as "1,2", …). Only elements that apply are present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeContact {
    pub change_type: ChangeType,
    pub items: Vec<(String, String)>,
}

impl ChangeContact {
    pub fn new(change_type: ChangeType) -> Self {
        ChangeContact { change_type, items: Vec::new() }
    }

    pub fn item(mut self, name: &str, value: impl ToString) -> Self {
        self.items.push((name.to_string(), value.to_string()));
        self
    }

    /// Lists are comma-joined in these events ("1,2,3", "lisi,wangwu").
    pub fn list<T: ToString>(self, name: &str, values: &[T]) -> Self {
        let joined = values.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        self.item(name, joined)
    }
}

/// A package of chat items as the 企业号 chat service pushed them to the chat callback
/// (legacy-api.md §7.3): `AgentType` chat, `ItemCount`, `PackageId` (the receiver's acknowledgement
/// is this id as the response body), then each `Item`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatPackage {
    pub agent_type: String,
    pub package_id: String,
    pub item_count: usize,
    pub items: Vec<ChatItem>,
}

/// One item: its elements in the platform's order, then create_chat's `<ChatInfo>` with its own
/// elements, then a message's `<Receiver><Type/><Id/></Receiver>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatItem {
    pub elements: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_info: Option<Vec<(String, String)>>,
    pub receiver: Option<crate::chat::Receiver>,
}

impl ChatPackage {
    pub fn new(items: Vec<ChatItem>) -> Self {
        ChatPackage { agent_type: "chat".into(), package_id: new_message_id(), item_count: items.len(), items }
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Member lists are `|`-joined in chat items ("zhangsan|lisi").
fn joined(userids: &[String]) -> String {
    userids.join("|")
}

impl ChatItem {
    /// A text a member sent: FromUserName, CreateTime, MsgType, Content, MsgId, Receiver.
    pub fn text(from: &str, at: i64, content: &str, msgid: &str, receiver: crate::chat::Receiver) -> Self {
        let elements =
            pairs(&[("FromUserName", from), ("CreateTime", &at.to_string()), ("MsgType", "text"), ("Content", content), ("MsgId", msgid)]);
        ChatItem { elements, chat_info: None, receiver: Some(receiver) }
    }

    fn event(from: &str, at: i64, event: &str, rest: &[(&str, &str)]) -> Self {
        let mut elements = pairs(&[("FromUserName", from), ("CreateTime", &at.to_string()), ("MsgType", "event"), ("Event", event)]);
        elements.extend(pairs(rest));
        ChatItem { elements, chat_info: None, receiver: None }
    }

    /// create_chat, from the owner (chat/create names no one else): ChatInfo holds ChatId, Name,
    /// Owner and UserList.
    pub fn create_chat(chat: &crate::chat::Chat, at: i64) -> Self {
        let mut item = ChatItem::event(&chat.owner, at, "create_chat", &[]);
        item.chat_info =
            Some(pairs(&[("ChatId", &chat.chatid), ("Name", &chat.name), ("Owner", &chat.owner), ("UserList", &joined(&chat.userlist))]));
        item
    }

    /// update_chat from `op_user`: the chat's Name and Owner after the change, the members it
    /// gained and lost, ChatId.
    pub fn update_chat(op_user: &str, before: &crate::chat::Chat, after: &crate::chat::Chat, at: i64) -> Self {
        let missing = |from: &crate::chat::Chat, other: &crate::chat::Chat| -> Vec<String> {
            from.userlist.iter().filter(|u| !other.has(u)).cloned().collect()
        };
        let (added, removed) = (joined(&missing(after, before)), joined(&missing(before, after)));
        let from = before.userlist.iter().find(|u| u.eq_ignore_ascii_case(op_user)).map_or(op_user, String::as_str);
        ChatItem::event(
            from,
            at,
            "update_chat",
            &[
                ("Name", &after.name),
                ("Owner", &after.owner),
                ("AddUserList", &added),
                ("DelUserList", &removed),
                ("ChatId", &after.chatid),
            ],
        )
    }

    /// quit_chat: `member` (as stored) left the chat.
    pub fn quit_chat(member: &str, chatid: &str, at: i64) -> Self {
        ChatItem::event(member, at, "quit_chat", &[("ChatId", chatid)])
    }
}

/// MsgId and PackageId are 64-bit numbers written as digits (`2542659985437398667`).
pub fn new_message_id() -> String {
    ((rand::random::<u64>() >> 1) | (1 << 60)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_counts_its_items() {
        let r = crate::chat::Receiver { kind: crate::chat::ReceiverKind::Group, id: "c1".into() };
        let p = ChatPackage::new(vec![ChatItem::text("zhangsan", 1465560657, "hello", "7", r)]);
        assert_eq!((p.agent_type.as_str(), p.item_count), ("chat", 1));
        assert!(p.package_id.len() >= 18 && p.package_id.bytes().all(|b| b.is_ascii_digit()), "{}", p.package_id);
        let names: Vec<&str> = p.items[0].elements.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["FromUserName", "CreateTime", "MsgType", "Content", "MsgId"]);
        assert_ne!(new_message_id(), new_message_id());
    }

    #[test]
    fn chat_events() {
        let users = |l: &[&str]| l.iter().map(|u| u.to_string()).collect::<Vec<_>>();
        let before = crate::chat::Chat {
            chatid: "c1".into(),
            name: "Team".into(),
            owner: "zhangsan".into(),
            userlist: users(&["zhangsan", "lisi", "wangwu"]),
        };
        let created = ChatItem::create_chat(&before, 7);
        assert_eq!(
            created.elements,
            pairs(&[("FromUserName", "zhangsan"), ("CreateTime", "7"), ("MsgType", "event"), ("Event", "create_chat")])
        );
        assert_eq!(
            created.chat_info,
            Some(pairs(&[("ChatId", "c1"), ("Name", "Team"), ("Owner", "zhangsan"), ("UserList", "zhangsan|lisi|wangwu")]))
        );
        let after = crate::chat::Chat {
            name: "New".into(),
            owner: "lisi".into(),
            userlist: users(&["zhangsan", "lisi", "zhaoliu", "sunqi"]),
            ..before.clone()
        };
        let updated = ChatItem::update_chat("ZhangSan", &before, &after, 8);
        assert_eq!(
            updated.elements[3..],
            pairs(&[
                ("Event", "update_chat"),
                ("Name", "New"),
                ("Owner", "lisi"),
                ("AddUserList", "zhaoliu|sunqi"),
                ("DelUserList", "wangwu"),
                ("ChatId", "c1")
            ])
        );
        assert_eq!(updated.elements[0].1, "zhangsan", "the member's own spelling");
        let quit = ChatItem::quit_chat("lisi", "c1", 9);
        assert_eq!(
            quit.elements,
            pairs(&[("FromUserName", "lisi"), ("CreateTime", "9"), ("MsgType", "event"), ("Event", "quit_chat"), ("ChatId", "c1")])
        );
        assert_eq!((quit.chat_info, quit.receiver), (None, None));
    }

    #[test]
    fn items_keep_their_order_and_lists_are_comma_joined() {
        let e = ChangeContact::new(ChangeType::CreateUser)
            .item("UserID", "zhangsan")
            .list("Department", &[1, 2])
            .list("IsLeaderInDept", &[1, 0]);
        assert_eq!(e.change_type.as_str(), "create_user");
        assert_eq!(
            e.items,
            vec![("UserID".into(), "zhangsan".into()), ("Department".into(), "1,2".into()), ("IsLeaderInDept".into(), "1,0".into())]
        );
    }
}

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

/// One item: its elements in the platform's order, then `<Receiver><Type/><Id/></Receiver>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatItem {
    pub elements: Vec<(String, String)>,
    pub receiver: Option<crate::chat::Receiver>,
}

impl ChatPackage {
    pub fn new(items: Vec<ChatItem>) -> Self {
        ChatPackage { agent_type: "chat".into(), package_id: new_message_id(), item_count: items.len(), items }
    }
}

impl ChatItem {
    /// A text a member sent: FromUserName, CreateTime, MsgType, Content, MsgId, Receiver.
    pub fn text(from: &str, at: i64, content: &str, msgid: &str, receiver: crate::chat::Receiver) -> Self {
        let elements =
            [("FromUserName", from), ("CreateTime", &at.to_string()), ("MsgType", "text"), ("Content", content), ("MsgId", msgid)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        ChatItem { elements, receiver: Some(receiver) }
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

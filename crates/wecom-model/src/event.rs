//! Events the platform pushes to apps, as recorded in the outbox: change_contact (wecom-api.md
//! §10.7) for now. Rendering them as XML and delivering them is the callbacks' work.

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

#[cfg(test)]
mod tests {
    use super::*;

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

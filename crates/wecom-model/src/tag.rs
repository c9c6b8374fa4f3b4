//! Tag rules and views (wecom-api.md §6, legacy-api.md §5): names and ids, who owns a tag and who
//! may touch it in each dialect, and the shapes of the answers.

use crate::credential::Scope;
use crate::{Dialect, Errcode};
use serde_json::{Map, Value};

/// tagname is 1–32 characters, a Chinese character counting as one.
pub const TAGNAME_MAX_CHARS: usize = 32;
/// One addtagusers/deltagusers call names at most this many users and parties.
pub const USERLIST_MAX: usize = 1000;
pub const PARTYLIST_MAX: usize = 100;
/// A tag holds at most this many users and parties together (81003).
pub const TAG_NODES_MAX: usize = 30000;

/// A stored tag as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub tagid: i64,
    pub tagname: String,
    /// The owner key of the credential that created it: `app:<agentid>`, `contact_sync` or
    /// `group:<groupid>`.
    pub owner: String,
    /// Legacy only: a locked tag takes member changes from its owning group alone.
    pub locked: bool,
}

/// What a caller wants to do with a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// tag/get.
    Read,
    /// addtagusers / deltagusers.
    ChangeMembers,
    /// tag/update and tag/delete.
    Edit,
}

/// tagid as a client sends it: a number, or (old clients copying the 企业号 samples) a digit
/// string. Absent → 41017; anything else that is not a non-negative integer → 40068.
pub fn parse_tagid(v: Option<&Value>) -> Result<i64, Errcode> {
    match v {
        None | Some(Value::Null) => Err(Errcode::TagidMissing),
        Some(Value::Number(n)) => n.as_i64().filter(|id| *id >= 0).ok_or(Errcode::InvalidTagid),
        Some(Value::String(s)) => parse_tagid_text(Some(s)),
        Some(_) => Err(Errcode::InvalidTagid),
    }
}

/// tagid from a query string (tag/get, tag/delete).
pub fn parse_tagid_text(s: Option<&str>) -> Result<i64, Errcode> {
    let s = s.filter(|s| !s.is_empty()).ok_or(Errcode::TagidMissing)?;
    s.parse::<i64>().ok().filter(|id| *id >= 0).ok_or(Errcode::InvalidTagid)
}

/// tagname: absent → 41018; empty or over 32 characters → 40072.
pub fn check_tagname(name: Option<&str>) -> Result<&str, Errcode> {
    let name = name.ok_or(Errcode::TagNameMissing)?;
    let chars = name.chars().count();
    if chars == 0 || chars > TAGNAME_MAX_CHARS {
        return Err(Errcode::InvalidTagNameSize);
    }
    Ok(name)
}

/// The id a new tag gets: the one asked for when it is free (a taken one answers 40068, the
/// closest documented code), else the highest in the corp plus one.
pub fn new_tagid(asked: Option<i64>, taken: bool, max: Option<i64>) -> Result<i64, Errcode> {
    match asked {
        Some(_) if taken => Err(Errcode::InvalidTagid),
        Some(id) => Ok(id),
        None => Ok(max.map_or(1, |m| m + 1)),
    }
}

/// The userlist/partylist of one addtagusers/deltagusers call: not both empty (40035), at most
/// 1000 users and 100 parties (81014).
pub fn check_member_lists(users: usize, parties: usize) -> Result<(), Errcode> {
    if users == 0 && parties == 0 {
        return Err(Errcode::InvalidParameter);
    }
    if users > USERLIST_MAX || parties > PARTYLIST_MAX {
        return Err(Errcode::TooManyTagNodes);
    }
    Ok(())
}

/// After adding, a tag must still hold at most 30000 users and parties (81003).
pub fn check_tag_size(nodes_after: usize) -> Result<(), Errcode> {
    if nodes_after > TAG_NODES_MAX {
        return Err(Errcode::TagFull);
    }
    Ok(())
}

/// May `caller` do `action` with `tag`? `granted` are the tags a 管理组 was given rights on
/// (group_tags); WeCom callers have none.
///
/// WeCom: any app reads any tag; only the creating app changes it (81011). The contacts-sync
/// secret manages the tags it created, which are also the admin's (owner `contact_sync`).
/// 企业号: a group reads the tags it owns or was granted; it changes members of its own tags and
/// of granted tags that are unlocked; only the owner renames or deletes (60011).
pub fn allowed(caller: Scope, granted: &[i64], tag: &Tag, action: Action) -> Result<(), Errcode> {
    let owns = tag.owner == caller.owner_key();
    match caller.dialect() {
        Dialect::WeCom => match action {
            Action::Read => Ok(()),
            Action::ChangeMembers | Action::Edit if owns => Ok(()),
            Action::ChangeMembers | Action::Edit => Err(Errcode::TagNoPrivilege),
        },
        Dialect::Legacy => {
            let sees = owns || granted.contains(&tag.tagid);
            let ok = match action {
                Action::Read => sees,
                Action::ChangeMembers => owns || (sees && !tag.locked),
                Action::Edit => owns,
            };
            if ok {
                Ok(())
            } else {
                Err(Errcode::NoPrivilege)
            }
        }
    }
}

/// 企业号 tag/get needs the 管理组's 接口权限 "获取标签成员" (legacy-api.md §1.2, §5.2); without it
/// the API is forbidden to the group (48002). WeCom has no such switch.
pub fn check_get_switch(caller: Scope, get_tag_members: bool) -> Result<(), Errcode> {
    match caller {
        Scope::Group { .. } if !get_tag_members => Err(Errcode::ApiForbidden),
        _ => Ok(()),
    }
}

/// Does tag/list show this tag to the caller? WeCom: every tag; 企业号: the tags it may read.
pub fn listed(caller: Scope, granted: &[i64], tag: &Tag) -> bool {
    allowed(caller, granted, tag, Action::Read).is_ok()
}

/// Deleting a tag that still has users or parties: 企业号 refused it (60016); WeCom deletes the
/// tag with its members.
pub fn check_delete(dialect: Dialect, has_members: bool) -> Result<(), Errcode> {
    match dialect {
        Dialect::Legacy if has_members => Err(Errcode::TagHasMembers),
        _ => Ok(()),
    }
}

/// Users and parties of an addtagusers/deltagusers call that the caller may not name: not in the
/// corp, or outside its range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid {
    pub users: Vec<String>,
    pub parties: Vec<i64>,
}

impl Invalid {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.parties.is_empty()
    }

    /// `invalidlist` is a pipe-joined STRING of userids, `invalidparty` an ARRAY of ints; each is
    /// left out when empty (wecom-api.md §6.2).
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if !self.users.is_empty() {
            m.insert("invalidlist".into(), self.users.join("|").into());
        }
        if !self.parties.is_empty() {
            m.insert("invalidparty".into(), self.parties.clone().into());
        }
        m
    }
}

/// When every user and party named was invalid: addtagusers 40070, deltagusers 40031.
pub fn all_invalid(adding: bool) -> Errcode {
    if adding {
        Errcode::TagListAllInvalid
    } else {
        Errcode::InvalidUseridList
    }
}

/// The answer of a partly successful addtagusers/deltagusers: the invalid lists, and on 企业号
/// the errmsg it sent for a partial success (legacy-api.md §5.1).
pub fn members_view(dialect: Dialect, invalid: &Invalid) -> Map<String, Value> {
    let mut m = invalid.fields();
    if dialect == Dialect::Legacy && !invalid.is_empty() {
        m.insert("errmsg".into(), "invalid userlist failed".into());
    }
    m
}

/// tag/get: WeCom names the tag; the 企业号 answer had only the lists.
pub fn get_view(dialect: Dialect, tagname: &str, users: &[(String, String)], parties: &[i64]) -> Map<String, Value> {
    let mut m = Map::new();
    if dialect == Dialect::WeCom {
        m.insert("tagname".into(), tagname.into());
    }
    let users: Vec<Value> = users
        .iter()
        .map(|(userid, name)| {
            let mut u = Map::new();
            u.insert("userid".into(), userid.as_str().into());
            u.insert("name".into(), name.as_str().into());
            Value::Object(u)
        })
        .collect();
    m.insert("userlist".into(), users.into());
    m.insert("partylist".into(), parties.to_vec().into());
    m
}

/// tag/list: `taglist` of `{tagid, tagname}`.
pub fn list_view(tags: &[&Tag]) -> Map<String, Value> {
    let list: Vec<Value> = tags.iter().map(|t| serde_json::json!({ "tagid": t.tagid, "tagname": t.tagname })).collect();
    let mut m = Map::new();
    m.insert("taglist".into(), list.into());
    m
}

pub fn created_view(tagid: i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("tagid".into(), tagid.into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tag(owner: &str, locked: bool) -> Tag {
        Tag { tagid: 7, tagname: "UI".into(), owner: owner.into(), locked }
    }

    const APP_A: Scope = Scope::App { agentid: 1000002 };
    const APP_B: Scope = Scope::App { agentid: 1000003 };
    const G1: Scope = Scope::Group { groupid: 1 };
    const G2: Scope = Scope::Group { groupid: 2 };

    #[test]
    fn tagids() {
        assert_eq!(parse_tagid(None), Err(Errcode::TagidMissing));
        assert_eq!(parse_tagid(Some(&Value::Null)), Err(Errcode::TagidMissing));
        assert_eq!(parse_tagid(Some(&json!(12))), Ok(12));
        assert_eq!(parse_tagid(Some(&json!(0))), Ok(0));
        assert_eq!(parse_tagid(Some(&json!("12"))), Ok(12));
        assert_eq!(parse_tagid(Some(&json!(-1))), Err(Errcode::InvalidTagid));
        assert_eq!(parse_tagid(Some(&json!(1.5))), Err(Errcode::InvalidTagid));
        assert_eq!(parse_tagid(Some(&json!("x"))), Err(Errcode::InvalidTagid));
        assert_eq!(parse_tagid(Some(&json!([1]))), Err(Errcode::InvalidTagid));
        assert_eq!(parse_tagid_text(None), Err(Errcode::TagidMissing));
        assert_eq!(parse_tagid_text(Some("")), Err(Errcode::TagidMissing));
        assert_eq!(parse_tagid_text(Some("-3")), Err(Errcode::InvalidTagid));
        assert_eq!(new_tagid(None, false, None), Ok(1));
        assert_eq!(new_tagid(None, false, Some(12)), Ok(13));
        assert_eq!(new_tagid(Some(5), false, Some(12)), Ok(5));
        assert_eq!(new_tagid(Some(5), true, Some(12)), Err(Errcode::InvalidTagid));
    }

    #[test]
    fn tagnames() {
        assert_eq!(check_tagname(None), Err(Errcode::TagNameMissing));
        assert_eq!(check_tagname(Some("")), Err(Errcode::InvalidTagNameSize));
        let han = "标".repeat(32);
        assert_eq!(check_tagname(Some(&han)), Ok(han.as_str()), "characters, not bytes");
        assert_eq!(check_tagname(Some(&"a".repeat(33))), Err(Errcode::InvalidTagNameSize));
    }

    #[test]
    fn member_lists_and_size() {
        assert_eq!(check_member_lists(0, 0), Err(Errcode::InvalidParameter));
        assert_eq!(check_member_lists(1000, 100), Ok(()));
        assert_eq!(check_member_lists(1001, 0), Err(Errcode::TooManyTagNodes));
        assert_eq!(check_member_lists(0, 101), Err(Errcode::TooManyTagNodes));
        assert_eq!(check_tag_size(30000), Ok(()));
        assert_eq!(check_tag_size(30001), Err(Errcode::TagFull));
        assert_eq!(all_invalid(true).code(), 40070);
        assert_eq!(all_invalid(false).code(), 40031);
    }

    #[test]
    fn wecom_tags_belong_to_their_app() {
        let t = tag("app:1000002", true);
        for action in [Action::Edit, Action::ChangeMembers, Action::Read] {
            assert_eq!(allowed(APP_A, &[], &t, action), Ok(()));
        }
        assert_eq!(allowed(APP_B, &[], &t, Action::Read), Ok(()), "every app reads every tag");
        assert_eq!(allowed(APP_B, &[], &t, Action::Edit), Err(Errcode::TagNoPrivilege));
        assert_eq!(allowed(APP_B, &[], &t, Action::ChangeMembers), Err(Errcode::TagNoPrivilege));
        assert_eq!(allowed(Scope::ContactSync, &[], &t, Action::Edit), Err(Errcode::TagNoPrivilege), "not the app's");
        let admin = tag("contact_sync", false);
        assert_eq!(allowed(Scope::ContactSync, &[], &admin, Action::Edit), Ok(()));
        assert_eq!(allowed(APP_A, &[], &admin, Action::ChangeMembers), Err(Errcode::TagNoPrivilege));
        assert_eq!(
            allowed(APP_A, &[7], &tag("group:1", false), Action::Edit),
            Err(Errcode::TagNoPrivilege),
            "granted means nothing to apps"
        );
        assert!(listed(APP_B, &[], &t));
    }

    #[test]
    fn legacy_tags_belong_to_their_group_and_lock() {
        let locked = tag("group:1", true);
        let open = tag("group:1", false);
        for action in [Action::Edit, Action::ChangeMembers, Action::Read] {
            assert_eq!(allowed(G1, &[], &locked, action), Ok(()), "the owner needs no grant");
        }
        // Group 2 without a grant sees nothing of it.
        assert_eq!(allowed(G2, &[], &open, Action::Read), Err(Errcode::NoPrivilege));
        assert_eq!(allowed(G2, &[], &open, Action::ChangeMembers), Err(Errcode::NoPrivilege));
        assert!(!listed(G2, &[], &open));
        // Granted: reads; changes members only once unlocked; never renames or deletes.
        assert_eq!(allowed(G2, &[7], &locked, Action::Read), Ok(()));
        assert_eq!(allowed(G2, &[7], &locked, Action::ChangeMembers), Err(Errcode::NoPrivilege));
        assert_eq!(allowed(G2, &[7], &open, Action::ChangeMembers), Ok(()));
        assert_eq!(allowed(G2, &[7], &open, Action::Edit), Err(Errcode::NoPrivilege));
        assert!(listed(G2, &[7], &open));
        assert_eq!(allowed(G1, &[], &tag("app:1000002", false), Action::Read), Err(Errcode::NoPrivilege));
    }

    #[test]
    fn deleting_tags_with_members() {
        assert_eq!(check_delete(Dialect::Legacy, true), Err(Errcode::TagHasMembers));
        assert_eq!(check_delete(Dialect::Legacy, false), Ok(()));
        assert_eq!(check_delete(Dialect::WeCom, true), Ok(()));
    }

    #[test]
    fn views() {
        let invalid = Invalid { users: vec!["u1".into(), "U2".into()], parties: vec![9] };
        assert_eq!(Value::Object(invalid.fields()), json!({ "invalidlist": "u1|U2", "invalidparty": [9] }));
        assert!(Invalid { users: vec!["u1".into()], parties: vec![] }.fields().get("invalidparty").is_none());
        assert!(members_view(Dialect::WeCom, &Invalid::default()).is_empty());
        assert!(members_view(Dialect::WeCom, &invalid).get("errmsg").is_none());
        assert_eq!(members_view(Dialect::Legacy, &invalid)["errmsg"], "invalid userlist failed");
        let users = vec![("zhangsan".to_string(), "Zhang San".to_string())];
        assert_eq!(
            Value::Object(get_view(Dialect::WeCom, "UI", &users, &[2])),
            json!({ "tagname": "UI", "userlist": [{ "userid": "zhangsan", "name": "Zhang San" }], "partylist": [2] })
        );
        assert!(get_view(Dialect::Legacy, "UI", &users, &[2]).get("tagname").is_none());
        let t = tag("app:1", false);
        assert_eq!(Value::Object(list_view(&[&t])), json!({ "taglist": [{ "tagid": 7, "tagname": "UI" }] }));
    }

    #[test]
    fn legacy_tag_get_needs_the_group_switch() {
        let group = Scope::Group { groupid: 2 };
        assert_eq!(check_get_switch(group, true), Ok(()));
        assert_eq!(check_get_switch(group, false), Err(Errcode::ApiForbidden));
        assert_eq!(check_get_switch(Scope::App { agentid: 1000002 }, false), Ok(()), "WeCom has no such switch");
        assert_eq!(check_get_switch(Scope::ContactSync, false), Ok(()));
    }
}

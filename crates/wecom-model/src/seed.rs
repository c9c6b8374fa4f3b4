//! The declarative seed file: corps with their apps, secrets, management groups, departments,
//! members and tags. Loading a seed is an upsert of what it names, so loading it twice changes
//! nothing. Parsing and cross-checks are here; the store applies it in one transaction.

use crate::agent::{no_unknown, AttributeChange, Settings};
use crate::credential::{is_valid_corpid, is_well_formed_secret, Scope};
use crate::removed::Kf;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub corp: Vec<CorpSeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CorpSeed {
    pub corpid: String,
    pub name: String,
    /// Generated on first load when absent, then kept.
    pub contact_sync_secret: Option<String>,
    #[serde(default)]
    pub contact_sync_trusted_ips: Vec<String>,
    #[serde(default)]
    pub app: Vec<AppSeed>,
    #[serde(default)]
    pub group: Vec<GroupSeed>,
    #[serde(default)]
    pub department: Vec<DepartmentSeed>,
    #[serde(default)]
    pub member: Vec<MemberSeed>,
    #[serde(default)]
    pub tag: Vec<TagSeed>,
    /// The legacy chat service's secret (企业会话服务); without one the corp has no chat service.
    #[serde(default)]
    pub chat_secret: Option<String>,
    /// The IPs (or CIDR ranges) the contacts-sync secret read contact details from before
    /// 2022-08-15; from others user/list, user/simplelist and department/list answer 48009.
    /// Absent: the corp predates the rule, every IP reads.
    #[serde(default)]
    pub contact_sync_read_ips: Option<Vec<String>>,
    /// The 企业号's 企业客服 (kf/list, kf/send).
    pub kf: Option<Kf>,
    /// Callback receivers of the corp's apps, contacts-sync assistant and chat service.
    #[serde(default)]
    pub callback: Vec<crate::callback::CallbackSeed>,
}

/// Unknown keys are refused by `check` (a flattened struct rules out serde's deny_unknown_fields).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppSeed {
    pub agentid: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub secret: Option<String>,
    #[serde(default)]
    pub trusted_ips: Vec<String>,
    #[serde(default)]
    pub allow_users: Vec<String>,
    #[serde(default)]
    pub allow_parties: Vec<i64>,
    #[serde(default)]
    pub allow_tags: Vec<i64>,
    /// Granted 通讯录编辑 (contact edit): may write contacts within its visible departments.
    #[serde(default)]
    pub contact_edit: bool,
    /// The day the app was created, "YYYY-MM-DD" (Beijing time); absent = when it is first
    /// loaded, by wecomd's clock. Apps created after 2022-06-20 no longer see members' sensitive
    /// fields.
    #[serde(default)]
    pub created: Option<String>,
    /// What agent/get shows (logo, 企业号 type, home_url, flags, close); what is left out keeps
    /// the app's current value (the defaults for a new app).
    #[serde(flatten)]
    pub settings: Settings,
    #[serde(flatten, skip_serializing)]
    pub unknown: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AppRight {
    /// 管理权限: agent/set, menus, messages.
    Manage,
    /// 使用权限: messages only.
    Use,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ContactRight {
    Read,
    Write,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupAppRight {
    pub agentid: i64,
    pub right: AppRight,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupDepartmentRight {
    pub id: i64,
    pub right: ContactRight,
}

/// A legacy management group (管理组).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    pub groupid: i64,
    pub name: String,
    pub secret: Option<String>,
    #[serde(default)]
    pub apps: Vec<GroupAppRight>,
    #[serde(default)]
    pub departments: Vec<GroupDepartmentRight>,
    #[serde(default)]
    pub tags: Vec<i64>,
    /// 接口权限 "获取标签成员": may the group call tag/get? On unless switched off.
    #[serde(default = "on")]
    pub get_tag_members: bool,
}

fn on() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DepartmentSeed {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// Absent only for the root department (id 1).
    pub parentid: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MemberSeed {
    pub userid: String,
    pub name: String,
    pub department: Vec<i64>,
    #[serde(default)]
    pub is_leader_in_dept: Vec<i64>,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub position: String,
    /// "0" unknown, "1" male, "2" female: a string, as user/get renders it.
    #[serde(default = "unknown_gender")]
    pub gender: String,
    #[serde(default)]
    pub alias: String,
    #[serde(default)]
    pub english_name: String,
    #[serde(default)]
    pub telephone: String,
    #[serde(default)]
    pub weixinid: String,
    /// Has the member logged in (activated)? Activation freezes the mobile.
    #[serde(default)]
    pub active: bool,
}

fn unknown_gender() -> String {
    "0".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TagSeed {
    pub tagid: i64,
    pub tagname: String,
    /// `app:<agentid>` (WeCom), `contact_sync` (the admin's tags) or `group:<groupid>` (legacy).
    pub owner: String,
    /// Legacy tags are locked by default.
    #[serde(default = "locked_by_default")]
    pub locked: bool,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub parties: Vec<i64>,
}

fn locked_by_default() -> bool {
    true
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeedError {
    #[error("seed is not valid TOML: {0}")]
    Syntax(String),
    #[error("corp {corpid}: {what}")]
    Invalid { corpid: String, what: String },
}

impl Seed {
    pub fn from_toml(text: &str) -> Result<Seed, SeedError> {
        let seed: Seed = toml::from_str(text).map_err(|e| SeedError::Syntax(e.to_string()))?;
        seed.check()?;
        Ok(seed)
    }

    /// Cross-checks that the file is self-consistent. References to things not in the file
    /// (an existing department, say) are checked again by the store against what it holds.
    pub fn check(&self) -> Result<(), SeedError> {
        let mut corpids = HashSet::new();
        for c in &self.corp {
            let bad = |what: String| SeedError::Invalid { corpid: c.corpid.clone(), what };
            if !is_valid_corpid(&c.corpid) {
                return Err(bad("corpid must be ww or wx followed by 16 lowercase hex digits".into()));
            }
            if !corpids.insert(&c.corpid) {
                return Err(bad("corp listed twice".into()));
            }
            let secrets =
                c.app.iter().map(|a| &a.secret).chain(c.group.iter().map(|g| &g.secret)).chain([&c.contact_sync_secret, &c.chat_secret]);
            let mut seen = HashSet::new();
            for s in secrets.flatten() {
                if !seen.insert(s) {
                    return Err(bad("the same secret is given twice".into()));
                }
            }
            check_credential(c.contact_sync_secret.as_deref(), &c.contact_sync_trusted_ips).map_err(&bad)?;
            check_credential(c.chat_secret.as_deref(), &[]).map_err(&bad)?;
            check_credential(None, c.contact_sync_read_ips.as_deref().unwrap_or_default()).map_err(&bad)?;
            for a in &c.app {
                a.check().map_err(&bad)?;
            }
            for g in &c.group {
                g.check().map_err(&bad)?;
            }
            for cb in &c.callback {
                match cb.owner().map_err(&bad)? {
                    crate::callback::Owner::App(agentid) if !c.app.iter().any(|a| a.agentid == agentid) => {
                        return Err(bad(format!("callback for app {agentid}, which the seed does not list")));
                    }
                    crate::callback::Owner::Chat if c.chat_secret.is_none() => {
                        return Err(bad("callback for the chat service, which needs chat_secret".into()));
                    }
                    _ => {}
                }
                cb.settings().check().map_err(&bad)?;
            }
            unique(c.callback.iter().map(|cb| cb.owner.clone()), "callback owner").map_err(&bad)?;
            unique(c.app.iter().map(|a| a.agentid), "agentid").map_err(&bad)?;
            unique(c.group.iter().map(|g| g.groupid), "groupid").map_err(&bad)?;
            unique(c.department.iter().map(|d| d.id), "department id").map_err(&bad)?;
            unique(c.member.iter().map(|m| m.userid.to_lowercase()), "userid").map_err(&bad)?;
            unique(c.tag.iter().map(|t| t.tagid), "tagid").map_err(&bad)?;
            for d in &c.department {
                match (d.id, d.parentid) {
                    (1, None) => {}
                    (1, Some(_)) => return Err(bad("department 1 is the root and has no parentid".into())),
                    (id, None) => return Err(bad(format!("department {id} needs a parentid"))),
                    (id, Some(p)) if p == id => return Err(bad(format!("department {id} is its own parent"))),
                    _ => {}
                }
            }
            for m in &c.member {
                if m.department.is_empty() {
                    return Err(bad(format!("member {} has no department", m.userid)));
                }
                if let Some(d) = m.is_leader_in_dept.iter().find(|d| !m.department.contains(d)) {
                    return Err(bad(format!("member {} leads department {d} without being in it", m.userid)));
                }
            }
            for t in &c.tag {
                match Scope::parse_owner_key(&t.owner) {
                    Some(Scope::App { agentid }) if c.app.iter().any(|a| a.agentid == agentid) => {}
                    Some(Scope::Group { groupid }) if c.group.iter().any(|g| g.groupid == groupid) => {}
                    // The admin's tags, which the contacts-sync secret manages.
                    Some(Scope::ContactSync) => {}
                    _ => return Err(bad(format!("tag {} owner {:?} is not an app or group of this corp", t.tagid, t.owner))),
                }
            }
            for g in &c.group {
                if let Some(a) = g.apps.iter().find(|r| !c.app.iter().any(|a| a.agentid == r.agentid)) {
                    return Err(bad(format!("group {} has rights on unknown app {}", g.groupid, a.agentid)));
                }
                if let Some(t) = g.tags.iter().find(|t| !c.tag.iter().any(|x| x.tagid == **t)) {
                    return Err(bad(format!("group {} sees unknown tag {t}", g.groupid)));
                }
            }
        }
        Ok(())
    }
}

impl AppSeed {
    pub fn check(&self) -> Result<(), String> {
        if let Some(day) = self.created.as_deref().filter(|d| beijing_midnight(d).is_none()) {
            return Err(format!("created {day:?} is not a date YYYY-MM-DD"));
        }
        no_unknown(&self.unknown)?;
        check_credential(self.secret.as_deref(), &self.trusted_ips)?;
        self.attributes().check()
    }

    /// The agent/get attributes the seed gives (name and description included).
    pub fn attributes(&self) -> AttributeChange {
        AttributeChange {
            name: Some(self.name.clone()),
            description: (!self.description.is_empty()).then(|| self.description.clone()),
            settings: self.settings.clone(),
            unknown: Map::new(),
        }
    }

    /// `created` as unix seconds, when given.
    pub fn created_at(&self) -> Option<i64> {
        self.created.as_deref().and_then(beijing_midnight)
    }
}

/// 00:00 of a "YYYY-MM-DD" day in Beijing time (UTC+8), as unix seconds.
fn beijing_midnight(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Days since 1970-01-01 (the civil-calendar count, March-based years).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era_days = 365 * y2 + y2 / 4 - y2 / 100 + y2 / 400 + (153 * m2 + 2) / 5 + d - 1;
    let days = era_days - 719_468;
    Some(days * 86_400 - 8 * 3_600)
}

impl GroupSeed {
    pub fn check(&self) -> Result<(), String> {
        check_credential(self.secret.as_deref(), &[])
    }
}

/// A secret, when given, must be one the platform could issue; trusted IPs must parse.
pub fn check_credential(secret: Option<&str>, trusted_ips: &[String]) -> Result<(), String> {
    if let Some(s) = secret.filter(|s| !is_well_formed_secret(s)) {
        return Err(format!("secret {s:?} is not 1-128 characters of [A-Za-z0-9_-]"));
    }
    for ip in trusted_ips {
        crate::credential::parse_trusted_ip(ip)?;
    }
    Ok(())
}

fn unique<T: Eq + std::hash::Hash + std::fmt::Display>(items: impl Iterator<Item = T>, what: &str) -> Result<(), String> {
    let mut seen = HashSet::new();
    for i in items {
        if let Some(dup) = seen.replace(i) {
            return Err(format!("{what} {dup} listed twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_creation_days() {
        assert_eq!(beijing_midnight("1970-01-01"), Some(-28_800));
        assert_eq!(beijing_midnight("2022-06-20"), Some(1_655_654_400));
        assert_eq!(beijing_midnight("2024-02-29"), Some(1_709_136_000));
        for bad in ["2023-02-29", "2022-6-20", "2022-13-01", "20220620", "x"] {
            assert_eq!(beijing_midnight(bad), None, "{bad}");
        }
    }

    const GOOD: &str = r#"
[[corp]]
corpid = "ww0123456789abcdef"
name = "Example"

[[corp.app]]
agentid = 1000002
name = "Notify"
secret = "app-secret-1"
trusted_ips = ["10.0.0.0/8"]

[[corp.group]]
groupid = 1
name = "All"
apps = [{ agentid = 1000002, right = "manage" }]
departments = [{ id = 1, right = "write" }]
tags = [1]

[[corp.department]]
id = 2
name = "R&D"
parentid = 1

[[corp.member]]
userid = "zhangsan"
name = "Zhang San"
department = [2]
is_leader_in_dept = [2]

[[corp.tag]]
tagid = 1
tagname = "Managers"
owner = "group:1"
users = ["zhangsan"]
"#;

    #[test]
    fn parses_a_whole_corp() {
        let s = Seed::from_toml(GOOD).unwrap();
        let c = &s.corp[0];
        assert_eq!(c.app[0].agentid, 1000002);
        assert_eq!(c.group[0].apps[0].right, AppRight::Manage);
        assert_eq!(c.group[0].departments[0].right, ContactRight::Write);
        assert_eq!(c.member[0].gender, "0");
        assert!(c.tag[0].locked);
        assert_eq!(c.contact_sync_secret, None);
        assert!(Seed::from_toml(&GOOD.replace("owner = \"group:1\"", "owner = \"contact_sync\"")).is_ok(), "the admin's tags");
    }

    fn broken(from: &str, to: &str) -> SeedError {
        Seed::from_toml(&GOOD.replace(from, to)).unwrap_err()
    }

    #[test]
    fn rejects_inconsistent_seeds() {
        assert!(matches!(broken("ww0123456789abcdef", "ww01"), SeedError::Invalid { .. }));
        assert!(matches!(broken("name = \"Notify\"", "nmae = \"Notify\""), SeedError::Syntax(_)));
        assert!(matches!(broken("owner = \"group:1\"", "owner = \"group:9\""), SeedError::Invalid { .. }));
        assert!(matches!(broken("is_leader_in_dept = [2]", "is_leader_in_dept = [3]"), SeedError::Invalid { .. }));
        assert!(matches!(broken("secret = \"app-secret-1\"", "secret = \"bad secret\""), SeedError::Invalid { .. }));
        assert!(matches!(broken("10.0.0.0/8", "10.0.0.0/99"), SeedError::Invalid { .. }));
        assert!(matches!(broken("agentid = 1000002, right", "agentid = 7, right"), SeedError::Invalid { .. }));
        assert!(matches!(broken("parentid = 1", ""), SeedError::Invalid { .. }));
        assert!(matches!(broken("tags = [1]", "tags = [5]"), SeedError::Invalid { .. }));
        assert!(
            matches!(broken("name = \"Notify\"", "name = \"Notify\"\nhmoe_url = \"x\""), SeedError::Invalid { .. }),
            "app keys are checked"
        );
        assert!(matches!(broken("name = \"Notify\"", "name = \"Notify\"\nhome_url = \"x\""), SeedError::Invalid { .. }));
        assert!(matches!(broken("name = \"Notify\"", "name = \"Notify\"\ntype = 3"), SeedError::Syntax(_)));
        let s = Seed::from_toml(&GOOD.replace("name = \"Notify\"", "name = \"Notify\"\ntype = 2\nclose = true")).unwrap();
        assert_eq!(s.corp[0].app[0].settings.app_type, Some(crate::agent::AppType::Homepage));
        assert_eq!(s.corp[0].app[0].settings.close, Some(true));
    }

    #[test]
    fn chat_secrets_are_checked_like_the_others() {
        let with = |secret: &str| {
            Seed::from_toml(&GOOD.replace("name = \"Example\"\n", &format!("name = \"Example\"\nchat_secret = \"{secret}\"\n")))
        };
        assert_eq!(with("chat-secret-1").unwrap().corp[0].chat_secret.as_deref(), Some("chat-secret-1"));
        assert!(matches!(with("app-secret-1"), Err(SeedError::Invalid { .. })), "shared with an app");
        assert!(matches!(with("bad secret"), Err(SeedError::Invalid { .. })));
        assert_eq!(Seed::from_toml(GOOD).unwrap().corp[0].chat_secret, None);
    }

    #[test]
    fn userids_are_unique_ignoring_case() {
        let twice = format!("{GOOD}\n[[corp.member]]\nuserid = \"ZhangSan\"\nname = \"Z\"\ndepartment = [1]\n");
        // The extra member table lands after [[corp.tag]], which TOML still attaches to the corp.
        assert!(matches!(Seed::from_toml(&twice), Err(SeedError::Invalid { .. })));
    }
}

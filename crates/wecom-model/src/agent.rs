//! Apps (应用) as agent/get, agent/set and agent/list show them (wecom-api.md §3.1–3.3,
//! legacy-api.md §2): who may see or change which app, the agent/set rules, and the two views of
//! one stored app.

use crate::credential::Scope;
use crate::seed::{AppRight, GroupAppRight};
use crate::{ApiError, Dialect, Errcode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// name is 1–32 characters, description 4–120 (a Chinese character counting as one).
pub const NAME_MAX_CHARS: usize = 32;
pub const DESCRIPTION_CHARS: std::ops::RangeInclusive<usize> = 4..=120;
/// The longest URL wecomd stores for home_url and chat_extension_url, as for menu URLs.
pub const URL_MAX_BYTES: usize = 1024;

/// 企业号 app kinds: a message app (消息型) talks in sessions, a homepage app (主页型) opens its
/// home_url. WeCom has no kinds; every app may have a home page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum AppType {
    Message,
    Homepage,
}

impl TryFrom<i64> for AppType {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        match v {
            1 => Ok(AppType::Message),
            2 => Ok(AppType::Homepage),
            _ => Err(format!("type {v} is neither 1 (message) nor 2 (homepage)")),
        }
    }
}

impl From<AppType> for i64 {
    fn from(t: AppType) -> i64 {
        match t {
            AppType::Message => 1,
            AppType::Homepage => 2,
        }
    }
}

/// The attributes of an app that agent/get shows and agent/set changes, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    pub square_logo_url: String,
    #[serde(rename = "type")]
    pub app_type: AppType,
    pub home_url: String,
    pub chat_extension_url: String,
    pub redirect_domain: String,
    /// 0 off, 1 on entering a session, 2 continuously (企业号 only).
    pub report_location_flag: i64,
    pub isreportenter: bool,
    pub isreportuser: bool,
    /// 1 = the app is disabled.
    pub close: bool,
    /// 企业号 回调模式: agent/set and menu/* refuse a 管理组 when it is off (never shown by agent/get).
    pub callback_mode: bool,
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes {
            square_logo_url: String::new(),
            app_type: AppType::Message,
            home_url: String::new(),
            chat_extension_url: String::new(),
            redirect_domain: String::new(),
            report_location_flag: 0,
            isreportenter: false,
            isreportuser: false,
            close: false,
            callback_mode: true,
        }
    }
}

/// What agent/get shows besides name and description, as a seed, the control API or agent/set
/// changes it; what is left out keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub square_logo_url: Option<String>,
    #[serde(rename = "type")]
    pub app_type: Option<AppType>,
    pub home_url: Option<String>,
    pub chat_extension_url: Option<String>,
    pub redirect_domain: Option<String>,
    pub report_location_flag: Option<i64>,
    pub isreportenter: Option<bool>,
    pub isreportuser: Option<bool>,
    pub close: Option<bool>,
    pub callback_mode: Option<bool>,
}

/// A change to an app: name, description and settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(flatten)]
    pub settings: Settings,
    /// Keys no app has, refused by `check` (serde cannot deny unknown fields beside a flatten).
    #[serde(flatten, skip_serializing)]
    pub unknown: Map<String, Value>,
}

/// Refuses keys a flattened body did not know.
pub fn no_unknown(unknown: &Map<String, Value>) -> Result<(), String> {
    match unknown.keys().next() {
        Some(k) => Err(format!("unknown field `{k}`")),
        None => Ok(()),
    }
}

impl AttributeChange {
    pub fn apply(&self, a: &mut Attributes) {
        let c = &self.settings;
        let set = |to: &mut String, from: &Option<String>| {
            if let Some(v) = from {
                to.clone_from(v);
            }
        };
        set(&mut a.square_logo_url, &c.square_logo_url);
        set(&mut a.home_url, &c.home_url);
        set(&mut a.chat_extension_url, &c.chat_extension_url);
        set(&mut a.redirect_domain, &c.redirect_domain);
        a.app_type = c.app_type.unwrap_or(a.app_type);
        a.report_location_flag = c.report_location_flag.unwrap_or(a.report_location_flag);
        a.isreportenter = c.isreportenter.unwrap_or(a.isreportenter);
        a.isreportuser = c.isreportuser.unwrap_or(a.isreportuser);
        a.close = c.close.unwrap_or(a.close);
        a.callback_mode = c.callback_mode.unwrap_or(a.callback_mode);
    }

    /// What the control API and seeds may set: the same bounds agent/set keeps, so that a seeded
    /// app is one the platform could hold.
    pub fn check(&self) -> Result<(), String> {
        no_unknown(&self.unknown)?;
        let msg = |e: ApiError| e.text.into_owned();
        let c = &self.settings;
        if let Some(n) = &self.name {
            check_name(n).map_err(|e| msg(e.into()))?;
        }
        if let Some(d) = &self.description {
            check_description(d).map_err(|e| msg(e.into()))?;
        }
        for url in [&c.home_url, &c.chat_extension_url].into_iter().flatten().filter(|u| !u.is_empty()) {
            check_url(url).map_err(|e| format!("{url:?}: {}", msg(e.into())))?;
        }
        if let Some(d) = c.redirect_domain.as_deref().filter(|d| !d.is_empty()) {
            check_redirect_domain(d).map_err(|e| format!("{d:?}: {}", msg(e.into())))?;
        }
        if let Some(f) = c.report_location_flag {
            check_report_location_flag(Dialect::Legacy, f).map_err(|e| msg(e.into()))?;
        }
        Ok(())
    }
}

/// An app with what agent/get shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub agentid: i64,
    pub name: String,
    pub description: String,
    pub attributes: Attributes,
}

/// agentid as a client sends it: a number or (企业号 samples) a digit string. Absent → 41011;
/// anything else that is not an integer → 40056.
pub fn parse_agentid(v: Option<&Value>) -> Result<i64, Errcode> {
    match v {
        None | Some(Value::Null) => Err(Errcode::AgentidMissing),
        Some(Value::Number(n)) => n.as_i64().ok_or(Errcode::InvalidAgentid),
        Some(Value::String(s)) => parse_agentid_text(Some(s)),
        Some(_) => Err(Errcode::InvalidAgentid),
    }
}

/// agentid from a query string (agent/get, menu/*).
pub fn parse_agentid_text(s: Option<&str>) -> Result<i64, Errcode> {
    let s = s.filter(|s| !s.is_empty()).ok_or(Errcode::AgentidMissing)?;
    s.trim().parse::<i64>().map_err(|_| Errcode::InvalidAgentid)
}

/// What a caller wants to do with an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// agent/get; permanent material, for which use rights suffice.
    Read,
    /// agent/set, menu/*.
    Manage,
}

/// May `caller` read or manage app `agentid` (which exists)? `rights` are a 管理组's app rights.
///
/// WeCom: an app's token reaches its own app only (301002); the contacts-sync secret is no app
/// (48002). 企业号: a group reads the apps it may use or manage and manages only those it holds
/// with 管理权限 (60011).
pub fn allowed(caller: Scope, rights: &[GroupAppRight], agentid: i64, want: Use) -> Result<(), Errcode> {
    match caller {
        Scope::App { agentid: own } if own == agentid => Ok(()),
        Scope::App { .. } => Err(Errcode::NoAppPrivilege),
        Scope::ContactSync | Scope::Chat => Err(Errcode::ApiForbidden),
        Scope::Group { .. } => match rights.iter().find(|r| r.agentid == agentid) {
            Some(r) if want == Use::Read || r.right == AppRight::Manage => Ok(()),
            _ => Err(Errcode::NoPrivilege),
        },
    }
}

/// The apps agent/list shows: WeCom the token's own app, 企业号 every app the group may use or
/// manage; the contacts-sync secret is no app (48002).
/// The 企业号 let agent/set and menu/* change an app only in callback mode (回调模式, legacy-api.md
/// §1.2); otherwise 48001 (compatibility ledger). WeCom has no modes.
pub fn check_mode(dialect: Dialect, agent: &Agent, want: Use) -> Result<(), Errcode> {
    if dialect == Dialect::Legacy && want == Use::Manage && !agent.attributes.callback_mode {
        return Err(Errcode::ApiUnauthorized);
    }
    Ok(())
}

pub fn listed(caller: Scope, rights: &[GroupAppRight], agentids: &[i64]) -> Result<Vec<i64>, Errcode> {
    match caller {
        Scope::App { agentid } => Ok(agentids.iter().copied().filter(|a| *a == agentid).collect()),
        Scope::ContactSync | Scope::Chat => Err(Errcode::ApiForbidden),
        Scope::Group { .. } => Ok(agentids.iter().copied().filter(|a| rights.iter().any(|r| r.agentid == *a)).collect()),
    }
}

pub fn check_name(name: &str) -> Result<(), Errcode> {
    let n = name.chars().count();
    if n == 0 || n > NAME_MAX_CHARS {
        return Err(Errcode::InvalidAppName);
    }
    Ok(())
}

pub fn check_description(d: &str) -> Result<(), Errcode> {
    if !DESCRIPTION_CHARS.contains(&d.chars().count()) {
        return Err(Errcode::InvalidAppDescription);
    }
    Ok(())
}

/// home_url and chat_extension_url: `http://` or `https://` first (45034), then something after
/// it, no whitespace, at most 1024 bytes (40094).
pub fn check_url(url: &str) -> Result<(), Errcode> {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else {
        return Err(Errcode::UrlWithoutScheme);
    };
    if rest.is_empty() || url.len() > URL_MAX_BYTES || url.chars().any(char::is_whitespace) {
        return Err(Errcode::InvalidUrl);
    }
    Ok(())
}

/// The trusted domain (可信域名): a host name with at least one dot and an optional port. wecomd
/// treats every such name as verified; anything else cannot pass the ownership check (85005).
pub fn check_redirect_domain(d: &str) -> Result<(), Errcode> {
    let (host, port) = d.rsplit_once(':').map_or((d, None), |(h, p)| (h, Some(p)));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if host.contains('.') && host.len() <= 253 && labels_ok && port_ok {
        Ok(())
    } else {
        Err(Errcode::DomainNotVerified)
    }
}

/// WeCom documents 0/1; the 企业号 also had 2 (report continuously).
pub fn check_report_location_flag(dialect: Dialect, flag: i64) -> Result<(), Errcode> {
    let max = match dialect {
        Dialect::WeCom => 1,
        Dialect::Legacy => 2,
    };
    if (0..=max).contains(&flag) {
        Ok(())
    } else {
        Err(Errcode::InvalidReportLocationFlag)
    }
}

/// A media_id as media/upload makes them: non-empty, at most 128 URL-safe characters (40007).
pub fn check_media_id(id: &str) -> Result<(), Errcode> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'@') {
        return Err(Errcode::InvalidMediaId);
    }
    Ok(())
}

/// An agent/set body. Flags arrive as 0/1 numbers; fields the caller's dialect does not know are
/// accepted and ignored (wechatpy sends `isreportuser` to WeCom too).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SetBody {
    pub agentid: Option<Value>,
    pub report_location_flag: Option<i64>,
    pub logo_mediaid: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_domain: Option<String>,
    pub isreportenter: Option<i64>,
    pub isreportuser: Option<i64>,
    pub home_url: Option<String>,
    pub chat_extension_url: Option<String>,
    #[serde(rename = "type")]
    pub app_type: Option<i64>,
}

fn flag(name: &str, v: Option<i64>) -> Result<Option<bool>, ApiError> {
    match v {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(other) => Err(ApiError::with_detail(Errcode::InvalidRequestParameter, format!("{name} must be 0 or 1, not {other}"))),
    }
}

/// The change an agent/set body asks of an app in its current state, checked in the order the
/// fields are documented. Each dialect reads only the fields it has: WeCom ignores type,
/// isreportuser and chat_extension_url; the 企业号 takes home_url only for homepage apps.
pub fn set_change(dialect: Dialect, body: &SetBody, current: &Attributes) -> Result<AttributeChange, ApiError> {
    let mut c = AttributeChange::default();
    if let Some(f) = body.report_location_flag {
        check_report_location_flag(dialect, f)?;
        c.settings.report_location_flag = Some(f);
    }
    // The logo's URL is the kept image's, set once the media is found (api::media::keep_logo).
    if let Some(m) = &body.logo_mediaid {
        check_media_id(m)?;
    }
    if let Some(n) = &body.name {
        check_name(n)?;
        c.name = Some(n.clone());
    }
    if let Some(d) = &body.description {
        check_description(d)?;
        c.description = Some(d.clone());
    }
    if let Some(d) = &body.redirect_domain {
        if !d.is_empty() {
            check_redirect_domain(d)?;
        }
        c.settings.redirect_domain = Some(d.clone());
    }
    c.settings.isreportenter = flag("isreportenter", body.isreportenter)?;
    if dialect == Dialect::Legacy {
        c.settings.isreportuser = flag("isreportuser", body.isreportuser)?;
        if let Some(t) = body.app_type {
            c.settings.app_type = Some(AppType::try_from(t).map_err(|e| ApiError::with_detail(Errcode::InvalidRequestParameter, e))?);
        }
        if let Some(u) = &body.chat_extension_url {
            if !u.is_empty() {
                check_url(u)?;
            }
            c.settings.chat_extension_url = Some(u.clone());
        }
    }
    if let Some(u) = &body.home_url {
        if dialect == Dialect::Legacy && c.settings.app_type.unwrap_or(current.app_type) != AppType::Homepage {
            return Err(ApiError::with_detail(Errcode::InvalidRequestParameter, "home_url is only for homepage apps (type 2)"));
        }
        if !u.is_empty() {
            check_url(u)?;
        }
        c.settings.home_url = Some(u.clone());
    }
    Ok(c)
}

/// A member of the app's visible range as agent/get lists it: its userid and status (1 active,
/// 2 disabled, 4 not activated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedUser {
    pub userid: String,
    pub status: i64,
}

/// agent/get. WeCom: home_url, users by userid only. 企业号: round_logo_url, type,
/// chat_extension_url, isreportuser, users with their follow status, no home_url.
pub fn get_view(dialect: Dialect, agent: &Agent, users: &[AllowedUser], parties: &[i64], tags: &[i64]) -> Map<String, Value> {
    let a = &agent.attributes;
    let users: Vec<Value> = users
        .iter()
        .map(|u| match dialect {
            Dialect::WeCom => json!({ "userid": u.userid }),
            Dialect::Legacy => json!({ "userid": u.userid, "status": u.status }),
        })
        .collect();
    let mut m = Map::new();
    m.insert("agentid".into(), agent.agentid.into());
    m.insert("name".into(), agent.name.as_str().into());
    m.insert("square_logo_url".into(), a.square_logo_url.as_str().into());
    if dialect == Dialect::Legacy {
        m.insert("round_logo_url".into(), a.square_logo_url.as_str().into());
    }
    m.insert("description".into(), agent.description.as_str().into());
    m.insert("allow_userinfos".into(), json!({ "user": users }));
    m.insert("allow_partys".into(), json!({ "partyid": parties }));
    m.insert("allow_tags".into(), json!({ "tagid": tags }));
    m.insert("close".into(), i64::from(a.close).into());
    m.insert("redirect_domain".into(), a.redirect_domain.as_str().into());
    m.insert("report_location_flag".into(), a.report_location_flag.into());
    m.insert("isreportenter".into(), i64::from(a.isreportenter).into());
    match dialect {
        Dialect::WeCom => {
            m.insert("home_url".into(), a.home_url.as_str().into());
        }
        Dialect::Legacy => {
            m.insert("isreportuser".into(), i64::from(a.isreportuser).into());
            m.insert("chat_extension_url".into(), a.chat_extension_url.as_str().into());
            m.insert("type".into(), i64::from(a.app_type).into());
        }
    }
    m
}

/// agent/list: `agentlist` of `{agentid, name, square_logo_url}`, plus round_logo_url on 企业号.
pub fn list_view(dialect: Dialect, agents: &[Agent]) -> Map<String, Value> {
    let list: Vec<Value> = agents
        .iter()
        .map(|a| {
            let mut v = json!({ "agentid": a.agentid, "name": a.name, "square_logo_url": a.attributes.square_logo_url });
            if dialect == Dialect::Legacy {
                v["round_logo_url"] = a.attributes.square_logo_url.as_str().into();
            }
            v
        })
        .collect();
    let mut m = Map::new();
    m.insert("agentlist".into(), list.into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: Scope = Scope::App { agentid: 1000002 };
    const GROUP: Scope = Scope::Group { groupid: 1 };

    fn rights() -> Vec<GroupAppRight> {
        vec![GroupAppRight { agentid: 1000002, right: AppRight::Manage }, GroupAppRight { agentid: 1000003, right: AppRight::Use }]
    }

    fn code(r: Result<AttributeChange, ApiError>) -> i64 {
        r.unwrap_err().errcode
    }

    #[test]
    fn agentids() {
        assert_eq!(parse_agentid(None), Err(Errcode::AgentidMissing));
        assert_eq!(parse_agentid(Some(&json!(1000002))), Ok(1000002));
        assert_eq!(parse_agentid(Some(&json!("1000002"))), Ok(1000002));
        assert_eq!(parse_agentid(Some(&json!("x"))), Err(Errcode::InvalidAgentid));
        assert_eq!(parse_agentid(Some(&json!(1.5))), Err(Errcode::InvalidAgentid));
        assert_eq!(parse_agentid_text(Some("")), Err(Errcode::AgentidMissing));
        assert_eq!(parse_agentid_text(Some("abc")), Err(Errcode::InvalidAgentid));
    }

    #[test]
    fn who_reaches_which_app() {
        assert_eq!(allowed(APP, &[], 1000002, Use::Manage), Ok(()));
        assert_eq!(allowed(APP, &[], 1000003, Use::Read), Err(Errcode::NoAppPrivilege));
        assert_eq!(allowed(Scope::ContactSync, &[], 1000002, Use::Read), Err(Errcode::ApiForbidden));
        assert_eq!(allowed(GROUP, &rights(), 1000003, Use::Read), Ok(()));
        assert_eq!(allowed(GROUP, &rights(), 1000003, Use::Manage), Err(Errcode::NoPrivilege));
        assert_eq!(allowed(GROUP, &rights(), 1000002, Use::Manage), Ok(()));
        assert_eq!(allowed(GROUP, &rights(), 1000004, Use::Read), Err(Errcode::NoPrivilege));
        let all = [1000002, 1000003, 1000004];
        assert_eq!(listed(APP, &[], &all), Ok(vec![1000002]));
        assert_eq!(listed(GROUP, &rights(), &all), Ok(vec![1000002, 1000003]));
    }

    #[test]
    fn legacy_changes_need_callback_mode() {
        let mut agent = Agent { agentid: 1, name: "n".into(), description: String::new(), attributes: Attributes::default() };
        assert_eq!(check_mode(Dialect::Legacy, &agent, Use::Manage), Ok(()), "on by default");
        agent.attributes.callback_mode = false;
        assert_eq!(check_mode(Dialect::Legacy, &agent, Use::Manage), Err(Errcode::ApiUnauthorized));
        assert_eq!(check_mode(Dialect::Legacy, &agent, Use::Read), Ok(()));
        assert_eq!(check_mode(Dialect::WeCom, &agent, Use::Manage), Ok(()));
        let off = serde_json::from_value::<AttributeChange>(json!({ "callback_mode": false })).unwrap();
        assert!(off.check().is_ok());
        let mut a = Attributes::default();
        off.apply(&mut a);
        assert!(!a.callback_mode);
    }

    #[test]
    fn set_rules() {
        let cur = Attributes::default();
        let set = |d, v: Value| set_change(d, &serde_json::from_value(v).unwrap(), &cur);
        assert_eq!(code(set(Dialect::WeCom, json!({ "report_location_flag": 2 }))), 40059);
        assert_eq!(set(Dialect::Legacy, json!({ "report_location_flag": 2 })).unwrap().settings.report_location_flag, Some(2));
        assert_eq!(code(set(Dialect::WeCom, json!({ "name": "" }))), 45022);
        assert_eq!(code(set(Dialect::WeCom, json!({ "name": "名".repeat(33) }))), 45022);
        assert!(set(Dialect::WeCom, json!({ "name": "名".repeat(32) })).is_ok());
        assert_eq!(code(set(Dialect::WeCom, json!({ "description": "abc" }))), 45004);
        assert_eq!(code(set(Dialect::WeCom, json!({ "description": "a".repeat(121) }))), 45004);
        assert_eq!(code(set(Dialect::WeCom, json!({ "logo_mediaid": "" }))), 40007);
        assert_eq!(code(set(Dialect::WeCom, json!({ "redirect_domain": "localhost" }))), 85005);
        assert!(set(Dialect::WeCom, json!({ "redirect_domain": "app.example.com:8443" })).is_ok());
        assert_eq!(code(set(Dialect::WeCom, json!({ "home_url": "example.com" }))), 45034);
        assert_eq!(code(set(Dialect::WeCom, json!({ "home_url": "https://" }))), 40094);
        assert_eq!(code(set(Dialect::WeCom, json!({ "isreportenter": 3 }))), 40058);
        // WeCom ignores what only the 企业号 had.
        let c = set(Dialect::WeCom, json!({ "isreportuser": 1, "type": 9, "chat_extension_url": "x" })).unwrap();
        assert_eq!(c, AttributeChange::default());
        // 企业号: home_url only for homepage apps; type may be set in the same call.
        assert_eq!(code(set(Dialect::Legacy, json!({ "home_url": "https://a.example.com" }))), 40058);
        let c = set(Dialect::Legacy, json!({ "type": 2, "home_url": "https://a.example.com" })).unwrap();
        assert_eq!(c.settings.home_url.as_deref(), Some("https://a.example.com"));
        assert_eq!(code(set(Dialect::Legacy, json!({ "type": 3 }))), 40058);
        assert_eq!(code(set(Dialect::Legacy, json!({ "chat_extension_url": "ftp://x" }))), 45034);
        assert_eq!(set(Dialect::Legacy, json!({ "isreportuser": 1 })).unwrap().settings.isreportuser, Some(true));
    }

    #[test]
    fn views_differ_per_dialect() {
        let agent = Agent {
            agentid: 1000002,
            name: "Notify".into(),
            description: "desc".into(),
            attributes: Attributes { home_url: "https://h.example.com".into(), ..Attributes::default() },
        };
        let users = [AllowedUser { userid: "zhangsan".into(), status: 1 }];
        let w = get_view(Dialect::WeCom, &agent, &users, &[1], &[]);
        assert_eq!(w["home_url"], "https://h.example.com");
        assert_eq!(w["allow_userinfos"], json!({ "user": [{ "userid": "zhangsan" }] }));
        for k in ["round_logo_url", "type", "chat_extension_url", "isreportuser"] {
            assert!(!w.contains_key(k), "{k}");
        }
        let l = get_view(Dialect::Legacy, &agent, &users, &[1], &[]);
        assert!(!l.contains_key("home_url"));
        assert_eq!(l["type"], 1);
        assert_eq!(l["allow_userinfos"], json!({ "user": [{ "userid": "zhangsan", "status": 1 }] }));
        assert_eq!(list_view(Dialect::Legacy, std::slice::from_ref(&agent))["agentlist"][0]["round_logo_url"], "");
        assert!(list_view(Dialect::WeCom, &[agent])["agentlist"][0].get("round_logo_url").is_none());
    }

    #[test]
    fn seeded_attributes_keep_the_same_bounds() {
        let change = |v: Value| serde_json::from_value::<AttributeChange>(v).unwrap();
        assert!(change(json!({ "home_url": "nope" })).check().is_err());
        assert!(change(json!({ "report_location_flag": 3 })).check().is_err());
        assert_eq!(change(json!({ "hmoe_url": "x" })).check(), Err("unknown field `hmoe_url`".into()));
        let ok = change(json!({ "name": "Ok", "home_url": "", "type": 2 }));
        assert_eq!(ok.settings.app_type, Some(AppType::Homepage));
        assert!(ok.check().is_ok());
        assert!(serde_json::from_value::<AttributeChange>(json!({ "type": 3 })).is_err());
    }
}

//! Member rules that need no store: the member record, its field rules and errcodes, each
//! dialect's view of it, its change events, list_id cursors, openids and the conversion views
//! (wecom-api.md §4, §10.7; legacy-api.md §3).

use crate::credential::random_url_safe;
use crate::event::{ChangeContact, ChangeType};
pub use crate::user_fields::{self, Sensitive};
use crate::{ApiError, Dialect, Errcode};
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// openids look like `oDjGHs-1yCnGrRovBj2yHij5JAAA`: `o` and 27 URL-safe characters.
pub fn new_openid() -> String {
    format!("o{}", random_url_safe(27))
}

/// Each app has an appid of its own (legacy red packets pay through it): `wx` + 16 hex.
pub fn new_appid() -> String {
    format!("wx{:016x}", rand::rng().random::<u64>())
}

/// Which app an openid is scoped to. 企业号 convert_to_openid took an optional agentid and then
/// answered a per-app openid with that app's appid; WeCom's takes only the userid and answers the
/// corp-level openid, so an agentid sent by an old client is ignored there.
pub fn openid_agent(dialect: Dialect, agentid: Option<i64>) -> Option<i64> {
    match dialect {
        Dialect::Legacy => agentid,
        Dialect::WeCom => None,
    }
}

/// convert_to_openid's fields; `appid` only for a legacy per-app openid.
pub fn openid_view(openid: &str, appid: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("openid".into(), openid.into());
    if let Some(appid) = appid {
        m.insert("appid".into(), appid.into());
    }
    m
}

pub fn userid_view(userid: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("userid".into(), userid.into());
    m
}

/// Members plus sub-departments directly in one department (wecom-api.md §4.13, 81001). The
/// 企业号 allowed 1000 members; an upgraded corp lives under the platform's current limit, whatever
/// dialect the caller speaks (compatibility ledger).
pub const DEPARTMENT_CAPACITY: i64 = 30000;
/// Departments per member (60110).
pub const MAX_DEPARTMENTS: usize = 100;
pub const MAX_DIRECT_LEADERS: usize = 5;
/// user/batchdelete takes 1–200 userids (40032).
pub const MAX_BATCHDELETE: usize = 200;
/// list_id pages hold 1–10000 rows; an absent limit is the largest.
pub const MAX_LIST_ID: i64 = 10000;

/// A member's place in one department: its `order` there (larger shows first) and leadership.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub department: i64,
    pub order: i64,
    pub is_leader: bool,
}

/// A member as stored, the same for both dialects.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub userid: String,
    pub name: String,
    pub alias: String,
    pub mobile: String,
    pub email: String,
    pub position: String,
    /// "0" unknown, "1" male, "2" female.
    pub gender: String,
    pub english_name: String,
    pub telephone: String,
    pub weixinid: String,
    pub address: String,
    /// Has logged in (WeCom activated / 企业号 followed); freezes the mobile.
    pub active: bool,
    pub enable: bool,
    pub departments: Vec<Placement>,
    pub main_department: i64,
    pub direct_leader: Vec<String>,
    /// `{"attrs":[…]}` as the caller sent it.
    pub extattr: Option<Value>,
    /// The platform chose the userid (the member joined by itself): user/update may rename it,
    /// once (new_userid).
    pub userid_generated: bool,
    /// Left the corp (退出企业): WeCom status 5.
    pub quit: bool,
    pub biz_mail: String,
    pub biz_mail_alias: Vec<String>,
    pub avatar_mediaid: String,
    pub external_position: String,
    /// `{"external_corp_name", "wechat_channels", "external_attr":[…]}` as the caller sent it.
    pub external_profile: Option<Value>,
}

impl Member {
    pub fn department_ids(&self) -> Vec<i64> {
        self.departments.iter().map(|p| p.department).collect()
    }

    /// 1 active, 2 disabled (企业号: frozen), 4 not activated (企业号: not followed), and in
    /// WeCom 5 left the corp; the 企业号 knew no 5: a member who left no longer follows (4).
    pub fn status(&self, dialect: Dialect) -> i64 {
        match (self.quit, dialect) {
            (true, Dialect::WeCom) => 5,
            (true, Dialect::Legacy) => 4,
            _ if !self.enable => 2,
            _ if self.active => 1,
            _ => 4,
        }
    }
}

/// A user/create or user/update body. Everything is optional so that each missing field gets
/// the platform's own errcode; `gender` is a string on the wire but old clients send a number.
#[derive(Debug, Default, Deserialize)]
pub struct MemberBody {
    pub userid: Option<String>,
    pub name: Option<String>,
    pub alias: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub position: Option<String>,
    pub gender: Option<Value>,
    pub english_name: Option<String>,
    pub telephone: Option<String>,
    pub weixinid: Option<String>,
    pub address: Option<String>,
    pub enable: Option<i64>,
    pub department: Option<Vec<i64>>,
    pub order: Option<Vec<i64>>,
    pub is_leader_in_dept: Option<Vec<i64>>,
    pub main_department: Option<i64>,
    pub direct_leader: Option<Vec<String>>,
    pub extattr: Option<Value>,
    pub new_userid: Option<String>,
    pub biz_mail: Option<String>,
    /// `{"item":["a@corp.com",…]}`: replaces the whole list.
    pub biz_mail_alias: Option<Value>,
    pub avatar_mediaid: Option<String>,
    pub external_position: Option<String>,
    pub external_profile: Option<Value>,
}

/// 1–64 bytes of `[0-9A-Za-z_-@.]`, starting with a letter or digit (40003).
pub fn valid_userid(userid: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_-@.".contains(c);
    (1..=64).contains(&userid.len()) && userid.starts_with(|c: char| c.is_ascii_alphanumeric()) && userid.chars().all(ok_char)
}

fn valid_mobile(m: &str) -> bool {
    (1..=32).contains(&m.len()) && m.chars().any(|c| c.is_ascii_digit()) && m.chars().all(|c| c.is_ascii_digit() || c == '+' || c == '-')
}

pub(crate) fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    (6..=64).contains(&e.len())
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.contains(char::is_whitespace)
        && !domain.contains('@')
}

fn valid_telephone(t: &str) -> bool {
    (1..=32).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit() || "-+,".contains(c))
}

fn valid_english_name(n: &str) -> bool {
    n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || ".- _".contains(c))
}

/// 企业号 weixinid: a WeChat id, 6–20 characters, a letter first, then letters, digits, `_`, `-`.
fn valid_weixinid(w: &str) -> bool {
    (6..=20).contains(&w.len())
        && w.starts_with(|c: char| c.is_ascii_alphabetic())
        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn chars_within(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

fn bad(code: Errcode) -> ApiError {
    code.into()
}

fn bad_param(detail: &str) -> ApiError {
    ApiError::with_detail(Errcode::InvalidRequestParameter, detail)
}

fn gender(v: &Value) -> Result<String, ApiError> {
    match v {
        Value::String(s) if ["0", "1", "2"].contains(&s.as_str()) => Ok(s.clone()),
        Value::Number(n) if matches!(n.as_i64(), Some(0..=2)) => Ok(n.to_string()),
        _ => Err(bad(Errcode::InvalidGender)),
    }
}

/// The departments with their order and leadership, checked against each other (60110, 60132).
fn placements(departments: &[i64], order: Option<&[i64]>, leader: Option<&[i64]>) -> Result<Vec<Placement>, ApiError> {
    if departments.is_empty() {
        return Err(bad(Errcode::InvalidDepartmentList));
    }
    if departments.len() > MAX_DEPARTMENTS {
        return Err(bad(Errcode::TooManyDepartments));
    }
    let mut seen = std::collections::HashSet::new();
    if departments.iter().any(|d| *d <= 0 || !seen.insert(*d)) {
        return Err(bad(Errcode::InvalidDepartmentList));
    }
    if order.is_some_and(|o| o.len() != departments.len()) {
        return Err(bad_param("order size not match department size"));
    }
    if leader.is_some_and(|l| l.len() != departments.len()) {
        return Err(bad(Errcode::LeaderListMismatch));
    }
    if order.is_some_and(|o| o.iter().any(|v| !(0..1 << 32).contains(v))) {
        return Err(bad_param("order out of range"));
    }
    Ok(departments
        .iter()
        .enumerate()
        .map(|(i, &department)| Placement { department, order: order.map_or(0, |o| o[i]), is_leader: leader.is_some_and(|l| l[i] == 1) })
        .collect())
}

/// Applies `body`'s fields to `m`, checking each (the platform's order: identity, name,
/// departments, contact ways, then the descriptive fields). `m.active` freezes the mobile.
fn apply(dialect: Dialect, m: &mut Member, body: MemberBody) -> Result<(), ApiError> {
    if let Some(name) = body.name {
        if !chars_within(&name, 1, 64) {
            return Err(bad(Errcode::InvalidName));
        }
        m.name = name;
    }
    if let Some(alias) = body.alias {
        if !chars_within(&alias, 0, 64) {
            return Err(bad_param("alias exceeds 64 characters"));
        }
        m.alias = alias;
    }
    if let Some(departments) = body.department {
        m.departments = placements(&departments, body.order.as_deref(), body.is_leader_in_dept.as_deref())?;
        if !departments.contains(&m.main_department) {
            m.main_department = departments[0];
        }
    }
    if let Some(main) = body.main_department {
        if !m.departments.iter().any(|p| p.department == main) {
            return Err(bad(Errcode::InvalidDepartmentId));
        }
        m.main_department = main;
    }
    if let Some(mobile) = body.mobile {
        if !mobile.is_empty() && !valid_mobile(&mobile) {
            return Err(bad(Errcode::InvalidMobile));
        }
        // Once the member has logged in only the member changes its mobile: silently kept.
        if !m.active {
            m.mobile = mobile;
        }
    }
    if let Some(email) = body.email {
        if !email.is_empty() && !valid_email(&email) {
            return Err(bad(Errcode::InvalidEmail));
        }
        m.email = email;
    }
    if let Some(weixinid) = body.weixinid.filter(|_| dialect == Dialect::Legacy) {
        if !weixinid.is_empty() && !valid_weixinid(&weixinid) {
            return Err(bad(Errcode::InvalidWeixinid));
        }
        // A member who follows is bound to that WeChat account (已关注成员微信不能修改).
        if m.active && weixinid != m.weixinid {
            return Err(bad(Errcode::WeixinidFrozen));
        }
        m.weixinid = weixinid;
    }
    if let Some(position) = body.position {
        if !chars_within(&position, 0, 128) {
            return Err(bad(Errcode::InvalidPosition));
        }
        m.position = position;
    }
    if let Some(g) = body.gender {
        m.gender = gender(&g)?;
    }
    if let Some(telephone) = body.telephone {
        if !telephone.is_empty() && !valid_telephone(&telephone) {
            return Err(bad(Errcode::InvalidTelephone));
        }
        m.telephone = telephone;
    }
    if let Some(english_name) = body.english_name {
        if !valid_english_name(&english_name) {
            return Err(bad(Errcode::InvalidEnglishName));
        }
        m.english_name = english_name;
    }
    if let Some(address) = body.address {
        if !chars_within(&address, 0, 128) {
            return Err(bad_param("address exceeds 128 characters"));
        }
        m.address = address;
    }
    if let Some(leaders) = body.direct_leader {
        if leaders.len() > MAX_DIRECT_LEADERS || leaders.iter().any(|l| !valid_userid(l)) {
            return Err(bad_param("direct_leader"));
        }
        m.direct_leader = leaders;
    }
    if let Some(enable) = body.enable {
        if !(0..=1).contains(&enable) {
            return Err(bad_param("enable must be 0 or 1"));
        }
        m.enable = enable == 1;
    }
    if let Some(extattr) = body.extattr {
        if !extattr.get("attrs").is_some_and(Value::is_array) {
            return Err(bad_param("extattr must be {\"attrs\":[...]}"));
        }
        m.extattr = Some(extattr);
    }
    if let Some(id) = body.avatar_mediaid {
        m.avatar_mediaid = id;
    }
    if dialect == Dialect::WeCom {
        user_fields::apply_wecom(m, body.biz_mail, body.biz_mail_alias, body.external_position, body.external_profile)?;
    }
    Ok(())
}

/// The member a user/create body describes, with every rule that needs no store checked.
pub fn create(dialect: Dialect, mut body: MemberBody) -> Result<Member, ApiError> {
    let userid = body.userid.take().filter(|u| !u.is_empty()).ok_or(bad(Errcode::UseridMissing))?;
    if !valid_userid(&userid) {
        return Err(bad(Errcode::InvalidUserid));
    }
    if body.name.is_none() {
        return Err(bad(Errcode::InvalidName));
    }
    if body.department.is_none() {
        return Err(bad(match dialect {
            Dialect::WeCom => Errcode::DepartmentMissing,
            Dialect::Legacy => Errcode::DepartmentIdMissing,
        }));
    }
    let mut m = Member {
        userid,
        name: String::new(),
        alias: String::new(),
        mobile: String::new(),
        email: String::new(),
        position: String::new(),
        gender: "0".into(),
        english_name: String::new(),
        telephone: String::new(),
        weixinid: String::new(),
        address: String::new(),
        active: false,
        enable: true,
        departments: Vec::new(),
        main_department: 0,
        direct_leader: Vec::new(),
        extattr: None,
        userid_generated: false,
        quit: false,
        biz_mail: String::new(),
        biz_mail_alias: Vec::new(),
        avatar_mediaid: String::new(),
        external_position: String::new(),
        external_profile: None,
    };
    // biz_mail_alias is an update-only field.
    body.biz_mail_alias = None;
    apply(dialect, &mut m, body)?;
    // WeCom needs a mobile or an email to invite the member; the 企业号 also took a weixinid.
    match dialect {
        Dialect::WeCom if m.mobile.is_empty() && m.email.is_empty() => Err(bad(Errcode::MobileAndEmailEmpty)),
        Dialect::Legacy if m.mobile.is_empty() && m.email.is_empty() && m.weixinid.is_empty() => Err(bad(Errcode::NoContactWay)),
        _ => Ok(m),
    }
}

/// The member after a user/update body: absent fields unchanged, `order`/`is_leader_in_dept`
/// only with `department`, the mobile of a member who has logged in unchanged.
pub fn update(dialect: Dialect, current: &Member, mut body: MemberBody) -> Result<Member, ApiError> {
    if body.department.is_none() {
        body.order = None;
        body.is_leader_in_dept = None;
    }
    let mut m = current.clone();
    if let Some(new_userid) = body.new_userid.take().filter(|n| *n != current.userid) {
        rename(&mut m, new_userid)?;
    }
    apply(dialect, &mut m, body)?;
    Ok(m)
}

/// new_userid: only a userid the platform generated may change, and only once (301036); the new
/// one follows the userid rules (40003). Uniqueness is the store's (60102).
fn rename(m: &mut Member, new_userid: String) -> Result<(), ApiError> {
    if !m.userid_generated {
        return Err(bad(Errcode::UseridNotUpdatable));
    }
    if !valid_userid(&new_userid) {
        return Err(bad(Errcode::InvalidUserid));
    }
    m.userid = new_userid;
    m.userid_generated = false;
    Ok(())
}

/// A member who joined by itself (the control API's "member joins": through an invitation link
/// or QR code): the platform chose its userid, and it is active. `body` holds no userid.
pub fn joined(mut body: MemberBody) -> Result<Member, ApiError> {
    body.userid = Some(generated_userid());
    let mut m = create(Dialect::WeCom, body)?;
    m.userid_generated = true;
    m.active = true;
    Ok(m)
}

/// A userid the platform makes up: `wm` and 16 hex digits (a choice; the real ones vary).
fn generated_userid() -> String {
    format!("wm{:016x}", rand::rng().random::<u64>())
}

/// The body's userid for update (41009 when missing).
pub fn body_userid(body: &MemberBody) -> Result<&str, ApiError> {
    body.userid.as_deref().filter(|u| !u.is_empty()).ok_or(bad(Errcode::UseridMissing))
}

fn leader_flags(m: &Member) -> Vec<i64> {
    m.departments.iter().map(|p| i64::from(p.is_leader)).collect()
}

/// user/get (and each user/list item) in the caller's dialect. gender is a string here.
/// `sensitive` says whether a WeCom caller may see the sensitive fields (see [`Sensitive`]).
pub fn view(dialect: Dialect, m: &Member, sensitive: Sensitive) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert("userid".into(), m.userid.clone().into());
    v.insert("name".into(), m.name.clone().into());
    v.insert("department".into(), json!(m.department_ids()));
    match dialect {
        Dialect::WeCom => {
            v.insert("order".into(), json!(m.departments.iter().map(|p| p.order).collect::<Vec<_>>()));
            v.insert("position".into(), m.position.clone().into());
            v.insert("mobile".into(), m.mobile.clone().into());
            v.insert("gender".into(), m.gender.clone().into());
            v.insert("email".into(), m.email.clone().into());
            v.insert("is_leader_in_dept".into(), json!(leader_flags(m)));
            // isleader: the pre-2019 single flag, kept for old WeCom clients.
            v.insert("isleader".into(), i64::from(m.departments.iter().any(|p| p.is_leader)).into());
            v.insert("direct_leader".into(), json!(m.direct_leader));
            v.insert("avatar".into(), "".into());
            v.insert("thumb_avatar".into(), "".into());
            v.insert("telephone".into(), m.telephone.clone().into());
            v.insert("alias".into(), m.alias.clone().into());
            v.insert("english_name".into(), m.english_name.clone().into());
            v.insert("address".into(), m.address.clone().into());
            v.insert("main_department".into(), m.main_department.into());
            v.insert("enable".into(), i64::from(m.enable).into());
            user_fields::insert_wecom(&mut v, m);
            if sensitive == Sensitive::Hidden {
                user_fields::blank_sensitive(&mut v);
            }
        }
        Dialect::Legacy => {
            v.insert("position".into(), m.position.clone().into());
            v.insert("mobile".into(), m.mobile.clone().into());
            v.insert("gender".into(), m.gender.clone().into());
            v.insert("email".into(), m.email.clone().into());
            v.insert("weixinid".into(), m.weixinid.clone().into());
            v.insert("avatar".into(), "".into());
        }
    }
    v.insert("status".into(), m.status(dialect).into());
    v.insert("extattr".into(), m.extattr.clone().unwrap_or_else(|| json!({ "attrs": [] })));
    v
}

/// Which members a simplelist/list `status` parameter keeps. The 企业号 took 0 (all) or a bit-OR
/// of 1 followed, 2 frozen, 4 not followed; WeCom dropped the parameter and ignores it (wechatpy
/// still sends `status=0`).
pub fn status_filter(dialect: Dialect, status: Option<&str>) -> Option<i64> {
    match dialect {
        Dialect::WeCom => None,
        Dialect::Legacy => status.and_then(|s| s.parse::<i64>().ok()).map(|bits| bits & 7).filter(|&bits| bits != 0),
    }
}

/// A user/simplelist item.
pub fn simple_view(m: &Member) -> Value {
    json!({ "userid": m.userid, "name": m.name, "department": m.department_ids() })
}

/// The change_contact elements describing `m` (all of them for create_user).
fn event_items(m: &Member) -> Vec<(&'static str, String)> {
    let join = |v: Vec<String>| v.join(",");
    vec![
        ("Name", m.name.clone()),
        ("Department", join(m.department_ids().iter().map(i64::to_string).collect())),
        ("MainDepartment", m.main_department.to_string()),
        ("IsLeaderInDept", join(leader_flags(m).iter().map(i64::to_string).collect())),
        ("DirectLeader", join(m.direct_leader.clone())),
        ("Position", m.position.clone()),
        ("Mobile", m.mobile.clone()),
        // Callbacks carry gender as a number.
        ("Gender", m.gender.clone()),
        ("Email", m.email.clone()),
        ("BizMail", m.biz_mail.clone()),
        ("Status", m.status(Dialect::WeCom).to_string()),
        ("Alias", m.alias.clone()),
        ("Telephone", m.telephone.clone()),
        ("Address", m.address.clone()),
        ("ExtAttr", m.extattr.as_ref().map(user_fields::extattr_xml).unwrap_or_default()),
    ]
}

pub fn created_event(m: &Member) -> ChangeContact {
    event_items(m)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .fold(ChangeContact::new(ChangeType::CreateUser).item("UserID", &m.userid), |e, (k, v)| e.item(k, v))
}

/// update_user with only the changed elements, and NewUserID after a rename (UserID is the old
/// one); `None` when nothing changed.
pub fn updated_event(old: &Member, new: &Member) -> Option<ChangeContact> {
    let changed: Vec<_> = event_items(old).into_iter().zip(event_items(new)).filter(|(a, b)| a.1 != b.1).map(|(_, b)| b).collect();
    let renamed = old.userid != new.userid;
    if changed.is_empty() && !renamed {
        return None;
    }
    let mut e = ChangeContact::new(ChangeType::UpdateUser).item("UserID", &old.userid);
    if renamed {
        e = e.item("NewUserID", &new.userid);
    }
    Some(changed.into_iter().fold(e, |e, (k, v)| e.item(k, v)))
}

pub fn deleted_event(userid: &str) -> ChangeContact {
    ChangeContact::new(ChangeType::DeleteUser).item("UserID", userid)
}

/// A list_id position: the last (userid_key, department) row handed out. Opaque to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub userid_key: String,
    pub department: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}:{}", self.department, self.userid_key).bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// `None` for anything [`Cursor::encode`] did not make (50100).
    pub fn decode(s: &str) -> Option<Cursor> {
        if !s.len().is_multiple_of(2) || !s.is_ascii() {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect();
        let text = String::from_utf8(bytes?).ok()?;
        let (department, key) = text.split_once(':')?;
        let department = department.parse().ok()?;
        (valid_userid(key) && key == key.to_lowercase()).then(|| Cursor { userid_key: key.to_string(), department })
    }
}

/// list_id's `limit`: 1–10000, absent = 10000 (40058 outside).
pub fn list_id_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(MAX_LIST_ID),
        Some(l) if (1..=MAX_LIST_ID).contains(&l) => Ok(l),
        Some(_) => Err(bad_param("limit must be 1-10000")),
    }
}

/// user/batchdelete's list: 1–200 well-formed userids.
pub fn batchdelete_list(list: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let list = list.unwrap_or_default();
    if list.is_empty() || list.len() > MAX_BATCHDELETE {
        return Err(bad(Errcode::InvalidUseridListSize));
    }
    if list.iter().any(|u| !valid_userid(u)) {
        return Err(bad(Errcode::InvalidUserid));
    }
    Ok(list)
}

/// user/getuserid's mobile: 5–32 characters of the mobile alphabet (60103).
pub fn lookup_mobile(mobile: Option<&str>) -> Result<&str, ApiError> {
    mobile.filter(|m| m.len() >= 5 && valid_mobile(m)).ok_or(bad(Errcode::InvalidMobile))
}

/// What user/getuserid and user/get_userid_by_email look a member up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKey {
    Mobile,
    /// email_type 1, the default: the corp mailbox (biz_mail).
    BizMail,
    /// email_type 2: the personal email.
    Email,
}

/// user/get_userid_by_email: a well-formed email (60105) and email_type 1 (corp mail, the
/// default) or 2 (personal).
pub fn lookup_email(email: Option<&str>, email_type: Option<i64>) -> Result<(ContactKey, &str), ApiError> {
    let key = match email_type {
        None | Some(1) => ContactKey::BizMail,
        Some(2) => ContactKey::Email,
        Some(_) => return Err(bad_param("email_type must be 1 or 2")),
    };
    let email = email.filter(|e| valid_email(e)).ok_or(bad(Errcode::InvalidEmail))?;
    Ok((key, email))
}

/// batch/invite's lists: users ≤ 1000, parties ≤ 100, tags ≤ 100, not all empty (40035).
pub fn invite_lists(user: &[String], party: &[i64], tag: &[i64]) -> Result<(), ApiError> {
    let empty = user.is_empty() && party.is_empty() && tag.is_empty();
    if empty || user.len() > 1000 || party.len() > 100 || tag.len() > 100 {
        return Err(bad(Errcode::InvalidParameter));
    }
    Ok(())
}

/// "mobile existed:<owner>" names the member that holds the mobile (observed errmsg).
pub fn mobile_existed(owner: &str) -> ApiError {
    ApiError { errcode: Errcode::MobileExisted.code(), text: format!("{}:{owner}", Errcode::MobileExisted.text()).into() }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> MemberBody {
        serde_json::from_value(v).unwrap()
    }

    fn code(r: Result<Member, ApiError>) -> i64 {
        r.map(|_| 0).unwrap_or_else(|e| e.errcode)
    }

    fn zhangsan() -> Member {
        create(
            Dialect::WeCom,
            body(json!({"userid":"ZhangSan","name":"Zhang San","department":[1,2],"mobile":"13800000000",
            "is_leader_in_dept":[1,0],"order":[5,0],"gender":"1","english_name":"Jack Z","extattr":{"attrs":[]}})),
        )
        .unwrap()
    }

    #[test]
    fn userids() {
        for ok in ["a", "Zhang.San@x-y_z", "1abc", &"a".repeat(64)] {
            assert!(valid_userid(ok), "{ok}");
        }
        for bad in ["", "_a", "-a", "@a", ".a", "a b", "张三", "a/b", &"a".repeat(65)] {
            assert!(!valid_userid(bad), "{bad}");
        }
    }

    #[test]
    fn create_rules_and_their_errcodes() {
        let w = Dialect::WeCom;
        let l = Dialect::Legacy;
        let base = json!({"userid":"u1","name":"N","department":[1],"mobile":"13800000000"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v;
            }
            b
        };
        assert_eq!(code(create(w, body(base.clone()))), 0);
        assert_eq!(code(create(w, body(with("userid", Value::Null)))), 41009);
        assert_eq!(code(create(w, body(with("userid", json!("_x"))))), 40003);
        assert_eq!(code(create(w, body(with("name", Value::Null)))), 60112);
        assert_eq!(code(create(w, body(with("name", json!(""))))), 60112);
        assert_eq!(code(create(w, body(with("name", json!("名".repeat(64)))))), 0, "64 characters, not bytes");
        assert_eq!(code(create(w, body(with("name", json!("名".repeat(65)))))), 60112);
        assert_eq!(code(create(w, body(with("department", Value::Null)))), 41019);
        assert_eq!(code(create(l, body(with("department", Value::Null)))), 60127);
        assert_eq!(code(create(w, body(with("department", json!([]))))), 40066);
        assert_eq!(code(create(w, body(with("department", json!((1..=101).collect::<Vec<_>>()))))), 60110);
        assert_eq!(code(create(w, body(with("is_leader_in_dept", json!([1, 0]))))), 60132);
        assert_eq!(code(create(w, body(with("order", json!([1, 0]))))), 40058);
        assert_eq!(code(create(w, body(with("main_department", json!(2))))), 60123);
        assert_eq!(code(create(w, body(with("mobile", json!("138abc"))))), 60103);
        assert_eq!(code(create(w, body(with("mobile", json!("+86-13800000000"))))), 0);
        assert_eq!(code(create(w, body(with("email", json!("nope"))))), 60105);
        assert_eq!(code(create(w, body(with("mobile", Value::Null)))), 60129);
        assert_eq!(code(create(l, body(with("mobile", Value::Null)))), 60113);
        assert_eq!(code(create(l, body(json!({"userid":"u1","name":"N","department":[1],"weixinid":"wx_zhang"})))), 0);
        assert_eq!(
            code(create(w, body(json!({"userid":"u1","name":"N","department":[1],"weixinid":"wx_zhang"})))),
            60129,
            "WeCom has no weixinid"
        );
        assert_eq!(code(create(l, body(with("weixinid", json!("1bad"))))), 60107);
        assert_eq!(code(create(w, body(with("position", json!("p".repeat(129)))))), 301012);
        assert_eq!(code(create(w, body(with("telephone", json!("020 1234"))))), 301013);
        assert_eq!(code(create(w, body(with("english_name", json!("Jack#"))))), 301014);
        assert_eq!(code(create(w, body(with("gender", json!("3"))))), 60114);
        assert_eq!(code(create(w, body(with("gender", json!(2))))), 0);
        assert_eq!(code(create(w, body(with("direct_leader", json!(["a", "b", "c", "d", "e", "f"]))))), 40058);
        assert_eq!(code(create(w, body(with("extattr", json!("x"))))), 40058);
    }

    #[test]
    fn update_keeps_absent_fields_and_freezes_the_mobile() {
        let mut m = zhangsan();
        assert_eq!(m.main_department, 1);
        let u = update(Dialect::WeCom, &m, body(json!({"userid":"zhangsan","order":[9,9],"is_leader_in_dept":[0]}))).unwrap();
        assert_eq!(u, m, "order and is_leader_in_dept need department");
        let u = update(Dialect::WeCom, &m, body(json!({"userid":"zhangsan","department":[2],"mobile":"13900000000"}))).unwrap();
        assert_eq!(u.departments, vec![Placement { department: 2, order: 0, is_leader: false }]);
        assert_eq!(u.main_department, 2);
        assert_eq!(u.mobile, "13900000000");
        m.active = true;
        let u = update(Dialect::WeCom, &m, body(json!({"userid":"zhangsan","mobile":"13900000000","name":"Z"}))).unwrap();
        assert_eq!((u.mobile.as_str(), u.name.as_str()), ("13800000000", "Z"));
        assert_eq!(code(update(Dialect::WeCom, &m, body(json!({"mobile":"x"})))), 60103, "still checked");
        let u = update(Dialect::WeCom, &m, body(json!({"enable":0}))).unwrap();
        assert_eq!(u.status(Dialect::WeCom), 2);
    }

    #[test]
    fn the_two_views_of_one_member() {
        let mut m = zhangsan();
        m.weixinid = "wx_zhang".into();
        let w = view(Dialect::WeCom, &m, Sensitive::Shown);
        assert_eq!(w["gender"], "1");
        assert_eq!(w["status"], 4);
        assert_eq!(w["isleader"], 1);
        assert_eq!(w["is_leader_in_dept"], json!([1, 0]));
        assert_eq!(w["order"], json!([5, 0]));
        assert_eq!(w["english_name"], "Jack Z");
        assert_eq!(w["enable"], 1);
        assert!(w.get("weixinid").is_none());
        let l = view(Dialect::Legacy, &m, Sensitive::Shown);
        assert_eq!(l["weixinid"], "wx_zhang");
        assert_eq!(l["gender"], "1");
        for k in ["english_name", "isleader", "is_leader_in_dept", "telephone", "enable", "order", "alias"] {
            assert!(l.get(k).is_none(), "{k}");
        }
        assert_eq!(status_filter(Dialect::Legacy, Some("6")), Some(6));
        assert_eq!(status_filter(Dialect::Legacy, Some("0")), None);
        assert_eq!(status_filter(Dialect::Legacy, None), None);
        assert_eq!(status_filter(Dialect::WeCom, Some("1")), None);
        assert_eq!(simple_view(&m), json!({"userid":"ZhangSan","name":"Zhang San","department":[1,2]}));
    }

    #[test]
    fn events_carry_only_what_changed() {
        let m = zhangsan();
        let c = created_event(&m);
        assert_eq!(c.items[0], ("UserID".into(), "ZhangSan".into()));
        assert!(c.items.contains(&("Department".into(), "1,2".into())));
        assert!(c.items.contains(&("IsLeaderInDept".into(), "1,0".into())));
        assert!(c.items.contains(&("Gender".into(), "1".into())));
        assert!(c.items.contains(&("Status".into(), "4".into())));
        assert!(!c.items.iter().any(|(k, _)| k == "Email"), "empty elements are left out");
        let mut n = m.clone();
        assert_eq!(updated_event(&m, &n), None);
        n.position = "CTO".into();
        n.enable = false;
        let u = updated_event(&m, &n).unwrap();
        assert_eq!(u.items, vec![("UserID".into(), "ZhangSan".into()), ("Position".into(), "CTO".into()), ("Status".into(), "2".into())]);
        assert_eq!(deleted_event("x").items, vec![("UserID".into(), "x".into())]);
    }

    #[test]
    fn new_userid_once_and_only_for_generated_userids() {
        let m = zhangsan();
        let rename = |m: &Member, to: &str| update(Dialect::WeCom, m, body(json!({ "userid": m.userid, "new_userid": to })));
        assert_eq!(code(rename(&m, "zs2")), 301036);
        assert_eq!(rename(&m, "ZhangSan").unwrap(), m, "the same userid is no rename");
        let j = joined(body(json!({"name":"J","department":[1],"mobile":"13900000000"}))).unwrap();
        assert!(j.userid_generated && j.active && valid_userid(&j.userid), "{j:?}");
        assert_eq!(code(rename(&j, "_bad")), 40003);
        let r = rename(&j, "Joiner").unwrap();
        assert_eq!((r.userid.as_str(), r.userid_generated), ("Joiner", false));
        assert_eq!(code(rename(&r, "Joiner2")), 301036, "only once");
        let e = updated_event(&j, &r).unwrap();
        assert_eq!(e.items, vec![("UserID".into(), j.userid.clone()), ("NewUserID".into(), "Joiner".into())]);
    }

    #[test]
    fn followed_weixinid_and_status_5() {
        let l = Dialect::Legacy;
        let mut m = create(l, body(json!({"userid":"u","name":"N","department":[1],"weixinid":"wx_zhang"}))).unwrap();
        assert_eq!(update(l, &m, body(json!({"weixinid":"wx_other"}))).unwrap().weixinid, "wx_other");
        m.active = true;
        assert_eq!(code(update(l, &m, body(json!({"weixinid":"wx_other"})))), 60115);
        assert!(update(l, &m, body(json!({"weixinid":"wx_zhang"}))).is_ok());
        m.quit = true;
        assert_eq!((m.status(Dialect::WeCom), m.status(l)), (5, 4));
        assert_eq!(view(l, &m, Sensitive::Shown)["status"], 4);
    }

    #[test]
    fn cursors_and_lists() {
        let c = Cursor { userid_key: "zhang.san@x".into(), department: 12 };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in ["", "zz", "abc", "3a", "%%%%"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
        assert_eq!(list_id_limit(None).unwrap(), 10000);
        assert!(list_id_limit(Some(0)).is_err() && list_id_limit(Some(10001)).is_err());
        assert_eq!(batchdelete_list(Some(vec![])).unwrap_err().errcode, 40032);
        assert_eq!(batchdelete_list(Some(vec!["a".into(); 201])).unwrap_err().errcode, 40032);
        assert_eq!(batchdelete_list(Some(vec!["a".into(), "_b".into()])).unwrap_err().errcode, 40003);
        assert_eq!(mobile_existed("lisi").text, "mobile existed:lisi");
        assert!(invite_lists(&["a".into()], &[], &[]).is_ok());
        assert_eq!(invite_lists(&[], &[], &[]).unwrap_err().errcode, 40035);
        assert_eq!(invite_lists(&[], &[1; 101], &[]).unwrap_err().errcode, 40035);
        assert_eq!(invite_lists(&vec!["a".into(); 1001], &[], &[]).unwrap_err().errcode, 40035);
        assert_eq!(lookup_mobile(Some("13800000000")).unwrap(), "13800000000");
        assert_eq!(lookup_mobile(Some("1380")).unwrap_err().errcode, 60103);
        assert_eq!(lookup_mobile(None).unwrap_err().errcode, 60103);
        assert_eq!(lookup_email(Some("a@b.cn"), Some(2)).unwrap(), (ContactKey::Email, "a@b.cn"));
        assert_eq!(lookup_email(Some("a@b.cn"), Some(1)).unwrap(), (ContactKey::BizMail, "a@b.cn"));
        assert_eq!(lookup_email(Some("a@b.cn"), None).unwrap(), (ContactKey::BizMail, "a@b.cn"), "corp mail is the default");
        assert_eq!(lookup_email(Some("a@b.cn"), Some(3)).unwrap_err().errcode, 40058);
        assert_eq!(lookup_email(Some("ab"), None).unwrap_err().errcode, 60105);
    }

    #[test]
    fn shapes() {
        let o = new_openid();
        assert_eq!(o.len(), 28);
        assert!(o.starts_with('o'));
        let a = new_appid();
        assert!(crate::credential::is_valid_corpid(&a), "same shape as a wx corpid");
        assert_eq!(openid_view("o1", None).len(), 1);
        assert_eq!(openid_view("o1", Some("wx1"))["appid"], "wx1");
        assert_eq!(openid_agent(Dialect::Legacy, Some(1000002)), Some(1000002));
        assert_eq!(openid_agent(Dialect::WeCom, Some(1000002)), None);
    }
}

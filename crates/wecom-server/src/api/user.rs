//! Members (wecom-api.md §4, legacy-api.md §3): the member API and the userid ↔ openid
//! conversions. Rules and views are the model's (`wecom_model::user`); these handlers check who
//! may read or write, and hand the write to the store.

use crate::auth::{app_range, detail_read, internal, range, ranges_changed, write_range, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use wecom_model::credential::Scope;
use wecom_model::scope::{Range, WriteRange};
use wecom_model::user::{self, openid_agent, openid_view, user_fields, userid_view, ContactKey, Cursor, Member, MemberBody, Sensitive};
use wecom_model::{ApiError, Dialect, Errcode};
use wecom_store::Origin;

#[derive(Deserialize)]
struct ToOpenid {
    userid: Option<String>,
    agentid: Option<i64>,
}

#[derive(Deserialize)]
struct ToUserid {
    openid: Option<String>,
}

pub async fn convert_to_openid(app: &App, req: &Request, caller: &Caller) -> Result<Map<String, Value>, Failure> {
    let dialect = caller.dialect();
    let fail = |e: Errcode| Failure::new(e, Some(dialect));
    let body: ToOpenid = req.json(dialect)?;
    let userid = body.userid.filter(|u| !u.is_empty()).ok_or(fail(Errcode::UseridMissing))?;
    let member = app.store.member_place(&caller.corpid, &userid).await.map_err(internal)?.ok_or(fail(Errcode::UseridNotFound))?;
    if !range(app, caller).await?.sees(&member) {
        return Err(fail(Errcode::NoPrivilege));
    }
    if !member.active {
        return Err(fail(Errcode::NotBoundWeixin));
    }
    let (agentid, appid) = match openid_agent(dialect, body.agentid) {
        None => (0, None),
        Some(agentid) => {
            let agent = app.store.app(&caller.corpid, agentid).await.map_err(internal)?.ok_or(fail(Errcode::InvalidAgentid))?;
            // 企业号: the group needs rights on the app, and the member must be in the app's range.
            let Scope::Group { groupid } = caller.scope else { return Err(fail(Errcode::NoPrivilege)) };
            let group = app.store.group(&caller.corpid, groupid).await.map_err(internal)?;
            let has_right = group.is_some_and(|g| g.apps.iter().any(|r| r.agentid == agentid));
            if !has_right || !app_range(&agent).sees(&member) {
                return Err(fail(Errcode::NoPrivilege));
            }
            (agentid, Some(agent.appid))
        }
    };
    let openid = app.store.openid(&caller.corpid, &member.userid, agentid).await.map_err(internal)?;
    Ok(openid_view(&openid, appid.as_deref()))
}

pub async fn convert_to_userid(app: &App, req: &Request, caller: &Caller) -> Result<Map<String, Value>, Failure> {
    let dialect = caller.dialect();
    let fail = |e: Errcode| Failure::new(e, Some(dialect));
    let body: ToUserid = req.json(dialect)?;
    let openid = body.openid.filter(|o| !o.is_empty()).ok_or(fail(Errcode::InvalidOpenid))?;
    let userid = app.store.openid_owner(&caller.corpid, &openid).await.map_err(internal)?.ok_or(fail(Errcode::InvalidOpenid))?;
    let member = app.store.member_place(&caller.corpid, &userid).await.map_err(internal)?.ok_or(fail(Errcode::InvalidOpenid))?;
    if !range(app, caller).await?.sees(&member) {
        return Err(fail(Errcode::NoPrivilege));
    }
    Ok(userid_view(&member.userid))
}

type Fields = Result<Map<String, Value>, Failure>;

fn refused(dialect: Dialect) -> impl Fn(ApiError) -> Failure {
    move |e| Failure::new(e, Some(dialect))
}

/// The caller may write into every one of `departments` (60123 for one that does not exist,
/// 60011 for one outside its write range).
async fn may_write(app: &App, caller: &Caller, wr: &WriteRange, departments: &[i64]) -> Result<(), Failure> {
    let fail = |e: Errcode| Failure::new(e, Some(caller.dialect()));
    for &d in departments {
        let ancestors =
            app.store.department_ancestors(&caller.corpid, d).await.map_err(internal)?.ok_or(fail(Errcode::InvalidDepartmentId))?;
        if !wr.covers(&ancestors) {
            return Err(fail(Errcode::NoPrivilege));
        }
    }
    Ok(())
}

/// Whether the caller sees the members' sensitive fields (apps created after 2022-06-20 do not).
async fn sensitive(app: &App, caller: &Caller) -> Result<Sensitive, Failure> {
    let created = match caller.scope {
        Scope::App { agentid } => app.store.app_created_at(&caller.corpid, agentid).await.map_err(internal)?,
        Scope::ContactSync | Scope::Group { .. } | Scope::Chat => None,
    };
    Ok(user_fields::sensitive(caller.scope, created))
}

/// An avatar_mediaid must name an uploaded image (301015).
async fn check_avatar(app: &App, req: &Request, caller: &Caller, media_id: Option<&str>) -> Result<(), Failure> {
    let Some(id) = media_id.filter(|id| !id.is_empty()) else { return Ok(()) };
    match app.store.avatar_image(&caller.corpid, id, req.now).await.map_err(internal)? {
        Some(_) => Ok(()),
        None => Err(Failure::new(Errcode::InvalidMediaid, Some(caller.dialect()))),
    }
}

/// A member the caller can read; one outside its range is "not found", as the platform answers.
async fn readable(app: &App, caller: &Caller, userid: Option<&str>) -> Result<Member, Failure> {
    let fail = |e: Errcode| Failure::new(e, Some(caller.dialect()));
    let userid = userid.filter(|u| !u.is_empty()).ok_or(fail(Errcode::UseridMissing))?;
    let place = app.store.member_place(&caller.corpid, userid).await.map_err(internal)?.ok_or(fail(Errcode::UseridNotFound))?;
    if !range(app, caller).await?.sees(&place) {
        return Err(fail(Errcode::UseridNotFound));
    }
    app.store.member(&caller.corpid, userid).await.map_err(internal)?.ok_or(fail(Errcode::UseridNotFound))
}

pub async fn create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let dialect = caller.dialect();
    let wr = write_range(&app.store, caller).await?;
    let body: MemberBody = req.json(dialect)?;
    let m = user::create(dialect, body).map_err(refused(dialect))?;
    may_write(app, caller, &wr, &m.department_ids()).await?;
    check_avatar(app, req, caller, Some(&m.avatar_mediaid)).await?;
    let change = user::created_event(&m);
    app.store
        .create_member(&caller.corpid, &m, Origin::Caller(caller.scope), &change, req.now)
        .await
        .map_err(internal)?
        .map_err(refused(dialect))?;
    Ok(Map::new())
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let m = readable(app, caller, req.query.get("userid")).await?;
    Ok(user::view(caller.dialect(), &m, sensitive(app, caller).await?))
}

pub async fn update(app: &App, req: &Request, caller: &Caller) -> Fields {
    let dialect = caller.dialect();
    let fail = |e: Errcode| Failure::new(e, Some(dialect));
    let wr = write_range(&app.store, caller).await?;
    let body: MemberBody = req.json(dialect)?;
    let userid = user::body_userid(&body).map_err(refused(dialect))?.to_string();
    let current = app.store.member(&caller.corpid, &userid).await.map_err(internal)?.ok_or(fail(Errcode::UseridNotFound))?;
    may_write(app, caller, &wr, &current.department_ids()).await?;
    may_write(app, caller, &wr, body.department.as_deref().unwrap_or_default()).await?;
    check_avatar(app, req, caller, body.avatar_mediaid.as_deref()).await?;
    let renames = body.new_userid.as_deref().is_some_and(|n| n != current.userid);
    let apply = |old: &Member| {
        let new = user::update(dialect, old, body)?;
        let change = user::updated_event(old, &new);
        Ok((new, change))
    };
    app.store
        .update_member(&caller.corpid, &userid, Origin::Caller(caller.scope), req.now, apply)
        .await
        .map_err(internal)?
        .map_err(refused(dialect))?;
    if renames {
        // Apps' visible ranges may name the member: cached ranges must be read again.
        crate::control::credentials_changed(app).await;
    }
    Ok(Map::new())
}

/// Deletes all of `userids` or none; `missing` is the errcode for one that does not exist.
async fn delete_all(app: &App, req: &Request, caller: &Caller, userids: &[String], missing: Errcode) -> Fields {
    let dialect = caller.dialect();
    let wr = write_range(&app.store, caller).await?;
    let mut found = Vec::with_capacity(userids.len());
    for userid in userids {
        let m = app.store.member(&caller.corpid, userid).await.map_err(internal)?.ok_or(Failure::new(missing, Some(dialect)))?;
        may_write(app, caller, &wr, &m.department_ids()).await?;
        found.push(m.userid);
    }
    let changes: Vec<_> = found.iter().map(|u| user::deleted_event(u)).collect();
    app.store
        .delete_members(&caller.corpid, &found, missing, Origin::Caller(caller.scope), &changes, req.now)
        .await
        .map_err(internal)?
        .map_err(refused(dialect))?;
    // The members left apps' visible ranges, which are cached.
    ranges_changed(app).await;
    Ok(Map::new())
}

pub async fn delete(app: &App, req: &Request, caller: &Caller) -> Fields {
    let userid = req.query.get("userid").filter(|u| !u.is_empty()).ok_or(Failure::new(Errcode::UseridMissing, Some(caller.dialect())))?;
    delete_all(app, req, caller, &[userid.to_string()], Errcode::UseridNotFound).await
}

#[derive(Deserialize)]
struct Batchdelete {
    useridlist: Option<Vec<String>>,
}

pub async fn batchdelete(app: &App, req: &Request, caller: &Caller) -> Fields {
    let dialect = caller.dialect();
    write_range(&app.store, caller).await?;
    let body: Batchdelete = req.json(dialect)?;
    let list = user::batchdelete_list(body.useridlist).map_err(refused(dialect))?;
    delete_all(app, req, caller, &list, Errcode::InvalidUseridInList).await
}

/// The members of `department_id` (and its subtree with fetch_child=1) the caller may list.
async fn department_members(app: &App, req: &Request, caller: &Caller) -> Result<Vec<Member>, Failure> {
    detail_read(app, req, caller).await?;
    let fail = |e: Errcode| Failure::new(e, Some(caller.dialect()));
    let id: i64 = req.query.get("department_id").and_then(|d| d.parse().ok()).ok_or(fail(Errcode::InvalidDepartmentId))?;
    let ancestors = app.store.department_ancestors(&caller.corpid, id).await.map_err(internal)?.ok_or(fail(Errcode::DepartmentNotFound))?;
    if !range(app, caller).await?.sees_department(&ancestors) {
        return Err(fail(Errcode::NoPrivilege));
    }
    let fetch_child = req.query.get("fetch_child") == Some("1");
    let mut members = app.store.department_members(&caller.corpid, id, fetch_child).await.map_err(internal)?;
    if let Some(bits) = user::status_filter(caller.dialect(), req.query.get("status")) {
        members.retain(|m| m.status(caller.dialect()) & bits != 0);
    }
    Ok(members)
}

pub async fn simplelist(app: &App, req: &Request, caller: &Caller) -> Fields {
    let members = department_members(app, req, caller).await?;
    let mut m = Map::new();
    m.insert("userlist".into(), members.iter().map(user::simple_view).collect());
    Ok(m)
}

pub async fn list(app: &App, req: &Request, caller: &Caller) -> Fields {
    let members = department_members(app, req, caller).await?;
    let sensitive = sensitive(app, caller).await?;
    let mut m = Map::new();
    m.insert("userlist".into(), members.iter().map(|u| Value::Object(user::view(caller.dialect(), u, sensitive))).collect());
    Ok(m)
}

#[derive(Deserialize)]
struct ListId {
    cursor: Option<String>,
    limit: Option<i64>,
}

pub async fn list_id(app: &App, req: &Request, caller: &Caller) -> Fields {
    let dialect = caller.dialect();
    let body: ListId = req.json(dialect)?;
    let after = match body.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or(Failure::new(Errcode::InvalidCursor, Some(dialect)))?),
    };
    let limit = user::list_id_limit(body.limit).map_err(refused(dialect))?;
    let mut rows = app.store.member_departments_page(&caller.corpid, after.as_ref(), limit + 1).await.map_err(internal)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|(_, c)| c.encode()).unwrap_or_default() } else { String::new() };
    // Apps and groups page through the whole directory but see only the members in their range.
    let range = range(app, caller).await?;
    let mut sees: HashMap<String, bool> = HashMap::new();
    let mut dept_user = Vec::with_capacity(rows.len());
    for (userid, c) in rows {
        let visible = match (&*range, sees.get(&c.userid_key)) {
            (Range::All, _) => true,
            (_, Some(&v)) => v,
            (r, None) => {
                let place = app.store.member_place(&caller.corpid, &userid).await.map_err(internal)?;
                let v = place.is_some_and(|p| r.sees(&p));
                sees.insert(c.userid_key.clone(), v);
                v
            }
        };
        if visible {
            dept_user.push(serde_json::json!({ "userid": userid, "department": c.department }));
        }
    }
    let mut m = Map::new();
    m.insert("next_cursor".into(), next_cursor.into());
    m.insert("dept_user".into(), dept_user.into());
    Ok(m)
}

#[derive(Deserialize)]
struct ByContact {
    mobile: Option<String>,
    email: Option<String>,
    email_type: Option<i64>,
}

/// The member a mobile or email belongs to, if the caller can see it (46004 otherwise).
async fn userid_by_contact(app: &App, caller: &Caller, key: ContactKey, value: &str) -> Fields {
    let none = || Failure::new(Errcode::UserNotExist, Some(caller.dialect()));
    let userid = app.store.userid_by_contact(&caller.corpid, key, value).await.map_err(internal)?.ok_or_else(none)?;
    let place = app.store.member_place(&caller.corpid, &userid).await.map_err(internal)?.ok_or_else(none)?;
    if !range(app, caller).await?.sees(&place) {
        return Err(none());
    }
    Ok(userid_view(&place.userid))
}

pub async fn getuserid(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: ByContact = req.json(caller.dialect())?;
    let mobile = user::lookup_mobile(body.mobile.as_deref()).map_err(refused(caller.dialect()))?;
    userid_by_contact(app, caller, ContactKey::Mobile, mobile).await
}

pub async fn get_userid_by_email(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: ByContact = req.json(caller.dialect())?;
    let (key, email) = user::lookup_email(body.email.as_deref(), body.email_type).map_err(refused(caller.dialect()))?;
    userid_by_contact(app, caller, key, email).await
}

/// 二次验证 passed: the member joins (status 1, mobile frozen from now on).
pub async fn authsucc(app: &App, req: &Request, caller: &Caller) -> Fields {
    let m = readable(app, caller, req.query.get("userid")).await?;
    app.store.login_member(&caller.corpid, &m.userid, Origin::Caller(caller.scope), req.now).await.map_err(internal)?;
    Ok(Map::new())
}

#[derive(Deserialize)]
struct Invite {
    #[serde(default)]
    user: Vec<String>,
    #[serde(default)]
    party: Vec<i64>,
    #[serde(default)]
    tag: Vec<i64>,
}

/// Invitations are not delivered anywhere; the answer names what could not be invited: unknown
/// members and departments, or ones outside the caller's write range, and unknown tags.
pub async fn batch_invite(app: &App, req: &Request, caller: &Caller) -> Fields {
    let dialect = caller.dialect();
    let wr = write_range(&app.store, caller).await?;
    let body: Invite = req.json(dialect)?;
    user::invite_lists(&body.user, &body.party, &body.tag).map_err(refused(dialect))?;
    let mut invaliduser = Vec::new();
    for u in &body.user {
        let ok = match app.store.member(&caller.corpid, u).await.map_err(internal)? {
            Some(m) => may_write(app, caller, &wr, &m.department_ids()).await.is_ok(),
            None => false,
        };
        if !ok {
            invaliduser.push(u.clone());
        }
    }
    let mut invalidparty = Vec::new();
    for &d in &body.party {
        if may_write(app, caller, &wr, &[d]).await.is_err() {
            invalidparty.push(d);
        }
    }
    let mut invalidtag = Vec::new();
    for &t in &body.tag {
        if !app.store.tag_exists(&caller.corpid, t).await.map_err(internal)? {
            invalidtag.push(t);
        }
    }
    let mut m = Map::new();
    m.insert("invaliduser".into(), invaliduser.into());
    m.insert("invalidparty".into(), invalidparty.into());
    m.insert("invalidtag".into(), invalidtag.into());
    Ok(m)
}

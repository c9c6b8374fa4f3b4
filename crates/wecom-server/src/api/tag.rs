//! Tags (wecom-api.md §6, legacy-api.md §5). Ownership, lock and view rules are in
//! `wecom_model::tag`; these handlers read the request, ask the store and render.

use crate::auth::{internal, range, ranges_changed, Caller};
use crate::directory::directory_changed;
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use wecom_model::credential::Scope;
use wecom_model::tag::{
    all_invalid, allowed, check_delete, check_get_switch, check_member_lists, check_tagname, created_view, get_view, list_view, listed,
    members_view, parse_tagid, parse_tagid_text, Action,
};
use wecom_model::Errcode;
use wecom_store::{GroupRow, MemberChange, Rule};

#[derive(Deserialize)]
struct Named {
    tagid: Option<Value>,
    tagname: Option<String>,
}

#[derive(Deserialize)]
struct Members {
    tagid: Option<Value>,
    userlist: Option<Vec<String>>,
    partylist: Option<Vec<i64>>,
}

type Fields = Result<Map<String, Value>, Failure>;

fn fail(caller: &Caller) -> impl Fn(Errcode) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

/// The tags a 管理组 was given rights on (its own included); WeCom callers have none.
async fn granted(app: &App, caller: &Caller) -> Result<Vec<i64>, Failure> {
    Ok(group(app, caller).await?.map(|g| g.tags).unwrap_or_default())
}

/// The caller's 管理组; `None` for WeCom callers.
async fn group(app: &App, caller: &Caller) -> Result<Option<GroupRow>, Failure> {
    let Scope::Group { groupid } = caller.scope else { return Ok(None) };
    app.store.group(&caller.corpid, groupid).await.map_err(internal)
}

/// A write's outcome: a store failure is internal, a rule failure the platform's errcode.
fn settle<T>(caller: &Caller, r: Result<Rule<T>, wecom_store::StoreError>) -> Result<T, Failure> {
    r.map_err(internal)?.map_err(fail(caller))
}

pub async fn create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Named = req.json(caller.dialect())?;
    let tagname = check_tagname(body.tagname.as_deref()).map_err(fail(caller))?;
    let asked = match body.tagid.filter(|v| !v.is_null()) {
        Some(v) => Some(parse_tagid(Some(&v)).map_err(fail(caller))?),
        None => None,
    };
    let tagid = settle(caller, app.store.create_tag(&caller.corpid, asked, tagname, caller.scope).await)?;
    directory_changed(app).await;
    Ok(created_view(tagid))
}

pub async fn update(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Named = req.json(caller.dialect())?;
    let tagid = parse_tagid(body.tagid.as_ref()).map_err(fail(caller))?;
    let tagname = check_tagname(body.tagname.as_deref()).map_err(fail(caller))?;
    let granted = granted(app, caller).await?;
    let may = |t: &_| allowed(caller.scope, &granted, t, Action::Edit);
    settle(caller, app.store.rename_tag(&caller.corpid, tagid, tagname, may).await)?;
    directory_changed(app).await;
    Ok(Map::new())
}

pub async fn delete(app: &App, req: &Request, caller: &Caller) -> Fields {
    let tagid = parse_tagid_text(req.query.get("tagid")).map_err(fail(caller))?;
    let granted = granted(app, caller).await?;
    let may = |t: &_, has_members| {
        allowed(caller.scope, &granted, t, Action::Edit)?;
        check_delete(caller.dialect(), has_members)
    };
    settle(caller, app.store.delete_tag(&caller.corpid, tagid, may).await)?;
    ranges_changed(app).await;
    directory_changed(app).await;
    Ok(Map::new())
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let group = group(app, caller).await?;
    check_get_switch(caller.scope, group.as_ref().is_none_or(|g| g.get_tag_members)).map_err(fail(caller))?;
    let tagid = parse_tagid_text(req.query.get("tagid")).map_err(fail(caller))?;
    let tag = app.store.tag(&caller.corpid, tagid).await.map_err(internal)?.ok_or(fail(caller)(Errcode::InvalidTagid))?;
    let granted = group.map(|g| g.tags).unwrap_or_default();
    allowed(caller.scope, &granted, &tag, Action::Read).map_err(fail(caller))?;
    let range = range(app, caller).await?;
    let members = app.store.tag_members(&caller.corpid, tagid).await.map_err(internal)?;
    let users: Vec<_> = members.users.into_iter().filter(|(p, _)| range.sees(p)).map(|(p, name)| (p.userid, name)).collect();
    let tree = app.store.departments(&caller.corpid).await.map_err(internal)?;
    let parties: Vec<i64> = members.parties.into_iter().filter(|id| range.sees_department(&tree.ancestors(*id))).collect();
    Ok(get_view(caller.dialect(), &tag.tagname, &users, &parties))
}

pub async fn list(app: &App, caller: &Caller) -> Fields {
    let tags = app.store.tags(&caller.corpid).await.map_err(internal)?;
    let granted = granted(app, caller).await?;
    let shown: Vec<_> = tags.iter().filter(|t| listed(caller.scope, &granted, t)).collect();
    Ok(list_view(&shown))
}

pub async fn addtagusers(app: &App, req: &Request, caller: &Caller) -> Fields {
    change_members(app, req, caller, true).await
}

pub async fn deltagusers(app: &App, req: &Request, caller: &Caller) -> Fields {
    change_members(app, req, caller, false).await
}

async fn change_members(app: &App, req: &Request, caller: &Caller, add: bool) -> Fields {
    let body: Members = req.json(caller.dialect())?;
    let tagid = parse_tagid(body.tagid.as_ref()).map_err(fail(caller))?;
    let (mut userlist, mut partylist) = (body.userlist.unwrap_or_default(), body.partylist.unwrap_or_default());
    check_member_lists(userlist.len(), partylist.len()).map_err(fail(caller))?;
    // Each user and party once, as first named (userids ignore case).
    let mut seen = HashSet::new();
    userlist.retain(|u| seen.insert(u.to_lowercase()));
    let mut seen = HashSet::new();
    partylist.retain(|id| seen.insert(*id));

    // A userid or party the caller cannot name (unknown, or outside its range) is invalid.
    let range = range(app, caller).await?;
    let granted = granted(app, caller).await?;
    let may = |t: &_| allowed(caller.scope, &granted, t, Action::ChangeMembers);
    let change = MemberChange { add, users: &userlist, parties: &partylist, range: &range };
    let (invalid, done) =
        app.store.change_tag_members(&caller.corpid, tagid, change, caller.scope, req.now, may).await.map_err(internal)?;
    if done.is_ok() {
        directory_changed(app).await;
    }
    match done {
        Ok(()) => Ok(members_view(caller.dialect(), &invalid)),
        // All named were invalid: the answer still lists them.
        Err(e) if e == all_invalid(add) => Err(fail(caller)(e).with_fields(invalid.fields())),
        Err(e) => Err(fail(caller)(e)),
    }
}

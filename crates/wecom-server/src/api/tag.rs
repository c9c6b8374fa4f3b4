//! Tags (wecom-api.md §6, legacy-api.md §5). Ownership, lock and view rules are in
//! `wecom_model::tag`; these handlers read the request, ask the store and render.

use crate::auth::{internal, range, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde::Deserialize;
use serde_json::{Map, Value};
use wecom_model::credential::Scope;
use wecom_model::scope::Range;
use wecom_model::tag::{
    all_invalid, allowed, check_delete, check_member_lists, check_tagname, created_view, get_view, list_view, listed, members_view,
    parse_tagid, parse_tagid_text, Action, Invalid,
};
use wecom_model::Errcode;
use wecom_store::{MemberChange, Rule};

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
    let Scope::Group { groupid } = caller.scope else { return Ok(Vec::new()) };
    let group = app.store.group(&caller.corpid, groupid).await.map_err(internal)?;
    Ok(group.map(|g| g.tags).unwrap_or_default())
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
    Ok(created_view(tagid))
}

pub async fn update(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Named = req.json(caller.dialect())?;
    let tagid = parse_tagid(body.tagid.as_ref()).map_err(fail(caller))?;
    let tagname = check_tagname(body.tagname.as_deref()).map_err(fail(caller))?;
    let granted = granted(app, caller).await?;
    let may = |t: &_| allowed(caller.scope, &granted, t, Action::Edit);
    settle(caller, app.store.rename_tag(&caller.corpid, tagid, tagname, may).await)?;
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
    Ok(Map::new())
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let tagid = parse_tagid_text(req.query.get("tagid")).map_err(fail(caller))?;
    let tag = app.store.tag(&caller.corpid, tagid).await.map_err(internal)?.ok_or(fail(caller)(Errcode::InvalidTagid))?;
    allowed(caller.scope, &granted(app, caller).await?, &tag, Action::Read).map_err(fail(caller))?;
    let range = range(app, caller).await?;
    let members = app.store.tag_members(&caller.corpid, tagid).await.map_err(internal)?;
    let users: Vec<_> = members.users.into_iter().filter(|(p, _)| range.sees(p)).map(|(p, name)| (p.userid, name)).collect();
    let mut parties = Vec::new();
    for id in members.parties {
        if sees_party(app, caller, &range, id).await? {
            parties.push(id);
        }
    }
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
    let (userlist, partylist) = (body.userlist.unwrap_or_default(), body.partylist.unwrap_or_default());
    check_member_lists(userlist.len(), partylist.len()).map_err(fail(caller))?;

    // A userid or party the caller cannot name (unknown, or outside its range) is invalid.
    let range = range(app, caller).await?;
    let mut invalid = Invalid::default();
    let mut users: Vec<String> = Vec::new();
    for userid in &userlist {
        let known = users.iter().chain(&invalid.users).any(|u| u.eq_ignore_ascii_case(userid));
        if known {
            continue;
        }
        match sees_user(app, caller, &range, userid).await? {
            Some(stored) => users.push(stored),
            None => invalid.users.push(userid.clone()),
        }
    }
    let mut parties = Vec::new();
    for &id in &partylist {
        if parties.contains(&id) || invalid.parties.contains(&id) {
            continue;
        }
        if sees_party(app, caller, &range, id).await? {
            parties.push(id);
        } else {
            invalid.parties.push(id);
        }
    }

    let granted = granted(app, caller).await?;
    let may = |t: &_| allowed(caller.scope, &granted, t, Action::ChangeMembers);
    let change = MemberChange { add, users: &users, parties: &parties };
    let done = app.store.change_tag_members(&caller.corpid, tagid, change, caller.scope, req.now, may).await.map_err(internal)?;
    match done {
        Ok(()) => Ok(members_view(caller.dialect(), &invalid)),
        // All named were invalid: the answer still lists them.
        Err(e) if e == all_invalid(add) => Err(fail(caller)(e).with_fields(invalid.fields())),
        Err(e) => Err(fail(caller)(e)),
    }
}

/// The member as stored (its userid's own case) when it exists and the caller's range holds it.
async fn sees_user(app: &App, caller: &Caller, range: &Range, userid: &str) -> Result<Option<String>, Failure> {
    let place = app.store.member_place(&caller.corpid, userid).await.map_err(internal)?;
    Ok(place.filter(|p| range.sees(p)).map(|p| p.userid))
}

async fn sees_party(app: &App, caller: &Caller, range: &Range, id: i64) -> Result<bool, Failure> {
    let ancestors = app.store.department_ancestors(&caller.corpid, id).await.map_err(internal)?;
    Ok(ancestors.is_some_and(|a| range.sees_department(&a)))
}
